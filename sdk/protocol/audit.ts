/**
 * Replaying the audit log of PROTOCOL.md §10: auditHead_n = bytes24(keccak256(abi.encode(auditHead_{n−1}, n, kind,
 * keccak256(payload)))) (the first 24 bytes; head and length share one storage slot), where an entry's payload is `abi.encode` of its event's arguments in declaration order and
 * its kind is the position of the event's name in `AUDIT_KINDS` (the contract's `IAuditLog.AuditKind`).
 */
import { type AbiParameter, type Hex, encodeAbiParameters, keccak256 } from "viem";

import { CGError } from "../errors.ts";

export const AUDIT_KINDS = [
  "GuardianRegistered",
  "GuardianStaked",
  "GuardianUnbondingStarted",
  "GuardianWithdrawn",
  "GuardianAttested",
  "GuardianAttestationRevoked",
  "GuardianJailed",
  "GuardianUnjailed",
  "GuardianSlashed",
  "GuardianServiceRecorded",
  "Claimed",
  "GuardianWithdrawalAddressSet",
  "RegistryParameterChanged",
  "AccountLinked",
  "AccountRotated",
  "ResetRequested",
  "PartialPosted",
  "ResetApproved",
  "DrillVerified",
  "ResetCancelled",
  "ResetFinalized",
  "ConsumerHookFailed",
  "ProofCommitted",
  "InvalidPostingProven",
  "RequestSettled",
  "TreasuryWithdrawn",
  "CoordinatorParameterChanged",
  "CommitteeProposed",
  "CommitteeHandoverRequested",
  "CommitteeHandoverStarted",
  "CommitteeDealingPosted",
  "CommitteeComplaintFiled",
  "CommitteeComplaintAnswered",
  "CommitteeRoundFinalized",
  "CommitteeAcknowledged",
  "CommitteeActivated",
  "CommitteeEpochRetired",
  "CommitteeRoundFailed",
  "CommitteeFaultProven",
  "CommitteeParametersSet",
  "RoleGranted",
  "RoleRevoked",
] as const;

export type AuditKindName = (typeof AUDIT_KINDS)[number];

export interface AuditedEvent {
  eventName: string;
  inputs: readonly AbiParameter[];
  /** The event's arguments in declaration order. */
  values: readonly unknown[];
  /** Where the event came from, for error messages (e.g. "block 12, log 3"). */
  where?: string;
  blockNumber?: bigint;
}

export function isAudited(eventName: string): eventName is AuditKindName {
  return (AUDIT_KINDS as readonly string[]).includes(eventName);
}

export function auditPayloadHash(e: AuditedEvent): Hex {
  return keccak256(encodeAbiParameters(e.inputs, e.values as unknown[]));
}

/** One step of the chain; `head` and the result are 24-byte heads. */
export function foldAudit(head: Hex, n: bigint, kind: number, payloadHash: Hex): Hex {
  const full = keccak256(
    encodeAbiParameters([{ type: "bytes24" }, { type: "uint256" }, { type: "uint8" }, { type: "bytes32" }], [head, n, kind, payloadHash]),
  );
  return full.slice(0, 2 + 48) as Hex;
}

export interface AuditReplay {
  head: Hex;
  length: bigint;
  /** The head after each entry, for locating the first divergence against checkpoints. */
  heads: Hex[];
}

/** Folds every audited event, in log order (non-audited events are skipped). */
export function replayAudit(events: readonly AuditedEvent[]): AuditReplay {
  let head: Hex = `0x${"00".repeat(24)}`;
  let length = 0n;
  const heads: Hex[] = [];
  for (const e of events) {
    if (!isAudited(e.eventName)) continue;
    length += 1n;
    head = foldAudit(head, length, AUDIT_KINDS.indexOf(e.eventName), auditPayloadHash(e));
    heads.push(head);
  }
  return { head, length, heads };
}

/** Compares a replay with the on-chain head and length; the message says whether and where they differ. */
/** `onChain.head` as the contract's `auditHead()` returns it: the 24-byte head left-aligned in 32 bytes. */
export function checkAudit(replay: AuditReplay, onChain: { head: Hex; length: bigint }): string {
  const onChainHead = onChain.head.slice(0, 2 + 48).toLowerCase();
  if (replay.length === onChain.length && replay.head.toLowerCase() === onChainHead) {
    return `${replay.length} entries replayed: matches the on-chain head ${onChain.head}`;
  }
  throw new CGError(
    "AUDIT_MISMATCH",
    replay.length !== onChain.length
      ? `replayed ${replay.length} entries but the chain holds ${onChain.length}: events are missing or extra`
      : `replayed head ${replay.head} differs from the on-chain head ${onChain.head}: an event was altered`,
    { details: { replayedLength: replay.length.toString(), onChainLength: onChain.length.toString() } },
  );
}

/**
 * Finds where the replay first differs from the chain: the first audited event of the first block at whose end
 * the replayed head differs from the on-chain head, by asking the chain
 * for `auditHead()` at the block of each candidate (binary search over blocks; needs state at past blocks).
 * Returns undefined when every block agrees (a difference then lies only in events after the last block given).
 */
export async function locateDivergence(
  events: readonly AuditedEvent[],
  replay: AuditReplay,
  headAt: (block: bigint) => Promise<Hex>,
): Promise<{ index: number; event: AuditedEvent } | undefined> {
  const audited = events.filter((e) => isAudited(e.eventName));
  // The last audited entry of each block: the on-chain head at that block must equal the replayed head there.
  const checkpoints: { block: bigint; entry: number }[] = [];
  audited.forEach((e, k) => {
    if (e.blockNumber === undefined) return;
    const last = checkpoints[checkpoints.length - 1];
    if (last && last.block === e.blockNumber) last.entry = k;
    else checkpoints.push({ block: e.blockNumber, entry: k });
  });
  const agrees = async (c: { block: bigint; entry: number }) =>
    (await headAt(c.block)).slice(0, 2 + 48).toLowerCase() === replay.heads[c.entry].toLowerCase();
  let lo = 0;
  let hi = checkpoints.length - 1;
  if (hi < 0 || (await agrees(checkpoints[hi]))) return undefined;
  let first = hi;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (await agrees(checkpoints[mid])) lo = mid + 1;
    else {
      first = mid;
      hi = mid - 1;
    }
  }
  const startEntry = first === 0 ? 0 : checkpoints[first - 1].entry + 1;
  return { index: startEntry, event: audited[startEntry] };
}
