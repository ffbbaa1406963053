/**
 * The owner's side of v2 in the agent tests and the benchmark, from the SDK's pure functions and contract calls only
 * (no client library): link an account to a committee (`prepareLink`), request a reset or drill with a one-time key
 * A = a·G1, read the postings from the events, and assemble the token from delivered codes (`assembleFromCodes`).
 */
import { type Address, type Hex, keccak256, toHex } from "viem";

import {
  type AssembledFromCodes,
  G1,
  type G2Point,
  assembleFromCodes,
  decodeCommitments,
  g1ToEip2537,
  g2ToEip2537,
  parseCodeMessage,
  prepareLink,
  publicShare,
  randomScalar,
  resetMessage,
} from "../../sdk/index.ts";
import type { GuardianFixture, System } from "./system.ts";
import { findEvent } from "./system.ts";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;

export interface Linked {
  accountId: Hex;
  committeeId: bigint;
  accountEpoch: bigint;
  channels: string[];
}

/** Links `owner`'s account to the committee's active epoch (members by slot, K and t from the commitments). */
export async function linkToCommittee(sys: System, owner: any, committeeId: bigint, members: GuardianFixture[], commitmentsHex: Hex, channels: string[], salt: Hex): Promise<Linked> {
  const coordinator = (await sys.coordinator.getAddress()) as Address;
  const accountId = (await sys.coordinator.computeAccountId(owner.address, salt)) as Hex;
  const commitments = decodeCommitments(commitmentsHex);
  const { envelopes, sealedChannels } = await prepareLink({
    chainId: sys.chainId,
    coordinator,
    accountId,
    accountEpoch: 1n,
    groupKey: commitments[0],
    members: members.map((g, k) => ({ slot: k + 1, encryptionKey: g.hpke.publicKey })),
    channels,
    t: commitments.length,
  });
  await (await sys.coordinator.connect(owner).link(salt, committeeId, owner.address, 3600, ZERO_ADDRESS, envelopes, sealedChannels)).wait();
  return { accountId, committeeId, accountEpoch: 1n, channels };
}

export interface OpenRequest {
  requestId: bigint;
  a: bigint;
  A: Hex;
  newController: Address;
  message: Hex;
  blockNumber: number;
  /** The request's transaction. */
  hash: Hex;
}

/** A reset to `newController`, or a drill without it. `mine` runs once the transaction is sent, before its receipt
 *  is awaited (for a node that mines on demand). */
export async function request(sys: System, account: Linked, from: any, newController?: Address, options: { mine?: () => Promise<void> } = {}): Promise<OpenRequest> {
  const a = randomScalar();
  const A = toHex(g1ToEip2537(G1.BASE.multiply(a)));
  const fee = (await sys.coordinator.parameters()).requestFee;
  const tx = newController ? await sys.coordinator.connect(from).requestReset(account.accountId, newController, A, { value: fee }) : await sys.coordinator.connect(from).requestDrill(account.accountId, A, { value: fee });
  await options.mine?.();
  const receipt = await tx.wait();
  const requestId: bigint = findEvent(sys.coordinator, receipt, "ResetRequested").args.requestId;
  const message = resetMessage({
    chainId: sys.chainId,
    coordinator: (await sys.coordinator.getAddress()) as Address,
    requestId,
    accountId: account.accountId,
    accountEpoch: account.accountEpoch,
    committeeId: account.committeeId,
    newController: newController ?? ZERO_ADDRESS,
    requesterKeyHash: keccak256(A),
  });
  return { requestId, a, A, newController: newController ?? ZERO_ADDRESS, message, blockNumber: receipt.blockNumber, hash: receipt.hash as Hex };
}

export interface PostingSeen {
  slot: number;
  committeeEpoch: number;
  guardian: Address;
  message: Hex;
  posting: Hex;
}

export async function postingsOf(sys: System, requestId: bigint): Promise<PostingSeen[]> {
  const logs = (await sys.coordinator.queryFilter(sys.coordinator.filters.PartialPosted(requestId), 0)) as any[];
  return logs.map((l) => ({ slot: Number(l.args.slot), committeeEpoch: Number(l.args.committeeEpoch), guardian: l.args.guardian, message: l.args.message, posting: l.args.posting }));
}

/**
 * §6.6 by the SDK: every code tried against its slot's postings, t verified partials of one committee epoch combined.
 * `commitments` maps each committee epoch that may have posted to its commitments (PK_i and K from them).
 */
export async function assemble(sys: System, r: OpenRequest, codes: string[], commitments: ReadonlyMap<number, Hex>): Promise<AssembledFromCodes> {
  const epochs = new Map([...commitments].map(([epoch, hex]) => [epoch, decodeCommitments(hex)] as const));
  const any = [...epochs.values()][0];
  const postings = await postingsOf(sys, r.requestId);
  const slots = Array.from({ length: Math.max(0, ...postings.map((p) => p.slot)) }, (_, k) => k + 1);
  return assembleFromCodes({
    chainId: sys.chainId,
    coordinator: (await sys.coordinator.getAddress()) as Address,
    requestId: r.requestId,
    message: r.message,
    requesterKey: G1.BASE.multiply(r.a),
    requesterSecret: r.a,
    t: any.length,
    groupKey: any[0],
    postings,
    codes: codes.map((c) => parseCodeMessage(c)),
    publicShares: new Map([...epochs].map(([epoch, points]): [number, G2Point[]] => [epoch, slots.map((slot) => publicShare(points, slot))])),
  });
}

export function groupKeyHex(commitmentsHex: Hex): Hex {
  return toHex(g2ToEip2537(decodeCommitments(commitmentsHex)[0]));
}
