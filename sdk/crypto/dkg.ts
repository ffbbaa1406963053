/**
 * The committee key of CG-BLS12381G1-v2 (PROTOCOL v2 §3, §4): Joint-Feldman DKG dealings and the
 * resharing that keeps the group key K across a membership change, as pure functions (no I/O, no chain,
 * no clock). The guardian agent and the contracts' fraud proofs check the same equations.
 *
 *   DKG (§3)      dealer i: f_i of degree t−1, D_{i,l} = a_{i,l}·P2, sub-share f_i(j) sealed to member j;
 *                 C_l = Σ_{i∈Q} D_{i,l}, K = C_0, s_j = Σ_{i∈Q} f_i(j), PK_j = Σ_l j^l·C_l.
 *   Reshare (§4)  old member i: g_i of degree t'−1 with g_i(0) = s_i, so E_{i,0} = PK_i;
 *                 Q' = the t qualified dealers with the lowest old indices, λ_i Lagrange at 0 over Q';
 *                 C'_l = Σ_{i∈Q'} λ_i·E_{i,l} (C'_0 = K), s'_j = Σ_{i∈Q'} λ_i·g_i(j).
 *
 * Indices are 1-based: a dealer is named by its index in the dealing epoch, a recipient by its index in
 * the epoch being built. Sub-shares are listed by recipient: `subShares[j − 1]` is the one for j.
 *
 * Secrets: coefficients and shares are bigints while in use, which JavaScript cannot wipe; every byte
 * buffer that held one is zeroed, and `DkgDealing.wipe()` drops the references (as threshold.ts does).
 * No error message carries a secret value.
 */
import { type Address, type Hex, hexToBytes, isHex, keccak256, toBytes, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import { committeeAckMessage } from "../encoding/messages.ts";
import {
  type G1Point,
  type G2Point,
  Fr,
  G2,
  R,
  g1FromEip2537,
  g1ToEip2537,
  g2FromEip2537,
  g2ToEip2537,
  hashToG1,
  verifySignature,
} from "./bls.ts";
import { COMMITTEE_MAX_SIZE, G2_EIP2537_LENGTH, MIN_THRESHOLD, SEALED_SUBSHARE_LENGTH } from "./constants.ts";
import { type Share, evalCommitments, evalPoly, lagrangeAtZero, randomScalar } from "./threshold.ts";

/** One dealer's part of a DKG (§3.2) or of a reshare (§4.1). */
export interface DkgDealing {
  readonly threshold: number;
  /** D_{i,0..t−1} (E_{i,0..t'−1} in a reshare, where E_{i,0} = PK_i). */
  readonly commitments: readonly G2Point[];
  /** Index j − 1 holds f_i(j) (or g_i(j)) for recipient j = 1 … nRecipients; each in [1, r − 1]. */
  subShares: bigint[];
  /** Drops the coefficients and sub-shares (see the module note on wiping). */
  wipe(): void;
}

/** A dealing as the chain carries it (§3.2, §4.1): commitments and sealed sub-shares, concatenated. */
export interface EncodedDealing {
  /** t × 256-byte EIP-2537 G2 points, D_{i,0} first. */
  commitments: Hex;
  /** nRecipients × 80-byte sealed sub-shares, recipient 1 first. */
  sealedShares: Hex;
}

export interface DecodedDealing {
  commitments: G2Point[];
  sealedSubShares: Uint8Array[];
}

// ───────────────────────────── input checks ─────────────────────────────

/** §3.1: 2 ≤ t ≤ n ≤ 32 and t > n/2 (a majority, so two disjoint quorums cannot exist). */
export function assertCommitteeBounds(n: number, t: number, where: string): void {
  if (!Number.isInteger(n) || n < MIN_THRESHOLD || n > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected a committee size n in [${MIN_THRESHOLD}, ${COMMITTEE_MAX_SIZE}], got ${describe(n)}`, {
      details: { n },
    });
  }
  if (!Number.isInteger(t) || t < MIN_THRESHOLD || t > n) {
    throw new CGError("INVALID_INPUT", `${where}: expected a threshold t in [${MIN_THRESHOLD}, n = ${n}], got ${describe(t)}`, {
      details: { n, t },
    });
  }
  if (2 * t <= n) {
    throw new CGError("INVALID_INPUT", `${where}: expected a threshold t > n/2 = ${n / 2}, got ${t}`, { details: { n, t } });
  }
}

function assertMember(index: number, where: string, name: string): void {
  if (!Number.isInteger(index) || index < 1 || index > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(index)}`);
  }
}

/** A secret scalar in [1, r − 1]; the message never shows the value. */
function assertScalar(value: bigint, where: string, name: string): void {
  if (typeof value !== "bigint") throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a bigint, got ${typeof value}`);
  if (value <= 0n || value >= R) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} in [1, r-1], got a value out of range`);
  }
}

function assertShare(share: Share, where: string): void {
  if (typeof share !== "object" || share === null) throw new CGError("INVALID_INPUT", `${where}: expected a share {index, value}, got ${describe(share)}`);
  assertMember(share.index, where, "a share index");
  assertScalar(share.value, where, `share #${share.index}`);
}

/** 1 to 32 commitments, each a G2 point other than infinity (an honest dealer's never is: coefficients ≠ 0). */
function assertCommitments(commitments: readonly G2Point[], where: string, name: string): void {
  if (!Array.isArray(commitments) || commitments.length === 0 || commitments.length > COMMITTEE_MAX_SIZE) {
    const got = Array.isArray(commitments) ? `${commitments.length}` : describe(commitments);
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as 1 to ${COMMITTEE_MAX_SIZE} G2 points, got ${got}`);
  }
  commitments.forEach((c, l) => {
    if (!(c instanceof G2)) throw new CGError("INVALID_INPUT", `${where}: expected ${name}[${l}] as a G2 point, got ${describe(c)}`);
    if (c.is0()) throw new CGError("POINT_AT_INFINITY", `${where}: ${name}[${l}] is the point at infinity`);
  });
}

/** Distinct dealer indices in [1, 32], at least 2 (v2 thresholds are ≥ 2). */
function assertDealers(dealers: readonly number[], where: string): void {
  if (!Array.isArray(dealers) || dealers.length < MIN_THRESHOLD || dealers.length > COMMITTEE_MAX_SIZE) {
    const got = Array.isArray(dealers) ? `${dealers.length}` : describe(dealers);
    throw new CGError("INVALID_INPUT", `${where}: expected ${MIN_THRESHOLD} to ${COMMITTEE_MAX_SIZE} dealer indices, got ${got}`);
  }
  dealers.forEach((i) => assertMember(i, where, "a dealer index"));
  if (new Set(dealers).size !== dealers.length) {
    throw new CGError("INVALID_INPUT", `${where}: expected distinct dealer indices, got [${dealers.join(", ")}]`);
  }
}

function assertHex(value: Hex, where: string, name: string): Uint8Array {
  if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length % 2 !== 0) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as 0x-hex of whole bytes, got ${describe(value)}`);
  }
  return hexToBytes(value);
}

// ───────────────────────────── dealing (§3.2, §4.1) ─────────────────────────────

/**
 * Draws a polynomial of degree t − 1 (with the given constant term, or a random one) whose every
 * coefficient and every sub-share is non-zero, and commits to it.
 */
function dealPolynomial(constant: bigint | undefined, nRecipients: number, t: number): DkgDealing {
  for (;;) {
    // §2: coefficients in [1, r − 1]; randomScalar draws in that range by construction (it never yields 0).
    let coefficients: bigint[] = [constant ?? randomScalar()];
    for (let l = 1; l < t; l++) coefficients.push(randomScalar());
    const subShares: bigint[] = [];
    for (let j = 1; j <= nRecipients; j++) subShares.push(evalPoly(coefficients, BigInt(j)));
    // §11: a sub-share is a scalar in [1, r − 1]; f(j) = 0 (probability ≈ n/r) means drawing the whole polynomial again.
    if (subShares.includes(0n)) {
      coefficients.fill(0n);
      subShares.fill(0n);
      continue;
    }
    // §3.2: D_l = a_l·P2 (constant-time: the coefficients are secret).
    const commitments = coefficients.map((a) => G2.BASE.multiply(a));
    const dealing: DkgDealing = {
      threshold: t,
      commitments,
      subShares,
      wipe() {
        coefficients.fill(0n);
        coefficients = [];
        dealing.subShares.fill(0n);
        dealing.subShares = [];
      },
    };
    return dealing;
  }
}

/**
 * §3.2: a DKG dealer's f_i of degree t − 1, its commitments D_{i,0..t−1} and the sub-shares f_i(j) for
 * j = 1 … nRecipients (the whole committee, the dealer included).
 */
export function dealDkg(nRecipients: number, t: number): DkgDealing {
  assertCommitteeBounds(nRecipients, t, "dealDkg"); // §3.1
  return dealPolynomial(undefined, nRecipients, t);
}

/**
 * §4.1: an old member's reshare dealing, g_i of degree tNew − 1 with g_i(0) = s_i (so E_{i,0} = PK_i),
 * other coefficients random and non-zero, sub-shares g_i(j) for the new members j = 1 … nRecipients.
 */
export function dealReshare(share: Share, nRecipients: number, tNew: number): DkgDealing {
  assertShare(share, "dealReshare");
  assertCommitteeBounds(nRecipients, tNew, "dealReshare"); // §4.1: t' > n'/2
  return dealPolynomial(share.value, nRecipients, tNew);
}

// ───────────────────────────── checks and combination (§3.3–§3.6) ─────────────────────────────

/** PK_j = Σ_l j^l·C_l for a committee index j ≤ 32 (§3.5); `publicShare` of threshold.ts stops at 16. */
export function committeePublicShare(commitments: readonly G2Point[], index: number): G2Point {
  assertMember(index, "committeePublicShare", "a member index");
  assertCommitments(commitments, "committeePublicShare", "commitments");
  return evalCommitments(commitments, BigInt(index));
}

/**
 * §3.3 (and §4.2): recipient j's check of the sub-share `value` from a dealer with commitments D_i:
 * value in [1, r − 1] and value·P2 == Σ_l j^l·D_{i,l}. False means j complains against the dealer.
 */
export function verifySubShare(recipient: number, value: bigint, commitments: readonly G2Point[]): boolean {
  assertMember(recipient, "verifySubShare", "a recipient index");
  assertCommitments(commitments, "verifySubShare", "commitments");
  if (typeof value !== "bigint") throw new CGError("INVALID_INPUT", `verifySubShare: expected the sub-share as a bigint, got ${typeof value}`);
  if (value <= 0n || value >= R) return false; // §11
  return G2.BASE.multiply(value).equals(evalCommitments(commitments, BigInt(recipient)));
}

/** §3.5: s_j = Σ_{i∈Q} f_i(j) mod r over the sub-shares j received from the qualified dealers. */
export function combineDkgShares(subShares: readonly bigint[]): bigint {
  if (!Array.isArray(subShares) || subShares.length < MIN_THRESHOLD || subShares.length > COMMITTEE_MAX_SIZE) {
    const got = Array.isArray(subShares) ? `${subShares.length}` : describe(subShares);
    throw new CGError("INVALID_INPUT", `combineDkgShares: expected the sub-shares of ${MIN_THRESHOLD} to ${COMMITTEE_MAX_SIZE} qualified dealers, got ${got}`);
  }
  subShares.forEach((v, k) => assertScalar(v, "combineDkgShares", `sub-share at position ${k}`));
  const s = subShares.reduce((acc, v) => Fr.add(acc, v), 0n);
  return nonZeroShare(s, "combineDkgShares");
}

/**
 * §3.5: C_l = Σ_{i∈Q} D_{i,l} over the qualified dealings (at least t of them, all of length t);
 * K = C_0. Refuses a K at infinity (dealers that cancelled each other out).
 */
export function combineDkgCommitments(commitmentsOfQualified: readonly (readonly G2Point[])[]): G2Point[] {
  const where = "combineDkgCommitments";
  if (!Array.isArray(commitmentsOfQualified) || commitmentsOfQualified.length === 0 || commitmentsOfQualified.length > COMMITTEE_MAX_SIZE) {
    const got = Array.isArray(commitmentsOfQualified) ? `${commitmentsOfQualified.length}` : describe(commitmentsOfQualified);
    throw new CGError("INVALID_INPUT", `${where}: expected the commitments of 1 to ${COMMITTEE_MAX_SIZE} qualified dealings, got ${got}`);
  }
  const t = sameLength(commitmentsOfQualified, where);
  if (commitmentsOfQualified.length < t) {
    throw new CGError("INVALID_INPUT", `${where}: expected at least t = ${t} qualified dealings, got ${commitmentsOfQualified.length}`, {
      details: { have: commitmentsOfQualified.length, need: t },
    });
  }
  const combined: G2Point[] = [];
  for (let l = 0; l < t; l++) combined.push(commitmentsOfQualified.reduce((acc, d) => acc.add(d[l]), G2.ZERO));
  return nonZeroKey(combined, where);
}

/** Every dealing's commitments checked, all of the same length t in [2, 32]; returns t. */
function sameLength(dealings: readonly (readonly G2Point[])[], where: string): number {
  dealings.forEach((d, k) => assertCommitments(d, where, `dealing ${k} commitments`));
  const t = dealings[0].length;
  if (t < MIN_THRESHOLD) throw new CGError("INVALID_INPUT", `${where}: expected t ≥ ${MIN_THRESHOLD} commitments per dealing, got ${t}`);
  dealings.forEach((d, k) => {
    if (d.length !== t) {
      throw new CGError("INVALID_INPUT", `${where}: expected every dealing to have t = ${t} commitments, dealing ${k} has ${d.length}`, {
        details: { dealing: k, expected: t, got: d.length },
      });
    }
  });
  return t;
}

function nonZeroShare(s: bigint, where: string): bigint {
  // §11: a share is in [1, r − 1]; a sum of 0 cannot be used (nor repaired by this member alone).
  if (s === 0n) throw new CGError("INVALID_SHARE", `${where}: the combined share is 0, which is not a valid share`);
  return s;
}

function nonZeroKey(commitments: G2Point[], where: string): G2Point[] {
  // §2: a key at infinity is refused wherever a key is expected.
  if (commitments[0].is0()) throw new CGError("POINT_AT_INFINITY", `${where}: the combined group key K = C_0 is the point at infinity`);
  return commitments;
}

// ───────────────────────────── resharing (§4) ─────────────────────────────

/**
 * §4.3: Q', the t qualified dealers with the lowest old indices (t the old threshold: t old shares
 * determine s). Every honest party picks the same Q' from the same qualified set.
 */
export function reshareDealers(qualifiedOldIndices: readonly number[], t: number): number[] {
  const where = "reshareDealers";
  if (!Array.isArray(qualifiedOldIndices) || qualifiedOldIndices.length > COMMITTEE_MAX_SIZE) {
    const got = Array.isArray(qualifiedOldIndices) ? `${qualifiedOldIndices.length}` : describe(qualifiedOldIndices);
    throw new CGError("INVALID_INPUT", `${where}: expected at most ${COMMITTEE_MAX_SIZE} qualified old indices, got ${got}`);
  }
  qualifiedOldIndices.forEach((i) => assertMember(i, where, "an old member index"));
  if (new Set(qualifiedOldIndices).size !== qualifiedOldIndices.length) {
    throw new CGError("INVALID_INPUT", `${where}: expected distinct old indices, got [${qualifiedOldIndices.join(", ")}]`);
  }
  if (!Number.isInteger(t) || t < MIN_THRESHOLD || t > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected the old threshold t in [${MIN_THRESHOLD}, ${COMMITTEE_MAX_SIZE}], got ${describe(t)}`);
  }
  if (qualifiedOldIndices.length < t) {
    throw new CGError("NOT_ENOUGH_DEALERS", `${where}: ${qualifiedOldIndices.length} qualified dealers, ${t} needed`, {
      details: { qualified: [...qualifiedOldIndices], need: t },
    });
  }
  return [...qualifiedOldIndices].sort((a, b) => a - b).slice(0, t);
}

/** §4.3: s'_j = Σ_{i∈Q'} λ_i·g_i(j) with λ_i the Lagrange coefficients at 0 over `dealers` (= Q'). */
export function combineReshareShares(dealers: readonly number[], subShares: readonly bigint[]): bigint {
  const where = "combineReshareShares";
  assertDealers(dealers, where);
  if (!Array.isArray(subShares) || subShares.length !== dealers.length) {
    const got = Array.isArray(subShares) ? `${subShares.length}` : describe(subShares);
    throw new CGError("INVALID_INPUT", `${where}: expected one sub-share per dealer (${dealers.length}), got ${got}`);
  }
  subShares.forEach((v, k) => assertScalar(v, where, `the sub-share from dealer #${dealers[k]}`));
  const lambdas = lagrangeAtZero(dealers);
  const s = subShares.reduce((acc, v, k) => Fr.add(acc, Fr.mul(lambdas[k], v)), 0n);
  return nonZeroShare(s, where);
}

/**
 * §4.3: C'_l = Σ_{i∈Q'} λ_i·E_{i,l}; the caller checks C'_0 == K (as the contract does) before using it.
 * `commitments[k]` is the dealing of `dealers[k]`; all have the same length t'.
 */
export function combineReshareCommitments(dealers: readonly number[], commitments: readonly (readonly G2Point[])[]): G2Point[] {
  const where = "combineReshareCommitments";
  assertDealers(dealers, where);
  if (!Array.isArray(commitments) || commitments.length !== dealers.length) {
    const got = Array.isArray(commitments) ? `${commitments.length}` : describe(commitments);
    throw new CGError("INVALID_INPUT", `${where}: expected one dealing per dealer (${dealers.length}), got ${got}`);
  }
  const tNew = sameLength(commitments, where);
  const lambdas = lagrangeAtZero(dealers);
  const combined: G2Point[] = [];
  for (let l = 0; l < tNew; l++) {
    // λ_i and E_{i,l} are public: variable-time multiplication is safe.
    combined.push(commitments.reduce((acc, e, k) => acc.add(e[l].multiplyUnsafe(lambdas[k])), G2.ZERO));
  }
  return nonZeroKey(combined, where);
}

/**
 * §4.1, §8: a reshare dealing of old member i is well-formed only if E_{i,0} == PK_i, with PK_i the
 * public share of i under the old epoch's commitments. False is a slashable fault.
 */
export function checkReshareDealing(dealerIndex: number, commitments: readonly G2Point[], oldCommitments: readonly G2Point[]): boolean {
  assertMember(dealerIndex, "checkReshareDealing", "a dealer index");
  assertCommitments(commitments, "checkReshareDealing", "commitments E");
  assertCommitments(oldCommitments, "checkReshareDealing", "old commitments");
  return commitments[0].equals(evalCommitments(oldCommitments, BigInt(dealerIndex)));
}

// ───────────────────────────── wire forms (§3.2, §11) ─────────────────────────────

/**
 * A dealing as posted: commitments as t × 256-byte EIP-2537 G2 points, sealed sub-shares as
 * nRecipients × 80 bytes in recipient order.
 */
export function encodeDealing(dealing: { commitments: readonly G2Point[]; sealedSubShares: readonly Uint8Array[] }): EncodedDealing {
  const where = "encodeDealing";
  if (typeof dealing !== "object" || dealing === null) throw new CGError("INVALID_INPUT", `${where}: expected {commitments, sealedSubShares}, got ${describe(dealing)}`);
  const { commitments, sealedSubShares } = dealing;
  assertCommitments(commitments, where, "commitments");
  if (!Array.isArray(sealedSubShares)) {
    throw new CGError("INVALID_INPUT", `${where}: expected sealedSubShares as an array, got ${describe(sealedSubShares)}`);
  }
  assertCommitteeBounds(sealedSubShares.length, commitments.length, `${where} (n = sealed sub-shares, t = commitments)`);
  sealedSubShares.forEach((s, k) => {
    if (!(s instanceof Uint8Array) || s.length !== SEALED_SUBSHARE_LENGTH) {
      throw new CGError("INVALID_LENGTH", `${where}: expected the sealed sub-share for recipient ${k + 1} as ${SEALED_SUBSHARE_LENGTH} bytes, got ${describe(s)}`);
    }
  });
  const c = new Uint8Array(commitments.length * G2_EIP2537_LENGTH);
  commitments.forEach((p, l) => c.set(g2ToEip2537(p), l * G2_EIP2537_LENGTH));
  const s = new Uint8Array(sealedSubShares.length * SEALED_SUBSHARE_LENGTH);
  sealedSubShares.forEach((b, k) => s.set(b, k * SEALED_SUBSHARE_LENGTH));
  return { commitments: toHex(c), sealedShares: toHex(s) };
}

/**
 * Splits and checks a posted dealing for a committee of nRecipients with threshold t: exact lengths, and
 * every commitment a valid G2 point (canonical coordinates, on the curve, in the subgroup, not infinity).
 * Errors name the commitment D_l at fault.
 */
export function decodeDealing(commitmentsHex: Hex, sealedSharesHex: Hex, t: number, nRecipients: number): DecodedDealing {
  const where = "decodeDealing";
  assertCommitteeBounds(nRecipients, t, where);
  const c = assertHex(commitmentsHex, where, "commitments");
  const s = assertHex(sealedSharesHex, where, "sealed sub-shares");
  if (c.length !== t * G2_EIP2537_LENGTH) {
    throw new CGError("INVALID_LENGTH", `${where}: expected commitments of t = ${t} × ${G2_EIP2537_LENGTH} = ${t * G2_EIP2537_LENGTH} bytes, got ${c.length} bytes`, {
      details: { t, got: c.length },
    });
  }
  if (s.length !== nRecipients * SEALED_SUBSHARE_LENGTH) {
    throw new CGError(
      "INVALID_LENGTH",
      `${where}: expected sealed sub-shares of n = ${nRecipients} × ${SEALED_SUBSHARE_LENGTH} = ${nRecipients * SEALED_SUBSHARE_LENGTH} bytes, got ${s.length} bytes`,
      { details: { n: nRecipients, got: s.length } },
    );
  }
  const commitments: G2Point[] = [];
  for (let l = 0; l < t; l++) {
    commitments.push(g2FromEip2537(c.subarray(l * G2_EIP2537_LENGTH, (l + 1) * G2_EIP2537_LENGTH), `${where}: commitment D_${l}`));
  }
  const sealedSubShares: Uint8Array[] = [];
  for (let k = 0; k < nRecipients; k++) sealedSubShares.push(s.slice(k * SEALED_SUBSHARE_LENGTH, (k + 1) * SEALED_SUBSHARE_LENGTH));
  return { commitments, sealedSubShares };
}

/** The hash the contract keeps of a dealing: keccak256 of its commitment bytes (t × 256). */
export function dealingHash(commitmentsHex: Hex): Hex {
  const c = assertHex(commitmentsHex, "dealingHash", "commitments");
  const t = c.length / G2_EIP2537_LENGTH;
  if (!Number.isInteger(t) || t < MIN_THRESHOLD || t > COMMITTEE_MAX_SIZE) {
    throw new CGError(
      "INVALID_LENGTH",
      `dealingHash: expected ${MIN_THRESHOLD} to ${COMMITTEE_MAX_SIZE} commitments of ${G2_EIP2537_LENGTH} bytes each, got ${c.length} bytes`,
    );
  }
  return keccak256(c);
}

// ───────────────────────────── proof of possession (§3.6, §4.4) ─────────────────────────────

/**
 * §3.6: member j's acknowledgement, s_j·H(ackMessage) with H the hash to G1 of the 32 message bytes
 * (protocol DST, as `computePartial` does), as a 128-byte EIP-2537 G1 point.
 */
export function committeePossessionProof(share: Share, chainId: bigint, registry: Address, committeeId: bigint, epoch: bigint): Hex {
  assertShare(share, "committeePossessionProof");
  const m = toBytes(committeeAckMessage(chainId, registry, committeeId, epoch, share.index));
  return toHex(g1ToEip2537(hashToG1(m).multiply(share.value)));
}

/**
 * §3.6: e(proof, P2) == e(H(ackMessage_i), PK_i). A proof that is not a valid G1 point is refused with
 * the decoder's error (naming why); a valid point that does not verify gives false.
 */
export function verifyCommitteePossession(
  proofHex: Hex,
  memberPublicShare: G2Point,
  chainId: bigint,
  registry: Address,
  committeeId: bigint,
  epoch: bigint,
  index: number,
): boolean {
  const where = "verifyCommitteePossession";
  if (!(memberPublicShare instanceof G2) || memberPublicShare.is0()) {
    throw new CGError("INVALID_INPUT", `${where}: expected the member's public share as a G2 point other than infinity, got ${describe(memberPublicShare)}`);
  }
  const m = toBytes(committeeAckMessage(chainId, registry, committeeId, epoch, index));
  const proof: G1Point = g1FromEip2537(assertHex(proofHex, where, "proof"), `${where}: proof`);
  return verifySignature(proof, memberPublicShare, hashToG1(m));
}

/** Splits C_0 ‖ … ‖ C_{t−1} (256-byte EIP-2537 G2 points, as events carry them) into checked points. */
export function decodeCommitments(commitments: Hex): G2Point[] {
  const bytes = hexToBytes(commitments);
  if (bytes.length === 0 || bytes.length % G2_EIP2537_LENGTH !== 0) {
    throw new CGError("INVALID_INPUT", `decodeCommitments: expected a multiple of ${G2_EIP2537_LENGTH} bytes, got ${describe(bytes)}`);
  }
  const out: G2Point[] = [];
  for (let o = 0; o < bytes.length; o += G2_EIP2537_LENGTH) {
    out.push(g2FromEip2537(bytes.subarray(o, o + G2_EIP2537_LENGTH), `commitment C_${o / G2_EIP2537_LENGTH}`));
  }
  return out;
}
