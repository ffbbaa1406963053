/**
 * Threshold BLS of CG-BLS12381G1-v2: Shamir dealing with Feldman commitments (PROTOCOL.md §3.2–§3.3, §3.7),
 * partial tokens (§4.3), their verification against public shares and their Lagrange combination (§4.6).
 *
 * Secrets: the polynomial's coefficients and the shares are bigints while in use, which JavaScript cannot
 * wipe; every byte buffer that held a secret is zeroed (`wipe`) once it has been read, and `Dealing.wipe()`
 * drops the references to the coefficients and shares.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";

import { CGError, describe } from "../errors.ts";
import {
  type G1Point,
  type G2Point,
  Fr,
  G2,
  R,
  hashToG1,
  scalarFromBytes,
  scalarToBytes,
  verifySignature,
} from "./bls.ts";
import { COMMITTEE_MAX_SIZE, MIN_THRESHOLD } from "./constants.ts";

/** One member's share: its 1-based index in the committee and s_i = f(i). */
export interface Share {
  readonly index: number;
  readonly value: bigint;
}

/** A partial token σ_i = s_i·H(m) of the member at `index`. */
export interface Partial {
  readonly index: number;
  readonly sigma: G1Point;
}

export interface Dealing {
  readonly threshold: number;
  /** Feldman commitments C_j = a_j·P2, j = 0 … t−1; C_0 is the group key K. */
  readonly commitments: readonly G2Point[];
  readonly groupKey: G2Point;
  /** s_i = f(i) for i = 1 … n. */
  shares: Share[];
  /** Drops the coefficients and shares (see the module note on wiping). */
  wipe(): void;
}

/** Overwrites a buffer that held secret material. */
export function wipe(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}

/** A uniformly random scalar in [1, r − 1] from the platform CSPRNG. */
export function randomScalar(): bigint {
  const bytes = bls12_381.utils.randomSecretKey();
  try {
    return scalarFromBytes(bytes, "randomScalar");
  } finally {
    wipe(bytes);
  }
}

export function assertCommittee(n: number, t: number, where: string, allowSingle = false): void {
  if (!Number.isInteger(n) || n < 1 || n > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected a committee size n in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(n)}`);
  }
  const minT = allowSingle ? 1 : MIN_THRESHOLD;
  if (!Number.isInteger(t) || t < minT || t > n) {
    throw new CGError("INVALID_INPUT", `${where}: expected a threshold t in [${minT}, n = ${n}], got ${describe(t)}`, {
      details: { n, t },
    });
  }
}

/** f(x) = Σ_j a_j·x^j over F_r; shared with the committee dealings of sdk/crypto/dkg.ts. */
export function evalPoly(coefficients: readonly bigint[], x: bigint): bigint {
  if (!Array.isArray(coefficients) || coefficients.length === 0) {
    throw new CGError("INVALID_INPUT", `evalPoly: expected at least one coefficient, got ${Array.isArray(coefficients) ? "none" : describe(coefficients)}`);
  }
  if (typeof x !== "bigint") throw new CGError("INVALID_INPUT", `evalPoly: expected x as a bigint, got ${typeof x}`);
  // Horner's rule over F_r.
  let acc = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = Fr.add(Fr.mul(acc, x), coefficients[j]);
  return acc;
}

/**
 * Deals a fresh reset key for a committee of `n` with threshold `t` (PROTOCOL.md §3.2–§3.3).
 * `allowSingle` permits the insecure 1-of-1 map that tools only offer behind an explicit flag.
 * `coefficients` may be given by tests that need a fixed polynomial; production code lets it draw them.
 */
export function deal(n: number, t: number, options: { allowSingle?: boolean; coefficients?: bigint[] } = {}): Dealing {
  assertCommittee(n, t, "deal", options.allowSingle);
  let coefficients: bigint[] = options.coefficients ? [...options.coefficients] : [];
  if (options.coefficients) {
    if (coefficients.length !== t || coefficients.some((a) => a <= 0n || a >= R)) {
      throw new CGError("INVALID_INPUT", `deal: expected ${t} coefficients in [1, r-1], got ${coefficients.length}`);
    }
  } else {
    for (let j = 0; j < t; j++) coefficients.push(randomScalar());
  }
  const shares: Share[] = [];
  for (let i = 1; i <= n; i++) {
    const value = evalPoly(coefficients, BigInt(i));
    // f(i) = 0 happens with probability n/r; a share must be in [1, r − 1] (§9), so draw again.
    if (value === 0n) return options.coefficients ? failZeroShare(i) : deal(n, t, options);
    shares.push({ index: i, value });
  }
  const commitments = coefficients.map((a) => G2.BASE.multiply(a));
  const dealing: Dealing = {
    threshold: t,
    commitments,
    groupKey: commitments[0],
    shares,
    wipe() {
      coefficients.fill(0n);
      coefficients = [];
      dealing.shares = [];
    },
  };
  return dealing;
}

function failZeroShare(i: number): never {
  throw new CGError("INVALID_INPUT", `deal: the given polynomial has f(${i}) = 0, which is not a valid share`);
}

function assertIndex(index: number, where: string): void {
  if (!Number.isInteger(index) || index < 1 || index > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected a share index in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(index)}`);
  }
}

/**
 * Σ_j x^j·C_j for a small public x, by Horner's rule: ((C_{t−1}·x + C_{t−2})·x + …)·x + C_0.
 * Commitments and indices are public, so the variable-time `multiplyUnsafe` is safe here and avoids a
 * full-width constant-time multiplication per term. Any x in [1, r−1] is accepted; `publicShare` and the committee
 * functions (sdk/crypto/dkg.ts) bound member indices to 32.
 */
export function evalCommitments(commitments: readonly G2Point[], x: bigint): G2Point {
  if (!Array.isArray(commitments) || commitments.length === 0) {
    throw new CGError("INVALID_INPUT", `evalCommitments: expected at least one commitment, got ${Array.isArray(commitments) ? "none" : describe(commitments)}`);
  }
  if (typeof x !== "bigint" || x < 1n || x >= R) {
    throw new CGError("INVALID_INPUT", `evalCommitments: expected x as a bigint in [1, r-1], got ${describe(x)}`);
  }
  let acc = commitments[commitments.length - 1];
  for (let j = commitments.length - 2; j >= 0; j--) acc = acc.multiplyUnsafe(x).add(commitments[j]);
  return acc;
}

/** PK_i = Σ_j i^j·C_j (PROTOCOL.md §3.7). */
export function publicShare(commitments: readonly G2Point[], index: number): G2Point {
  assertIndex(index, "publicShare");
  if (commitments.length === 0) throw new CGError("INVALID_INPUT", "publicShare: expected at least one commitment, got none");
  return evalCommitments(commitments, BigInt(index));
}

/** Feldman check of a share: s_i·P2 == Σ_j i^j·C_j (PROTOCOL.md §3.7). */
export function verifyShare(share: Share, commitments: readonly G2Point[]): boolean {
  if (share.value <= 0n || share.value >= R) return false;
  return G2.BASE.multiply(share.value).equals(publicShare(commitments, share.index));
}

/** σ_i = s_i·H(m) for the 32-byte BLS message m (PROTOCOL.md §4.3). */
export function computePartial(share: Share, message: Uint8Array): Partial {
  assertIndex(share.index, "computePartial");
  return { index: share.index, sigma: hashToG1(message).multiply(share.value) };
}

/** A proof of possession, a partial signature on the acknowledgement message (PROTOCOL.md §3.7). */
export const signWithShare = computePartial;

/** e(σ_i, P2) == e(H(m), PK_i). */
export function verifyPartial(partial: Partial, commitments: readonly G2Point[], message: Uint8Array): boolean {
  return verifySignature(partial.sigma, publicShare(commitments, partial.index), hashToG1(message));
}

/** λ_i = Π_{j≠i} j / (j − i) mod r, the Lagrange coefficients at 0 for the given distinct indices. */
export function lagrangeAtZero(indices: readonly number[]): bigint[] {
  return indices.map((i) => {
    let num = 1n;
    let den = 1n;
    for (const j of indices) {
      if (j === i) continue;
      num = Fr.mul(num, BigInt(j));
      den = Fr.mul(den, Fr.sub(BigInt(j), BigInt(i)));
    }
    return Fr.div(num, den);
  });
}

/**
 * σ = Σ λ_i·σ_i over exactly the first `t` partials given (which must have distinct indices).
 * No verification: see `assemble` for the checked path.
 */
export function combine(partials: readonly Partial[], t: number): G1Point {
  if (!Number.isInteger(t) || t < 1) throw new CGError("INVALID_INPUT", `combine: expected a threshold t ≥ 1, got ${describe(t)}`);
  if (partials.length < t) {
    throw new CGError("NOT_ENOUGH_PARTIALS", `combine: ${partials.length} partials given, ${t} needed`, {
      details: { have: partials.length, need: t },
    });
  }
  const chosen = partials.slice(0, t);
  const indices = chosen.map((p) => p.index);
  if (new Set(indices).size !== indices.length) {
    throw new CGError("INVALID_INPUT", `combine: expected distinct indices, got [${indices.join(", ")}]`);
  }
  const lambdas = lagrangeAtZero(indices);
  return chosen.reduce((acc, p, k) => acc.add(p.sigma.multiply(lambdas[k])), bls12_381.G1.Point.ZERO as G1Point);
}

/** e(σ, P2) == e(H(m), K). */
export function verifyToken(token: G1Point, groupKey: G2Point, message: Uint8Array): boolean {
  return verifySignature(token, groupKey, hashToG1(message));
}

export interface Assembly {
  token: G1Point;
  /** Indices whose partial verified and went into the token (the first t valid ones). */
  used: number[];
  /** Indices whose partial did not verify against PK_i. */
  invalid: number[];
}

/**
 * Verifies every partial against its public share, names the invalid ones, combines t valid ones and
 * checks the result against the group key (PROTOCOL.md §4.6). Throws `NOT_ENOUGH_PARTIALS` (with the
 * invalid indices) when fewer than t are valid.
 */
export function assemble(
  partials: readonly Partial[],
  commitments: readonly G2Point[],
  message: Uint8Array,
): Assembly {
  const t = commitments.length;
  const seen = new Set<number>();
  const valid: Partial[] = [];
  const invalid: number[] = [];
  for (const p of partials) {
    if (seen.has(p.index)) continue; // a repeated index adds nothing
    seen.add(p.index);
    if (p.index > COMMITTEE_MAX_SIZE || !verifyPartial(p, commitments, message)) invalid.push(p.index);
    else valid.push(p);
  }
  if (valid.length < t) {
    const named = invalid.length ? `; invalid: ${invalid.map((i) => `#${i}`).join(", ")}` : "";
    throw new CGError("NOT_ENOUGH_PARTIALS", `${valid.length} valid partials, ${t} needed${named}`, {
      details: { valid: valid.map((p) => p.index), invalid, need: t },
    });
  }
  const token = combine(valid, t);
  if (!verifyToken(token, commitments[0], message)) {
    // Cannot happen when every partial verified against commitments whose C_0 is K.
    throw new CGError("TOKEN_INVALID", "assemble: the combined token does not verify against the group key");
  }
  return { token, used: valid.slice(0, t).map((p) => p.index), invalid };
}

/** Share to its 32-byte big-endian form. The caller wipes the buffer when done. */
export function shareToBytes(share: Share): Uint8Array {
  return scalarToBytes(share.value);
}
