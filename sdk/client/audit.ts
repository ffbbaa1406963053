/**
 * The audit log (PROTOCOL.md §10): every audited event of the three contracts since deployment, the replay of the
 * hash chain against the on-chain head (naming the first divergent entry), and the history of one account or one
 * guardian. Which events are audited, and how each folds, is `sdk/protocol/audit.ts`; this module only fetches.
 */
import { type Address, type Hex, decodeEventLog, formatEther, getAddress } from "viem";

import { committeeRegistryAbi, guardianRegistryAbi, resetCoordinatorAbi } from "../abi/index.ts";
import { CGError } from "../errors.ts";
import { type AuditedEvent, checkAudit, locateDivergence, replayAudit } from "../protocol/audit.ts";
import { type Clients, coordinatorOf, fromBlock } from "./deployment.ts";

/**
 * Every event of the audited contracts since deployment, decoded, in log order. Role grants and revocations that a
 * contract's creation transaction emitted are left out: no contract folds its constructor's grant (every later role
 * change is audited).
 */
/** An audited event as fetched: with the transaction that emitted it. */
export type FetchedEvent = AuditedEvent & { transactionHash?: Hex };

export async function auditedEvents(c: Clients): Promise<FetchedEvent[]> {
  const sources = [
    { address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi },
    { address: coordinatorOf(c), abi: resetCoordinatorAbi },
    { address: c.deployment.contracts.CommitteeRegistry, abi: committeeRegistryAbi },
  ] as const;
  const logs = await c.public.getLogs({ address: sources.map((s) => s.address), fromBlock: fromBlock(c), toBlock: "latest" });
  const events: FetchedEvent[] = [];
  const created = new Map<Hex, Promise<string | undefined>>();
  const createdBy = (hash: Hex) => {
    if (!created.has(hash)) created.set(hash, c.public.getTransactionReceipt({ hash }).then((r) => r.contractAddress?.toLowerCase() ?? undefined));
    return created.get(hash)!;
  };
  for (const log of logs) {
    const source = sources.find((s) => s.address.toLowerCase() === log.address.toLowerCase())!;
    let decoded;
    try {
      decoded = decodeEventLog({ abi: source.abi, data: log.data, topics: log.topics });
    } catch {
      continue; // not an event of this ABI (a library's, or a newer contract's)
    }
    if ((decoded.eventName === "RoleGranted" || decoded.eventName === "RoleRevoked") && (await createdBy(log.transactionHash!)) === log.address.toLowerCase()) continue;
    const item = (source.abi as readonly any[]).find((x) => x.type === "event" && x.name === decoded.eventName);
    const args = decoded.args as Record<string, unknown>;
    events.push({
      eventName: decoded.eventName as string,
      inputs: item.inputs,
      values: item.inputs.map((i: { name: string }) => args[i.name]),
      where: `block ${log.blockNumber}, log ${log.logIndex}`,
      blockNumber: log.blockNumber ?? undefined,
      transactionHash: log.transactionHash ?? undefined,
    });
  }
  return events;
}

function auditHeadAt(c: Clients, blockNumber?: bigint) {
  return c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "auditHead", blockNumber });
}

/**
 * Replays the whole audit chain. Ends in "matches the on-chain head", or throws `AUDIT_MISMATCH` naming the first
 * event after which the chain's head differs (found by reading `auditHead()` at past blocks).
 * `tamper` lets a test alter the fetched events, as a dishonest indexer would.
 */
export async function replayAuditLog(c: Clients, tamper?: (events: AuditedEvent[]) => AuditedEvent[]): Promise<{ message: string; length: bigint; head: Hex }> {
  const fetched = await auditedEvents(c);
  const events = tamper ? tamper(fetched) : fetched;
  const replay = replayAudit(events);
  const [head, length] = await Promise.all([
    auditHeadAt(c),
    c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "auditLength" }),
  ]);
  try {
    return { message: checkAudit(replay, { head, length }), length: replay.length, head: replay.head };
  } catch (e) {
    const first = await locateDivergence(events, replay, (blockNumber) => auditHeadAt(c, blockNumber)).catch(() => undefined);
    if (!first || !(e instanceof CGError)) throw e;
    throw new CGError("AUDIT_MISMATCH", `${e.message}; first divergence at entry ${first.index + 1}: ${first.event.eventName} (${first.event.where})`, {
      details: { ...e.details, entry: first.index + 1, event: first.event.eventName, where: first.event.where },
    });
  }
}

export interface HistoryEntry {
  event: string;
  where?: string;
  fields: Record<string, unknown>;
  blockNumber?: bigint;
  transactionHash?: Hex;
}

/**
 * The audited events that concern one account (by account id: its link, rotations, requests and everything about
 * them, postings and proofs included) or one guardian (by operator address).
 */
export function historyOf(events: readonly FetchedEvent[], subject: Hex | Address): HistoryEntry[] {
  const needle = subject.toLowerCase();
  const requests = new Set<string>();
  const out: HistoryEntry[] = [];
  for (const e of events) {
    const fields = Object.fromEntries(e.inputs.map((inp, k) => [inp.name ?? String(k), e.values[k]]));
    const flat = JSON.stringify(e.values, (_, v) => (typeof v === "bigint" ? v.toString() : v)).toLowerCase();
    const requestId = fields.requestId !== undefined ? String(fields.requestId) : undefined;
    if (flat.includes(needle)) {
      if (e.eventName === "ResetRequested" && requestId) requests.add(requestId);
      out.push({ event: e.eventName, where: e.where, fields, blockNumber: e.blockNumber, transactionHash: e.transactionHash });
    } else if (requestId && requests.has(requestId)) {
      out.push({ event: e.eventName, where: e.where, fields, blockNumber: e.blockNumber, transactionHash: e.transactionHash });
    }
  }
  return out;
}

/** Event fields that are amounts of wei. */
const WEI_FIELDS = new Set(["amount", "fee", "paid", "reward", "slashed", "toTreasury", "totalStake", "stake"]);
/** Event fields that are unix times. */
const TIME_FIELDS = new Set(["executableAt", "expiresAt", "readyAt", "dealDeadline", "settleableAt"]);

/** One event of a history as a person reads it: who sent it, when, in which transaction, amounts in ETH. */
export interface AuditRow {
  event: string;
  /** The sender of the transaction that emitted it. */
  actor?: Address;
  /** The block's time, ISO 8601 UTC. */
  time?: string;
  block?: bigint;
  transaction?: Hex;
  /** Amount fields in ETH ("0.5"), by field name. */
  amountsEth: Record<string, string>;
  /** Every field as text: amounts in ETH ("0.5 ETH"), times in ISO 8601 UTC, the rest as they are. */
  details: Record<string, string>;
}

/** Adds the actor (transaction sender), time (block timestamp) and amounts in ETH to each entry of a history. */
export async function describeHistory(c: Clients, entries: readonly HistoryEntry[]): Promise<AuditRow[]> {
  const txs = new Map<Hex, Promise<Address | undefined>>();
  const blocks = new Map<bigint, Promise<bigint | undefined>>();
  for (const e of entries) {
    if (e.transactionHash && !txs.has(e.transactionHash)) txs.set(e.transactionHash, c.public.getTransaction({ hash: e.transactionHash }).then((t) => getAddress(t.from), () => undefined));
    if (e.blockNumber !== undefined && !blocks.has(e.blockNumber)) blocks.set(e.blockNumber, c.public.getBlock({ blockNumber: e.blockNumber }).then((b) => b.timestamp, () => undefined));
  }
  return Promise.all(
    entries.map(async (e) => {
      const amountsEth: Record<string, string> = {};
      const details: Record<string, string> = {};
      for (const [name, v] of Object.entries(e.fields)) {
        if (typeof v === "bigint" && WEI_FIELDS.has(name)) {
          amountsEth[name] = formatEther(v);
          details[name] = `${formatEther(v)} ETH`;
        } else if ((typeof v === "bigint" || typeof v === "number") && TIME_FIELDS.has(name)) {
          details[name] = new Date(Number(v) * 1000).toISOString();
        } else {
          details[name] = typeof v === "string" ? v : JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x)) ?? String(v);
        }
      }
      const timestamp = e.blockNumber !== undefined ? await blocks.get(e.blockNumber) : undefined;
      return {
        event: e.event,
        actor: e.transactionHash ? await txs.get(e.transactionHash) : undefined,
        time: timestamp === undefined ? undefined : new Date(Number(timestamp) * 1000).toISOString(),
        block: e.blockNumber,
        transaction: e.transactionHash,
        amountsEth,
        details,
      };
    }),
  );
}
