/**
 * The audit replay of PROTOCOL.md §10 for the contract tests, with the v2 kinds of `IAuditLog.AuditKind` (the
 * order matters: an entry's kind is its event name's position). Role events emitted by a contract's creation
 * transaction are not audited (no contract folds its constructor's grant), so the replay skips them.
 */
import type { Hex } from "viem";

import { AUDIT_KINDS, checkAudit, foldAudit, auditPayloadHash } from "../../sdk/protocol/audit.ts";
import { type System } from "./system.ts";

export interface ChainEvent {
  eventName: string;
  inputs: any[];
  values: unknown[];
}

/** Every audited event of the three contracts since deployment, decoded, in log order. */
export async function auditedEvents(sys: System): Promise<ChainEvent[]> {
  const provider = sys.ethers.provider;
  const contracts = [sys.registry, sys.coordinator, sys.committees];
  const addresses = await Promise.all(contracts.map(async (c) => ((await c.getAddress()) as string).toLowerCase()));
  const logs = await provider.getLogs({ fromBlock: 0, toBlock: "latest" });
  const events: ChainEvent[] = [];
  for (const log of logs) {
    const idx = addresses.indexOf(log.address.toLowerCase());
    if (idx < 0) continue;
    const parsed = contracts[idx].interface.parseLog(log);
    if (!parsed || !(AUDIT_KINDS as readonly string[]).includes(parsed.name)) continue;
    if (parsed.name === "RoleGranted" || parsed.name === "RoleRevoked") {
      const receipt = await provider.getTransactionReceipt(log.transactionHash);
      if (receipt?.contractAddress?.toLowerCase() === log.address.toLowerCase()) continue;
    }
    events.push({ eventName: parsed.name, inputs: JSON.parse(parsed.fragment.format("json")).inputs, values: parsed.args.toArray(true) });
  }
  return events;
}

export function replay(events: ChainEvent[]) {
  let head: Hex = `0x${"00".repeat(24)}`;
  let length = 0n;
  for (const e of events) {
    length += 1n;
    head = foldAudit(head, length, AUDIT_KINDS.indexOf(e.eventName as (typeof AUDIT_KINDS)[number]), auditPayloadHash(e));
  }
  return { head, length, heads: [] as Hex[] };
}

/** Replays the chain's audited events and compares with the on-chain head; returns the message or throws. */
export async function expectAuditMatches(sys: System): Promise<string> {
  const r = replay(await auditedEvents(sys));
  return checkAudit(r, { head: (await sys.coordinator.auditHead()) as Hex, length: await sys.coordinator.auditLength() });
}
