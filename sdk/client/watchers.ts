/**
 * Watchers (PROTOCOL.md §8): anyone, holding no secret, reads every posting from `PartialPosted` events, judges it
 * against the message it was made for with the public check of §6.4 (PK_i from the epoch's commitments, read from the
 * committee registry's events), and proves an invalid one on-chain with commit-reveal: `commitProof` binds the proof
 * to the prover, then, at least one block later, `proveInvalidPosting` slashes exactly that guardian and rewards the
 * prover. A proof copied from the mempool earns its copier nothing; an honest posting can never be proven invalid.
 *
 * Judging checks the two equations separately (a coefficient the poster could predict would let an invalid posting
 * pass a combined check), after decoding each compressed point without trusting it: flags, x < p, a y on the curve,
 * the subgroup and infinity are each checked and named. Decoding, the full form and the witness a proof supplies,
 * and the equations are sdk/crypto/posting.ts's (`decompressPosting`, `fullPosting`, `encodingWitness`,
 * `failedPostingCheck`); this module names the verdicts and talks to the chain.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { type Address, type Hex, encodeAbiParameters, getAddress, hexToBytes, keccak256, toHex } from "viem";

import { resetCoordinatorAbi } from "../abi/index.ts";
import { type G1Point, type G2Point, g1FromEip2537, hashToG1 } from "../crypto/bls.ts";
import { type Posting, type PostingCheck, decompressPosting, encodingWitness, failedPostingCheck, fullPosting } from "../crypto/posting.ts";
import { publicShare } from "../crypto/threshold.ts";
import { CGError } from "../errors.ts";
import { type CommitteeEpoch, committeeEpoch } from "./committees.ts";
import { type Clients, type Progress, coordinatorOf, fromBlock } from "./deployment.ts";
import { type PostingEntry, type ResetRequest, commitmentsOf, explainResetError, messageOf, postingHistory, postingsOf, requestContext, resetRequest } from "./resets.ts";
import { type Explain, send, wallet } from "./transactions.ts";

// ───────────────────────────── judging one posting ─────────────────────────────

export interface PostingVerdict {
  valid: boolean;
  /** The failing check in words (empty for a valid posting). */
  check: string;
  /** Index (0 = C … 3 = W) and witness when a point's bytes decode to no point of the curve. */
  encoding?: { part: number; witness: bigint | undefined };
}

const CHECK_WORDS: Record<PostingCheck, string> = {
  BAD_POINT: "a point is not in its prime-order subgroup",
  REQUESTER_KEY_CANCELS: "A + C is the point at infinity",
  RHO_MISMATCH: "e(U, P2) ≠ e(G1, V): U and V do not carry the same ρ",
  PARTIAL_MISMATCH: "e(W, P2) ≠ e(H(m), PK_i)·e(A + C, V): W does not hold the guardian's partial σ_i",
};

/**
 * The public check of §6.4 for one posting against the message it was made for: every point decodes, is in its
 * subgroup and not infinity (`decompressPosting`), A + C ≠ O, e(U, P2) == e(G1, V), and
 * e(W, P2) == e(H(m), PK_i)·e(A + C, V), each checked on its own (`failedPostingCheck`).
 */
export function judgePosting(posting: Hex, o: { message: Hex; publicShare: G2Point; requesterKey: G1Point }): PostingVerdict {
  let points: Posting;
  try {
    points = decompressPosting(posting);
  } catch (e) {
    if (!(e instanceof CGError)) throw e;
    const d = e.details as { point?: string; index?: number; reason?: string; kind?: string; witness?: bigint; length?: number };
    if (e.code === "INVALID_LENGTH") return { valid: false, check: `the posting is ${d.length} bytes, not 240` };
    if (d.point === undefined) return { valid: false, check: e.message };
    if (d.reason === "POINT_AT_INFINITY") return { valid: false, check: `${d.point} is the point at infinity` };
    if (d.reason === "NOT_IN_SUBGROUP") return { valid: false, check: `${d.point} is not in the prime-order subgroup` };
    return { valid: false, check: `${d.point} is no point: ${d.kind}`, encoding: { part: d.index!, witness: d.witness } };
  }
  const failed = failedPostingCheck({ posting: points, hashedMessage: hashToG1(hexToBytes(o.message)), publicShare: o.publicShare, requesterKey: o.requesterKey });
  return failed === undefined ? { valid: true, check: "" } : { valid: false, check: CHECK_WORDS[failed] };
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

/** Words for the fraud-proof refusals; other errors keep `Name(args)`. */
export function explainProofError(): Explain {
  const resetErrors = explainResetError();
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
      default:
        return resetErrors(error, args); // the request's own refusals (unknown request, wrong history or context, …)
    }
  };
}
