/**
 * PROTOCOL.md §4: a guardian serving a reset (partial, share commitment, sealed fragment), and the owner's
 * client assembling the token from fragments with every check of §4.6, naming what is wrong otherwise.
 */
import { type Address, type Hex, hexToBytes, toHex } from "viem";

import { CGError } from "../errors.ts";
import { type G1Point, type G2Point, g1ToEip2537 } from "../crypto/bls.ts";
import { openFragment, sealFragment } from "../crypto/hpke.ts";
import { type Partial, type Share, combine, computePartial, verifyPartial, verifyToken } from "../crypto/threshold.ts";
import { decodeFragment, encodeFragment } from "../encoding/fragment.ts";
import { shareCommit } from "../encoding/messages.ts";

export interface ServedPartial {
  /** σ_i in EIP-2537 form (what h_i hashes and what a fraud proof would show). Secret until assembled. */
  sigma: Hex;
  /** h_i, the on-chain share commitment. */
  commitment: Hex;
  /** The `cg1.` text delivered to the member's channel. */
  fragment: string;
}

/** What member `share.index` does for request `requestId` whose reset message is `message` (§4.3–§4.5). */
export async function servePartial(opts: {
  share: Share;
  chainId: bigint;
  coordinator: Address;
  requestId: bigint;
  message: Hex;
  ephemeralKey: Hex;
  /** Test hook for fraud-proof scenarios: serve this point instead of the honest partial. */
  override?: G1Point;
}): Promise<ServedPartial> {
  const sigma = opts.override ?? computePartial(opts.share, hexToBytes(opts.message)).sigma;
  const eip = g1ToEip2537(sigma);
  const payload = await sealFragment(
    hexToBytes(opts.ephemeralKey),
    { chainId: opts.chainId, coordinator: opts.coordinator, requestId: opts.requestId, index: opts.share.index },
    sigma,
  );
  return {
    sigma: toHex(eip),
    commitment: shareCommit(opts.requestId, opts.share.index, eip),
    fragment: encodeFragment({ requestId: opts.requestId, index: opts.share.index, payload }),
  };
}

export interface FragmentProblem {
  index: number;
  operator?: Address;
  reason: string;
}

export interface AssembledToken {
  token: G1Point;
  /** σ in EIP-2537 form, for `completeReset`. */
  tokenHex: Hex;
  used: number[];
  /** Opened partials by index (for fraud proofs). */
  partials: Map<number, G1Point>;
  problems: FragmentProblem[];
}

/**
 * Opens each fragment, checks it is for this request, decrypts, checks σ_i against the on-chain commit h_i and
 * against PK_i, and combines t valid ones (§4.6). Throws `NOT_ENOUGH_FRAGMENTS` naming every problem otherwise.
 */
export async function assembleToken(opts: {
  fragments: readonly string[];
  ephemeralPrivateKey: Uint8Array;
  chainId: bigint;
  coordinator: Address;
  requestId: bigint;
  message: Hex;
  commitments: readonly G2Point[];
  committee: readonly Address[];
  /** h_i by index from `ShareCommitted` events; a fragment whose member has not committed is still usable. */
  onChainCommits?: ReadonlyMap<number, Hex>;
}): Promise<AssembledToken> {
  const t = opts.commitments.length;
  const problems: FragmentProblem[] = [];
  const valid: Partial[] = [];
  const partials = new Map<number, G1Point>();
  const message = hexToBytes(opts.message);
  for (const text of opts.fragments) {
    let parsed;
    try {
      parsed = decodeFragment(text);
    } catch (e) {
      problems.push({ index: 0, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const { index } = parsed;
    const operator = opts.committee[index - 1];
    if (parsed.requestId !== opts.requestId) {
      problems.push({ index, operator, reason: `fragment for request ${parsed.requestId} while assembling request ${opts.requestId}` });
      continue;
    }
    if (index > opts.committee.length) {
      problems.push({ index, reason: `index ${index} is beyond the committee of ${opts.committee.length}` });
      continue;
    }
    if (partials.has(index)) continue;
    let sigma: G1Point;
    try {
      sigma = await openFragment(opts.ephemeralPrivateKey, { chainId: opts.chainId, coordinator: opts.coordinator, requestId: opts.requestId, index }, parsed.payload);
    } catch (e) {
      problems.push({ index, operator, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    partials.set(index, sigma);
    const committed = opts.onChainCommits?.get(index);
    if (committed !== undefined && committed.toLowerCase() !== shareCommit(opts.requestId, index, g1ToEip2537(sigma)).toLowerCase()) {
      problems.push({ index, operator, reason: "does not match the guardian's on-chain commit" });
      continue;
    }
    if (!verifyPartial({ index, sigma }, opts.commitments, message)) {
      problems.push({ index, operator, reason: "fails the pairing check against its public share PK_i (invalid partial)" });
      continue;
    }
    valid.push({ index, sigma });
  }
  if (valid.length < t) {
    const named = problems.map((p) => `#${p.index}${p.operator ? ` (${p.operator})` : ""}: ${p.reason}`).join("; ");
    throw new CGError("NOT_ENOUGH_FRAGMENTS", `${valid.length} valid fragments, ${t} needed${named ? ` — ${named}` : ""}`, {
      details: { valid: valid.map((p) => p.index), need: t, problems },
    });
  }
  const token = combine(valid, t);
  if (!verifyToken(token, opts.commitments[0], message)) {
    throw new CGError("TOKEN_INVALID", "the combined token does not verify against the group key");
  }
  return { token, tokenHex: toHex(g1ToEip2537(token)), used: valid.slice(0, t).map((p) => p.index), partials, problems };
}
