/**
 * The verifiably encrypted partial of PROTOCOL v2 §6.3–§6.4 (BGLS 2003 / vetKD form) and the client's
 * assembly checks of §6.6, as pure functions (no I/O, no chain, no clock).
 *
 *   channel code (§6.3)  c_i = hashToScalar("channel-code", abi.encode(chainId, coordinator, requestId, i) ‖ code_i),
 *                        C_i = c_i·G1
 *   posting (§6.4)       σ_i = s_i·H(m), random ρ_i, U_i = ρ_i·G1, V_i = ρ_i·G2, W_i = σ_i + ρ_i·(A + C_i)
 *   anyone checks        e(U_i, P2) == e(G1, V_i)   and   e(W_i, P2) == e(H(m), PK_i)·e(A + C_i, V_i)
 *   requester opens      σ_i = W_i − (a + c_i)·U_i, after checking c_i·G1 == C_i (§6.6)
 *
 * `makePosting` takes c_i as a scalar, so this module does not depend on the code's text form
 * (sdk/encoding/channelCode.ts). Guardians post a posting compressed (`compressPosting`, C ‖ U ‖ V ‖ W in
 * ZCash form, 240 bytes); a fraud proof supplies its EIP-2537 form (`encodePosting`) beside it.
 *
 * Secrets: s_i, ρ_i, a and c_i are bigints while in use, which JavaScript cannot wipe; no error message
 * carries one.
 */
import { hash_to_field } from "@noble/curves/abstract/hash-to-curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE, numberToBytesBE } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type Address, type Hex, concat, encodeAbiParameters, hexToBytes, isAddress, isHex, keccak256, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import {
  type G1Point,
  type G2Point,
  Fp,
  Fp12,
  Fp2Field,
  Fr,
  G1,
  G2,
  P,
  R,
  g1FromEip2537,
  g1ToEip2537,
  g2FromEip2537,
  g2ToEip2537,
  inSubgroup,
} from "./bls.ts";
import {
  CHANNEL_CODE_LENGTH,
  COMMITTEE_MAX_SIZE,
  G1_COMPRESSED_LENGTH,
  G1_EIP2537_LENGTH,
  G2_COMPRESSED_LENGTH,
  G2_EIP2537_LENGTH,
  POSTING_COMPRESSED_LENGTH,
  SCALAR_DST_PREFIX,
  SCALAR_HASH_SECURITY_BITS,
  SCALAR_TAG,
} from "./constants.ts";
import { type Share, randomScalar } from "./threshold.ts";

/** A member's posting for one request (§6.4); requestId, index and committee epoch travel beside it. */
export interface Posting {
  /** C_i = c_i·G1, the channel point. */
  readonly C: G1Point;
  /** U_i = ρ_i·G1. */
  readonly U: G1Point;
  /** V_i = ρ_i·G2. */
  readonly V: G2Point;
  /** W_i = σ_i + ρ_i·(A + C_i). */
  readonly W: G1Point;
}

/** A posting as the chain carries it: EIP-2537 points (G1 128 bytes, G2 256 bytes). */
export interface EncodedPosting {
  C: Hex;
  U: Hex;
  V: Hex;
  W: Hex;
}

const UINT256_MAX = (1n << 256n) - 1n;

// ───────────────────────────── input checks ─────────────────────────────

function assertScalar(value: bigint, where: string, name: string): void {
  if (typeof value !== "bigint") throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a bigint, got ${typeof value}`);
  if (value <= 0n || value >= R) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} in [1, r-1], got a value out of range`);
  }
}

function assertUint256(value: bigint, where: string, name: string): void {
  if (typeof value !== "bigint" || value < 0n || value > UINT256_MAX) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a uint256 bigint, got ${describe(value)}`);
  }
}

function assertSlot(slot: number, where: string): void {
  if (!Number.isInteger(slot) || slot < 1 || slot > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected a slot (member index) in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(slot)}`);
  }
}

/**
 * A point of the prime-order subgroup other than infinity; throws with the point's name otherwise. One validity
 * check: noble's `assertValidity` is the curve equation, then the subgroup (`isTorsionFree`), in @noble/curves 2.4
 * (abstract/weierstrass.js; pinned by the `inSubgroup` test of test/sdk/crypto/bls.test.ts), and a success is
 * remembered on the instance, so a point decoded or checked once costs nothing here.
 */
function assertPoint(point: G1Point | G2Point, group: typeof G1 | typeof G2, where: string, name: string): void {
  if (!(point instanceof group)) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a ${group === G1 ? "G1" : "G2"} point, got ${describe(point)}`);
  }
  if (point.is0()) throw new CGError("POINT_AT_INFINITY", `${where}: ${name} is the point at infinity`);
  try {
    point.assertValidity();
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : String(cause);
    if (/subgroup/i.test(text)) {
      throw new CGError("NOT_IN_SUBGROUP", `${where}: ${name} is not in the prime-order subgroup`, { cause });
    }
    throw new CGError("NOT_ON_CURVE", `${where}: ${name} is not a point of the curve`, { cause });
  }
}

/** Like assertPoint, but answers instead of throwing (for the verifying side, which returns false). */
function isGoodPoint(point: unknown, group: typeof G1 | typeof G2): boolean {
  if (!(point instanceof group) || point.is0()) return false;
  try {
    point.assertValidity(); // the curve, then the subgroup (see assertPoint)
  } catch {
    return false;
  }
  return true;
}

function assertPosting(posting: Partial<Posting>, where: string): void {
  if (typeof posting !== "object" || posting === null) {
    throw new CGError("INVALID_INPUT", `${where}: expected a posting {C, U, V, W}, got ${describe(posting)}`);
  }
}

// ───────────────────────────── scalars (§2, §6.3) ─────────────────────────────

/**
 * hashToScalar(tag, bytes) of §2: RFC 9380 §5.2 hash_to_field into F_r with count 1, m = 1,
 * expand_message_xmd with SHA-256, k = 128, so L = ceil((ceil(log2 r) + k) / 8) = ceil((255 + 128) / 8) = 48,
 * and DST = "CGUARD-V02-SCALAR-" ‖ tag. The result is in [0, r − 1]; callers refuse 0 where it matters.
 */
export function hashToScalar(tag: string, bytes: Uint8Array): bigint {
  if (typeof tag !== "string" || tag.length === 0) {
    throw new CGError("INVALID_INPUT", `hashToScalar: expected a non-empty tag, got ${describe(tag)}`);
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new CGError("INVALID_INPUT", `hashToScalar: expected the input as bytes, got ${describe(bytes)}`);
  }
  const [[u]] = hash_to_field(bytes, 1, {
    DST: SCALAR_DST_PREFIX + tag,
    p: Fr.ORDER,
    m: 1,
    k: SCALAR_HASH_SECURITY_BITS,
    expand: "xmd",
    hash: sha256,
  });
  return u;
}

/** The preimage of c_i: abi.encode(uint256 chainId, address coordinator, uint256 requestId, uint256 i) ‖ code_i (§11). */
export function channelCodePreimage(chainId: bigint, coordinator: Address, requestId: bigint, slot: number, code: Uint8Array): Uint8Array {
  const where = "channelCodeScalar";
  assertUint256(chainId, where, "chainId");
  if (typeof coordinator !== "string" || !isAddress(coordinator, { strict: false })) {
    throw new CGError("INVALID_INPUT", `${where}: expected the coordinator as a 20-byte address, got ${describe(coordinator)}`);
  }
  assertUint256(requestId, where, "requestId");
  assertSlot(slot, where);
  if (!(code instanceof Uint8Array) || code.length !== CHANNEL_CODE_LENGTH) {
    throw new CGError("INVALID_INPUT", `${where}: expected a ${CHANNEL_CODE_LENGTH}-byte channel code, got ${describe(code)}`);
  }
  const head = encodeAbiParameters(
    [{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "uint256" }],
    [chainId, coordinator, requestId, BigInt(slot)],
  );
  return hexToBytes(concat([head, toHex(code)]));
}

/**
 * c_i = hashToScalar("channel-code", abi.encode(chainId, coordinator, requestId, i) ‖ code_i) (§6.3, §11).
 * A result of 0 is refused with `ZERO_SCALAR`: the guardian draws another code.
 */
export function channelCodeScalar(chainId: bigint, coordinator: Address, requestId: bigint, slot: number, code: Uint8Array): bigint {
  const c = hashToScalar(SCALAR_TAG.channelCode, channelCodePreimage(chainId, coordinator, requestId, slot, code));
  if (c === 0n) {
    throw new CGError("ZERO_SCALAR", "channelCodeScalar: the code gives c = 0; draw another code", { details: { requestId, slot } });
  }
  return c;
}

// ───────────────────────────── posting (§6.4) ─────────────────────────────

export interface MakePostingInput {
  share: Share;
  /** H(m), the reset message hashed to G1. */
  hashedMessage: G1Point;
  /** A = a·G1, the requester's one-time key from the request. */
  requesterKey: G1Point;
  /** c_i of this member's channel code (`channelCodeScalar`). */
  c: bigint;
}

/**
 * The member's posting: C = c·G1, random ρ ≠ 0, U = ρ·G1, V = ρ·G2, W = s_i·H(m) + ρ·(A + C).
 * Refuses A + C = O (`REQUESTER_KEY_CANCELS`: the guardian draws another code), which would post σ_i
 * in the clear.
 */
export function makePosting(input: MakePostingInput): Posting {
  const where = "makePosting";
  if (typeof input !== "object" || input === null) {
    throw new CGError("INVALID_INPUT", `${where}: expected {share, hashedMessage, requesterKey, c}, got ${describe(input)}`);
  }
  const { share, hashedMessage, requesterKey, c } = input;
  if (typeof share !== "object" || share === null) {
    throw new CGError("INVALID_INPUT", `${where}: expected a share {index, value}, got ${describe(share)}`);
  }
  assertSlot(share.index, where);
  assertScalar(share.value, where, `share #${share.index}`);
  assertPoint(hashedMessage, G1, where, "the hashed message H(m)");
  assertPoint(requesterKey, G1, where, "the requester key A");
  assertScalar(c, where, "the channel-code scalar c");
  const C = G1.BASE.multiply(c);
  const key = requesterKey.add(C);
  if (key.is0()) {
    throw new CGError("REQUESTER_KEY_CANCELS", `${where}: A + C is the point at infinity; draw another code`, {
      details: { index: share.index },
    });
  }
  const rho = randomScalar(); // in [1, r − 1]: randomScalar never returns 0
  const posting: Posting = Object.freeze({
    C,
    U: G1.BASE.multiply(rho),
    V: G2.BASE.multiply(rho),
    W: hashedMessage.multiply(share.value).add(key.multiply(rho)),
  });
  made.add(posting);
  return posting;
}

/**
 * Postings `makePosting` returned (frozen). Their points are in their subgroups by construction: multiples of P1,
 * P2 and of the checked H(m) and A + C, with c and ρ in [1, r − 1] so that C, U and V are not infinity; W is
 * infinity only if s_i·H(m) = −ρ·(A + C), a chance of 1 in r, and `compressPosting` still looks. Compressing them
 * needs no subgroup check (two scalar multiplications' worth for V, one for each G1 point).
 */
const made = new WeakSet<Posting>();

export interface VerifyPostingInput {
  posting: Posting;
  hashedMessage: G1Point;
  /** PK_i of the posting's committee epoch. */
  publicShare: G2Point;
  requesterKey: G1Point;
}

/** Π e(g1, g2) == 1 for the given pairs, with one final exponentiation. */
function pairingProductIsOne(pairs: { g1: G1Point; g2: G2Point }[]): boolean {
  return Fp12.eql(bls12_381.pairingBatch(pairs), Fp12.ONE);
}

/**
 * Which check of §6.4 a posting fails, or undefined when it passes them all:
 *   BAD_POINT              a point (of the posting, H(m), PK_i or A) is infinity, off its curve or outside its subgroup
 *   REQUESTER_KEY_CANCELS  A + C is infinity
 *   RHO_MISMATCH           e(U, P2) ≠ e(G1, V): U and V do not carry the same ρ
 *   PARTIAL_MISMATCH       e(W, P2) ≠ e(H(m), PK_i)·e(A + C, V): W does not hold s_i·H(m)
 *
 * The two equations are checked SEPARATELY, each as its own pairing product. Whoever accepts a posting
 * must not fold them into one with a coefficient the poster can predict (a fixed 1, or a hash of the
 * posting): the poster could then offset an error in one equation by a matching error in the other and
 * pass the combined check with an invalid posting. Only a fraud proof, which wants one failing
 * combination, may combine them freely (a valid posting passes both, hence every combination).
 */
export type PostingCheck = "BAD_POINT" | "REQUESTER_KEY_CANCELS" | "RHO_MISMATCH" | "PARTIAL_MISMATCH";

export function failedPostingCheck(input: VerifyPostingInput): PostingCheck | undefined {
  if (typeof input !== "object" || input === null) {
    throw new CGError("INVALID_INPUT", `verifyPosting: expected {posting, hashedMessage, publicShare, requesterKey}, got ${describe(input)}`);
  }
  const { posting, hashedMessage, publicShare, requesterKey } = input;
  assertPosting(posting, "verifyPosting");
  const { C, U, V, W } = posting;
  if (![C, U, W, hashedMessage, requesterKey].every((p) => isGoodPoint(p, G1))) return "BAD_POINT";
  if (![V, publicShare].every((p) => isGoodPoint(p, G2))) return "BAD_POINT";
  const key = requesterKey.add(C);
  if (key.is0()) return "REQUESTER_KEY_CANCELS";
  const minusP2 = G2.BASE.negate();
  // Equation 1: e(U, −P2)·e(G1, V) == 1, i.e. U and V carry the same ρ.
  if (!pairingProductIsOne([{ g1: U, g2: minusP2 }, { g1: G1.BASE, g2: V }])) return "RHO_MISMATCH";
  // Equation 2: e(W, −P2)·e(H(m), PK_i)·e(A + C, V) == 1, i.e. W − ρ·(A + C) is s_i·H(m).
  const second = pairingProductIsOne([
    { g1: W, g2: minusP2 },
    { g1: hashedMessage, g2: publicShare },
    { g1: key, g2: V },
  ]);
  return second ? undefined : "PARTIAL_MISMATCH";
}

/**
 * §6.4: e(U, P2) == e(G1, V) and e(W, P2) == e(H(m), PK_i)·e(A + C, V), each checked on its own
 * (`failedPostingCheck` says which fails). Every point must be in its prime-order subgroup and not infinity,
 * and A + C must not be infinity; otherwise false.
 */
export function verifyPosting(input: VerifyPostingInput): boolean {
  return failedPostingCheck(input) === undefined;
}

// ───────────────────────────── assembly (§6.6) ─────────────────────────────

/** c·G1 == C: the code typed in is the one the guardian posted for (a typo or a forged message fails here). */
export function checkCode(c: bigint, C: G1Point): boolean {
  assertScalar(c, "checkCode", "the channel-code scalar c");
  if (!(C instanceof G1)) throw new CGError("INVALID_INPUT", `checkCode: expected C as a G1 point, got ${describe(C)}`);
  return G1.BASE.multiply(c).equals(C);
}

export interface OpenPostingInput {
  /** The posting, or just the two points opening needs (V and C play no part in σ_i = W − (a + c)·U). */
  posting: Pick<Posting, "U" | "W">;
  /** a, the requester's one-time secret (A = a·G1). */
  requesterSecret: bigint;
  /** c_i from the code received on the member's channel. */
  c: bigint;
}

/**
 * σ_i = W − (a + c)·U (§6.4). No check here: a wrong a or c gives a wrong point, which `checkCode` and
 * the partial's verification e(σ_i, P2) == e(H(m), PK_i) catch. Refuses a + c = 0 mod r (A + C = O).
 */
export function openPosting(input: OpenPostingInput): G1Point {
  const where = "openPosting";
  if (typeof input !== "object" || input === null) {
    throw new CGError("INVALID_INPUT", `${where}: expected {posting, requesterSecret, c}, got ${describe(input)}`);
  }
  const { posting, requesterSecret, c } = input;
  assertPosting(posting, where);
  assertScalar(requesterSecret, where, "the requester secret a");
  assertScalar(c, where, "the channel-code scalar c");
  assertPoint(posting.U, G1, where, "U");
  assertPoint(posting.W, G1, where, "W");
  const k = Fr.add(requesterSecret, c);
  if (k === 0n) throw new CGError("REQUESTER_KEY_CANCELS", `${where}: a + c = 0, so A + C is the point at infinity`);
  return posting.W.subtract(posting.U.multiply(k));
}

// ───────────────────────────── encoding for the chain ─────────────────────────────

/** The EIP-2537 forms of a posting's points; refuses infinity (no valid posting has it). */
export function encodePosting(posting: Posting): EncodedPosting {
  assertPosting(posting, "encodePosting");
  assertPoint(posting.C, G1, "encodePosting", "C");
  assertPoint(posting.U, G1, "encodePosting", "U");
  assertPoint(posting.V, G2, "encodePosting", "V");
  assertPoint(posting.W, G1, "encodePosting", "W");
  return {
    C: toHex(g1ToEip2537(posting.C)),
    U: toHex(g1ToEip2537(posting.U)),
    V: toHex(g2ToEip2537(posting.V)),
    W: toHex(g1ToEip2537(posting.W)),
  };
}

function pointBytes(value: Hex, length: number, name: string): Uint8Array {
  if (typeof value !== "string" || !isHex(value) || (value.length - 2) / 2 !== length) {
    const got = typeof value === "string" && isHex(value) ? `${(value.length - 2) / 2} bytes` : describe(value);
    throw new CGError("INVALID_LENGTH", `decodePosting: expected ${name} as ${length} bytes of 0x-hex, got ${got}`);
  }
  return hexToBytes(value);
}

/** Decodes and fully checks (canonical, on curve, in subgroup, not infinity) each point of a posting. */
export function decodePosting(encoded: EncodedPosting): Posting {
  if (typeof encoded !== "object" || encoded === null) {
    throw new CGError("INVALID_INPUT", `decodePosting: expected {C, U, V, W} as 0x-hex, got ${describe(encoded)}`);
  }
  return {
    C: g1FromEip2537(pointBytes(encoded.C, G1_EIP2537_LENGTH, "C"), "decodePosting C"),
    U: g1FromEip2537(pointBytes(encoded.U, G1_EIP2537_LENGTH, "U"), "decodePosting U"),
    V: g2FromEip2537(pointBytes(encoded.V, G2_EIP2537_LENGTH, "V"), "decodePosting V"),
    W: g1FromEip2537(pointBytes(encoded.W, G1_EIP2537_LENGTH, "W"), "decodePosting W"),
  };
}

// ───────────────────────────── compressed form, as guardians post it (§2, §6.4) ─────────────────────────────

/** The parts of a compressed posting in order, with their group and byte length: 48 + 48 + 96 + 48 = 240. */
const COMPRESSED_PARTS = [
  { name: "C", group: "G1", length: G1_COMPRESSED_LENGTH },
  { name: "U", group: "G1", length: G1_COMPRESSED_LENGTH },
  { name: "V", group: "G2", length: G2_COMPRESSED_LENGTH },
  { name: "W", group: "G1", length: G1_COMPRESSED_LENGTH },
] as const;

const HALF_P = (P - 1n) / 2n;

/** ZCash compressed G1 of an affine point known to be valid: x big-endian, 0x80, and 0x20 when y > (p − 1)/2. */
function zcashG1(point: G1Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = numberToBytesBE(x, 48);
  out[0] |= 0x80 | (y > HALF_P ? 0x20 : 0);
  return out;
}

/** ZCash compressed G2 of a valid point: x.c1 ‖ x.c0, 0x80, and 0x20 from y.c1 (from y.c0 when y.c1 = 0). */
function zcashG2(point: G2Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = new Uint8Array(96);
  out.set(numberToBytesBE(x.c1, 48), 0);
  out.set(numberToBytesBE(x.c0, 48), 48);
  const larger = y.c1 !== 0n ? y.c1 > HALF_P : y.c0 > HALF_P;
  out[0] |= 0x80 | (larger ? 0x20 : 0);
  return out;
}

/**
 * C ‖ U ‖ V ‖ W, each in ZCash compressed form (G1 48 bytes, G2 96 bytes: the compression flag 0x80, the
 * infinity flag 0x40, the sign flag 0x20 set when y is the lexicographically larger root, then x big-endian;
 * for G2, x.c1 before x.c0). Refuses infinity and points outside the subgroup, which no valid posting has; a
 * posting `makePosting` made is valid by construction and is not checked again (only for infinity).
 */
export function compressPosting(posting: Posting): Uint8Array {
  const where = "compressPosting";
  assertPosting(posting, where);
  if (made.has(posting)) {
    for (const name of ["C", "U", "V", "W"] as const) {
      if (posting[name].is0()) throw new CGError("POINT_AT_INFINITY", `${where}: ${name} is the point at infinity`);
    }
  } else {
    assertPoint(posting.C, G1, where, "C");
    assertPoint(posting.U, G1, where, "U");
    assertPoint(posting.V, G2, where, "V");
    assertPoint(posting.W, G1, where, "W");
  }
  const out = new Uint8Array(POSTING_COMPRESSED_LENGTH);
  out.set(zcashG1(posting.C), 0);
  out.set(zcashG1(posting.U), 48);
  out.set(zcashG2(posting.V), 96);
  out.set(zcashG1(posting.W), 192);
  return out;
}

/** A coordinate of G2's base field F_p² (c0 + c1·u). */
export interface Fp2Value {
  c0: bigint;
  c1: bigint;
}

/**
 * One compressed point decoded as far as it goes, in the terms a fraud proof uses (IResetCoordinator.proveInvalidPosting):
 * a point of the curve (in the subgroup or not), infinity, or why the bytes are no point. `why` is in words.
 */
export type RawPoint =
  | { kind: "point"; x: bigint | Fp2Value; y: bigint | Fp2Value }
  | { kind: "infinity" }
  | { kind: "bad flags"; why: string }
  | { kind: "x not below p"; why: string }
  /** No y: x³ + b is not a square; `witness` shows it (w² = −(x³ + 4) for G1, w² = −N(x³ + 4(1 + u)) for G2). */
  | { kind: "not on the curve"; witness: bigint };

/** Euler's criterion: v is 0 or a square of F_p. */
function isSquare(v: bigint): boolean {
  return v === 0n || Fp.pow(v, HALF_P) === 1n;
}

/**
 * ZCash decoding of one compressed point (G1 48 bytes, G2 96 bytes) with no subgroup check, saying exactly what is
 * wrong when the bytes are no point: flags, x (each of x.c1 and x.c0 for G2) not below p, or an x with no y, with
 * the witness a fraud proof gives for it (p ≡ 3 mod 4, so −1 is not a square: x³ + b is not a square exactly when
 * −(x³ + b) is one, and in F_p² when its norm is not a square in F_p).
 */
export function decodeCompressedPoint(bytes: Uint8Array, group: "G1" | "G2"): RawPoint {
  const length = group === "G1" ? G1_COMPRESSED_LENGTH : G2_COMPRESSED_LENGTH;
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CGError("INVALID_LENGTH", `decodeCompressedPoint: expected a ${group} point as ${length} bytes, got ${describe(bytes)}`);
  }
  const flags = bytes[0] & 0xe0;
  const body = Uint8Array.from(bytes);
  body[0] &= 0x1f;
  if ((flags & 0x80) === 0) return { kind: "bad flags", why: "lacks the compression flag (bit 0x80 of its first byte)" };
  if (flags & 0x40) {
    if ((flags & 0x20) === 0 && body.every((b) => b === 0)) return { kind: "infinity" };
    return { kind: "bad flags", why: "has the infinity flag with a sign flag or non-zero bytes" };
  }
  const larger = (flags & 0x20) !== 0;
  if (group === "G1") {
    const x = bytesToNumberBE(body);
    if (x >= P) return { kind: "x not below p", why: "has an x coordinate that is not below the field modulus p" };
    const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), G1.CURVE().b);
    if (!isSquare(rhs)) return { kind: "not on the curve", witness: Fp.sqrt(Fp.neg(rhs)) };
    const y = Fp.sqrt(rhs);
    return { kind: "point", x, y: (y > HALF_P) === larger ? y : Fp.neg(y) };
  }
  const c1 = bytesToNumberBE(body.subarray(0, 48));
  const c0 = bytesToNumberBE(body.subarray(48, 96));
  if (c1 >= P) return { kind: "x not below p", why: "has an x coordinate (c1) that is not below the field modulus p" };
  if (c0 >= P) return { kind: "x not below p", why: "has an x coordinate (c0) that is not below the field modulus p" };
  const x = Fp2Field.create({ c0, c1 });
  const rhs = Fp2Field.add(Fp2Field.mul(Fp2Field.sqr(x), x), G2.CURVE().b);
  const norm = Fp.add(Fp.sqr(rhs.c0), Fp.sqr(rhs.c1));
  if (!isSquare(norm)) return { kind: "not on the curve", witness: Fp.sqrt(Fp.neg(norm)) };
  const y = Fp2Field.sqrt(rhs) as Fp2Value;
  const yLarger = y.c1 !== 0n ? y.c1 > HALF_P : y.c0 > HALF_P;
  return { kind: "point", x, y: yLarger === larger ? y : (Fp2Field.neg(y) as Fp2Value) };
}

/** The reason code of a RawPoint that is not a point of the curve. */
const FAULT_CODE = { infinity: "POINT_AT_INFINITY", "bad flags": "INVALID_ENCODING", "x not below p": "INVALID_ENCODING", "not on the curve": "NOT_ON_CURVE" } as const;

/**
 * Reads one compressed point of a posting, fully checked: `decodeCompressedPoint`, then one subgroup check. Throws a
 * CGError naming the point and why, with `details` { point, index, reason, kind, witness } (kind and witness as
 * `RawPoint` has them, for a fraud proof).
 */
function decompressPart(bytes: Uint8Array, part: (typeof COMPRESSED_PARTS)[number], index: number): G1Point | G2Point {
  const { name, group } = part;
  const raw = decodeCompressedPoint(bytes, group);
  const refuse = (reason: string, why: string, extra: { witness?: bigint } = {}): never => {
    throw new CGError(reason, `decompressPosting: ${name} (${group}) ${why}`, { details: { point: name, index, reason, kind: raw.kind, ...extra } });
  };
  switch (raw.kind) {
    case "infinity":
      return refuse(FAULT_CODE[raw.kind], "is the point at infinity");
    case "bad flags":
    case "x not below p":
      return refuse(FAULT_CODE[raw.kind], raw.why);
    case "not on the curve":
      return refuse(FAULT_CODE[raw.kind], "has an x for which no point is on the curve (x³ + b is not a square)", { witness: raw.witness });
  }
  const point = group === "G1" ? G1.fromAffine({ x: raw.x as bigint, y: raw.y as bigint }) : G2.fromAffine({ x: raw.x as Fp2Value, y: raw.y as Fp2Value });
  if (!inSubgroup(point)) refuse("NOT_IN_SUBGROUP", "is not in the prime-order subgroup");
  return point;
}

function compressedBytes(bytes: Uint8Array | Hex, where: string): Uint8Array {
  let raw: Uint8Array;
  if (typeof bytes === "string" && isHex(bytes)) raw = hexToBytes(bytes);
  else if (bytes instanceof Uint8Array) raw = bytes;
  else throw new CGError("INVALID_INPUT", `${where}: expected ${POSTING_COMPRESSED_LENGTH} bytes or 0x-hex, got ${describe(bytes)}`);
  if (raw.length !== POSTING_COMPRESSED_LENGTH) {
    throw new CGError("INVALID_LENGTH", `${where}: expected ${POSTING_COMPRESSED_LENGTH} bytes (C ‖ U ‖ V ‖ W = 48 + 48 + 96 + 48), got ${raw.length} bytes`, {
      details: { length: raw.length },
    });
  }
  return raw;
}

/**
 * Reads a 240-byte compressed posting (bytes or 0x-hex) into its points, fully checked. Throws a CGError whose
 * message names the bad point and why (`decompressPosting: V (G2) is not in the prime-order subgroup`), with
 * `details.point` ("C", "U", "V" or "W"), `details.index` (0 … 3), `details.reason` (the error code), and for a
 * point that is not one of the curve `details.kind` and `details.witness` as `decodeCompressedPoint` gives them.
 */
export function decompressPosting(bytes: Uint8Array | Hex): Posting {
  const raw = compressedBytes(bytes, "decompressPosting");
  const points: (G1Point | G2Point)[] = [];
  let offset = 0;
  for (const [index, part] of COMPRESSED_PARTS.entries()) {
    points.push(decompressPart(raw.subarray(offset, offset + part.length), part, index));
    offset += part.length;
  }
  const [C, U, V, W] = points;
  return { C: C as G1Point, U: U as G1Point, V: V as G2Point, W: W as G1Point };
}

function fpToEip2537Hex(v: bigint): Hex {
  return toHex(concat([new Uint8Array(16), numberToBytesBE(v, 48)]));
}

/**
 * The full (EIP-2537) form a fraud proof supplies beside the posted bytes: each point as its bytes decode, in the
 * subgroup or not (what the contract checks against the bytes); zeros for a part that decodes to no point (its fault
 * is then proven from the bytes and `encodingWitness`). No check: this is for proving a posting invalid.
 */
export function fullPosting(bytes: Uint8Array | Hex): EncodedPosting {
  const raw = compressedBytes(bytes, "fullPosting");
  const out: Partial<EncodedPosting> = {};
  let offset = 0;
  for (const part of COMPRESSED_PARTS) {
    const p = decodeCompressedPoint(raw.subarray(offset, offset + part.length), part.group);
    offset += part.length;
    if (p.kind !== "point") out[part.name] = toHex(new Uint8Array(part.group === "G1" ? G1_EIP2537_LENGTH : G2_EIP2537_LENGTH));
    else if (typeof p.x === "bigint") out[part.name] = concat([fpToEip2537Hex(p.x), fpToEip2537Hex(p.y as bigint)]);
    else {
      const [x, y] = [p.x, p.y as Fp2Value];
      out[part.name] = concat([fpToEip2537Hex(x.c0), fpToEip2537Hex(x.c1), fpToEip2537Hex(y.c0), fpToEip2537Hex(y.c1)]);
    }
  }
  return out as EncodedPosting;
}

/**
 * The `encodingWitness` of a fraud proof for a point whose x has no y: abi.encode(uint256 point (0 C … 3 W),
 * uint256 wHi, uint256 wLo), w split at bit 256 (w < p < 2³⁸⁴). For any other fault the proof takes "0x".
 */
export function encodingWitness(index: number, witness: bigint): Hex {
  if (!Number.isInteger(index) || index < 0 || index > 3) {
    throw new CGError("INVALID_INPUT", `encodingWitness: expected a point index in [0, 3] (C, U, V, W), got ${describe(index)}`);
  }
  if (typeof witness !== "bigint" || witness < 0n || witness >= P) {
    throw new CGError("INVALID_INPUT", `encodingWitness: expected the witness as a field element below p, got ${describe(witness)}`);
  }
  return encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }, { type: "uint256" }], [BigInt(index), witness >> 256n, witness & UINT256_MAX]);
}

/**
 * keccak256 of the requester key A in its 128-byte EIP-2537 form, as the request binds it into m (§6.2, §11)
 * and `completeReset` takes it. Accepts the point or its EIP-2537 encoding (bytes or 0x-hex), which is
 * checked (canonical, on curve, in subgroup, not infinity).
 */
export function requesterKeyHash(A: G1Point | Uint8Array | Hex): Hex {
  let encoded: Uint8Array;
  if (A instanceof G1) {
    assertPoint(A, G1, "requesterKeyHash", "the requester key A");
    encoded = g1ToEip2537(A);
  } else {
    const bytes = typeof A === "string" && isHex(A) ? hexToBytes(A) : A;
    if (!(bytes instanceof Uint8Array)) {
      throw new CGError("INVALID_INPUT", `requesterKeyHash: expected A as a G1 point or its ${G1_EIP2537_LENGTH}-byte EIP-2537 form, got ${describe(A)}`);
    }
    encoded = g1ToEip2537(g1FromEip2537(bytes, "requesterKeyHash: A"));
  }
  return keccak256(encoded);
}
