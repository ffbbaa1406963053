/**
 * Committee flows over viem clients (PROTOCOL.md §3–§4): propose a committee, start a handover, read a committee with
 * its round in progress and its epoch history, list committees, and follow a round until it is active or failed.
 *
 * State comes from the `CommitteeRegistry` views; what the contract keeps only in events (the membership of every
 * epoch, complaints and their answers, faults, qualified dealers, why a round failed) comes from its logs, fetched by
 * committee id (an indexed topic of every committee event).
 */
import { type Address, type Hex, decodeEventLog, formatEther, getAddress, isAddress, keccak256, pad, slice, size, toHex } from "viem";

import { committeeRegistryAbi } from "../abi/index.ts";
import { COMMITTEE_MAX_SIZE, MIN_THRESHOLD } from "../crypto/constants.ts";
import { assertCommitteeBounds } from "../crypto/dkg.ts";
import { CGError, describe } from "../errors.ts";
import { listGuardians, selectCommittee } from "./guardians.ts";
import type { Clients, Progress } from "./deployment.ts";
import { type Explain, eventsOf, send, wallet } from "./transactions.ts";

// ───────────────────────────── names of the contract's enums ─────────────────────────────

/** `ICommitteeRegistry.CommitteeStatus`, by value. */
export const COMMITTEE_STATUS = ["none", "forming", "active", "failed"] as const;
/** `ICommitteeRegistry.RoundPhase`, by value. */
export const ROUND_PHASE = ["none", "dealing", "acknowledging", "active", "retired", "failed"] as const;
/** `ICommitteeRegistry.RoundFailure`, by value, in words. */
export const ROUND_FAILURE = ["too few qualified dealers", "not finalized in time", "not acknowledged in time"] as const;
/** `ICommitteeRegistry.CommitteeFault`, by value, in words. */
export const COMMITTEE_FAULT = ["wrong answer", "unanswered complaint", "reshare key mismatch", "invalid proof of possession"] as const;

export type CommitteeStatusName = (typeof COMMITTEE_STATUS)[number];
export type RoundPhaseName = (typeof ROUND_PHASE)[number];

const PHASE = { None: 0, Dealing: 1, Acknowledging: 2, Active: 3, Retired: 4, Failed: 5 } as const;
const STATUS = { None: 0, Forming: 1, Active: 2, Failed: 3 } as const;
/** Faults 0–2 are a dealer's and disqualify it; 3 is a member's invalid proof of possession. */
const DEALER_FAULTS = 3;

function registry(c: Clients): Address {
  return c.deployment.contracts.CommitteeRegistry;
}

function date(seconds: bigint | number): Date {
  return new Date(Number(seconds) * 1000);
}

/** Slots (1-based) whose bit s − 1 is set, for a committee of n. */
export function slotsOf(bitmap: number | bigint, n: number): number[] {
  const b = BigInt(bitmap);
  return Array.from({ length: n }, (_, k) => k + 1).filter((s) => (b >> BigInt(s - 1)) & 1n);
}

function has(bitmap: number, slot: number): boolean {
  return ((bitmap >>> (slot - 1)) & 1) === 1;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

// ───────────────────────────── proposing (§3.1) ─────────────────────────────

/** The smallest threshold above half of n (3 of 5, 4 of 7): a majority that tolerates the most failures. */
export function defaultThreshold(n: number): number {
  return Math.max(MIN_THRESHOLD, Math.floor(n / 2) + 1);
}

/**
 * Checks a proposal before anything is read or sent: members (if given) are addresses and distinct, a size (if
 * given) agrees with them, and 2 ≤ t ≤ n ≤ 32 with t > n/2 (the threshold defaulting to `defaultThreshold(n)`).
 * Throws `INVALID_INPUT` naming what was expected and what came.
 */
export function checkCommitteeProposal(o: { members?: readonly string[]; size?: number; threshold?: number }): { n: number; t: number; members?: Address[] } {
  const where = "proposeCommittee";
  let members: Address[] | undefined;
  if (o.members !== undefined) {
    if (!Array.isArray(o.members)) throw new CGError("INVALID_INPUT", `${where}: expected members as a list of addresses, got ${describe(o.members)}`);
    members = o.members.map((m, k) => {
      if (typeof m !== "string" || !isAddress(m)) throw new CGError("INVALID_INPUT", `${where}: expected member ${k + 1} to be an address, got ${describe(m)}`);
      return getAddress(m);
    });
    const first = new Map<string, number>();
    members.forEach((m, k) => {
      const earlier = first.get(m);
      if (earlier !== undefined) {
        throw new CGError("INVALID_INPUT", `${where}: expected distinct members, got ${m} at positions ${earlier + 1} and ${k + 1}`, { details: { member: m } });
      }
      first.set(m, k);
    });
    if (o.size !== undefined && o.size !== members.length) {
      throw new CGError("INVALID_INPUT", `${where}: expected a size equal to the ${members.length} members named, got ${describe(o.size)}`);
    }
  } else if (o.size === undefined) {
    throw new CGError("INVALID_INPUT", `${where}: expected the members or a committee size, got neither`);
  }
  const n = members?.length ?? o.size!;
  if (!Number.isInteger(n) || n < MIN_THRESHOLD || n > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected a committee size n in [${MIN_THRESHOLD}, ${COMMITTEE_MAX_SIZE}], got ${describe(n)}`, { details: { n } });
  }
  const t = o.threshold ?? defaultThreshold(n);
  assertCommitteeBounds(n, t, where);
  return { n, t, members };
}

export interface ProposedCommittee {
  committeeId: bigint;
  epoch: 1n;
  members: Address[];
  threshold: number;
  dealDeadline: Date;
  txHash: Hex;
  gasUsed: bigint;
}

/**
 * Proposes a committee and opens its DKG (epoch 1). With `members`, each must be a registered, eligible guardian;
 * without, `size` eligible guardians are picked by `selectCommittee` (spread over operators, regions, providers).
 */
export async function proposeCommittee(
  c: Clients,
  o: { members?: readonly Address[]; size?: number; threshold?: number },
  progress: Progress = () => {},
): Promise<ProposedCommittee> {
  wallet(c);
  const { n, t, members } = checkCommitteeProposal(o);
  const guardians = await listGuardians(c);
  let chosen: Address[];
  if (members) {
    chosen = members.map((m) => {
      const g = guardians.find((x) => x.operator === m);
      if (!g) throw new CGError("UNKNOWN_GUARDIAN", `${m} is not a registered guardian`, { details: { operator: m } });
      if (!g.eligible) throw new CGError("NOT_ELIGIBLE", `${m} is not eligible (stake, attestation, jail or unbonding)`, { details: { operator: m } });
      return g.operator;
    });
  } else {
    progress(`selecting ${n} eligible guardians spread over operators, regions and providers`);
    chosen = selectCommittee(guardians, n).map((g) => g.operator);
  }
  progress(`proposing ${t} of ${n}: ${chosen.join(", ")}`, { n, t, members: chosen });
  const receipt = await send(c, { address: registry(c), abi: committeeRegistryAbi, functionName: "propose", args: [chosen, t] }, { explain: explainCommitteeError({}) });
  const event = eventsOf(committeeRegistryAbi, receipt.logs).find((e) => e.eventName === "CommitteeProposed");
  if (!event) throw new CGError("UNEXPECTED_RECEIPT", `propose succeeded in ${receipt.transactionHash} without a CommitteeProposed event`);
  const a = event.args as { committeeId: bigint; members: readonly Address[]; threshold: number; dealDeadline: bigint };
  return {
    committeeId: a.committeeId,
    epoch: 1n,
    members: [...a.members],
    threshold: a.threshold,
    dealDeadline: date(a.dealDeadline),
    txHash: receipt.transactionHash,
    gasUsed: receipt.gasUsed,
  };
}

// ───────────────────────────── handover (§4) ─────────────────────────────

export interface StartedHandover {
  committeeId: bigint;
  epoch: bigint;
  sourceEpoch: bigint;
  threshold: number;
  /** Slots that change hands. */
  replaced: number[];
  /** The member each replaced slot receives, and whom it replaces. */
  incoming: { slot: number; operator: Address; replaces: Address }[];
  /** The new epoch's whole membership in slot order. */
  members: Address[];
  dealDeadline: Date;
  txHash: Hex;
  gasUsed: bigint;
}

/**
 * Starts a handover of an active committee (anyone may): the contract replaces every member that is no longer
 * eligible, or the longest-serving one once the epoch is older than `maxEpochAge`. Two transactions: the request,
 * then, once the draw block (`DRAW_DELAY` blocks later) is mined, `drawReplacements`, which draws the replacements
 * from that block's hash and opens the round. A refusal names the custom error and says why in words.
 */
export async function startHandover(c: Clients, committeeId: bigint, progress?: Progress, pollMs = 500): Promise<StartedHandover> {
  wallet(c);
  const view = await readCommittee(c, committeeId);
  const before = view.status === STATUS.Active ? await c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "members", args: [committeeId, view.activeEpoch] }) : [];
  const requested = await send(
    c,
    { address: registry(c), abi: committeeRegistryAbi, functionName: "startHandover", args: [committeeId] },
    { explain: explainCommitteeError({ activeEpoch: view.activeEpoch }) },
  );
  const request = eventsOf(committeeRegistryAbi, requested.logs).find((e) => e.eventName === "CommitteeHandoverRequested");
  if (!request) throw new CGError("UNEXPECTED_RECEIPT", `startHandover succeeded in ${requested.transactionHash} without a CommitteeHandoverRequested event`);
  const drawBlock = (request.args as { drawBlock: bigint }).drawBlock;
  progress?.(`handover requested: replacements drawn from block ${drawBlock}`);
  while ((await c.public.getBlockNumber()) <= drawBlock) await new Promise((r) => setTimeout(r, pollMs));
  const receipt = await send(
    c,
    { address: registry(c), abi: committeeRegistryAbi, functionName: "drawReplacements", args: [committeeId] },
    { explain: explainCommitteeError({ activeEpoch: view.activeEpoch }) },
  );
  const event = eventsOf(committeeRegistryAbi, receipt.logs).find((e) => e.eventName === "CommitteeHandoverStarted");
  if (!event) throw new CGError("UNEXPECTED_RECEIPT", `startHandover succeeded in ${receipt.transactionHash} without a CommitteeHandoverStarted event`);
  const a = event.args as { epoch: bigint; sourceEpoch: bigint; threshold: number; replaced: number; members: readonly Address[]; dealDeadline: bigint };
  const replaced = slotsOf(a.replaced, a.members.length);
  return {
    committeeId,
    epoch: a.epoch,
    sourceEpoch: a.sourceEpoch,
    threshold: a.threshold,
    replaced,
    incoming: replaced.map((slot) => ({ slot, operator: a.members[slot - 1], replaces: before[slot - 1]?.operator })),
    members: [...a.members],
    dealDeadline: date(a.dealDeadline),
    txHash: receipt.transactionHash,
    gasUsed: requested.gasUsed + receipt.gasUsed,
  };
}

/**
 * Words for the committee refusals a proposer or a handover starter meets; other errors keep `Name(args)`.
 * `activeEpoch` completes the `CommitteeHandoverNotDue` sentence.
 */
export function explainCommitteeError(context: { activeEpoch?: bigint }): Explain {
  return (error, args) => {
    const a = args as readonly any[];
    switch (error) {
      case "CommitteeInvalidSize":
        return `a committee needs 2 ≤ t ≤ n ≤ 32 and t > n/2, got n = ${a[0]}, t = ${a[1]}`;
      case "CommitteeUnknown":
        return `there is no committee ${a[0]} on this deployment`;
      case "CommitteeNotActive": {
        const status = COMMITTEE_STATUS[Number(a[1])] ?? `status ${a[1]}`;
        const why = Number(a[1]) === STATUS.Forming ? "its formation (epoch 1) has not finished" : Number(a[1]) === STATUS.Failed ? "its formation failed; a failed committee is never resumed, propose a new one" : "";
        return `committee ${a[0]} is ${status}: only an active committee is handed over${why ? `; ${why}` : ""}`;
      }
      case "CommitteeHandoverInProgress":
        return `a handover to epoch ${a[1]} of committee ${a[0]} is already running; it must finish or fail first`;
      case "CommitteeHandoverNotDue":
        return `every member is eligible and epoch ${context.activeEpoch ?? "?"} is younger than maxEpochAge: due at ${date(a[1]).toISOString()}`;
      case "CommitteeNoReplacement":
        return `no eligible guardian outside committee ${a[0]} was found for slot ${a[1]} among the registry entries drawn; more guardians must register and be attested, or another block gives another draw`;
      case "GuardianNotEligible":
        return `${a[0]} is not eligible (unregistered, jailed, below minStake, unbonding, or its attestation expired or was revoked)`;
      case "GuardianDuplicateMember":
        return `${a[0]} is named twice; a committee has distinct members`;
      default:
        return undefined;
    }
  };
}

// ───────────────────────────── reading ─────────────────────────────

interface CommitteeLog {
  eventName: string;
  args: Record<string, any>;
  blockNumber: bigint;
  logIndex: number;
}

/** Every event of committee `committeeId` from `fromBlock` on (its id is topic 1 of each), decoded, in log order. */
async function committeeLogs(c: Clients, committeeId: bigint, fromBlock?: bigint): Promise<CommitteeLog[]> {
  const raw = await c.public.request({
    method: "eth_getLogs",
    params: [{ address: registry(c), fromBlock: toHex(fromBlock ?? BigInt(c.deployment.deploymentBlock)), toBlock: "latest", topics: [null, pad(toHex(committeeId))] }],
  });
  const out: CommitteeLog[] = [];
  for (const log of raw) {
    let decoded;
    try {
      decoded = decodeEventLog({ abi: committeeRegistryAbi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
    } catch {
      continue; // not a committee event (another event whose topic 1 happens to match)
    }
    if (typeof decoded.args !== "object" || decoded.args === null || !("committeeId" in decoded.args)) continue; // not about a committee
    out.push({ eventName: decoded.eventName, args: decoded.args as Record<string, any>, blockNumber: BigInt(log.blockNumber!), logIndex: Number(log.logIndex) });
  }
  return out.sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1));
}

function epochOf(log: CommitteeLog): bigint {
  return log.eventName === "CommitteeProposed" ? 1n : BigInt(log.args.epoch);
}

/** The event that opened round `epoch` (it names the round's whole membership). */
function openingOf(logs: readonly CommitteeLog[], epoch: bigint): CommitteeLog | undefined {
  return logs.find((l) => (epoch === 1n ? l.eventName === "CommitteeProposed" : l.eventName === "CommitteeHandoverStarted" && BigInt(l.args.epoch) === epoch));
}

async function readCommittee(c: Clients, committeeId: bigint) {
  if (typeof committeeId !== "bigint" || committeeId < 1n) {
    throw new CGError("INVALID_INPUT", `committee: expected a committee id ≥ 1, got ${describe(committeeId)}`);
  }
  const view = await c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "committee", args: [committeeId] });
  if (view.status === STATUS.None) {
    const count = await c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "committeeCount" });
    throw new CGError("UNKNOWN_COMMITTEE", `no committee ${committeeId} on this deployment (${count === 0n ? "none proposed yet" : `ids 1 to ${count}`})`, { details: { committeeId } });
  }
  return view;
}

function blockTimes(c: Clients) {
  const cache = new Map<bigint, Promise<Date>>();
  return (block: bigint) => {
    let t = cache.get(block);
    if (!t) {
      t = c.public.getBlock({ blockNumber: block }).then((b) => date(b.timestamp));
      cache.set(block, t);
    }
    return t;
  };
}

export interface CommitteeMemberInfo {
  slot: number;
  operator: Address;
  /** The epoch it joined the committee. */
  since: number;
}

export interface RoundSlotInfo {
  slot: number;
  /** Who deals from this slot: the round's own member (DKG) or the source epoch's (handover). */
  dealer: Address;
  /** Who receives (and acknowledges) in this slot. */
  member: Address;
  replaced: boolean;
  dealt: boolean;
  /** As a dealer: has a complaint still open against it. */
  complained: boolean;
  disqualified: boolean;
  acknowledged: boolean;
  /** As a recipient: the dealers it complained against. */
  complainedAgainst: number[];
}

export interface RoundComplaint {
  dealer: number;
  recipient: number;
  /** open; dismissed (a valid answer); wrong answer or unanswered (the dealer was disqualified). */
  status: "open" | "dismissed" | "wrong answer" | "unanswered";
}

export interface RoundFault {
  slot: number;
  operator: Address;
  fault: string;
  slashed: bigint;
  prover: Address;
  block: bigint;
}

export interface RoundInfo {
  epoch: bigint;
  kind: "formation" | "handover";
  phase: RoundPhaseName;
  threshold: number;
  /** 0 for a formation; the epoch whose members deal, for a handover. */
  sourceEpoch: bigint;
  deadlines: {
    /** Dealing closes then, or earlier once every dealer dealt. */
    dealing: Date;
    complaints: Date;
    answers: Date;
    /** A round still dealing fails (through `expire`) if not finalized by then. */
    finalizeBy?: Date;
    finalizedAt?: Date;
    acknowledgements?: Date;
  };
  size: number;
  dealt: number;
  acknowledged: number;
  qualified?: number[];
  failure?: string;
  commitmentsHash?: Hex;
  slots: RoundSlotInfo[];
  complaints: RoundComplaint[];
  faults: RoundFault[];
}

export interface EpochEvent {
  epoch: bigint;
  event: "proposed" | "handover started" | "activated" | "retired" | "failed";
  detail: string;
  block: bigint;
  time: Date;
}

export interface CommitteeInfo {
  committeeId: bigint;
  status: CommitteeStatusName;
  size: number;
  threshold: number;
  /** 0 until the formation completes. */
  activeEpoch: bigint;
  lastEpoch: bigint;
  activatedAt?: Date;
  /** keccak256(K); fixed when the DKG is finalized. */
  groupKeyHash?: Hex;
  commitmentsHash?: Hex;
  /** The active membership (the forming one before activation, the proposed one of a failed committee). */
  members: CommitteeMemberInfo[];
  /** The newest round: the one in progress, or the last one that ended. */
  round: RoundInfo;
  history: EpochEvent[];
}

const ZERO_HASH = `0x${"00".repeat(32)}`;

/** A committee with its members, its newest round slot by slot, and its epoch history. */
export async function committeeInfo(c: Clients, committeeId: bigint): Promise<CommitteeInfo> {
  const view = await readCommittee(c, committeeId);
  const n = view.size;
  const [logs, r] = await Promise.all([
    committeeLogs(c, committeeId),
    readRound(c, committeeId, view.lastEpoch),
  ]);
  const timeOf = blockTimes(c);
  const proposal = openingOf(logs, 1n);

  let members: CommitteeMemberInfo[];
  if (view.status === STATUS.Failed) {
    members = ((proposal?.args.members ?? []) as Address[]).map((operator, k) => ({ slot: k + 1, operator, since: 1 }));
  } else {
    const epoch = view.status === STATUS.Active ? view.activeEpoch : 1n;
    const list = await c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "members", args: [committeeId, epoch] });
    members = list.map((m, k) => ({ slot: k + 1, operator: m.operator, since: Number(m.since) }));
  }

  return {
    committeeId,
    status: COMMITTEE_STATUS[view.status],
    size: n,
    threshold: view.threshold,
    activeEpoch: view.activeEpoch,
    lastEpoch: view.lastEpoch,
    activatedAt: view.activatedAt ? date(view.activatedAt) : undefined,
    groupKeyHash: view.groupKeyHash !== ZERO_HASH ? view.groupKeyHash : undefined,
    commitmentsHash: view.commitmentsHash !== ZERO_HASH ? view.commitmentsHash : undefined,
    members,
    round: await roundInfo(c, view.lastEpoch, n, r, logs),
    history: await Promise.all(
      logs
        .filter((l) => ["CommitteeProposed", "CommitteeHandoverStarted", "CommitteeActivated", "CommitteeEpochRetired", "CommitteeRoundFailed"].includes(l.eventName))
        .map(async (l): Promise<EpochEvent> => ({ epoch: epochOf(l), ...historyEntry(l, n), block: l.blockNumber, time: await timeOf(l.blockNumber) })),
    ),
  };
}

function historyEntry(l: CommitteeLog, n: number): { event: EpochEvent["event"]; detail: string } {
  const a = l.args;
  switch (l.eventName) {
    case "CommitteeProposed":
      return { event: "proposed", detail: `proposed by ${a.proposer}: ${a.threshold} of ${a.members.length}` };
    case "CommitteeHandoverStarted":
      return { event: "handover started", detail: `handover from epoch ${a.sourceEpoch} replacing slot${popcount(a.replaced) === 1 ? "" : "s"} ${slotsOf(a.replaced, n).join(", ") || "none"}, ${a.threshold} of ${n}` };
    case "CommitteeActivated":
      return { event: "activated", detail: "active" };
    case "CommitteeEpochRetired":
      return { event: "retired", detail: "retired: its shares never serve again" };
    default:
      return { event: "failed", detail: `failed: ${ROUND_FAILURE[Number(a.reason)] ?? `reason ${a.reason}`}` };
  }
}

type RoundView = Awaited<ReturnType<typeof readRound>>;

function readRound(c: Clients, committeeId: bigint, epoch: bigint) {
  return c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "round", args: [committeeId, epoch] });
}

async function roundInfo(c: Clients, epoch: bigint, n: number, r: RoundView, allLogs: readonly CommitteeLog[]): Promise<RoundInfo> {
  const logs = allLogs.filter((l) => epochOf(l) === epoch);
  const opening = openingOf(allLogs, epoch);
  const recipients = (opening?.args.members ?? []) as Address[];
  const source = BigInt(r.sourceEpoch);
  const dealers = source === 0n ? recipients : ((openingOf(allLogs, source)?.args.members ?? []) as Address[]);

  const complaints: RoundComplaint[] = [];
  const faults: RoundFault[] = [];
  let qualified: number[] | undefined;
  let failure: string | undefined;
  for (const l of logs) {
    const a = l.args;
    if (l.eventName === "CommitteeComplaintFiled") complaints.push({ dealer: a.dealer, recipient: a.recipient, status: "open" });
    if (l.eventName === "CommitteeComplaintAnswered") {
      const k = complaints.findIndex((x) => x.dealer === a.dealer && x.recipient === a.recipient && x.status === "open");
      if (k >= 0) complaints[k].status = a.valid ? "dismissed" : "wrong answer";
    }
    if (l.eventName === "CommitteeFaultProven") {
      faults.push({ slot: a.slot, operator: a.operator, fault: COMMITTEE_FAULT[Number(a.fault)] ?? `fault ${a.fault}`, slashed: a.slashed, prover: a.prover, block: l.blockNumber });
      if (Number(a.fault) === 1) for (const x of complaints) if (x.dealer === a.slot && x.status === "open") x.status = "unanswered";
    }
    if (l.eventName === "CommitteeRoundFinalized") qualified = slotsOf(a.qualified, n);
    if (l.eventName === "CommitteeRoundFailed") failure = ROUND_FAILURE[Number(a.reason)] ?? `reason ${a.reason}`;
  }

  let finalizeBy: Date | undefined;
  if (r.phase === PHASE.Dealing) {
    // The round copied the windows when it opened: read them as of that block (the current ones if the node keeps no
    // past state).
    const at = opening?.blockNumber;
    const params = await c.public
      .readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "parameters", blockNumber: at })
      .catch(() => c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "parameters" }));
    finalizeBy = date(r.answerDeadline + BigInt(params.ackWindow));
  }

  return {
    epoch,
    kind: source === 0n ? "formation" : "handover",
    phase: ROUND_PHASE[r.phase],
    threshold: r.threshold,
    sourceEpoch: source,
    deadlines: {
      dealing: date(r.dealDeadline),
      complaints: date(r.complaintDeadline),
      answers: date(r.answerDeadline),
      finalizeBy,
      finalizedAt: r.finalizedAt ? date(r.finalizedAt) : undefined,
      acknowledgements: r.ackDeadline ? date(r.ackDeadline) : undefined,
    },
    size: n,
    dealt: popcount(r.dealt),
    acknowledged: popcount(r.acknowledged),
    qualified,
    failure,
    commitmentsHash: r.commitmentsHash !== ZERO_HASH ? r.commitmentsHash : undefined,
    slots: Array.from({ length: n }, (_, k) => {
      const slot = k + 1;
      return {
        slot,
        dealer: dealers[k],
        member: recipients[k],
        replaced: has(r.replaced, slot),
        dealt: has(r.dealt, slot),
        complained: has(r.complained, slot),
        disqualified: has(r.disqualified, slot),
        acknowledged: has(r.acknowledged, slot),
        complainedAgainst: complaints.filter((x) => x.recipient === slot).map((x) => x.dealer),
      };
    }),
    complaints,
    faults,
  };
}

export type CommitteeSummary = Pick<CommitteeInfo, "committeeId" | "status" | "size" | "threshold" | "activeEpoch" | "lastEpoch"> & {
  /** The newest round's phase (a handover in progress shows here while the committee stays active). */
  roundPhase: RoundPhaseName;
  members: Address[];
};

/** Every committee of the deployment, oldest first, with its status, n, t, active epoch and members. */
export async function listCommittees(c: Clients): Promise<CommitteeSummary[]> {
  const count = await c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "committeeCount" });
  if (count === 0n) return [];
  const proposals = await c.public.getContractEvents({ address: registry(c), abi: committeeRegistryAbi, eventName: "CommitteeProposed", fromBlock: BigInt(c.deployment.deploymentBlock) });
  const proposed = new Map(proposals.map((l) => [l.args.committeeId!, [...l.args.members!]]));
  const ids = Array.from({ length: Number(count) }, (_, k) => BigInt(k + 1));
  return Promise.all(
    ids.map(async (committeeId): Promise<CommitteeSummary> => {
      const view = await c.public.readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "committee", args: [committeeId] });
      const [r, members] = await Promise.all([
        readRound(c, committeeId, view.lastEpoch),
        view.status === STATUS.Failed
          ? Promise.resolve(proposed.get(committeeId) ?? [])
          : c.public
              .readContract({ address: registry(c), abi: committeeRegistryAbi, functionName: "members", args: [committeeId, view.status === STATUS.Active ? view.activeEpoch : 1n] })
              .then((list) => list.map((m) => m.operator)),
      ]);
      return {
        committeeId,
        status: COMMITTEE_STATUS[view.status],
        size: view.size,
        threshold: view.threshold,
        activeEpoch: view.activeEpoch,
        lastEpoch: view.lastEpoch,
        roundPhase: ROUND_PHASE[r.phase],
        members,
      };
    }),
  );
}

// ───────────────────────────── an epoch's keys ─────────────────────────────

/** What serving and judging a reset needs of one committee epoch: its members by slot and its Feldman commitments. */
export interface CommitteeEpoch {
  committeeId: bigint;
  epoch: bigint;
  threshold: number;
  /** Operators in slot order (slot j is `members[j − 1]`). */
  members: Address[];
  /** C_0 ‖ … ‖ C_{t−1}, 256-byte EIP-2537 G2 each, as `CommitteeRoundFinalized` logged them. */
  commitments: Hex;
  /** K = C_0 (EIP-2537 G2). */
  groupKey: Hex;
}

/**
 * The members and commitments of epoch `epoch` of a committee, from its events (the opening event names the members;
 * `CommitteeRoundFinalized` carries the commitments), checked against the round's stored commitments hash and the
 * committee's group-key hash. Throws `UNKNOWN_ROUND` for an epoch that never opened or was never finalized.
 */
export async function committeeEpoch(c: Clients, committeeId: bigint, epoch: bigint): Promise<CommitteeEpoch> {
  const view = await readCommittee(c, committeeId);
  const [logs, r] = await Promise.all([committeeLogs(c, committeeId), readRound(c, committeeId, epoch)]);
  const opening = openingOf(logs, epoch);
  const finalized = logs.find((l) => l.eventName === "CommitteeRoundFinalized" && BigInt(l.args.epoch) === epoch);
  if (!opening || !finalized) {
    throw new CGError("UNKNOWN_ROUND", `committee ${committeeId} has no finalized epoch ${epoch} (its newest is ${view.lastEpoch})`, { details: { committeeId, epoch } });
  }
  const commitments = finalized.args.commitments as Hex;
  if (keccak256(commitments) !== r.commitmentsHash) {
    throw new CGError("WRONG_COMMITMENTS", `the commitments logged for epoch ${epoch} of committee ${committeeId} do not hash to the round's stored commitments hash`, { details: { committeeId, epoch } });
  }
  const groupKey = slice(commitments, 0, 256);
  if (keccak256(groupKey) !== view.groupKeyHash) {
    throw new CGError("WRONG_COMMITMENTS", `epoch ${epoch} of committee ${committeeId} does not carry the committee's group key`, { details: { committeeId, epoch } });
  }
  return { committeeId, epoch, threshold: size(commitments) / 256, members: [...(opening.args.members as Address[])], commitments, groupKey };
}

/** The active epoch of a committee (`committeeEpoch`); `COMMITTEE_NOT_ACTIVE`, in words, while it forms or if it failed. */
export async function activeCommitteeEpoch(c: Clients, committeeId: bigint): Promise<CommitteeEpoch> {
  const view = await readCommittee(c, committeeId);
  if (view.status !== STATUS.Active) {
    const why = view.status === STATUS.Forming ? "its formation has not finished (cg committee show follows it)" : "its formation failed; propose a new one";
    throw new CGError("COMMITTEE_NOT_ACTIVE", `committee ${committeeId} is ${COMMITTEE_STATUS[view.status]}: ${why}`, { details: { committeeId } });
  }
  return committeeEpoch(c, committeeId, view.activeEpoch);
}

// ───────────────────────────── following a round ─────────────────────────────

export interface RoundOutcome {
  committeeId: bigint;
  epoch: bigint;
  phase: "active" | "failed";
  /** Why it failed, in words. */
  failure?: string;
  qualified?: number[];
}

/** One line, in words, for an event of the round being followed; undefined for events that need none. */
function describeRoundEvent(l: CommitteeLog, n: number, counts: { dealt: number; acknowledged: number }): string | undefined {
  const a = l.args;
  switch (l.eventName) {
    case "CommitteeDealingPosted":
      return `${++counts.dealt} of ${n} dealt`;
    case "CommitteeComplaintFiled":
      return `complaint: slot ${a.recipient} against dealer ${a.dealer}`;
    case "CommitteeComplaintAnswered":
      // A wrong answer is told by the fault that the same transaction proves.
      return a.valid ? `dealer ${a.dealer} answered slot ${a.recipient}'s complaint with a valid sub-share: dismissed` : undefined;
    case "CommitteeFaultProven": {
      const fault = COMMITTEE_FAULT[Number(a.fault)] ?? `fault ${a.fault}`;
      const slashed = `${formatEther(a.slashed)} ETH slashed`;
      return Number(a.fault) < DEALER_FAULTS ? `dealer ${a.slot} disqualified: ${fault} (${slashed})` : `slot ${a.slot}: ${fault} proven (${slashed})`;
    }
    case "CommitteeRoundFinalized":
      return `finalized: qualified dealers ${slotsOf(a.qualified, n).join(", ")}`;
    case "CommitteeAcknowledged":
      return `${++counts.acknowledged} of ${n} acknowledged`;
    default:
      return undefined; // the opening event, activation, retirement and failure: the end of the watch tells them
  }
}

/**
 * Polls round `epoch` of a committee until it is active (or the committee's active epoch has reached it) or failed,
 * reporting each change once, in words, in log order: "3 of 5 dealt", "complaint: slot 3 against dealer 2",
 * "dealer 2 disqualified: wrong answer (…)", "finalized: qualified dealers 1, 3, 4, 5", "4 of 5 acknowledged", then
 * "active" or "failed: not acknowledged in time". A failed poll is reported and retried. After `timeoutMs` it
 * throws `TIMEOUT`: the round goes on on-chain regardless.
 */
export async function watchRound(
  c: Clients,
  committeeId: bigint,
  epoch: bigint,
  progress: Progress = () => {},
  o: { timeoutMs?: number; pollMs?: number } = {},
): Promise<RoundOutcome> {
  const timeoutMs = o.timeoutMs ?? 30 * 60_000;
  const pollMs = o.pollMs ?? 1_000;
  if (typeof epoch !== "bigint" || epoch < 1n) throw new CGError("INVALID_INPUT", `watchRound: expected an epoch ≥ 1, got ${describe(epoch)}`);
  const started = Date.now();
  const seen = new Set<string>();
  const counts = { dealt: 0, acknowledged: 0 };
  let fromBlock: bigint | undefined;
  let last: RoundView | undefined;
  let size = 0;
  let lastProblem = "";
  for (;;) {
    try {
      const view = await readCommittee(c, committeeId);
      const r = await readRound(c, committeeId, epoch);
      if (r.phase === PHASE.None) throw new CGError("UNKNOWN_ROUND", `committee ${committeeId} has no round ${epoch} (its newest is ${view.lastEpoch})`, { details: { committeeId, epoch } });
      last = r;
      size = view.size;
      const logs = await committeeLogs(c, committeeId, fromBlock);
      let qualified: number[] | undefined;
      let failure: string | undefined;
      for (const l of logs) {
        if (epochOf(l) !== epoch) continue;
        if (l.eventName === "CommitteeRoundFinalized") qualified = slotsOf(l.args.qualified, view.size);
        if (l.eventName === "CommitteeRoundFailed") failure = ROUND_FAILURE[Number(l.args.reason)] ?? `reason ${l.args.reason}`;
        const key = `${l.blockNumber}:${l.logIndex}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const line = describeRoundEvent(l, view.size, counts);
        if (line) progress(line, { committeeId: committeeId.toString(), epoch: epoch.toString(), event: l.eventName });
      }
      // Later polls read from the newest block seen (again, since more logs may have joined it).
      if (logs.length) fromBlock = logs[logs.length - 1].blockNumber;
      if (r.phase === PHASE.Failed) {
        const why = failure ?? "see its events";
        progress(`failed: ${why}`, { committeeId: committeeId.toString(), epoch: epoch.toString() });
        return { committeeId, epoch, phase: "failed", failure: why, qualified };
      }
      if (r.phase === PHASE.Active || r.phase === PHASE.Retired || view.activeEpoch >= epoch) {
        progress(epoch === 1n ? "active" : `active; epoch ${r.sourceEpoch} retired`, { committeeId: committeeId.toString(), epoch: epoch.toString() });
        return { committeeId, epoch, phase: "active", qualified };
      }
      lastProblem = "";
    } catch (e) {
      if (e instanceof CGError && (e.code === "UNKNOWN_COMMITTEE" || e.code === "UNKNOWN_ROUND" || e.code === "INVALID_INPUT")) throw e;
      const problem = e instanceof Error ? e.message.split("\n")[0] : String(e);
      if (problem !== lastProblem) progress(`could not read the round (${problem}); retrying`);
      lastProblem = problem;
    }
    if (Date.now() - started >= timeoutMs) {
      const where = last
        ? `${ROUND_PHASE[last.phase]}${last.phase === PHASE.Dealing ? ` (${popcount(last.dealt)} of ${size} dealt)` : last.phase === PHASE.Acknowledging ? ` (${popcount(last.acknowledged)} of ${size} acknowledged)` : ""}`
        : "unread";
      throw new CGError("TIMEOUT", `round ${epoch} of committee ${committeeId} is still ${where} after ${Math.round(timeoutMs / 1000)} s; it continues on-chain`, {
        details: { committeeId, epoch },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - started)))));
  }
}
