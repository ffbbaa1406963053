/**
 * Accounts (PROTOCOL.md §5): link an account to an active committee in one transaction (no guardian transaction),
 * rotate it to another committee at the next account epoch, and read it. The channel envelopes and the sealed channel
 * table are prepared by `prepareLink` (sdk/protocol/account.ts), which refuses a map where one channel URI holds t
 * or more slots and says why; channel URIs never leave this process in clear.
 */
import { type Address, type Hex, getAddress, hexToBytes, keccak256, toHex } from "viem";

import { resetCoordinatorAbi } from "../abi/index.ts";
import { CGError, describe } from "../errors.ts";
import { computeAccountId, parseChannel, prepareLink } from "../protocol/account.ts";
import { type CommitteeEpoch, activeCommitteeEpoch } from "./committees.ts";
import { type Clients, type Progress, ZERO_ADDRESS, coordinatorOf, fromBlock } from "./deployment.ts";
import { guardianStatus } from "./guardians.ts";
import { type Explain, eventsOf, send, wallet } from "./transactions.ts";

/** A salt from any text (with the owner's address it determines the account id). */
export function saltFromText(text: string): Hex {
  return keccak256(new TextEncoder().encode(text));
}

/** accountId = keccak256(abi.encode(chainId, owner, salt)) on this deployment's chain. */
export function accountIdOf(c: Clients, owner: Address, salt: Hex): Hex {
  return computeAccountId(BigInt(c.deployment.chainId), owner, salt);
}

export interface AccountInfo {
  accountId: Hex;
  controller: Address;
  /** The `ICredentialConsumer` hook called at finalization, or the zero address. */
  consumer: Address;
  committeeId: bigint;
  /** 1 at link, + 1 at each rotation. */
  epoch: bigint;
  securityPeriod: number;
  /** Requests with an id below this are void. */
  voidBefore: bigint;
  /** Requests of this account that are neither void, expired, cancelled nor finalized (drills included). */
  openRequests: bigint[];
}

/** The account as stored, with its open requests (from `ResetRequested` events); `UNKNOWN_ACCOUNT` if not linked. */
export async function accountInfo(c: Clients, accountId: Hex): Promise<AccountInfo> {
  const view = await c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "account", args: [accountId] });
  if (view.controller === ZERO_ADDRESS) throw new CGError("UNKNOWN_ACCOUNT", `account ${accountId} is not linked on this deployment`, { details: { accountId } });
  const requested = await c.public.getContractEvents({ address: coordinatorOf(c), abi: resetCoordinatorAbi, eventName: "ResetRequested", args: { accountId }, fromBlock: fromBlock(c) });
  const candidates = requested.map((l) => l.args.requestId!).filter((id) => id >= view.voidBefore);
  const views = await Promise.all(candidates.map((id) => c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "reset", args: [id] })));
  const PENDING = 1;
  const APPROVED = 2;
  const openRequests = candidates.filter((_, k) => {
    const v = views[k];
    return !v.voided && ((v.status === PENDING && !v.expired) || v.status === APPROVED);
  });
  return {
    accountId,
    controller: view.controller,
    consumer: view.consumer,
    committeeId: view.committeeId,
    epoch: view.epoch,
    securityPeriod: Number(view.securityPeriod),
    voidBefore: view.voidBefore,
    openRequests,
  };
}

/** The sealed material of a link or rotation: one envelope and one sealed channel per slot of the committee. */
async function sealChannels(c: Clients, committee: CommitteeEpoch, accountId: Hex, accountEpoch: bigint, channels: readonly string[], where: string) {
  if (!Array.isArray(channels) || channels.some((u) => typeof u !== "string" || u.trim() === "")) {
    throw new CGError("INVALID_INPUT", `${where}: expected one channel URI per slot (mailto:, sms:+…, https://…), got ${describe(channels)}`);
  }
  const n = committee.members.length;
  if (channels.length !== n) {
    throw new CGError("INVALID_INPUT", `${where}: committee ${committee.committeeId} has ${n} slots, so ${n} channel URIs are needed (one per slot), got ${channels.length}`, {
      details: { committeeId: committee.committeeId, slots: n, channels: channels.length },
    });
  }
  const views = await Promise.all(committee.members.map((operator) => guardianStatus(c, operator)));
  assertChannelKinds(channels, committee.members.map((operator, k) => ({ operator, channelKinds: views[k].channelKinds })), where);
  const members = views.map((v, k) => ({ slot: k + 1, encryptionKey: v.encryptionKey }));
  return prepareLink({
    chainId: BigInt(c.deployment.chainId),
    coordinator: coordinatorOf(c),
    accountId,
    accountEpoch,
    groupKey: committee.groupKey,
    members,
    channels: [...channels],
    t: committee.threshold,
  });
}

/** The registered channel kinds (GuardianRegistry bitmask) a channel scheme needs. */
export const CHANNEL_KIND_BITS = { mailto: 1, sms: 2, https: 4 } as const;
const KIND_NAMES = [
  [1, "email"],
  [2, "SMS"],
  [4, "app"],
] as const;

/** "email and app" for a bitmask. */
export function channelKindNames(kinds: number): string {
  const names = KIND_NAMES.filter(([bit]) => kinds & bit).map(([, name]) => name);
  return names.length ? names.join(names.length === 2 ? " and " : ", ") : "nothing";
}

/**
 * Every slot's channel must parse (§5.2) and be of a kind its member registered (`channelKinds`): a member that
 * delivers only e-mail cannot reach an sms: number. Throws `INVALID_CHANNEL` or `CHANNEL_KIND_UNSUPPORTED` naming the
 * slot, its operator and what it delivers (never the URI).
 */
export function assertChannelKinds(channels: readonly string[], members: readonly { operator: Address; channelKinds: number }[], where = "assertChannelKinds"): void {
  channels.forEach((uri, k) => {
    const { kind } = parseChannel(uri, `${where}: slot ${k + 1}`);
    const bit = kind === "mailto" ? CHANNEL_KIND_BITS.mailto : kind === "sms" ? CHANNEL_KIND_BITS.sms : CHANNEL_KIND_BITS.https;
    const member = members[k];
    if (member && (member.channelKinds & bit) === 0) {
      throw new CGError(
        "CHANNEL_KIND_UNSUPPORTED",
        `${where}: slot ${k + 1}'s member ${member.operator} delivers ${channelKindNames(member.channelKinds)} only, so its ${channelKindNames(bit)} channel (${kind}:) would never be reached; give slot ${k + 1} a channel of a kind it delivers`,
        { details: { slot: k + 1, operator: member.operator, channelKinds: member.channelKinds } },
      );
    }
  });
}

/** The deployment's bounds on an account's security period, in seconds (`parameters()`). */
export async function securityPeriodBounds(c: Clients): Promise<{ min: number; max: number }> {
  const p = await c.public.readContract({ address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "parameters" });
  return { min: Number(p.minSecurityPeriod), max: Number(p.maxSecurityPeriod) };
}

/** Refuses a security period outside the deployment's bounds before anything is sent (`INVALID_INPUT`). */
export async function assertSecurityPeriod(c: Clients, seconds: number, where: string): Promise<void> {
  const { min, max } = await securityPeriodBounds(c);
  if (!Number.isSafeInteger(seconds) || seconds < min || seconds > max) {
    throw new CGError("INVALID_INPUT", `${where}: expected a security period between ${min} and ${max} seconds (this deployment's bounds), got ${describe(seconds)}`, {
      details: { min, max },
    });
  }
}

export interface LinkResult {
  accountId: Hex;
  committeeId: bigint;
  epoch: bigint;
  threshold: number;
  members: Address[];
  txHash: Hex;
  gasUsed: bigint;
}

/**
 * Links a new account owned by the wallet's address to active committee `committeeId`, in one transaction: active at
 * once, no guardian transaction. `channels[j − 1]` is where slot j's member delivers its code.
 */
export async function linkAccount(
  c: Clients,
  o: { salt: Hex; committeeId: bigint; channels: readonly string[]; securityPeriod: number; controller?: Address; consumer?: Address },
  progress: Progress = () => {},
): Promise<LinkResult> {
  const w = wallet(c);
  const accountId = accountIdOf(c, w.account.address, o.salt);
  await assertSecurityPeriod(c, o.securityPeriod, "linkAccount");
  const committee = await activeCommitteeEpoch(c, o.committeeId);
  progress(`sealing ${committee.members.length} channel envelopes and the channel table to committee ${o.committeeId} (epoch ${committee.epoch}, ${committee.threshold} of ${committee.members.length})`);
  const sealed = await sealChannels(c, committee, accountId, 1n, o.channels, "linkAccount");
  const receipt = await send(
    c,
    {
      address: coordinatorOf(c),
      abi: resetCoordinatorAbi,
      functionName: "link",
      args: [o.salt, o.committeeId, getAddress(o.controller ?? w.account.address), o.securityPeriod, o.consumer ?? ZERO_ADDRESS, sealed.envelopes, sealed.sealedChannels],
    },
    { explain: explainAccountError() },
  );
  const linked = eventsOf(resetCoordinatorAbi, receipt.logs).find((e) => e.eventName === "AccountLinked");
  if (!linked) throw new CGError("UNEXPECTED_RECEIPT", `link succeeded in ${receipt.transactionHash} without an AccountLinked event`);
  const a = linked.args as { accountId: Hex; epoch: bigint };
  return { accountId: a.accountId, committeeId: o.committeeId, epoch: a.epoch, threshold: committee.threshold, members: committee.members, txHash: receipt.transactionHash, gasUsed: receipt.gasUsed };
}

/**
 * The controller moves the account to active committee `committeeId` (possibly the same one) at the next account
 * epoch, with new envelopes and table for `channels`; every open request of the account becomes void.
 */
export async function rotateAccount(
  c: Clients,
  o: { accountId: Hex; committeeId: bigint; channels: readonly string[] },
  progress: Progress = () => {},
): Promise<LinkResult> {
  const w = wallet(c);
  const account = await accountInfo(c, o.accountId);
  if (account.controller !== getAddress(w.account.address)) {
    throw new CGError("NOT_CONTROLLER", `only the controller ${account.controller} may rotate account ${o.accountId}; the wallet is ${w.account.address}`, { details: { accountId: o.accountId } });
  }
  const committee = await activeCommitteeEpoch(c, o.committeeId);
  const epoch = account.epoch + 1n;
  progress(`sealing ${committee.members.length} channel envelopes and the channel table for account epoch ${epoch} on committee ${o.committeeId}`);
  const sealed = await sealChannels(c, committee, o.accountId, epoch, o.channels, "rotateAccount");
  if (account.openRequests.length) progress(`rotation voids the open requests ${account.openRequests.join(", ")}`);
  const receipt = await send(
    c,
    { address: coordinatorOf(c), abi: resetCoordinatorAbi, functionName: "rotate", args: [o.accountId, o.committeeId, sealed.envelopes, sealed.sealedChannels] },
    { explain: explainAccountError() },
  );
  const rotated = eventsOf(resetCoordinatorAbi, receipt.logs).find((e) => e.eventName === "AccountRotated");
  if (!rotated) throw new CGError("UNEXPECTED_RECEIPT", `rotate succeeded in ${receipt.transactionHash} without an AccountRotated event`);
  return { accountId: o.accountId, committeeId: o.committeeId, epoch: (rotated.args as { epoch: bigint }).epoch, threshold: committee.threshold, members: committee.members, txHash: receipt.transactionHash, gasUsed: receipt.gasUsed };
}

/** Words for the account refusals of `link` and `rotate`; other errors keep `Name(args)`. */
export function explainAccountError(): Explain {
  return (error, args) => {
    const a = args as readonly any[];
    switch (error) {
      case "AccountExists":
        return `account ${a[0]} is already linked: choose another salt (the id is your address and the salt)`;
      case "AccountUnknown":
        return `account ${a[0]} is not linked on this deployment`;
      case "AccountNotController":
        return `${a[1]} is not the controller of account ${a[0]}`;
      case "AccountInvalidController":
        return "the controller may not be the zero address";
      case "AccountCommitteeNotActive":
        return `committee ${a[0]} is not active: only an active committee holds shares to serve an account`;
      case "AccountEntriesMismatch":
        return `${toText(a[0])}: the committee has ${a[1]} slots but ${a[2]} entries were given`;
      case "AccountSecurityPeriodOutOfRange":
        return `a security period of ${a[0]} s is outside the deployment's bounds (see the coordinator's parameters)`;
      default:
        return undefined;
    }
  };
}

function toText(b32: Hex): string {
  return new TextDecoder().decode(hexToBytes(b32).filter((x) => x !== 0)) || toHex(b32);
}
