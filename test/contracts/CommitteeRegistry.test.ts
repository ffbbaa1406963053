import { expect } from "chai";
import { network } from "hardhat";
import { type Address, type Hex, hexToBytes, keccak256, toHex } from "viem";

import {
  Fr,
  G2,
  combine,
  committeeAckMessage,
  committeePossessionProof,
  computePartial,
  g2ToEip2537,
  publicShare,
  verifyToken,
} from "../../sdk/index.ts";
import {
  type Round,
  acknowledge,
  acknowledgementHistory,
  commitmentsHexOf,
  dealAll,
  dealingsArg,
  finalize,
  finalizedRound,
  formCommittee,
  makeDealing,
  pastWindow,
  possessionProof,
  postDealing,
  propose,
  sharesFrom,
  slotsOf,
  startHandover,
} from "../helpers/committees.ts";
import { message } from "../helpers/fixtures.ts";
import { AUDIT_KINDS } from "../../sdk/protocol/audit.ts";
import { auditedEvents, expectAuditMatches } from "../helpers/audit.ts";
import { ONE_ETH, type System, deploySystem, findEvent, toBytes32 } from "../helpers/system.ts";

const connection = await network.create();
const { networkHelpers } = connection;

const PHASE = { None: 0n, Dealing: 1n, Acknowledging: 2n, Active: 3n, Retired: 4n, Failed: 5n };
const STATUS = { Forming: 1n, Active: 2n, Failed: 3n };
const FAULT = { WrongAnswer: 0n, UnansweredComplaint: 1n, ReshareKeyMismatch: 2n, InvalidPossession: 3n };
const MAX_UINT64 = 2n ** 64n - 1n;

async function sevenGuardians() {
  return deploySystem(connection, { guardians: 7 });
}

/** K = C_0 of the round's commitments, and a token of the given members' shares that K verifies. */
function tokenFrom(shares: Map<number, bigint>, signers: number[], msg: Hex) {
  const partials = signers.map((j) => computePartial({ index: j, value: shares.get(j)! }, hexToBytes(msg)));
  return combine(partials, signers.length);
}

function groupKeyOf(commitmentsHex: Hex): Hex {
  return `0x${commitmentsHex.slice(2, 2 + 512)}`;
}

/** An active committee of g1…g5 (3-of-5) on a system with seven guardians. */
async function activeCommitteeFixture() {
  const sys = await sevenGuardians();
  const formed = await formCommittee(sys, sys.guardians.slice(0, 5), 3);
  return { sys, ...formed };
}


/** The round of a handover as the tests drive it: dealers are the source epoch's members. */
function handoverRound(sys: System, committeeId: bigint, ev: any, oldMembers: Round["members"]): Round {
  const byAddress = new Map(sys.guardians.map((g) => [g.address.toLowerCase(), g]));
  return {
    committeeId,
    epoch: ev.args.epoch,
    members: (ev.args.members as string[]).map((a) => byAddress.get(a.toLowerCase())!),
    dealers: oldMembers,
    threshold: Number(ev.args.threshold),
    dealings: new Map(),
  };
}

describe("CommitteeRegistry", function () {
  describe("formation (DKG)", function () {
    it("g1…g5 form a 3-of-5 committee: C and K are the sums of the dealings, and any 3 members' token verifies under K", async function () {
      const { sys, round, shares, commitments } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const view = await sys.committees.committee(round.committeeId);
      expect(view.status).to.equal(STATUS.Active);
      expect(view.activeEpoch).to.equal(1n);
      expect(view.threshold).to.equal(3n);

      // C_l = Σ_i D_{i,l}, computed independently with @noble/curves.
      const expected = [0, 1, 2].map((l) => [...round.dealings.values()].reduce((acc, d) => acc.add(d.commitments[l]), G2.ZERO));
      expect(commitments).to.equal(commitmentsHexOf(expected));
      expect(view.groupKeyHash).to.equal(keccak256(toHex(g2ToEip2537(expected[0]))));
      expect(view.commitmentsHash).to.equal(keccak256(commitments));

      // Every member's share matches PK_j; any 3 shares sign for K; 2 do not.
      for (const [j, s] of shares) expect(G2.BASE.multiply(s).equals(publicShare(expected, j))).to.equal(true);
      const msg = message(1);
      for (const signers of [[1, 2, 3], [2, 4, 5], [1, 3, 5]]) expect(verifyToken(tokenFrom(shares, signers, msg), expected[0], hexToBytes(msg))).to.equal(true);
      expect(verifyToken(tokenFrom(shares, [1, 2], msg), expected[0], hexToBytes(msg))).to.equal(false);

      // Members are bonded while they serve.
      for (const g of round.members) expect(await sys.committees.stakeLockedUntil(g.address)).to.equal(MAX_UINT64);
    });

    it("propose refuses a bad size or threshold, a duplicate member and an ineligible one", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const [g1, g2, g3, g4] = sys.guardians;
      const c = sys.committees;
      await expect(c.propose([g1.address, g2.address, g3.address, g4.address], 2)).to.be.revertedWithCustomError(c, "CommitteeInvalidSize").withArgs(4, 2);
      await expect(c.propose([g1.address], 1)).to.be.revertedWithCustomError(c, "CommitteeInvalidSize");
      await expect(c.propose([g1.address, g2.address, g3.address], 4)).to.be.revertedWithCustomError(c, "CommitteeInvalidSize");
      await expect(c.propose([g1.address, g2.address, g1.address], 2)).to.be.revertedWithCustomError(sys.registry, "GuardianDuplicateMember");
      await expect(c.propose([g1.address, g2.address, sys.alice.address], 2)).to.be.revertedWithCustomError(sys.registry, "GuardianNotEligible");
    });

    it("dealing checks the dealer's slot, the lengths and the deadline, once per dealer", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      const d = makeDealing(1, 5, 3);
      const c = sys.committees;
      await expect(c.connect(members[1].signer).deal(round.committeeId, 1, 1, d.commitmentsHex, "0x" + "00".repeat(400)))
        .to.be.revertedWithCustomError(c, "CommitteeNotMember")
        .withArgs(round.committeeId, 1, 1, members[1].address);
      await expect(c.connect(members[0].signer).deal(round.committeeId, 1, 1, d.commitmentsHex, "0x" + "00".repeat(399))).to.be.revertedWithCustomError(c, "CommitteeDealingMalformed");
      await postDealing(sys, round, d);
      await expect(c.connect(members[0].signer).deal(round.committeeId, 1, 1, d.commitmentsHex, "0x" + "00".repeat(400))).to.be.revertedWithCustomError(c, "CommitteeAlreadyDealt");
      await networkHelpers.time.increase(601);
      await expect(c.connect(members[1].signer).deal(round.committeeId, 1, 2, d.commitmentsHex, "0x" + "00".repeat(400))).to.be.revertedWithCustomError(c, "CommitteeDealingClosed");
    });

    it("a dealer who sent a bad sub-share and answers wrongly is disqualified and slashed; the committee forms from the rest", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      await dealAll(sys, round, [1, 2, 3, 4, 5]);
      const c = sys.committees;
      const [g1, g2, g3] = members;
      // g3 (recipient 3) found that g2's sub-share does not match; g2 answers with the value it sent (off by one).
      await (await c.connect(g3.signer).complain(round.committeeId, 1, 2, 3)).wait();
      expect(await c.complaints(round.committeeId, 1, 2)).to.equal(4n);
      const bad = Fr.add(round.dealings.get(2)!.subShares[2], 1n);
      const stakeBefore = (await sys.registry.guardian(g2.address)).stake;
      const reward = (ONE_ETH / 2n) * 2_000n / 10_000n;
      const claimable = await sys.registry.claimable(g3.address);
      await expect(c.connect(g2.signer).answer(round.committeeId, 1, 2, 3, bad, round.dealings.get(2)!.commitmentsHex))
        .to.emit(c, "CommitteeFaultProven")
        .withArgs(round.committeeId, 1, 2, g2.address, FAULT.WrongAnswer, g3.address, ONE_ETH / 2n);
      // The complainer proved it with the dealer's own answer, and is rewarded; the dealer earns nothing back.
      expect(await sys.registry.claimable(g3.address)).to.equal(claimable + reward);
      expect(await sys.registry.claimable(g2.address)).to.equal(0n);
      expect((await sys.registry.guardian(g2.address)).stake).to.equal(stakeBefore - ONE_ETH / 2n);
      expect((await c.round(round.committeeId, 1)).disqualified).to.equal(2n);
      // Only the accused dealer answers, only open complaints, and a disqualified dealer draws no more complaints.
      await expect(c.connect(g1.signer).complain(round.committeeId, 1, 2, 1)).to.be.revertedWithCustomError(c, "CommitteeDealerDisqualified");

      await pastWindow(sys, round, "complaintDeadline");
      const { event } = await finalize(sys, round);
      const qualified = slotsOf(event.args.qualified, 5);
      expect(qualified).to.deep.equal([1, 3, 4, 5]);
      const shares = sharesFrom(round, qualified, false);
      // g2 stays a member: it receives its share from the qualified dealers and acknowledges.
      await acknowledge(sys, round, shares);
      expect((await c.committee(round.committeeId)).status).to.equal(STATUS.Active);
      const K = [1, 3, 4, 5].reduce((acc, i) => acc.add(round.dealings.get(i)!.commitments[0]), G2.ZERO);
      expect((await c.committee(round.committeeId)).groupKeyHash).to.equal(keccak256(toHex(g2ToEip2537(K))));
    });

    it("a right answer dismisses the complaint, publishes the sub-share, and never slashes the honest dealer", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      await dealAll(sys, round, [1, 2, 3, 4, 5]);
      const c = sys.committees;
      await (await c.connect(members[4].signer).complain(round.committeeId, 1, 1, 5)).wait();
      const good = round.dealings.get(1)!.subShares[4];
      await expect(c.connect(members[0].signer).answer(round.committeeId, 1, 1, 5, good, round.dealings.get(1)!.commitmentsHex))
        .to.emit(c, "CommitteeComplaintAnswered")
        .withArgs(round.committeeId, 1, 1, 5, good, true)
        .and.not.to.emit(c, "CommitteeFaultProven");
      expect((await c.round(round.committeeId, 1)).complained).to.equal(0n);
      await expect(c.connect(members[0].signer).answer(round.committeeId, 1, 1, 5, good, round.dealings.get(1)!.commitmentsHex)).to.be.revertedWithCustomError(c, "CommitteeNoComplaint");
      // Someone else's commitments cannot stand in for the dealer's.
      await (await c.connect(members[3].signer).complain(round.committeeId, 1, 1, 4)).wait();
      await expect(c.connect(members[0].signer).answer(round.committeeId, 1, 1, 4, good, round.dealings.get(2)!.commitmentsHex)).to.be.revertedWithCustomError(c, "CommitteeDealingMismatch");
    });

    it("property: for random dealings, the true sub-share of every recipient is accepted as an answer", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      await dealAll(sys, round, [1, 2, 3, 4, 5]);
      const c = sys.committees;
      for (const [dealer, recipient] of [[1, 2], [2, 5], [3, 1], [4, 3], [5, 4]]) {
        await (await c.connect(members[recipient - 1].signer).complain(round.committeeId, 1, dealer, recipient)).wait();
        const value = round.dealings.get(dealer)!.subShares[recipient - 1];
        await expect(c.connect(members[dealer - 1].signer).answer(round.committeeId, 1, dealer, recipient, value, round.dealings.get(dealer)!.commitmentsHex))
          .to.emit(c, "CommitteeComplaintAnswered")
          .withArgs(round.committeeId, 1, dealer, recipient, value, true);
      }
      expect((await c.round(round.committeeId, 1)).disqualified).to.equal(0n);
    });

    it("a complaint left unanswered disqualifies and slashes the dealer when anyone finalizes after the answer window", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      await dealAll(sys, round, [1, 2, 3, 4, 5]);
      const c = sys.committees;
      await (await c.connect(members[0].signer).complain(round.committeeId, 1, 4, 1)).wait();
      await pastWindow(sys, round, "complaintDeadline");
      await expect(c.connect(sys.bob).finalize(round.committeeId, 1, dealingsArg(round))).to.be.revertedWithCustomError(c, "CommitteeTooEarly");
      await pastWindow(sys, round, "answerDeadline");
      const { receipt, event } = await finalize(sys, round, sys.prover);
      const fault = findEvent(c, receipt, "CommitteeFaultProven");
      expect(fault.args.operator).to.equal(members[3].address);
      expect(fault.args.fault).to.equal(FAULT.UnansweredComplaint);
      expect(fault.args.prover).to.equal(members[0].address); // the complainer, whoever finalizes
      expect(slotsOf(event.args.qualified, 5)).to.deep.equal([1, 2, 3, 5]);
    });

    it("finalize checks every qualified dealing against its hash", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const round = await propose(sys, sys.guardians.slice(0, 5), 3);
      await dealAll(sys, round, [1, 2, 3, 4, 5]);
      await pastWindow(sys, round, "complaintDeadline");
      const args = dealingsArg(round);
      [args[1], args[2]] = [args[2], args[1]];
      await expect(sys.committees.finalize(round.committeeId, 1, args)).to.be.revertedWithCustomError(sys.committees, "CommitteeDealingMismatch").withArgs(round.committeeId, 1, 2);
      await expect(sys.committees.finalize(round.committeeId, 1, dealingsArg(round).slice(0, 4))).to.be.revertedWithCustomError(sys.committees, "CommitteeDealingMismatch").withArgs(round.committeeId, 1, 5);
    });

    it("dealings whose group key sums to the point at infinity fail the formation instead of sharing no key", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const round = await propose(sys, sys.guardians.slice(0, 5), 3);
      const d1 = makeDealing(1, 5, 3);
      const d2 = makeDealing(2, 5, 3);
      await postDealing(sys, round, d1);
      await postDealing(sys, round, d2);
      // Dealer 3 posts D_{3,0} = −(D_{1,0} + D_{2,0}), so that K = Σ D_{i,0} = O (only its commitments matter here).
      const points = [d1.commitments[0].add(d2.commitments[0]).negate(), G2.BASE.multiply(3n), G2.BASE.multiply(5n)];
      await postDealing(sys, round, { dealer: 3, commitments: points, commitmentsHex: commitmentsHexOf(points), subShares: [] });
      await pastWindow(sys, round, "complaintDeadline");
      await expect(sys.committees.finalize(round.committeeId, 1, dealingsArg(round)))
        .to.emit(sys.committees, "CommitteeRoundFailed")
        .withArgs(round.committeeId, 1, 3);
      expect((await sys.committees.committee(round.committeeId)).status).to.equal(STATUS.Failed);
    });

    it("with fewer than t qualified dealers the formation fails and releases its members", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      await dealAll(sys, round, [1, 2]);
      await pastWindow(sys, round, "complaintDeadline");
      await expect(sys.committees.finalize(round.committeeId, 1, dealingsArg(round)))
        .to.emit(sys.committees, "CommitteeRoundFailed")
        .withArgs(round.committeeId, 1, 0);
      expect((await sys.committees.committee(round.committeeId)).status).to.equal(STATUS.Failed);
      for (const g of members) expect(await sys.committees.stakeLockedUntil(g.address)).to.be.lessThan(MAX_UINT64);
    });

    it("a formation with a silent member fails at its acknowledgement deadline and changes nothing else", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const round = await propose(sys, members, 3);
      await dealAll(sys, round, [1, 2, 3, 4]); // g5 is silent
      await pastWindow(sys, round, "complaintDeadline");
      const { event } = await finalize(sys, round);
      const shares = sharesFrom(round, slotsOf(event.args.qualified, 5), false);
      await acknowledge(sys, round, shares, [1, 2, 3, 4]);
      const c = sys.committees;
      const view = await c.round(round.committeeId, 1);
      expect(view.expiresAt).to.equal(view.ackDeadline);
      await expect(c.expire(round.committeeId, 1)).to.be.revertedWithCustomError(c, "CommitteeTooEarly").withArgs(round.committeeId, 1, view.expiresAt);
      const stakes = await Promise.all(members.map(async (g) => (await sys.registry.guardian(g.address)).stake));
      const auditBefore = await sys.coordinator.auditLength();
      await pastWindow(sys, round, "ackDeadline");
      await expect(c.expire(round.committeeId, 1)).to.emit(c, "CommitteeRoundFailed").withArgs(round.committeeId, 1, 2);
      expect((await c.committee(round.committeeId)).status).to.equal(STATUS.Failed);
      expect((await c.round(round.committeeId, 1)).phase).to.equal(PHASE.Failed);
      // Nothing else: no slash, no stake moved, one audited entry, members free to leave.
      expect(await Promise.all(members.map(async (g) => (await sys.registry.guardian(g.address)).stake))).to.deep.equal(stakes);
      expect(await sys.coordinator.auditLength()).to.equal(auditBefore + 1n);
      for (const g of members) expect(await c.stakeLockedUntil(g.address)).to.be.lessThan(MAX_UINT64);
      await expect(c.connect(members[4].signer).acknowledge(round.committeeId, 1, 5, "0x" + "00".repeat(128))).to.be.revertedWithCustomError(c, "CommitteeWrongPhase");
      // A new proposal without the silent member gets a new id.
      const again = await propose(sys, members.slice(0, 4).concat(sys.guardians[5]), 3);
      expect(again.committeeId).to.equal(round.committeeId + 1n);
    });

    it("an invalid proof of possession is provable by anyone and slashes the member; a valid one cannot be proven", async function () {
      const sys = await networkHelpers.loadFixture(sevenGuardians);
      const members = sys.guardians.slice(0, 5);
      const { round, event, shares } = await finalizedRound(sys, members);
      await acknowledge(sys, round, shares, [1, 2, 3, 4]);
      const c = sys.committees;
      // g5 acknowledges with a proof made with a wrong share.
      const bogus = await possessionProof(sys, round, 5, Fr.add(shares.get(5)!, 1n));
      await (await c.connect(members[4].signer).acknowledge(round.committeeId, 1, 5, bogus)).wait();
      const history = await acknowledgementHistory(sys, round);
      expect(history.map((h: any) => Number(h.slot))).to.deep.equal([1, 2, 3, 4, 5]);
      const honest = await possessionProof(sys, round, 1, shares.get(1)!);
      const prove = (slot: number, proof: Hex, h = history) => c.connect(sys.prover).proveInvalidPossession(round.committeeId, 1, slot, proof, event.args.commitments, h);
      // Every honest proof of possession stands.
      for (const j of [1, 2, 3, 4]) {
        await expect(prove(j, await possessionProof(sys, round, j, shares.get(j)!))).to.be.revertedWithCustomError(c, "CommitteeFaultNotProven");
      }
      await expect(prove(5, honest)).to.be.revertedWithCustomError(c, "CommitteeNotAcknowledged");
      // A history that names another operator for slot 5 does not replay to the stored digest.
      const forged = history.map((h: any) => (Number(h.slot) === 5 ? { ...h, operator: members[0].address } : h));
      await expect(prove(5, bogus, forged)).to.be.revertedWithCustomError(c, "CommitteeWrongHistory");
      await expect(prove(5, bogus))
        .to.emit(c, "CommitteeFaultProven")
        .withArgs(round.committeeId, 1, 5, members[4].address, FAULT.InvalidPossession, sys.prover.address, ONE_ETH / 2n);
      await expect(prove(5, bogus)).to.be.revertedWithCustomError(c, "CommitteeFaultNotProven");
      expect(await sys.registry.claimable(sys.prover.address)).to.equal((ONE_ETH / 2n) * 2_000n / 10_000n);
    });
  });

  describe("handover (resharing)", function () {
    it("a member that unbonds is replaced by a draw nobody chooses; the reshare keeps K; old-epoch partials are refused after retirement", async function () {
      const { sys, round, shares, commitments } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      const g4 = round.members[3];
      await expect(c.startHandover(round.committeeId)).to.be.revertedWithCustomError(c, "CommitteeHandoverNotDue");
      await (await sys.registry.connect(g4.signer).startUnbonding(ONE_ETH / 2n)).wait();
      const { ev } = await startHandover(sys, round.committeeId);
      expect(ev.args.epoch).to.equal(2n);
      expect(ev.args.replaced).to.equal(8n); // slot 4
      const next = handoverRound(sys, round.committeeId, ev, round.members);
      const newcomer = next.members[3];
      expect([sys.guardians[5].address, sys.guardians[6].address]).to.include(newcomer.address);
      next.members.forEach((g, k) => k !== 3 && expect(g.address).to.equal(round.members[k].address));
      await expect(c.startHandover(round.committeeId)).to.be.revertedWithCustomError(c, "CommitteeHandoverInProgress");

      // Old members deal g_i with g_i(0) = s_i; the new members combine the lowest three qualified dealers.
      await dealAll(sys, next, [1, 2, 3, 4, 5], shares);
      await pastWindow(sys, next, "complaintDeadline");
      const { event } = await finalize(sys, next);
      expect(slotsOf(event.args.qualified, 5)).to.deep.equal([1, 2, 3]);
      expect(groupKeyOf(event.args.commitments)).to.equal(groupKeyOf(commitments));
      const newShares = sharesFrom(next, [1, 2, 3], true);
      await acknowledge(sys, next, newShares);

      const view = await c.committee(round.committeeId);
      expect(view.activeEpoch).to.equal(2n);
      expect((await c.round(round.committeeId, 1)).phase).to.equal(PHASE.Retired);
      expect(view.commitmentsHash).to.equal(keccak256(event.args.commitments));
      // The leaving member stays bonded for the release delay; the newcomer is bonded.
      const releaseAt = await c.stakeLockedUntil(g4.address);
      const latest = await networkHelpers.time.latest();
      expect(releaseAt).to.equal(BigInt(latest) + (await c.parameters()).releaseDelay);
      expect(await c.stakeLockedUntil(newcomer.address)).to.equal(MAX_UINT64);

      // K unchanged: new-epoch tokens verify under K; a mix of old and new shares does not.
      const key = [1, 2, 3, 4, 5].reduce((acc, i) => acc.add(round.dealings.get(i)!.commitments[0]), G2.ZERO);
      const msg = message(7);
      expect(verifyToken(tokenFrom(newShares, [2, 4, 5], msg), key, hexToBytes(msg))).to.equal(true);
      const mixed = [1, 2].map((j) => computePartial({ index: j, value: shares.get(j)! }, hexToBytes(msg)))
        .concat([computePartial({ index: 4, value: newShares.get(4)! }, hexToBytes(msg))]);
      expect(verifyToken(combine(mixed, 3), key, hexToBytes(msg))).to.equal(false);
      // Old proofs of possession stay checkable against the retired epoch's commitments.
      expect((await c.round(round.committeeId, 1)).commitmentsHash).to.equal(keccak256(commitments));
    });

    it("a reshare dealing with E_{i,0} ≠ PK_i blocks finalization until anyone proves it; the dealer is slashed, honest dealings cannot be proven", async function () {
      const { sys, round, shares, commitments } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      await (await sys.registry.connect(round.members[4].signer).startUnbonding(ONE_ETH / 2n)).wait();
      const { ev } = await startHandover(sys, round.committeeId);
      const next = handoverRound(sys, round.committeeId, ev, round.members);
      const cheating = new Map(shares);
      cheating.set(1, Fr.add(shares.get(1)!, 5n)); // g1 reshares a value that is not its share
      cheating.set(5, Fr.add(shares.get(5)!, 7n)); // so does g5, who is leaving and will fall outside Q'
      await dealAll(sys, next, [1, 2, 3, 4, 5], cheating);
      await pastWindow(sys, next, "complaintDeadline");
      await expect(c.finalize(round.committeeId, next.epoch, dealingsArg(next))).to.be.revertedWithCustomError(c, "CommitteeReshareKeyMismatch");
      await expect(c.connect(sys.prover).proveReshareKeyMismatch(round.committeeId, next.epoch, 2, next.dealings.get(2)!.commitmentsHex, commitments))
        .to.be.revertedWithCustomError(c, "CommitteeFaultNotProven");
      await expect(c.connect(sys.prover).proveReshareKeyMismatch(round.committeeId, next.epoch, 1, next.dealings.get(1)!.commitmentsHex, commitments))
        .to.emit(c, "CommitteeFaultProven")
        .withArgs(round.committeeId, next.epoch, 1, round.members[0].address, FAULT.ReshareKeyMismatch, sys.prover.address, ONE_ETH / 2n);
      const { event } = await finalize(sys, next);
      expect(slotsOf(event.args.qualified, 5)).to.deep.equal([2, 3, 4]);
      // Outside Q', g5's bad dealing did no harm, but it is still a fault: provable after finalization too.
      await expect(c.connect(sys.prover).proveReshareKeyMismatch(round.committeeId, next.epoch, 5, next.dealings.get(5)!.commitmentsHex, commitments))
        .to.emit(c, "CommitteeFaultProven")
        .withArgs(round.committeeId, next.epoch, 5, round.members[4].address, FAULT.ReshareKeyMismatch, sys.prover.address, ONE_ETH / 2n);
      await expect(c.connect(sys.prover).proveReshareKeyMismatch(round.committeeId, next.epoch, 5, next.dealings.get(5)!.commitmentsHex, commitments))
        .to.be.revertedWithCustomError(c, "CommitteeDealerDisqualified");
      await acknowledge(sys, next, sharesFrom(next, [2, 3, 4], true));
      expect((await c.committee(round.committeeId)).activeEpoch).to.equal(next.epoch);
    });

    it("a failed handover leaves the old epoch in charge and skips its epoch number", async function () {
      const { sys, round, shares } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      await (await sys.registry.connect(round.members[1].signer).startUnbonding(ONE_ETH / 2n)).wait();
      const { ev } = await startHandover(sys, round.committeeId);
      const next = handoverRound(sys, round.committeeId, ev, round.members);
      const newcomer = next.members[1];
      await dealAll(sys, next, [1, 2], shares);
      await pastWindow(sys, next, "complaintDeadline");
      await expect(c.finalize(round.committeeId, 2, dealingsArg(next))).to.emit(c, "CommitteeRoundFailed").withArgs(round.committeeId, 2, 0);
      const view = await c.committee(round.committeeId);
      expect(view.status).to.equal(STATUS.Active);
      expect(view.activeEpoch).to.equal(1n);
      expect((await c.round(round.committeeId, 1)).phase).to.equal(PHASE.Active);
      expect(await c.stakeLockedUntil(newcomer.address)).to.be.lessThan(MAX_UINT64);
      // The next attempt is epoch 3.
      const retry = await startHandover(sys, round.committeeId);
      expect(retry.ev.args.epoch).to.equal(3n);
    });

    it("a continuing member that lets a handover fail by not acknowledging is replaced by the next one", async function () {
      const { sys, round, shares } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      await (await sys.registry.connect(round.members[4].signer).startUnbonding(ONE_ETH / 2n)).wait();
      const { ev } = await startHandover(sys, round.committeeId);
      const next = handoverRound(sys, round.committeeId, ev, round.members);
      await dealAll(sys, next, [1, 2, 3, 4, 5], shares);
      await pastWindow(sys, next, "complaintDeadline");
      await finalize(sys, next);
      await acknowledge(sys, next, sharesFrom(next, [1, 2, 3], true), [1, 2, 4, 5]); // g3 stays silent
      await pastWindow(sys, next, "ackDeadline");
      await expect(c.expire(round.committeeId, next.epoch)).to.emit(c, "CommitteeRoundFailed").withArgs(round.committeeId, next.epoch, 2);
      expect((await c.committee(round.committeeId)).laggards).to.equal(0b00100n);
      // g5 is still unbonding and g3 blocked the last handover: the next one replaces both, and is due at once.
      const retry = await startHandover(sys, round.committeeId);
      expect(retry.ev.args.replaced).to.equal(0b10100n);
    });

    it("an epoch older than maxEpochAge rotates out its longest-serving member; the draw waits for a block nobody knew", async function () {
      const { sys, round } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      await expect(c.drawReplacements(round.committeeId)).to.be.revertedWithCustomError(c, "CommitteeNoHandoverRequested");
      await networkHelpers.time.increase(Number((await c.parameters()).maxEpochAge));
      const request = await (await c.connect(sys.carol).startHandover(round.committeeId)).wait();
      const drawBlock = findEvent(c, request, "CommitteeHandoverRequested").args.drawBlock;
      expect(drawBlock).to.equal(BigInt(request.blockNumber) + 2n);
      await expect(c.drawReplacements(round.committeeId)).to.be.revertedWithCustomError(c, "CommitteeDrawNotReady").withArgs(round.committeeId, drawBlock);
      await expect(c.startHandover(round.committeeId)).to.be.revertedWithCustomError(c, "CommitteeHandoverInProgress");
      // Left more than 256 blocks, the draw block's hash is gone: drawing sets a new draw block instead.
      await networkHelpers.mine(300);
      const rearmed = await (await c.drawReplacements(round.committeeId)).wait();
      const again = findEvent(c, rearmed, "CommitteeHandoverRequested");
      expect(again.args.drawBlock).to.equal(BigInt(rearmed.blockNumber) + 2n);
      await networkHelpers.mine(3);
      const drawn = await (await c.drawReplacements(round.committeeId)).wait();
      const ev = findEvent(c, drawn, "CommitteeHandoverStarted");
      expect(ev.args.replaced).to.equal(1n); // every member joined at epoch 1: the lowest slot leaves
      await expect(c.connect(sys.bob).forceHandover(round.committeeId, 2, 4)).to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount");
    });

    for (const [from, to] of [[3, 4], [4, 3]] as const) {
      it(`governance changes the threshold from ${from} to ${to} of 5: the old epoch's ${from} lowest dealers reshare K to ${to}-of-5`, async function () {
        const sys = await sevenGuardians();
        const { round, shares, commitments } = await formCommittee(sys, sys.guardians.slice(0, 5), from);
        const { ev } = await startHandover(sys, round.committeeId, { slots: 0, threshold: to });
        expect(ev.args.threshold).to.equal(BigInt(to));
        expect(ev.args.replaced).to.equal(0n);
        const next = handoverRound(sys, round.committeeId, ev, round.members);
        await dealAll(sys, next, [1, 2, 3, 4, 5], shares);
        await pastWindow(sys, next, "complaintDeadline");
        const { event } = await finalize(sys, next);
        const dealers = Array.from({ length: from }, (_, k) => k + 1);
        expect(slotsOf(event.args.qualified, 5)).to.deep.equal(dealers);
        expect(groupKeyOf(event.args.commitments)).to.equal(groupKeyOf(commitments));
        const newShares = sharesFrom(next, dealers, true);
        await acknowledge(sys, next, newShares);
        expect((await sys.committees.committee(round.committeeId)).threshold).to.equal(BigInt(to));
        const key = [1, 2, 3, 4, 5].reduce((acc, i) => acc.add(round.dealings.get(i)!.commitments[0]), G2.ZERO);
        const msg = message(11);
        const signers = [5, 4, 2, 1].slice(0, to);
        expect(verifyToken(tokenFrom(newShares, signers, msg), key, hexToBytes(msg))).to.equal(true);
        expect(verifyToken(tokenFrom(newShares, signers.slice(0, to - 1), msg), key, hexToBytes(msg))).to.equal(false);
      });
    }

    it("refuses thresholds outside 2 ≤ t ≤ 24, t > n/2, and answer windows under an hour", async function () {
      const { sys, round } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      await expect(c.connect(sys.admin).forceHandover(round.committeeId, 0, 2)).to.be.revertedWithCustomError(c, "CommitteeInvalidSize").withArgs(5, 2);
      const many = Array.from({ length: 32 }, (_, k) => `0x${(k + 1).toString(16).padStart(40, "0")}`);
      await expect(c.propose(many, 25)).to.be.revertedWithCustomError(c, "CommitteeInvalidSize").withArgs(32, 25);
      const p = { ...(await c.parameters()).toObject() };
      await expect(c.connect(sys.admin).setParameters({ ...p, answerWindow: 3599 })).to.be.revertedWithCustomError(c, "CommitteeParameterOutOfRange");
      await expect(c.connect(sys.bob).setParameters(p)).to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount");
      await expect(c.connect(sys.admin).setParameters({ ...p, dealWindow: 900 })).to.emit(c, "CommitteeParametersSet");
      expect((await c.parameters()).dealWindow).to.equal(900n);
    });

    it("a handed-over member stays bonded through the coordinator's dispute horizon: releaseDelay ≥ the unbonding floor, from either side", async function () {
      const { sys } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const c = sys.committees;
      const cp = await sys.coordinator.parameters();
      const floor = cp.requestLifetime + cp.maxSecurityPeriod + cp.disputeWindow;
      const p = { ...(await c.parameters()).toObject() };
      // the deployment's defaults satisfy it
      expect(p.releaseDelay >= floor, `releaseDelay ${p.releaseDelay} < ${floor}`).to.equal(true);
      // the committee registry refuses a release delay under the floor the coordinator pushed
      await expect(c.connect(sys.admin).setParameters({ ...p, releaseDelay: floor - 1n }))
        .to.be.revertedWithCustomError(c, "CommitteeParameterOutOfRange")
        .withArgs(toBytes32("releaseDelay"), floor - 1n);
      await expect(c.connect(sys.admin).setParameters({ ...p, releaseDelay: floor })).to.emit(c, "CommitteeParametersSet");
      // the coordinator refuses to push a floor above the release delay (the unbonding delay, 14 days, would allow it)
      await expect(sys.coordinator.setRequestLifetime(cp.requestLifetime + 1n))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetParameterOutOfRange")
        .withArgs(toBytes32("unbondingFloor"), floor + 1n);
      // raising the release delay first lets the floor follow
      await (await c.connect(sys.admin).setParameters({ ...p, releaseDelay: floor + 1n })).wait();
      await (await sys.coordinator.setRequestLifetime(cp.requestLifetime + 1n)).wait();
      expect(await sys.registry.minUnbondingDelay()).to.equal(floor + 1n);
      expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
    });

    it("withdrawals of bonded members wait for the stake lock (stake backing a membership cannot leave)", async function () {
      const { sys, round } = await networkHelpers.loadFixture(activeCommitteeFixture);
      const g1 = round.members[0];
      await (await sys.registry.connect(g1.signer).startUnbonding(ONE_ETH)).wait();
      await networkHelpers.time.increase(Number(await sys.registry.unbondingDelay()) + 1);
      await expect(sys.registry.connect(g1.signer).withdraw()).to.be.revertedWithCustomError(sys.registry, "GuardianStakeLocked");
    });
  });

  it("the SDK's acknowledgement message and proof of possession are the contract's: an SDK proof cannot be proven invalid", async function () {
    const sys = await networkHelpers.loadFixture(sevenGuardians);
    const members = sys.guardians.slice(0, 5);
    const { round, event, shares } = await finalizedRound(sys, members);
    const registry = (await sys.committees.getAddress()) as Address;
    for (const j of [1, 4]) {
      expect(await sys.committees.ackMessage(round.committeeId, 1, j)).to.equal(committeeAckMessage(sys.chainId, registry, round.committeeId, 1n, j));
    }
    const proofs = new Map<number, Hex>();
    for (const j of [1, 2, 3, 4, 5]) {
      proofs.set(j, committeePossessionProof({ index: j, value: shares.get(j)! }, sys.chainId, registry, round.committeeId, 1n));
      await (await sys.committees.connect(members[j - 1].signer).acknowledge(round.committeeId, 1, j, proofs.get(j)!)).wait();
    }
    const history = await acknowledgementHistory(sys, round);
    for (const j of [1, 2, 3, 4, 5]) {
      await expect(sys.committees.proveInvalidPossession(round.committeeId, 1, j, proofs.get(j)!, event.args.commitments, history)).to.be.revertedWithCustomError(sys.committees, "CommitteeFaultNotProven");
    }
    expect((await sys.committees.committee(round.committeeId)).status).to.equal(STATUS.Active);
  });

  it("every committee event folds into the audit chain: a replay matches the on-chain head", async function () {
    const { sys } = await networkHelpers.loadFixture(activeCommitteeFixture);
    const events = await auditedEvents(sys);
    expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
    expect(events.length).to.be.greaterThan(20);
    // Role changes after deployment are folded in too.
    expect(events.filter((e) => e.eventName === "RoleGranted").length).to.be.greaterThan(0);
    await (await sys.committees.grantRole(await sys.committees.DEFAULT_ADMIN_ROLE(), sys.carol.address)).wait();
    await (await sys.committees.revokeRole(await sys.committees.DEFAULT_ADMIN_ROLE(), sys.carol.address)).wait();
    expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
    expect((await auditedEvents(sys)).slice(-2).map((e) => e.eventName)).to.deep.equal(["RoleGranted", "RoleRevoked"]);
    // Only the committee registry may write committee entries.
    await expect(sys.coordinator.recordRegistryEvent(AUDIT_KINDS.indexOf("CommitteeProposed"), keccak256("0x"))).to.be.revertedWithCustomError(sys.coordinator, "AuditUnauthorizedWriter");
    // Only the committee registry may hand the coordinator a committee's group-key hash.
    await expect(sys.coordinator.recordGroupKey(1n, keccak256("0x"))).to.be.revertedWithCustomError(sys.coordinator, "AuditUnauthorizedWriter");
  });
});
