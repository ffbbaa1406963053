/**
 * Committee fixtures for contract tests: members deal, complain, answer, finalize and acknowledge through the
 * contract exactly as agents do, with every scalar and point computed by the SDK (never mocked).
 */
import { type Hex, hexToBytes, keccak256, toHex } from "viem";

import {
  Fr,
  type G2Point,
  computePartial,
  deal,
  g1ToEip2537,
  g2ToEip2537,
  lagrangeAtZero,
  randomScalar,
} from "../../sdk/index.ts";
import { concatHex } from "./fixtures.ts";
import { type GuardianFixture, type System, findEvent } from "./system.ts";

/** One dealer's polynomial as the tests see it: commitments and the sub-share of every recipient. */
export interface TestDealing {
  dealer: number;
  commitments: G2Point[];
  commitmentsHex: Hex;
  subShares: bigint[];
}

export interface Round {
  committeeId: bigint;
  epoch: bigint;
  members: GuardianFixture[];
  dealers: GuardianFixture[];
  threshold: number;
  dealings: Map<number, TestDealing>;
}

export function commitmentsHexOf(points: readonly G2Point[]): Hex {
  return concatHex(points.map((c) => toHex(g2ToEip2537(c))));
}

/** Sealed sub-shares are opaque to the contract (only their length is checked); recipients open them off-chain. */
export function opaqueSealedShares(n: number): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(80 * n)));
}

/** A DKG dealing (fresh polynomial) or, with `secret`, a reshare dealing with g(0) = secret. */
export function makeDealing(dealer: number, n: number, t: number, secret?: bigint): TestDealing {
  const coefficients = [secret ?? randomScalar(), ...Array.from({ length: t - 1 }, () => randomScalar())];
  const d = deal(n, t, { coefficients });
  return { dealer, commitments: [...d.commitments], commitmentsHex: commitmentsHexOf(d.commitments), subShares: d.shares.map((s) => s.value) };
}

export async function propose(sys: System, members: GuardianFixture[], threshold: number, from = sys.alice): Promise<Round> {
  const receipt = await (await sys.committees.connect(from).propose(members.map((g) => g.address), threshold)).wait();
  const ev = findEvent(sys.committees, receipt, "CommitteeProposed");
  return { committeeId: ev.args.committeeId, epoch: 1n, members, dealers: members, threshold, dealings: new Map() };
}

export async function postDealing(sys: System, round: Round, d: TestDealing) {
  const dealer = round.dealers[d.dealer - 1];
  round.dealings.set(d.dealer, d);
  return (await sys.committees.connect(dealer.signer).deal(round.committeeId, round.epoch, d.dealer, d.commitmentsHex, opaqueSealedShares(round.members.length))).wait();
}

/** Every dealer in `dealers` (slots) deals; reshare dealers use their current share as g(0). */
export async function dealAll(sys: System, round: Round, dealers: number[], oldShares?: Map<number, bigint>) {
  for (const i of dealers) await postDealing(sys, round, makeDealing(i, round.members.length, round.threshold, oldShares?.get(i)));
}

export async function pastWindow(sys: System, round: Round, which: "complaintDeadline" | "answerDeadline" | "ackDeadline") {
  const view = await sys.committees.round(round.committeeId, round.epoch);
  await sys.networkHelpers.time.increaseTo(Number(view[which]) + 1);
}

/** The dealings argument of `finalize`: the posted dealings at their dealers' slots (all, or only `only`). */
export function dealingsArg(round: Round, only?: number[]): Hex[] {
  return round.dealers.map((_, k) => (only === undefined || only.includes(k + 1) ? round.dealings.get(k + 1)?.commitmentsHex : undefined) ?? "0x");
}

export async function finalize(sys: System, round: Round, from = sys.bob, only?: number[]) {
  const receipt = await (await sys.committees.connect(from).finalize(round.committeeId, round.epoch, dealingsArg(round, only))).wait();
  return { receipt, event: findEvent(sys.committees, receipt, "CommitteeRoundFinalized") };
}

/** Qualified dealers (slots) from the finalization event's bitmap. */
export function slotsOf(bitmap: bigint | number, n: number): number[] {
  const b = BigInt(bitmap);
  return Array.from({ length: n }, (_, k) => k + 1).filter((s) => (b >> BigInt(s - 1)) & 1n);
}

/** s_j of every recipient: Σ_{i∈Q} f_i(j) (DKG) or Σ_{i∈Q'} λ_i·g_i(j) (handover). */
export function sharesFrom(round: Round, qualified: number[], reshare: boolean): Map<number, bigint> {
  const lambdas = reshare ? lagrangeAtZero(qualified) : qualified.map(() => 1n);
  const shares = new Map<number, bigint>();
  for (let j = 1; j <= round.members.length; j++) {
    let s = 0n;
    qualified.forEach((i, k) => (s = Fr.add(s, Fr.mul(lambdas[k], round.dealings.get(i)!.subShares[j - 1]))));
    shares.set(j, s);
  }
  return shares;
}

export async function possessionProof(sys: System, round: Round, slot: number, share: bigint): Promise<Hex> {
  const message = (await sys.committees.ackMessage(round.committeeId, round.epoch, slot)) as Hex;
  return toHex(g1ToEip2537(computePartial({ index: slot, value: share }, hexToBytes(message)).sigma));
}

export async function acknowledge(sys: System, round: Round, shares: Map<number, bigint>, slots?: number[]) {
  const receipts = [];
  for (const j of slots ?? round.members.map((_, k) => k + 1)) {
    const proof = await possessionProof(sys, round, j, shares.get(j)!);
    receipts.push(await (await sys.committees.connect(round.members[j - 1].signer).acknowledge(round.committeeId, round.epoch, j, proof)).wait());
  }
  return receipts;
}

/** Every acknowledgement of the round in order, as `proveInvalidPossession` replays them (from the events). */
export async function acknowledgementHistory(sys: System, round: Round) {
  const logs = await sys.committees.queryFilter(sys.committees.filters.CommitteeAcknowledged(round.committeeId, round.epoch));
  return logs.map((l: any) => ({ slot: l.args.slot, operator: l.args.operator, proofHash: keccak256(l.args.proof) }));
}

/** Requests a handover (`startHandover`, or governance's `forceHandover` when `force` is given), mines past its
 *  draw block and draws the replacements; returns the `CommitteeHandoverStarted` event. */
export async function startHandover(sys: System, committeeId: bigint, force?: { slots: number; threshold: number }) {
  const request = force
    ? await (await sys.committees.connect(sys.admin).forceHandover(committeeId, force.slots, force.threshold)).wait()
    : await (await sys.committees.connect(sys.carol).startHandover(committeeId)).wait();
  const drawBlock = findEvent(sys.committees, request, "CommitteeHandoverRequested").args.drawBlock;
  while (BigInt(await sys.ethers.provider.getBlockNumber()) <= drawBlock) await sys.ethers.provider.send("evm_mine", []);
  const receipt = await (await sys.committees.connect(sys.carol).drawReplacements(committeeId)).wait();
  return { request, receipt, ev: findEvent(sys.committees, receipt, "CommitteeHandoverStarted") };
}

/** A formation up to its finalization: propose, the given dealers deal, the complaint window passes, finalize;
 *  returns the round, the finalization event and every member's share. */
export async function finalizedRound(sys: System, members: GuardianFixture[], threshold = 3, dealers = members.map((_, k) => k + 1)) {
  const round = await propose(sys, members, threshold);
  await dealAll(sys, round, dealers);
  await pastWindow(sys, round, "complaintDeadline");
  const { event } = await finalize(sys, round);
  return { round, event, shares: sharesFrom(round, slotsOf(event.args.qualified, members.length), false) };
}

/** A whole honest formation: propose, everyone deals, finalize, everyone acknowledges. */
export async function formCommittee(sys: System, members: GuardianFixture[], threshold = 3) {
  const { round, event, shares } = await finalizedRound(sys, members, threshold);
  await acknowledge(sys, round, shares);
  return { round, shares, commitments: event.args.commitments as Hex };
}
