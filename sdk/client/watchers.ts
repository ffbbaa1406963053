/**
 * Watchers (PROTOCOL.md §8): anyone, holding no secret, reads every posting from `PartialPosted` events, judges it
 * against the message it was made for with the public check of §6.4 (PK_i from the epoch's commitments, read from the
 * committee registry's events), and proves an invalid one on-chain with commit-reveal: `commitProof` binds the proof
 * to the prover, then, at least one block later, `proveInvalidPosting` slashes exactly that guardian and rewards the
 * prover. A proof copied from the mempool earns its copier nothing; an honest posting can never be proven invalid.
 *
 * Judging checks the two equations separately (a coefficient the poster could predict would let an invalid posting
 * pass a combined check), after decoding each compressed point without trusting it: flags, x < p, a y on the curve,
 * the subgroup and infinity are each checked and named.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE, numberToBytesBE } from "@noble/curves/utils.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { type Address, type Hex, concat, encodeAbiParameters, getAddress, hexToBytes, keccak256, toHex } from "viem";

import { resetCoordinatorAbi } from "../abi/index.ts";
import { type G1Point, type G2Point, Fp, Fp12, Fp2Field, G1, G2, P, g1FromEip2537, hashToG1 } from "../crypto/bls.ts";
import { publicShare } from "../crypto/threshold.ts";
import { CGError } from "../errors.ts";
import { type CommitteeEpoch, committeeEpoch } from "./committees.ts";
import { type Clients, type Progress, coordinatorOf, fromBlock } from "./deployment.ts";
import { type PostingEntry, type ResetRequest, commitmentsOf, messageOf, postingHistory, postingsOf, requestContext, resetRequest } from "./resets.ts";
import { type Explain, send, wallet } from "./transactions.ts";

// ───────────────────────────── decoding a posting without trusting it ─────────────────────────────

type Fp2 = { c0: bigint; c1: bigint };

/** One compressed point, decoded as far as it goes: a point of the curve (maybe off the subgroup), or why not. */
export type RawPoint =
  | { kind: "point"; x: bigint | Fp2; y: bigint | Fp2 }
  | { kind: "infinity" }
  | { kind: "bad flags" }
  | { kind: "x not below p" }
  /** No y: x³ + b is not a square; `witness` shows it (w² = −(x³ + 4) for G1, w² = −N(x³ + 4(1 + u)) for G2). */
  | { kind: "not on the curve"; witness: bigint };

const HALF_P = (P - 1n) / 2n;
const COMPRESSION = 0x80;
const INFINITY = 0x40;
const SORT = 0x20;

function largest(y: bigint): boolean {
  return y > HALF_P;
}

function largestFp2(y: Fp2): boolean {
  return y.c1 !== 0n ? largest(y.c1) : largest(y.c0);
}

/** ZCash decoding of a 48-byte G1 (`g2` false) or 96-byte G2 point, with no subgroup check. */
export function decodeCompressed(bytes: Uint8Array, g2: boolean): RawPoint {
  const flags = bytes[0] & 0xe0;
  const body = Uint8Array.from(bytes);
  body[0] &= 0x1f;
  if (!(flags & COMPRESSION)) return { kind: "bad flags" };
  if (flags & INFINITY) return flags & SORT || body.some((b) => b !== 0) ? { kind: "bad flags" } : { kind: "infinity" };
  if (!g2) {
    const x = bytesToNumberBE(body);
    if (x >= P) return { kind: "x not below p" };
    const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
    if (Fp.pow(rhs, HALF_P) !== 1n && rhs !== 0n) return { kind: "not on the curve", witness: Fp.sqrt(Fp.neg(rhs)) };
    let y = Fp.sqrt(rhs);
    if (largest(y) !== Boolean(flags & SORT)) y = Fp.neg(y);
    return { kind: "point", x, y };
  }
  const c1 = bytesToNumberBE(body.subarray(0, 48));
  const c0 = bytesToNumberBE(body.subarray(48, 96));
  if (c1 >= P || c0 >= P) return { kind: "x not below p" };
  const x = Fp2Field.create({ c0, c1 });
  const rhs = Fp2Field.add(Fp2Field.mul(Fp2Field.sqr(x), x), Fp2Field.create({ c0: 4n, c1: 4n }));
  // rhs is a square in Fp2 iff its norm a0² + a1² is a square in Fp.
  const norm = Fp.add(Fp.sqr(rhs.c0), Fp.sqr(rhs.c1));
  if (norm !== 0n && Fp.pow(norm, HALF_P) !== 1n) return { kind: "not on the curve", witness: Fp.sqrt(Fp.neg(norm)) };
  let y = Fp2Field.sqrt(rhs) as Fp2;
  if (largestFp2(y) !== Boolean(flags & SORT)) y = Fp2Field.neg(y) as Fp2;
  return { kind: "point", x, y };
}

function fp(v: bigint): Hex {
  return toHex(concat([new Uint8Array(16), numberToBytesBE(v, 48)]));
}

/** The EIP-2537 form of a decoded point (128 bytes for G1, 256 for G2). */
function eip2537(p: Extract<RawPoint, { kind: "point" }>): Hex {
  if (typeof p.x === "bigint") return concat([fp(p.x), fp(p.y as bigint)]);
  const x = p.x as Fp2;
  const y = p.y as Fp2;
  return concat([fp(x.c0), fp(x.c1), fp(y.c0), fp(y.c1)]);
}

const PARTS = [
  { name: "C", offset: 0, length: 48, g2: false },
  { name: "U", offset: 48, length: 48, g2: false },
  { name: "V", offset: 96, length: 96, g2: true },
  { name: "W", offset: 192, length: 48, g2: false },
] as const;

export interface PostingVerdict {
  valid: boolean;
  /** The failing check in words (empty for a valid posting). */
  check: string;
  /** Index (0 = C … 3 = W) and witness when a point's bytes decode to no point of the curve. */
  encoding?: { part: number; witness: bigint | undefined };
}

/**
 * The public check of §6.4 for one posting against the message it was made for: every point decodes, is in its
 * subgroup and not infinity, A + C ≠ O, e(U, P2) == e(G1, V), and e(W, P2) == e(H(m), PK_i)·e(A + C, V), each
 * checked on its own.
 */
export function judgePosting(posting: Hex, o: { message: Hex; publicShare: G2Point; requesterKey: G1Point }): PostingVerdict {
  const bytes = hexToBytes(posting);
  if (bytes.length !== 240) return { valid: false, check: `the posting is ${bytes.length} bytes, not 240` };
  const points: (G1Point | G2Point)[] = [];
  for (const [k, part] of PARTS.entries()) {
    const raw = decodeCompressed(bytes.subarray(part.offset, part.offset + part.length), part.g2);
    if (raw.kind === "infinity") return { valid: false, check: `${part.name} is the point at infinity` };
    if (raw.kind !== "point") return { valid: false, check: `${part.name} is no point: ${raw.kind}`, encoding: { part: k, witness: raw.kind === "not on the curve" ? raw.witness : undefined } };
    const point = part.g2 ? G2.fromAffine({ x: raw.x as Fp2, y: raw.y as Fp2 }) : G1.fromAffine({ x: raw.x as bigint, y: raw.y as bigint });
    if (!point.isTorsionFree()) return { valid: false, check: `${part.name} is not in the prime-order subgroup` };
    points.push(point);
  }
  const [C, U, V, W] = points as [G1Point, G1Point, G2Point, G1Point];
  const key = o.requesterKey.add(C);
  if (key.is0()) return { valid: false, check: "A + C is the point at infinity" };
  const minusP2 = G2.BASE.negate();
  const one = (pairs: { g1: G1Point; g2: G2Point }[]) => Fp12.eql(bls12_381.pairingBatch(pairs), Fp12.ONE);
  if (!one([{ g1: U, g2: minusP2 }, { g1: G1.BASE, g2: V }])) return { valid: false, check: "e(U, P2) ≠ e(G1, V): U and V do not carry the same ρ" };
  const hashed = hashToG1(hexToBytes(o.message));
  if (!one([{ g1: W, g2: minusP2 }, { g1: hashed, g2: o.publicShare }, { g1: key, g2: V }])) {
    return { valid: false, check: "e(W, P2) ≠ e(H(m), PK_i)·e(A + C, V): W does not hold the guardian's partial σ_i" };
  }
  return { valid: true, check: "" };
}

/** The full (EIP-2537) form of a posting whose four points decode (in the subgroup or not). */
export function fullPosting(posting: Hex): { C: Hex; U: Hex; V: Hex; W: Hex } {
  const bytes = hexToBytes(posting);
  const out: Record<string, Hex> = {};
  for (const part of PARTS) {
    const raw = decodeCompressed(bytes.subarray(part.offset, part.offset + part.length), part.g2);
    out[part.name] = raw.kind === "point" ? eip2537(raw) : toHex(new Uint8Array(part.g2 ? 256 : 128));
  }
  return out as { C: Hex; U: Hex; V: Hex; W: Hex };
}

// ───────────────────────────── scanning ─────────────────────────────

export interface JudgedPosting extends PostingEntry {
  requestId: bigint;
  /** standing: valid for the request's message; invalid: provable; proven: struck already; foreign: made for another message (never paid, not judged). */
  verdict: "standing" | "invalid" | "proven" | "foreign";
  check: string;
}

function publicShareOf(epoch: CommitteeEpoch, slot: number): G2Point {
  return publicShare(commitmentsOf(epoch), slot);
}

/** Judges every posting of one request against its true message. */
export async function judgeRequest(c: Clients, request: ResetRequest): Promise<JudgedPosting[]> {
  const postings = await postingsOf(c, request.requestId);
  const message = messageOf(request);
  const requesterKey = g1FromEip2537(hexToBytes(request.requesterKey), "the requester key A");
  const epochs = new Map<bigint, CommitteeEpoch>();
  const out: JudgedPosting[] = [];
  for (const p of postings) {
    if (p.proven) {
      out.push({ ...p, requestId: request.requestId, verdict: "proven", check: "proven invalid on-chain" });
      continue;
    }
    if (p.message.toLowerCase() !== message.toLowerCase()) {
      out.push({ ...p, requestId: request.requestId, verdict: "foreign", check: "made for another message (never paid, not judged)" });
      continue;
    }
    if (!epochs.has(p.committeeEpoch)) epochs.set(p.committeeEpoch, await committeeEpoch(c, request.committeeId, p.committeeEpoch));
    const verdict = judgePosting(p.posting, { message, publicShare: publicShareOf(epochs.get(p.committeeEpoch)!, p.slot), requesterKey });
    out.push({ ...p, requestId: request.requestId, verdict: verdict.valid ? "standing" : "invalid", check: verdict.check });
  }
  return out;
}

/** Every request since `from` (default: the deployment), or the one given, with its postings judged. */
export async function scanPostings(c: Clients, o: { requestId?: bigint; from?: bigint } = {}, progress: Progress = () => {}): Promise<JudgedPosting[]> {
  const requests: ResetRequest[] = [];
  if (o.requestId !== undefined) requests.push(await resetRequest(c, o.requestId));
  else {
    const logs = await c.public.getContractEvents({ address: coordinatorOf(c), abi: resetCoordinatorAbi, eventName: "ResetRequested", fromBlock: o.from ?? fromBlock(c) });
    for (const l of logs) requests.push(await resetRequest(c, l.args.requestId!));
  }
  const out: JudgedPosting[] = [];
  for (const r of requests) {
    const judged = await judgeRequest(c, r);
    progress(`request ${r.requestId}: ${judged.length} posting${judged.length === 1 ? "" : "s"}, ${judged.filter((j) => j.verdict === "invalid").length} invalid`);
    out.push(...judged);
  }
  return out;
}

// ───────────────────────────── proving ─────────────────────────────

/** keccak256(abi.encode(prover, requestId, position, salt)): what `commitProof` takes. */
export function proofCommitment(prover: Address, requestId: bigint, position: number, salt: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }, { type: "uint256" }, { type: "bytes32" }], [prover, requestId, BigInt(position), salt]));
}

export interface ProvenPosting {
  requestId: bigint;
  position: number;
  slot: number;
  guardian: Address;
  check: string;
  slashed: bigint;
  gasUsed: bigint;
  txHash: Hex;
}

/**
 * Proves the posting at `position` of request `requestId` invalid: judges it first (a valid posting is refused here,
 * `POSTING_VALID`, before anything is sent), commits, waits one block, then proves. The slashed guardian is named.
 */
export async function proveInvalidPosting(c: Clients, o: { requestId: bigint; position: number; pollMs?: number }, progress: Progress = () => {}): Promise<ProvenPosting> {
  const w = wallet(c);
  const request = await resetRequest(c, o.requestId);
  const judged = await judgeRequest(c, request);
  const target = judged[o.position];
  if (!target) throw new CGError("UNKNOWN_POSTING", `request ${o.requestId} has ${judged.length} postings (positions 0 to ${judged.length - 1}), not position ${o.position}`, { details: { requestId: o.requestId, position: o.position } });
  const who = `slot ${target.slot} (${target.guardian})`;
  if (target.verdict === "standing") throw new CGError("POSTING_VALID", `the posting of ${who} at position ${o.position} passes the public check: an honest posting cannot be proven invalid`, { details: { requestId: o.requestId, position: o.position } });
  if (target.verdict === "proven") throw new CGError("ALREADY_PROVEN", `the posting of ${who} at position ${o.position} is already proven invalid`, { details: { requestId: o.requestId, position: o.position } });
  if (target.verdict === "foreign") throw new CGError("NOT_PROVABLE", `the posting of ${who} at position ${o.position} was made for another message: it is never paid, and not provable against this request`);
  const epoch = await committeeEpoch(c, request.committeeId, target.committeeEpoch);
  const salt = toHex(randomBytes(32));
  const commitment = proofCommitment(w.account.address, o.requestId, o.position, salt);
  progress(`posting of ${who} fails: ${target.check}; committing to the proof`);
  const committed = await send(c, { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "commitProof", args: [commitment] }, { explain: explainProofError() });
  while ((await c.public.getBlockNumber()) <= committed.blockNumber) await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
  progress("proving");
  const verdict = judgePosting(target.posting, { message: target.message, publicShare: publicShareOf(epoch, target.slot), requesterKey: g1FromEip2537(hexToBytes(request.requesterKey), "the requester key A") });
  const witness = verdict.encoding?.witness !== undefined ? encodingWitness(verdict.encoding.part, verdict.encoding.witness) : "0x";
  const receipt = await send(
    c,
    {
      address: coordinatorOf(c),
      abi: resetCoordinatorAbi,
      functionName: "proveInvalidPosting",
      args: [o.requestId, requestContext(request), postingHistory(judged), BigInt(o.position), target.posting, fullPosting(target.posting), witness, epoch.commitments, request.requesterKey, salt],
    },
    { explain: explainProofError() },
  );
  const logs = await c.public.getContractEvents({ address: coordinatorOf(c), abi: resetCoordinatorAbi, eventName: "InvalidPostingProven", args: { requestId: o.requestId }, blockHash: receipt.blockHash });
  const proven = logs.find((l) => Number(l.args.position) === o.position);
  return { requestId: o.requestId, position: o.position, slot: target.slot, guardian: getAddress(target.guardian), check: target.check, slashed: proven?.args.slashed ?? 0n, gasUsed: committed.gasUsed + receipt.gasUsed, txHash: receipt.transactionHash };
}

/** `encodingWitness` for a point whose x has no y: abi.encode(uint256 point (0 C … 3 W), uint256 wHi, uint256 wLo). */
function encodingWitness(part: number, w: bigint): Hex {
  const low = (1n << 256n) - 1n;
  return encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }, { type: "uint256" }], [BigInt(part), w >> 256n, w & low]);
}

/** Words for the fraud-proof refusals; other errors keep `Name(args)`. */
export function explainProofError(): Explain {
  return (error, args) => {
    const a = args as readonly any[];
    switch (error) {
      case "ResetPostingValid":
        return `the posting at position ${a[1]} of request ${a[0]} passes the public check: nothing to prove`;
      case "ResetPostingAlreadyProven":
        return `the posting at position ${a[1]} of request ${a[0]} is already proven invalid`;
      case "ResetProofNotCommitted":
        return `${a[0]} has no commitment to this proof at least one block old: commit first (commitProof), then prove`;
      case "ResetPostingMismatch":
        return `the posting given for position ${a[1]} of request ${a[0]} is not the one posted (or its full form does not match its bytes)`;
      case "ResetWrongPostingHistory":
        return `the posting history given for request ${a[0]} is not the one on-chain (read it again from the events)`;
      case "ResetWrongContext":
        return `the request fields given for request ${a[0]} are not the ones it was made with`;
      default:
        return undefined;
    }
  };
}
