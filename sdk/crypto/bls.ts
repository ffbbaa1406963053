/**
 * BLS12-381 for CG-BLS12381G1-v2 (PROTOCOL.md §2): signatures in G1, keys in G2, a thin layer over
 * `@noble/curves`. Encodings: EIP-2537 on-chain (G1 128 bytes, G2 256 bytes), ZCash compressed off-chain
 * (G1 48 bytes, G2 96 bytes). Every decoder refuses the point at infinity, non-canonical coordinates,
 * points off the curve and points outside the prime-order subgroup, each with its own message.
 */
import type { Fp2 } from "@noble/curves/abstract/tower.js";
import type { WeierstrassPoint } from "@noble/curves/abstract/weierstrass.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE, numberToBytesBE } from "@noble/curves/utils.js";

import { CGError, describe } from "../errors.ts";
import {
  DST,
  FP_EIP2537_LENGTH,
  G1_COMPRESSED_LENGTH,
  G1_EIP2537_LENGTH,
  G2_COMPRESSED_LENGTH,
  G2_EIP2537_LENGTH,
} from "./constants.ts";

export type G1Point = WeierstrassPoint<bigint>;
export type G2Point = WeierstrassPoint<Fp2>;

export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
export const Fp = bls12_381.fields.Fp;
export const Fp2Field = bls12_381.fields.Fp2;
export const Fp12 = bls12_381.fields.Fp12;
export const Fr = bls12_381.fields.Fr;
/** Base field modulus p and scalar field order r. */
export const P = Fp.ORDER;
export const R = Fr.ORDER;

/**
 * Builds the larger tables (window 8) for multiples of P1 and P2: about 0.4 s and a few MB once, then c·P1, ρ·P1 and
 * ρ·P2 cost about half. For long-running signers (the guardian agent), not for a one-shot client.
 */
export function precomputeGenerators(): void {
  G1.BASE.precompute(8, false);
  G2.BASE.precompute(8, false);
}

/** RFC 9380 hash_to_curve with suite BLS12381G1_XMD:SHA-256_SSWU_RO_; the protocol DST unless told otherwise. */
export function hashToG1(message: Uint8Array, dst: string | Uint8Array = DST): G1Point {
  if (!(message instanceof Uint8Array)) {
    throw new CGError("INVALID_INPUT", `hashToG1: expected the message as bytes, got ${describe(message)}`);
  }
  return bls12_381.G1.hashToCurve(message, { DST: dst }) as G1Point;
}

/** e(a, b) as an Fp12 element (the GT group). */
export function pairing(a: G1Point, b: G2Point) {
  return bls12_381.pairing(a, b);
}

/**
 * e(signature, P2) == e(hashedMessage, publicKey), as one batch e(σ, −P2)·e(H(m), K) == 1 — the same
 * equation the contract checks with one PAIRING call.
 */
export function verifySignature(signature: G1Point, publicKey: G2Point, hashedMessage: G1Point): boolean {
  if (signature.is0() || publicKey.is0()) return false;
  const product = bls12_381.pairingBatch([
    { g1: signature, g2: G2.BASE.negate() },
    { g1: hashedMessage, g2: publicKey },
  ]);
  return Fp12.eql(product, Fp12.ONE);
}

// ───────────────────────────── scalars ─────────────────────────────

/** A scalar of F_r as 32 bytes big-endian (PROTOCOL.md §9). */
export function scalarToBytes(scalar: bigint): Uint8Array {
  return numberToBytesBE(scalar, 32);
}

/** Reads a share or secret: 32 bytes big-endian in [1, r − 1]. */
export function scalarFromBytes(bytes: Uint8Array, what = "scalar"): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new CGError("INVALID_INPUT", `${what}: expected 32 bytes, got ${describe(bytes)}`);
  }
  const value = bytesToNumberBE(bytes);
  if (value === 0n || value >= R) {
    throw new CGError("INVALID_SCALAR", `${what}: expected a scalar in [1, r-1], got a value out of range`);
  }
  return value;
}

// ───────────────────────────── EIP-2537 encoding ─────────────────────────────

function fpToEip(value: bigint): Uint8Array {
  return numberToBytesBE(value, FP_EIP2537_LENGTH);
}

function fpFromEip(bytes: Uint8Array, offset: number, where: string): bigint {
  const limb = bytes.subarray(offset, offset + FP_EIP2537_LENGTH);
  for (let k = 0; k < 16; k++) {
    if (limb[k] !== 0) {
      throw new CGError("INVALID_ENCODING", `${where}: expected 16 zero bytes before each 48-byte coordinate`);
    }
  }
  const value = bytesToNumberBE(limb);
  if (value >= P) throw new CGError("INVALID_ENCODING", `${where}: coordinate is not below the field modulus p`);
  return value;
}

/**
 * The subgroup check of a point already known to be on its curve and not infinity: noble's `assertValidity`, which
 * in @noble/curves 2.4 (abstract/weierstrass.js) checks the curve equation, then `isTorsionFree()`, and remembers a
 * success on the (frozen) instance, so later checks of the same point (assertPoint, pairingBatch, toBytes) cost
 * nothing. test/sdk/crypto/bls.test.ts pins that it refuses points outside the subgroup, in G1 and in G2.
 */
export function inSubgroup(point: G1Point | G2Point): boolean {
  try {
    point.assertValidity();
    return true;
  } catch {
    return false;
  }
}

function refuseZero(point: G1Point | G2Point, where: string): void {
  if (point.is0()) throw new CGError("POINT_AT_INFINITY", `${where}: the point at infinity is not allowed here`);
}

/** G1 point to its 128-byte EIP-2537 encoding. */
export function g1ToEip2537(point: G1Point): Uint8Array {
  const out = new Uint8Array(G1_EIP2537_LENGTH);
  if (point.is0()) return out;
  const { x, y } = point.toAffine();
  out.set(fpToEip(x), 0);
  out.set(fpToEip(y), 64);
  return out;
}

/** G2 point to its 256-byte EIP-2537 encoding (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1). */
export function g2ToEip2537(point: G2Point): Uint8Array {
  const out = new Uint8Array(G2_EIP2537_LENGTH);
  if (point.is0()) return out;
  const { x, y } = point.toAffine();
  out.set(fpToEip(x.c0), 0);
  out.set(fpToEip(x.c1), 64);
  out.set(fpToEip(y.c0), 128);
  out.set(fpToEip(y.c1), 192);
  return out;
}

/** Decodes and fully checks a 128-byte EIP-2537 G1 point (not infinity, on curve, in subgroup). */
export function g1FromEip2537(bytes: Uint8Array, where = "g1FromEip2537"): G1Point {
  if (!(bytes instanceof Uint8Array) || bytes.length !== G1_EIP2537_LENGTH) {
    throw new CGError("INVALID_LENGTH", `${where}: expected ${G1_EIP2537_LENGTH} bytes, got ${describe(bytes)}`);
  }
  const x = fpFromEip(bytes, 0, where);
  const y = fpFromEip(bytes, 64, where);
  if (x === 0n && y === 0n) refuseZero(G1.ZERO, where);
  const { b } = G1.CURVE();
  if (!Fp.eql(Fp.sqr(y), Fp.add(Fp.mul(Fp.sqr(x), x), b))) {
    throw new CGError("NOT_ON_CURVE", `${where}: the point is not on the G1 curve`);
  }
  const point = G1.fromAffine({ x, y });
  if (!inSubgroup(point)) throw new CGError("NOT_IN_SUBGROUP", `${where}: the point is not in the G1 subgroup`);
  return point;
}

/** Decodes and fully checks a 256-byte EIP-2537 G2 point (not infinity, on curve, in subgroup). */
export function g2FromEip2537(bytes: Uint8Array, where = "g2FromEip2537"): G2Point {
  if (!(bytes instanceof Uint8Array) || bytes.length !== G2_EIP2537_LENGTH) {
    throw new CGError("INVALID_LENGTH", `${where}: expected ${G2_EIP2537_LENGTH} bytes, got ${describe(bytes)}`);
  }
  const x = Fp2Field.create({ c0: fpFromEip(bytes, 0, where), c1: fpFromEip(bytes, 64, where) });
  const y = Fp2Field.create({ c0: fpFromEip(bytes, 128, where), c1: fpFromEip(bytes, 192, where) });
  if (Fp2Field.is0(x) && Fp2Field.is0(y)) refuseZero(G2.ZERO, where);
  const { b } = G2.CURVE();
  if (!Fp2Field.eql(Fp2Field.sqr(y), Fp2Field.add(Fp2Field.mul(Fp2Field.sqr(x), x), b))) {
    throw new CGError("NOT_ON_CURVE", `${where}: the point is not on the G2 curve`);
  }
  const point = G2.fromAffine({ x, y });
  if (!inSubgroup(point)) throw new CGError("NOT_IN_SUBGROUP", `${where}: the point is not in the G2 subgroup`);
  return point;
}

// ───────────────────────────── compressed encoding ─────────────────────────────

function fromCompressed<T extends G1Point | G2Point>(
  bytes: Uint8Array,
  length: number,
  decode: (b: Uint8Array) => T,
  where: string,
): T {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CGError("INVALID_LENGTH", `${where}: expected ${length} bytes, got ${describe(bytes)}`);
  }
  let point: T;
  try {
    point = decode(bytes);
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : String(cause);
    const code = /subgroup/i.test(text) ? "NOT_IN_SUBGROUP" : /equation|curve|sqrt|root/i.test(text) ? "NOT_ON_CURVE" : "INVALID_ENCODING";
    throw new CGError(code, `${where}: not a valid compressed point (${text})`, { cause });
  }
  refuseZero(point, where);
  return point;
}

/** G1 point to 48-byte compressed form. */
export function g1ToCompressed(point: G1Point): Uint8Array {
  return point.toBytes(true);
}

/** G2 point to 96-byte compressed form. */
export function g2ToCompressed(point: G2Point): Uint8Array {
  return point.toBytes(true);
}

/** Decodes and fully checks a 48-byte compressed G1 point (noble checks curve and subgroup; infinity refused here). */
export function g1FromCompressed(bytes: Uint8Array, where = "g1FromCompressed"): G1Point {
  return fromCompressed(bytes, G1_COMPRESSED_LENGTH, (b) => G1.fromBytes(b) as G1Point, where);
}

/** Decodes and fully checks a 96-byte compressed G2 point. */
export function g2FromCompressed(bytes: Uint8Array, where = "g2FromCompressed"): G2Point {
  return fromCompressed(bytes, G2_COMPRESSED_LENGTH, (b) => G2.fromBytes(b) as G2Point, where);
}

/** 48-byte compressed G1 to 128-byte EIP-2537, with full checks. */
export function g1CompressedToEip2537(bytes: Uint8Array): Uint8Array {
  return g1ToEip2537(g1FromCompressed(bytes));
}

/** 128-byte EIP-2537 G1 to 48-byte compressed, with full checks. */
export function g1Eip2537ToCompressed(bytes: Uint8Array): Uint8Array {
  return g1ToCompressed(g1FromEip2537(bytes));
}

/** 96-byte compressed G2 to 256-byte EIP-2537, with full checks. */
export function g2CompressedToEip2537(bytes: Uint8Array): Uint8Array {
  return g2ToEip2537(g2FromCompressed(bytes));
}

/** 256-byte EIP-2537 G2 to 96-byte compressed, with full checks. */
export function g2Eip2537ToCompressed(bytes: Uint8Array): Uint8Array {
  return g2ToCompressed(g2FromEip2537(bytes));
}
