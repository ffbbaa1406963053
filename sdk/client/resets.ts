/**
 * Resets and drills (PROTOCOL.md §6–§7) as the owner's client runs them: request with a one-time requester key
 * A = a·G1 (the caller keeps `a`), read the request and its postings from event logs, collect the channel codes the
 * owner types, pastes or follows in links, check each against its slot's posting, assemble the token
 * (`assembleFromCodes`: decrypt, verify, combine t of one committee epoch), complete, and the security period's
 * cancel, then finalize and settle. Every failure names the guardian (slot and operator) and the check.
 */
import { type Address, type Hex, getAddress, hexToBytes, keccak256, slice, toHex } from "viem";

import { resetCoordinatorAbi } from "../abi/index.ts";
import { G1, type G2Point, g1FromCompressed, g1FromEip2537, g1ToEip2537, g2FromEip2537 } from "../crypto/bls.ts";
import { channelCodeScalar, requesterKeyHash } from "../crypto/posting.ts";
import { publicShare, randomScalar } from "../crypto/threshold.ts";
import { type CodeMessage, parseCodeMessage } from "../encoding/channelCode.ts";
import { resetMessage } from "../encoding/messages.ts";
import { CGError, describe } from "../errors.ts";
import { assembleFromCodes } from "../protocol/reset.ts";
import { type CommitteeEpoch, activeCommitteeEpoch, committeeEpoch } from "./committees.ts";
import { type Clients, ZERO_ADDRESS, coordinatorOf, fromBlock } from "./deployment.ts";
import { type Explain, eventsOf, send, wallet } from "./transactions.ts";

// ───────────────────────────── the request ─────────────────────────────

/** `IResetCoordinator.ResetStatus`, by value. */
export const RESET_STATUS = ["none", "pending", "approved", "cancelled", "finalized", "drill verified"] as const;
export type ResetStatusName = (typeof RESET_STATUS)[number];
const STATUS = { None: 0, Pending: 1, Approved: 2, Cancelled: 3, Finalized: 4, DrillVerified: 5 } as const;

/** The one-time requester key of §6.1: `secret` (a) never leaves the requesting client; `publicKey` is A (EIP-2537). */
export interface RequesterKey {
  secret: bigint;
  publicKey: Hex;
}

export function newRequesterKey(): RequesterKey {
  return requesterKeyFrom(randomScalar());
}

/** A = a·G1 for a kept secret `a` (read back from where the caller stored it). */
export function requesterKeyFrom(secret: bigint): RequesterKey {
  return { secret, publicKey: toHex(g1ToEip2537(G1.BASE.multiply(secret))) };
}

/** A request as its `ResetRequested` event opened it: everything m of §11 binds, and the request's terms. */
export interface ResetRequest {
  chainId: number;
  coordinator: Address;
  requestId: bigint;
  accountId: Hex;
  accountEpoch: bigint;
  committeeId: bigint;
  /** The zero address for a drill. */
  newController: Address;
  drill: boolean;
  /** A (EIP-2537 G1). */
  requesterKey: Hex;
  expiresAt: bigint;
  fee: bigint;
  blockNumber: bigint;
}

/** The `IResetCoordinator.RequestContext` the contract recomputes m (and the posting digest's seed) from. */
export function requestContext(r: ResetRequest) {
  return { accountId: r.accountId, accountEpoch: r.accountEpoch, committeeId: r.committeeId, newController: r.newController, requesterKeyHash: requesterKeyHash(r.requesterKey), fee: r.fee };
}

/** m of §6.2 for the request. */
export function messageOf(r: ResetRequest): Hex {
  return resetMessage({
    chainId: BigInt(r.chainId),
    coordinator: r.coordinator,
    requestId: r.requestId,
    accountId: r.accountId,
    accountEpoch: r.accountEpoch,
    committeeId: r.committeeId,
    newController: r.newController,
    requesterKeyHash: requesterKeyHash(r.requesterKey),
  });
}

function fromEvent(c: Clients, args: Record<string, any>, blockNumber: bigint): ResetRequest {
  return {
    chainId: c.deployment.chainId,
    coordinator: getAddress(coordinatorOf(c)),
    requestId: args.requestId,
    accountId: args.accountId,
    accountEpoch: args.accountEpoch,
    committeeId: args.committeeId,
    newController: getAddress(args.newController),
    drill: args.drill,
    requesterKey: args.requesterKey,
    expiresAt: BigInt(args.expiresAt),
    fee: args.fee,
    blockNumber,
  };
}

/** The request `requestId` from its `ResetRequested` event; `UNKNOWN_REQUEST` if there is none. */
export async function resetRequest(c: Clients, requestId: bigint): Promise<ResetRequest> {
  const logs = await c.public.getContractEvents({ address: coordinatorOf(c), abi: resetCoordinatorAbi, eventName: "ResetRequested", args: { requestId }, fromBlock: fromBlock(c) });
  if (logs.length === 0) throw new CGError("UNKNOWN_REQUEST", `no request ${requestId} on this deployment`, { details: { requestId } });
  return fromEvent(c, logs[0].args, logs[0].blockNumber!);
}

export interface OpenedRequest {
  request: ResetRequest;
  /** Keep `requesterKey.secret` (a): the codes are useless without it. */
  requesterKey: RequesterKey;
  txHash: Hex;
  gasUsed: bigint;
}

async function open(c: Clients, accountId: Hex, newController: Address | undefined, requesterKey: RequesterKey): Promise<OpenedRequest> {
  wallet(c);
  if (typeof accountId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(accountId)) {
    throw new CGError("INVALID_INPUT", `${newController ? "requestReset" : "requestDrill"}: expected an account id as 32 bytes of 0x-hex, got ${describe(accountId)}`);
  }
  const account = await c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "account", args: [accountId] });
  if (account.controller === ZERO_ADDRESS) throw new CGError("UNKNOWN_ACCOUNT", `account ${accountId} is not linked on this deployment`, { details: { accountId } });
  const { requestFee } = await c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "parameters" });
  const receipt = newController
    ? await send(c, { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "requestReset", args: [accountId, newController, requesterKey.publicKey], value: requestFee }, { explain: explainResetError() })
    : await send(c, { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "requestDrill", args: [accountId, requesterKey.publicKey], value: requestFee }, { explain: explainResetError() });
  const event = eventsOf(resetCoordinatorAbi, receipt.logs).find((e) => e.eventName === "ResetRequested");
  if (!event) throw new CGError("UNEXPECTED_RECEIPT", `the request succeeded in ${receipt.transactionHash} without a ResetRequested event`);
  return { request: fromEvent(c, event.args as Record<string, any>, receipt.blockNumber), requesterKey, txHash: receipt.transactionHash, gasUsed: receipt.gasUsed };
}

/** Opens a reset of `accountId` to `newController` (anyone may, paying the request fee) with a fresh requester key. */
export async function requestReset(c: Clients, o: { accountId: Hex; newController: Address; requesterKey?: RequesterKey }): Promise<OpenedRequest> {
  if (typeof o.newController !== "string" || getAddress(o.newController) === ZERO_ADDRESS) {
    throw new CGError("INVALID_INPUT", `requestReset: expected a non-zero new controller address, got ${describe(o.newController)} (a drill has none: requestDrill)`);
  }
  return open(c, o.accountId, getAddress(o.newController), o.requesterKey ?? newRequesterKey());
}

/** Opens a drill of `accountId` (§7): served and verified like a reset, never approved or finalized. */
export async function requestDrill(c: Clients, o: { accountId: Hex; requesterKey?: RequesterKey }): Promise<OpenedRequest> {
  return open(c, o.accountId, undefined, o.requesterKey ?? newRequesterKey());
}

// ───────────────────────────── postings ─────────────────────────────

/** One entry of a request's posting history (from its `PartialPosted` events, in posting order). */
export interface PostingEntry {
  /** The position in the history (0-based), as `proveInvalidPosting` and `settle` take it. */
  position: number;
  slot: number;
  committeeEpoch: bigint;
  guardian: Address;
  /** The message m the guardian computed (only judged, paid or counted against that message). */
  message: Hex;
  /** C ‖ U ‖ V ‖ W compressed, 240 bytes, as posted. */
  posting: Hex;
  postingHash: Hex;
  blockNumber: bigint;
  txHash: Hex;
  /** Proven invalid on-chain (it stands no more). */
  proven: boolean;
}

/** The postings of a request in posting order, each marked if a fraud proof has struck it. */
export async function postingsOf(c: Clients, requestId: bigint): Promise<PostingEntry[]> {
  const [posted, proven] = await Promise.all([
    c.public.getContractEvents({ address: coordinatorOf(c), abi: resetCoordinatorAbi, eventName: "PartialPosted", args: { requestId }, fromBlock: fromBlock(c) }),
    c.public.getContractEvents({ address: coordinatorOf(c), abi: resetCoordinatorAbi, eventName: "InvalidPostingProven", args: { requestId }, fromBlock: fromBlock(c) }),
  ]);
  const struck = new Set(proven.map((l) => Number(l.args.position)));
  return posted
    .sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex! - y.logIndex! : x.blockNumber! < y.blockNumber! ? -1 : 1))
    .map((l, position) => ({
      position,
      slot: Number(l.args.slot),
      committeeEpoch: BigInt(l.args.committeeEpoch!),
      guardian: getAddress(l.args.guardian!),
      message: l.args.message!,
      posting: l.args.posting!,
      postingHash: keccak256(l.args.posting!),
      blockNumber: l.blockNumber!,
      txHash: l.transactionHash!,
      proven: struck.has(position),
    }));
}

/** The history as `settle` and `proveInvalidPosting` take it (`IResetCoordinator.PostingRecord[]`). */
export function postingHistory(postings: readonly PostingEntry[]) {
  return postings.map((p) => ({ slot: p.slot, committeeEpoch: Number(p.committeeEpoch), guardian: p.guardian, message: p.message, postingHash: p.postingHash }));
}

// ───────────────────────────── status ─────────────────────────────

export interface ResetInfo {
  request: ResetRequest;
  status: ResetStatusName;
  expired: boolean;
  voided: boolean;
  settled: boolean;
  /** While approved: from when it may be finalized. */
  executableAt?: Date;
  expiresAt: Date;
  /** Postings by committee epoch and slot, with the operator that posted; proven ones are marked. */
  postings: PostingEntry[];
  /** The epoch whose postings count now, and its slots that posted. */
  postingEpoch: bigint;
  postedSlots: number[];
  /** The committee's threshold (of the active epoch). */
  threshold: number;
}

export async function resetInfo(c: Clients, requestId: bigint): Promise<ResetInfo> {
  const request = await resetRequest(c, requestId);
  const [view, postings] = await Promise.all([
    c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "reset", args: [requestId] }),
    postingsOf(c, requestId),
  ]);
  const epoch = view.postingEpoch ? BigInt(view.postingEpoch) : undefined;
  const committee = epoch ? await committeeEpoch(c, request.committeeId, epoch) : undefined;
  return {
    request,
    status: RESET_STATUS[view.status],
    expired: view.expired,
    voided: view.voided,
    settled: view.settled,
    executableAt: view.status === STATUS.Approved ? new Date(Number(view.executableAt) * 1000) : undefined,
    expiresAt: new Date(Number(request.expiresAt) * 1000),
    postings,
    postingEpoch: epoch ?? 0n,
    postedSlots: Array.from({ length: 32 }, (_, k) => k + 1).filter((s) => (view.posted >>> (s - 1)) & 1),
    threshold: committee?.threshold ?? 0,
  };
}

// ───────────────────────────── codes ─────────────────────────────

/**
 * Reads codes as the owner received them: the bare `cg2.<request>.<slot>.<code>` text, a link that holds it, or a
 * message body that contains it; dashes, any case, I/L for 1 and O for 0 are accepted. A text that holds no code is
 * named by its position (never by its content: codes are secret until the reset completes).
 */
export function readCodes(texts: readonly string[]): { codes: CodeMessage[]; problems: string[] } {
  const codes: CodeMessage[] = [];
  const problems: string[] = [];
  texts.forEach((text, k) => {
    try {
      codes.push(parseCodeMessage(text));
    } catch (e) {
      problems.push(`code ${k + 1}: ${e instanceof Error ? e.message.replace(/^parseCodeMessage: /, "") : String(e)}`);
    }
  });
  return { codes, problems };
}

export interface CodeCheck {
  slot: number;
  /** The operator of the posting the code was checked against (or of the slot in the active epoch). */
  operator?: Address;
  committeeEpoch?: bigint;
  ok: boolean;
  /** In words: "matches its posting (epoch 1)", "code for slot 3 does not match its posting", … */
  detail: string;
}

/**
 * Checks each code against its slot's postings (c_i·G1 == C_i, §6.6), without the requester secret: a typo that
 * passes the code's own check, a code for another request, or a forged message shows here. A code whose slot has
 * not posted yet is not an error: the guardian may deliver before its posting is confirmed.
 */
export async function checkCodes(c: Clients, request: ResetRequest, codes: readonly CodeMessage[]): Promise<CodeCheck[]> {
  const postings = await postingsOf(c, request.requestId);
  const out: CodeCheck[] = [];
  for (const m of codes) {
    if (m.requestId !== request.requestId) {
      out.push({ slot: m.slot, ok: false, detail: `code for request ${m.requestId}, not for request ${request.requestId}` });
      continue;
    }
    const mine = postings.filter((p) => p.slot === m.slot);
    if (mine.length === 0) {
      out.push({ slot: m.slot, ok: false, detail: `slot ${m.slot} has not posted yet: keep the code and check again` });
      continue;
    }
    const cScalar = channelCodeScalar(BigInt(request.chainId), request.coordinator, request.requestId, m.slot, m.code);
    const C = G1.BASE.multiply(cScalar);
    const match = mine.find((p) => {
      try {
        return g1FromCompressed(hexToBytes(slice(p.posting, 0, 48))).equals(C);
      } catch {
        return false;
      }
    });
    const last = mine[mine.length - 1];
    out.push(
      match?.proven
        ? { slot: m.slot, operator: match.guardian, committeeEpoch: match.committeeEpoch, ok: false, detail: `matches the posting of slot ${m.slot} (${match.guardian}), which was proven invalid: it cannot be used` }
        : match
        ? { slot: m.slot, operator: match.guardian, committeeEpoch: match.committeeEpoch, ok: true, detail: `matches the posting of slot ${m.slot} (${match.guardian}, epoch ${match.committeeEpoch})` }
        : { slot: m.slot, operator: last.guardian, committeeEpoch: last.committeeEpoch, ok: false, detail: `code for slot ${m.slot} does not match its posting (${last.guardian}): mistyped, or not the guardian's message` },
    );
  }
  return out;
}

export interface AssembledReset {
  /** σ (EIP-2537 G1), verified under K for the request's message. */
  sigma: Hex;
  /** K (EIP-2537 G2). */
  groupKey: Hex;
  /** The committee epoch whose t partials were combined, and their slots. */
  committeeEpoch: bigint;
  used: number[];
  /** Codes or postings that could not be used, each naming the slot, the operator and the check. */
  problems: string[];
}

/**
 * Assembles the token from the codes received (§6.6): every code is tried against its slot's postings, each posting
 * is opened with a and c_i and its partial verified against PK_i, and t partials of one committee epoch are combined
 * and checked under K. Throws `NOT_ENOUGH_CODES` naming every problem when no epoch has t usable partials.
 */
export async function assembleReset(c: Clients, request: ResetRequest, requesterSecret: bigint, codes: readonly CodeMessage[]): Promise<AssembledReset> {
  // Proven postings are passed too: their slot's problem is then named by the public check, not as a missing posting.
  const postings = await postingsOf(c, request.requestId);
  const epochs = new Map<bigint, CommitteeEpoch>();
  for (const e of new Set(postings.map((p) => p.committeeEpoch))) epochs.set(e, await committeeEpoch(c, request.committeeId, e));
  // With no posting yet, the active epoch still gives t and K, so the refusal says how many codes are missing.
  const reference = epochs.values().next().value ?? (await activeCommitteeEpoch(c, request.committeeId));
  const publicShares = new Map(
    [...epochs].map(([e, ep]) => {
      const commitments = commitmentsOf(ep); // decoded (and checked) once per epoch
      return [Number(e), ep.members.map((_, k) => publicShare(commitments, k + 1))] as const;
    }),
  );
  const result = assembleFromCodes({
    chainId: BigInt(request.chainId),
    coordinator: request.coordinator,
    requestId: request.requestId,
    message: messageOf(request),
    requesterKey: g1FromEip2537(hexToBytes(request.requesterKey), "the requester key A"),
    requesterSecret,
    t: reference.threshold,
    groupKey: g2FromEip2537(hexToBytes(reference.groupKey), "the group key K"),
    postings: postings.map((p) => ({ slot: p.slot, committeeEpoch: Number(p.committeeEpoch), guardian: p.guardian, message: p.message, posting: p.posting })),
    codes: [...codes],
    publicShares,
  });
  return {
    sigma: result.tokenHex,
    groupKey: reference.groupKey,
    committeeEpoch: BigInt(result.epoch),
    used: result.slotsUsed,
    problems: result.problems.map((p) => (p.guardian ? `${p.message} (guardian ${p.guardian}${p.committeeEpoch ? `, epoch ${p.committeeEpoch}` : ""})` : p.message)),
  };
}

/** C_0 … C_{t−1} of an epoch as points. */
export function commitmentsOf(epoch: CommitteeEpoch): G2Point[] {
  return Array.from({ length: epoch.threshold }, (_, k) => g2FromEip2537(hexToBytes(slice(epoch.commitments, 256 * k, 256 * (k + 1))), `commitment ${k} of epoch ${epoch.epoch}`));
}

// ───────────────────────────── transactions ─────────────────────────────

/** Submits σ: approves a reset (executable after the security period) or records a drill as verified. */
export async function completeReset(c: Clients, request: ResetRequest, assembled: Pick<AssembledReset, "sigma" | "groupKey">) {
  return send(
    c,
    { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "completeReset", args: [request.requestId, requesterKeyHash(request.requesterKey), assembled.sigma, assembled.groupKey] },
    { explain: explainResetError() },
  );
}

/** The account's controller cancels a pending request, or an approved one before it is executable. */
export async function cancelReset(c: Clients, requestId: bigint) {
  return send(c, { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "cancelReset", args: [requestId] }, { explain: explainResetError() });
}

/** After the security period, anyone moves control to the new controller. */
export async function finalizeReset(c: Clients, requestId: bigint) {
  return send(c, { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "finalizeReset", args: [requestId] }, { explain: explainResetError() });
}

/** After expiry and the dispute window, anyone pays the standing postings and books liveness. */
export async function settleRequest(c: Clients, requestId: bigint) {
  const request = await resetRequest(c, requestId);
  const history = postingHistory(await postingsOf(c, requestId));
  return send(c, { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "settle", args: [requestId, requestContext(request), history] }, { explain: explainResetError() });
}

function at(seconds: unknown): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

/** Words for the reset refusals; other errors keep `Name(args)`. */
export function explainResetError(): Explain {
  return (error, args) => {
    const a = args as readonly any[];
    switch (error) {
      case "ResetUnknownRequest":
        return `there is no request ${a[0]} on this deployment`;
      case "ResetWrongFee":
        return `the request fee is ${a[0]} wei, ${a[1]} was paid`;
      case "ResetInvalidNewController":
        return "the new controller may not be the zero address (a drill has none: use a drill)";
      case "ResetInvalidRequesterKey":
        return "the requester key A is not a G1 point of the subgroup (or is infinity)";
      case "ResetNotPending":
        return `request ${a[0]} is ${RESET_STATUS[Number(a[1])] ?? a[1]}, not pending`;
      case "ResetNotApproved":
        return `request ${a[0]} is ${RESET_STATUS[Number(a[1])] ?? a[1]}, not approved`;
      case "ResetExpired":
        return `request ${a[0]} expired at ${at(a[1])}; request a new one`;
      case "ResetVoided":
        return `request ${a[0]} is void: the account was rotated or another reset was finalized after it was made`;
      case "ResetIsDrill":
        return `request ${a[0]} is a drill: it is verified, never approved or finalized`;
      case "ResetWrongGroupKey":
        return `the group key given for request ${a[0]} is not its committee's`;
      case "ResetNotController":
        return `${a[1]} is not the account's controller: only the controller may cancel request ${a[0]}`;
      case "ResetSecurityPeriodActive":
        return `request ${a[0]} can be finalized from ${at(a[1])} (the security period, during which the controller may cancel)`;
      case "ResetSecurityPeriodOver":
        return `the security period of request ${a[0]} ended at ${at(a[1])}: it can no longer be cancelled`;
      case "ResetNotSettleable":
        return `request ${a[0]} can be settled from ${at(a[1])} (expiry plus the dispute window)`;
      case "ResetAlreadySettled":
        return `request ${a[0]} is already settled`;
      case "ResetWrongPostingHistory":
        return `the posting history given for request ${a[0]} is not the one on-chain (read it again from the events)`;
      case "ResetWrongContext":
        return `the request fields given for request ${a[0]} are not the ones it was made with`;
      default:
        return undefined;
    }
  };
}
