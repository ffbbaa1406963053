/**
 * The owner's side of v2 in the agent tests, from the SDK's pure functions and contract calls only (no client
 * library): link an account to a committee (envelopes sealed to the members' HPKE keys, the sealed channel table under
 * K), request a reset or drill with a one-time key A = a·G1, read the postings from the events, and assemble the
 * token from delivered codes exactly as §6.6 says (check c·G1 = C, open, verify the partial, combine t of one epoch).
 */
import { type Address, type Hex, hexToBytes, keccak256, toHex } from "viem";

import {
  G1,
  type G2Point,
  checkCode,
  channelCodeScalar,
  channelIdentity,
  combine,
  decodeCommitments,
  decompressPosting,
  envelopeInfo,
  g1ToEip2537,
  g2ToEip2537,
  hashToG1,
  openPosting,
  parseCodeMessage,
  randomScalar,
  resetMessage,
  seal,
  sealChannel,
  verifyPartial,
} from "../../sdk/index.ts";
import type { GuardianFixture, System } from "./system.ts";
import { findEvent } from "./system.ts";

function pack(entries: Uint8Array[]): Hex {
  return toHex(new Uint8Array(entries.flatMap((e) => [e.length >> 8, e.length & 255, ...e])));
}

export interface Linked {
  accountId: Hex;
  committeeId: bigint;
  accountEpoch: bigint;
  channels: string[];
}

/** Links `owner`'s account to the committee's active epoch (members by slot, group key from the commitments). */
export async function linkToCommittee(sys: System, owner: any, committeeId: bigint, members: GuardianFixture[], commitmentsHex: Hex, channels: string[], salt: Hex): Promise<Linked> {
  const coordinator = (await sys.coordinator.getAddress()) as Address;
  const accountId = (await sys.coordinator.computeAccountId(owner.address, salt)) as Hex;
  const K: G2Point = decodeCommitments(commitmentsHex)[0];
  const envelopes = await Promise.all(members.map((g, k) => seal(g.hpke.publicKey, envelopeInfo(sys.chainId, coordinator, accountId, 1n, k + 1), new TextEncoder().encode(channels[k]))));
  const sealed = members.map((_, k) => sealChannel(K, channelIdentity(sys.chainId, coordinator, accountId, 1n, k + 1), channels[k]));
  await (await sys.coordinator.connect(owner).link(salt, committeeId, owner.address, 3600, "0x0000000000000000000000000000000000000000", pack(envelopes), pack(sealed))).wait();
  return { accountId, committeeId, accountEpoch: 1n, channels };
}

export interface OpenRequest {
  requestId: bigint;
  a: bigint;
  A: Hex;
  newController: Address;
  message: Hex;
  blockNumber: number;
}

export async function request(sys: System, account: Linked, from: any, newController?: Address): Promise<OpenRequest> {
  const a = randomScalar();
  const A = toHex(g1ToEip2537(G1.BASE.multiply(a)));
  const fee = (await sys.coordinator.parameters()).requestFee;
  const tx = newController ? await sys.coordinator.connect(from).requestReset(account.accountId, newController, A, { value: fee }) : await sys.coordinator.connect(from).requestDrill(account.accountId, A, { value: fee });
  const receipt = await tx.wait();
  const requestId: bigint = findEvent(sys.coordinator, receipt, "ResetRequested").args.requestId;
  const message = resetMessage({
    chainId: sys.chainId,
    coordinator: (await sys.coordinator.getAddress()) as Address,
    requestId,
    accountId: account.accountId,
    accountEpoch: account.accountEpoch,
    committeeId: account.committeeId,
    newController: newController ?? "0x0000000000000000000000000000000000000000",
    requesterKeyHash: keccak256(A),
  });
  return { requestId, a, A, newController: newController ?? "0x0000000000000000000000000000000000000000", message, blockNumber: receipt.blockNumber };
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

/** §6.6: every code checked against its slot's posting of `epoch`, opened, verified against PK_slot; t combined. */
export async function assemble(sys: System, r: OpenRequest, codes: string[], epoch: number, commitmentsHex: Hex) {
  const coordinator = (await sys.coordinator.getAddress()) as Address;
  const commitments = decodeCommitments(commitmentsHex);
  const postings = (await postingsOf(sys, r.requestId)).filter((p) => p.committeeEpoch === epoch);
  const m = hexToBytes(r.message);
  const partials: { index: number; sigma: ReturnType<typeof openPosting> }[] = [];
  const problems: string[] = [];
  for (const text of codes) {
    const { slot, code } = parseCodeMessage(text);
    const posting = postings.find((p) => p.slot === slot);
    if (!posting) continue;
    const decoded = decompressPosting(posting.posting);
    const c = channelCodeScalar(sys.chainId, coordinator, r.requestId, slot, code);
    if (!checkCode(c, decoded.C)) {
      problems.push(`code for slot ${slot} does not match its posting`);
      continue;
    }
    const sigma = openPosting({ posting: decoded, requesterSecret: r.a, c });
    if (!verifyPartial({ index: slot, sigma }, commitments, m)) {
      problems.push(`posting of slot ${slot} fails the public check`);
      continue;
    }
    if (!partials.some((p) => p.index === slot)) partials.push({ index: slot, sigma });
  }
  const t = commitments.length;
  const token = partials.length >= t ? combine(partials, t) : undefined;
  return { token: token && toHex(g1ToEip2537(token)), used: partials.slice(0, t).map((p) => p.index), problems, hashed: hashToG1(m) };
}

export function groupKeyHex(commitmentsHex: Hex): Hex {
  return toHex(g2ToEip2537(decodeCommitments(commitmentsHex)[0]));
}
