/**
 * Fixtures for the v2 reset contracts: a real committee (DKG through the contract), one-transaction links, requests
 * with a one-time requester key, compressed postings made by the SDK's pure crypto, tokens assembled from them.
 * The reset message is computed here from PROTOCOL.md §11 (and checked against the contract's view in the tests).
 */
import { type Address, type Hex, concat, encodeAbiParameters, hexToBytes, keccak256, toHex } from "viem";

import { type G1Point, G1, g1ToCompressed, g1ToEip2537, g2ToCompressed, g2ToEip2537, hashToG1 } from "../../sdk/crypto/bls.ts";
import { type Posting, makePosting, openPosting } from "../../sdk/crypto/posting.ts";
import { combine, randomScalar } from "../../sdk/crypto/threshold.ts";
import { resetMessage as sdkResetMessage } from "../../sdk/encoding/messages.ts";
import { formCommittee } from "./committees.ts";
import { type GuardianFixture, type System, findEvent, toBytes32 } from "./system.ts";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;

export interface Committee {
  committeeId: bigint;
  members: GuardianFixture[];
  threshold: number;
  shares: Map<number, bigint>;
  commitments: Hex;
  groupKey: Hex;
}

export interface Account {
  accountId: Hex;
  committee: Committee;
  epoch: bigint;
}

export interface RequestContext {
  accountId: Hex;
  accountEpoch: bigint;
  committeeId: bigint;
  newController: Address;
  requesterKeyHash: Hex;
  fee: bigint;
}

export interface OpenRequest {
  requestId: bigint;
  a: bigint;
  A: G1Point;
  requesterKey: Hex;
  message: Hex;
  context: RequestContext;
  receipt: any;
}

export interface MadePosting {
  slot: number;
  c: bigint;
  posting: Posting;
  bytes: Hex;
  input: { requestId: bigint; slot: number; committeeEpoch: bigint; message: Hex; posting: Hex };
}

/** m of PROTOCOL.md §6.2 / §11 (the SDK's encoding, itself tested against ethers and the EVM). */
export function resetMessage(chainId: bigint, coordinator: Address, requestId: bigint, context: Omit<RequestContext, "fee">): Hex {
  return sdkResetMessage({ chainId, coordinator, requestId, ...context });
}

/** Packed list: each entry a 2-byte big-endian length followed by the entry. */
export function packEntries(entries: Uint8Array[]): Hex {
  return concat(entries.map((e) => concat([toHex(e.length, { size: 2 }), toHex(e)])));
}

/** n opaque entries of `size` bytes (the contract only counts them; their content is the SDK's business). */
export function opaqueEntries(n: number, size: number): Hex {
  return packEntries(Array.from({ length: n }, () => crypto.getRandomValues(new Uint8Array(size))));
}

/** Forms a committee of `members` with threshold t through the contract (DKG, acknowledgements). */
export async function committeeOf(sys: System, members: GuardianFixture[], t = 3): Promise<Committee> {
  const { round, shares, commitments } = await formCommittee(sys, members, t);
  return { committeeId: round.committeeId, members, threshold: t, shares, commitments, groupKey: ("0x" + commitments.slice(2, 2 + 512)) as Hex };
}

/** Links an account of `owner` to `committee` in one transaction; envelopes of 81 and table entries of 137 bytes
 *  (the sizes of an X25519 HPKE envelope and of a sealed entry of a short URI). */
export async function linkTo(
  sys: System,
  owner: any,
  committee: Committee,
  options: { salt?: Hex; controller?: Address; securityPeriod?: number; consumer?: Address } = {},
): Promise<Account & { receipt: any }> {
  const n = committee.members.length;
  const salt = options.salt ?? toBytes32(`salt-${owner.address}-${Math.random()}`);
  const tx = await sys.coordinator
    .connect(owner)
    .link(salt, committee.committeeId, options.controller ?? owner.address, options.securityPeriod ?? 3600, options.consumer ?? ZERO_ADDRESS, opaqueEntries(n, 81), opaqueEntries(n, 137));
  const receipt = await tx.wait();
  const ev = findEvent(sys.coordinator, receipt, "AccountLinked");
  return { accountId: ev.args.accountId, committee, epoch: ev.args.epoch, receipt };
}

/** A fresh requester key pair: a and A = a·G1 (EIP-2537 hex). */
export function requesterKeyPair() {
  const a = randomScalar();
  const A = G1.BASE.multiply(a);
  const requesterKey = toHex(g1ToEip2537(A));
  return { a, A, requesterKey, requesterKeyHash: keccak256(requesterKey) };
}

/** Requests a reset of `account` to `newController` (a drill when it is null), paying the current fee. */
export async function requestOf(sys: System, account: Account, sender: any, newController: Address | null): Promise<OpenRequest> {
  const fee = (await sys.coordinator.parameters()).requestFee as bigint;
  const key = requesterKeyPair();
  const tx =
    newController === null
      ? await sys.coordinator.connect(sender).requestDrill(account.accountId, key.requesterKey, { value: fee })
      : await sys.coordinator.connect(sender).requestReset(account.accountId, newController, key.requesterKey, { value: fee });
  const receipt = await tx.wait();
  const ev = findEvent(sys.coordinator, receipt, "ResetRequested");
  const context: RequestContext = {
    accountId: account.accountId,
    accountEpoch: ev.args.accountEpoch,
    committeeId: ev.args.committeeId,
    newController: ev.args.newController,
    requesterKeyHash: key.requesterKeyHash,
    fee: ev.args.fee,
  };
  const requestId = ev.args.requestId as bigint;
  const message = resetMessage(sys.chainId, (await sys.coordinator.getAddress()) as Address, requestId, context);
  return { requestId, a: key.a, A: key.A, requesterKey: key.requesterKey, message, context, receipt };
}

export function compress(p: Posting): Hex {
  return toHex(concat([g1ToCompressed(p.C), g1ToCompressed(p.U), g2ToCompressed(p.V), g1ToCompressed(p.W)]));
}

export function fullOf(p: Posting) {
  return { C: toHex(g1ToEip2537(p.C)), U: toHex(g1ToEip2537(p.U)), V: toHex(g2ToEip2537(p.V)), W: toHex(g1ToEip2537(p.W)) };
}

/** Member `slot`'s honest posting for `request` (or for `message` when given, e.g. a stale one). */
export function postingFor(committee: Committee, request: OpenRequest, slot: number, committeeEpoch: bigint, message = request.message): MadePosting {
  const c = randomScalar();
  const posting = makePosting({ share: { index: slot, value: committee.shares.get(slot)! }, hashedMessage: hashToG1(hexToBytes(message)), requesterKey: request.A, c });
  const bytes = compress(posting);
  return { slot, c, posting, bytes, input: { requestId: request.requestId, slot, committeeEpoch, message, posting: bytes } };
}

export async function activeEpoch(sys: System, committeeId: bigint): Promise<bigint> {
  return (await sys.committees.committee(committeeId)).activeEpoch as bigint;
}

/** Member `slot` posts its honest posting; returns the posting and the receipt. */
export async function post(sys: System, committee: Committee, request: OpenRequest, slot: number) {
  const made = postingFor(committee, request, slot, await activeEpoch(sys, committee.committeeId));
  const receipt = await (await sys.coordinator.connect(committee.members[slot - 1].signer).postPartial(made.input)).wait();
  return { ...made, receipt };
}

/** σ from t postings: each opened with a and its c, combined with Lagrange at 0 (EIP-2537 hex). */
export function tokenOf(request: OpenRequest, postings: MadePosting[], t: number): Hex {
  const partials = postings.map((p) => ({ index: p.slot, sigma: openPosting({ posting: p.posting, requesterSecret: request.a, c: p.c }) }));
  return toHex(g1ToEip2537(combine(partials, t)));
}

/** The request's posting history from its `PartialPosted` events, in order. */
export async function historyOf(sys: System, requestId: bigint) {
  const logs = await sys.coordinator.queryFilter(sys.coordinator.filters.PartialPosted(requestId));
  return logs.map((l: any) => ({ slot: Number(l.args.slot), committeeEpoch: l.args.committeeEpoch, guardian: l.args.guardian, message: l.args.message, postingHash: keccak256(l.args.posting) }));
}

/** A committed fraud proof: commits keccak256(abi.encode(prover, requestId, position, salt)) and mines a block. */
export async function commitProof(sys: System, prover: any, requestId: bigint, position: number) {
  const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const commitment = keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }, { type: "uint256" }, { type: "bytes32" }], [prover.address, requestId, BigInt(position), salt]));
  await (await sys.coordinator.connect(prover).commitProof(commitment)).wait();
  return salt;
}

export { findEvent };
