import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { type Address, type Hex, concat, hexToBytes, keccak256, toHex } from "viem";

import { Fp, G1, g1ToEip2537 } from "../../sdk/crypto/bls.ts";
import { auditedEvents, expectAuditMatches } from "../helpers/audit.ts";
import { type System, deploySystem } from "../helpers/system.ts";
import {
  type Account,
  type Committee,
  type OpenRequest,
  activeEpoch,
  commitProof,
  committeeOf,
  findEvent,
  fullOf,
  historyOf,
  linkTo,
  opaqueEntries,
  post,
  postingFor,
  requestOf,
  tokenOf,
} from "../helpers/resets.ts";

const connection = await network.create();
const { networkHelpers } = connection;

async function baseFixture() {
  const sys = await deploySystem(connection);
  const committee = await committeeOf(sys, sys.guardians.slice(0, 5), 3);
  const account = await linkTo(sys, sys.alice, committee);
  return { sys, committee, account };
}

describe("ResetCoordinator (v2)", function () {
  let sys: System;
  let committee: Committee;
  let account: Account;

  beforeEach(async function () {
    ({ sys, committee, account } = await networkHelpers.loadFixture(baseFixture));
    currentCommittee = committee;
  });

  describe("lifecycle", function () {
    it("links, requests, posts, completes and finalizes", async function () {
      const view = await sys.coordinator.account(account.accountId);
      expect(view.controller).to.equal(sys.alice.address);
      expect(view.committeeId).to.equal(committee.committeeId);
      expect(view.epoch).to.equal(1n);

      const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      expect(await sys.coordinator.resetMessage(request.requestId, keccak256(request.requesterKey))).to.equal(request.message);
      const postings = [];
      for (const slot of [1, 2, 3]) postings.push(await post(sys, committee, request, slot));
      const posted = await sys.coordinator.reset(request.requestId);
      expect(posted.posted).to.equal(0b111n);
      expect(posted.postingEpoch).to.equal(1n);

      const sigma = tokenOf(request, postings, 3);
      const receipt = await (await sys.coordinator.completeReset(request.requestId, keccak256(request.requesterKey), sigma, committee.groupKey)).wait();
      const approved = findEvent(sys.coordinator, receipt, "ResetApproved");
      expect(approved.args.accountId).to.equal(account.accountId);
      await networkHelpers.time.increaseTo(Number(approved.args.executableAt));
      await (await sys.coordinator.connect(sys.carol).finalizeReset(request.requestId)).wait();
      expect(await sys.coordinator.controllerOf(account.accountId)).to.equal(sys.bob.address);
      expect((await sys.coordinator.reset(request.requestId)).status).to.equal(4n);
      expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
    });

    it("refuses bad links and rotations by custom error", async function () {
      const n = committee.members.length;
      const c = sys.coordinator.connect(sys.carol);
      const salt = toHex(1n, { size: 32 });
      const id = committee.committeeId;
      await expect(c.link(salt, 999, sys.carol.address, 3600, ZERO, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountCommitteeNotActive");
      await expect(c.link(salt, id, ZERO, 3600, ZERO, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountInvalidController");
      await expect(c.link(salt, id, sys.carol.address, 1, ZERO, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountSecurityPeriodOutOfRange");
      await expect(c.link(salt, id, sys.carol.address, 3600, ZERO, opaqueEntries(n - 1, 8), opaqueEntries(n, 8)))
        .to.be.revertedWithCustomError(sys.coordinator, "AccountEntriesMismatch")
        .withArgs(toHex("envelopes", { size: 32 }), n, n - 1);
      const truncated = opaqueEntries(n, 8).slice(0, -2) as Hex;
      await expect(c.link(salt, id, sys.carol.address, 3600, ZERO, opaqueEntries(n, 8), truncated)).to.be.revertedWithCustomError(sys.coordinator, "AccountEntriesMismatch");
      await (await c.link(salt, id, sys.carol.address, 3600, ZERO, opaqueEntries(n, 8), opaqueEntries(n, 8))).wait();
      await expect(c.link(salt, id, sys.carol.address, 3600, ZERO, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountExists");
      await expect(sys.coordinator.connect(sys.bob).rotate(account.accountId, id, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountNotController");
      await expect(sys.coordinator.rotate(keccak256("0x01"), id, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountUnknown");
    });

    it("refuses bad requests by custom error: fee, controller, requester key off the curve, off the subgroup, at infinity", async function () {
      const fee = (await sys.coordinator.parameters()).requestFee;
      const good = toHex(g1ToEip2537(G1.BASE.multiply(7n)));
      await expect(sys.coordinator.requestReset(account.accountId, sys.bob.address, good, { value: fee - 1n })).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongFee").withArgs(fee, fee - 1n);
      await expect(sys.coordinator.requestReset(account.accountId, ZERO, good, { value: fee })).to.be.revertedWithCustomError(sys.coordinator, "ResetInvalidNewController");
      await expect(sys.coordinator.requestReset(keccak256("0x02"), sys.bob.address, good, { value: fee })).to.be.revertedWithCustomError(sys.coordinator, "AccountUnknown");
      const offSubgroup = offSubgroupG1();
      for (const key of [toHex(new Uint8Array(128)), offSubgroup, good.slice(0, -2) as Hex, ("0x" + good.slice(2, 130) + "00".repeat(63) + "05") as Hex]) {
        await expect(sys.coordinator.requestReset(account.accountId, sys.bob.address, key, { value: fee })).to.be.revertedWithCustomError(sys.coordinator, "ResetInvalidRequesterKey");
      }
    });
  });

  describe("postings", function () {
    it("refuses bad postings by custom error: length, member, retired epoch, twice, closed requests", async function () {
      const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      const epoch = await activeEpoch(sys, committee.committeeId);
      const p = postingFor(committee, request, 2, epoch);
      const g2 = committee.members[1].signer;
      await expect(sys.coordinator.connect(g2).postPartial({ ...p.input, posting: p.bytes.slice(0, -2) })).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingMalformed").withArgs(239);
      await expect(sys.coordinator.connect(committee.members[0].signer).postPartial(p.input)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotMember");
      await expect(sys.coordinator.connect(g2).postPartial({ ...p.input, slot: 0 })).to.be.revertedWithCustomError(sys.coordinator, "ResetNotMember");
      await expect(sys.coordinator.connect(g2).postPartial({ ...p.input, committeeEpoch: epoch + 1n })).to.be.revertedWithCustomError(sys.coordinator, "ResetEpochNotActive");
      await expect(sys.coordinator.connect(g2).postPartial({ ...p.input, requestId: 999n })).to.be.revertedWithCustomError(sys.coordinator, "ResetUnknownRequest");
      await (await sys.coordinator.connect(g2).postPartial(p.input)).wait();
      await expect(sys.coordinator.connect(g2).postPartial(p.input)).to.be.revertedWithCustomError(sys.coordinator, "ResetAlreadyPosted").withArgs(request.requestId, 2, epoch);
      await (await sys.coordinator.connect(sys.alice).cancelReset(request.requestId)).wait();
      await expect(sys.coordinator.connect(committee.members[2].signer).postPartial(postingFor(committee, request, 3, epoch).input)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotPending");
      const late = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      await networkHelpers.time.increase(2 * 24 * 3600);
      await expect(sys.coordinator.connect(g2).postPartial(postingFor(committee, late, 2, epoch).input)).to.be.revertedWithCustomError(sys.coordinator, "ResetExpired");
    });

    it("a posting for a retired epoch is refused after a handover; the new members serve the same request", async function () {
      const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      const old = await activeEpoch(sys, committee.committeeId);
      const stale = postingFor(committee, request, 1, old);
      // governance re-shares the same K to epoch 2 with every member kept (slots 0): old shares retire
      const next = await handoverKeepingMembers(sys, committee);
      await expect(sys.coordinator.connect(committee.members[0].signer).postPartial(stale.input)).to.be.revertedWithCustomError(sys.coordinator, "ResetEpochNotActive").withArgs(request.requestId, old);
      const fresh = [];
      for (const slot of [1, 2, 3]) fresh.push(await post(sys, next, request, slot));
      const view = await sys.coordinator.reset(request.requestId);
      expect(view.postingEpoch).to.equal(await activeEpoch(sys, committee.committeeId));
      expect(view.posted).to.equal(0b111n);
      await (await sys.coordinator.completeReset(request.requestId, keccak256(request.requesterKey), tokenOf(request, fresh, 3), committee.groupKey)).wait();
    });
  });

  describe("completion, drills, cancellation, finalization", function () {
    it("refuses a token for another request, a wrong group key, and completion after expiry", async function () {
      const r1 = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      const r2 = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      const postings = [];
      for (const slot of [1, 2, 3]) postings.push(await post(sys, committee, r1, slot));
      const sigma = tokenOf(r1, postings, 3);
      await expect(sys.coordinator.completeReset(r2.requestId, keccak256(r2.requesterKey), sigma, committee.groupKey)).to.be.revertedWithCustomError(sys.coordinator, "BLSSignatureInvalid");
      const otherKey = ("0x" + committee.commitments.slice(2 + 512, 2 + 1024)) as Hex;
      await expect(sys.coordinator.completeReset(r1.requestId, keccak256(r1.requesterKey), sigma, otherKey)).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongGroupKey");
      await expect(sys.coordinator.completeReset(999n, keccak256(r1.requesterKey), sigma, committee.groupKey)).to.be.revertedWithCustomError(sys.coordinator, "ResetUnknownRequest");
      await networkHelpers.time.increase(2 * 24 * 3600);
      await expect(sys.coordinator.completeReset(r1.requestId, keccak256(r1.requesterKey), sigma, committee.groupKey)).to.be.revertedWithCustomError(sys.coordinator, "ResetExpired");
    });

    it("a drill is served and verified like a reset, and can never be finalized", async function () {
      const drill = await requestOf(sys, account, sys.carol, null);
      const postings = [];
      for (const slot of [2, 4, 5]) postings.push(await post(sys, committee, drill, slot));
      await expect(sys.coordinator.completeReset(drill.requestId, keccak256(drill.requesterKey), tokenOf(drill, postings, 3), committee.groupKey))
        .to.emit(sys.coordinator, "DrillVerified")
        .withArgs(drill.requestId, account.accountId);
      const view = await sys.coordinator.reset(drill.requestId);
      expect(view.drill).to.equal(true);
      expect(view.status).to.equal(5n);
      await networkHelpers.time.increase(30 * 24 * 3600);
      await expect(sys.coordinator.finalizeReset(drill.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetIsDrill").withArgs(drill.requestId);
      expect(await sys.coordinator.controllerOf(account.accountId)).to.equal(sys.alice.address);
    });

    it("cancellation: controller only, pending or approved until executable; finalization waits for the period", async function () {
      const r = await approved(sys, committee, account, sys.bob);
      await expect(sys.coordinator.connect(sys.bob).cancelReset(r.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotController");
      await expect(sys.coordinator.finalizeReset(r.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetSecurityPeriodActive");
      await expect(sys.coordinator.connect(sys.alice).cancelReset(r.requestId)).to.emit(sys.coordinator, "ResetCancelled");
      await expect(sys.coordinator.finalizeReset(r.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotApproved");
      const late = await approved(sys, committee, account, sys.bob);
      await networkHelpers.time.increase(3600);
      await expect(sys.coordinator.connect(sys.alice).cancelReset(late.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetSecurityPeriodOver");
      await expect(sys.coordinator.cancelReset(999n)).to.be.revertedWithCustomError(sys.coordinator, "ResetUnknownRequest");
    });
  });

  describe("found by the security review of v1", function () {
    it("spam cannot block the owner's request: after 40 open spam requests the owner's request is served", async function () {
      const fee = (await sys.coordinator.parameters()).requestFee;
      for (let k = 0; k < 40; k++) await requestOf(sys, account, sys.carol, sys.carol.address as Address);
      const owner = await approved(sys, committee, account, sys.alice, sys.bob.address as Address);
      expect((await sys.coordinator.reset(owner.requestId)).status).to.equal(2n);
      expect(await ethers.provider.getBalance(await sys.coordinator.getAddress())).to.equal(fee * 41n);
    });

    it("a finalized reset supersedes everything the old controller had in flight (approved requests, rotations)", async function () {
      const thief = await approved(sys, committee, account, sys.carol, sys.carol.address as Address);
      const pending = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
      const owner = await approved(sys, committee, account, sys.alice, sys.bob.address as Address);
      await networkHelpers.time.increase(3600);
      await (await sys.coordinator.finalizeReset(owner.requestId)).wait();
      await expect(sys.coordinator.finalizeReset(thief.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetVoided").withArgs(thief.requestId);
      const g1 = committee.members[0].signer;
      await expect(sys.coordinator.connect(g1).postPartial(postingFor(committee, pending, 1, 1n).input)).to.be.revertedWithCustomError(sys.coordinator, "ResetVoided");
      expect((await sys.coordinator.reset(thief.requestId)).voided).to.equal(true);
      expect(await sys.coordinator.controllerOf(account.accountId)).to.equal(sys.bob.address);
      // the old controller can no longer rotate or cancel
      const n = committee.members.length;
      await expect(sys.coordinator.connect(sys.alice).rotate(account.accountId, committee.committeeId, opaqueEntries(n, 8), opaqueEntries(n, 8))).to.be.revertedWithCustomError(sys.coordinator, "AccountNotController");
      // a rotation voids every open request too, for good: ids are never reused
      const open = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
      await (await sys.coordinator.connect(sys.bob).rotate(account.accountId, committee.committeeId, opaqueEntries(n, 8), opaqueEntries(n, 8))).wait();
      expect((await sys.coordinator.account(account.accountId)).epoch).to.equal(2n);
      expect((await sys.coordinator.reset(open.requestId)).voided).to.equal(true);
      await expect(sys.coordinator.connect(sys.bob).cancelReset(open.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetVoided");
    });

    it("a posting is judged only against its own message: one made for a re-created request id is neither provable nor paid", async function () {
      const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      const epoch = await activeEpoch(sys, committee.committeeId);
      // member 1 computed m for the request id as it saw it before a reorg (another requester key)
      const staleMessage = keccak256(concat([request.message, "0x01"]));
      const stale = postingFor(committee, request, 1, epoch, staleMessage);
      await (await sys.coordinator.connect(committee.members[0].signer).postPartial(stale.input)).wait();
      const history = await historyOf(sys, request.requestId);
      const salt = await commitProof(sys, sys.prover, request.requestId, 0);
      await expect(prove(sys, request, history, 0, stale, salt)).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingMismatch").withArgs(request.requestId, 0);
      await networkHelpers.time.increase(3 * 24 * 3600);
      const receipt = await (await sys.coordinator.settle(request.requestId, request.context, history)).wait();
      const settled = findEvent(sys.coordinator, receipt, "RequestSettled");
      expect(settled.args.served).to.equal(0n);
      expect((await sys.registry.guardian(committee.members[0].address)).served).to.equal(0n);
    });

    it("a proof copied from the mempool earns nothing: the reward goes only to a committed prover", async function () {
      const { request, bad, history } = await invalidPostingFixture(sys, committee, account);
      // the copier did not commit
      await expect(prove(sys, request, history, history.length - 1, bad, keccak256("0x00"), sys.carol)).to.be.revertedWithCustomError(sys.coordinator, "ResetProofNotCommitted").withArgs(sys.carol.address);
      // a commitment in the same block as the reveal does not count
      const salt = await commitProof(sys, sys.prover, request.requestId, history.length - 1);
      await networkHelpers.mine(0);
      await expect(prove(sys, request, history, history.length - 1, bad, salt, sys.carol)).to.be.revertedWithCustomError(sys.coordinator, "ResetProofNotCommitted");
    });

    it("fees and served only for postings standing past the window; misses cannot be inflated by request-and-cancel", async function () {
      const fee = (await sys.coordinator.parameters()).requestFee;
      const { request, bad, history } = await invalidPostingFixture(sys, committee, account); // slots 1, 2 honest, 5 bad
      await expect(sys.coordinator.settle(request.requestId, request.context, history)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotSettleable");
      const salt = await commitProof(sys, sys.prover, request.requestId, 2);
      await (await prove(sys, request, history, 2, bad, salt)).wait();
      await networkHelpers.time.increase(3 * 24 * 3600);
      const g1 = committee.members[0].address;
      const before = await ethers.provider.getBalance(g1);
      const receipt = await (await sys.coordinator.settle(request.requestId, request.context, history)).wait();
      const ev = findEvent(sys.coordinator, receipt, "RequestSettled");
      expect(ev.args.paid).to.equal(fee / 5n);
      expect(ev.args.served).to.equal(0b11n);
      // pending until it expired: members 3, 4 and 5 (whose posting was proven) missed it
      expect(ev.args.missed).to.equal(0b11100n);
      expect(ev.args.toTreasury).to.equal(fee - 2n * (fee / 5n));
      expect((await ethers.provider.getBalance(g1)) - before).to.equal(fee / 5n);
      expect(await sys.coordinator.treasuryBalance()).to.equal(fee - 2n * (fee / 5n));
      await expect(sys.coordinator.settle(request.requestId, request.context, history)).to.be.revertedWithCustomError(sys.coordinator, "ResetAlreadySettled");
      // request-and-cancel: no miss for anyone
      const cancelled = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
      await (await sys.coordinator.connect(sys.alice).cancelReset(cancelled.requestId)).wait();
      await networkHelpers.time.increase(3 * 24 * 3600);
      // a context that is not the request's is refused
      await expect(sys.coordinator.settle(cancelled.requestId, { ...cancelled.context, fee: 1n }, [])).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongPostingHistory");
      await expect(sys.coordinator.settle(cancelled.requestId, { ...cancelled.context, newController: sys.bob.address }, [])).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongContext");
      const r2 = await (await sys.coordinator.settle(cancelled.requestId, cancelled.context, [])).wait();
      expect(findEvent(sys.coordinator, r2, "RequestSettled").args.missed).to.equal(0n);
      expect((await sys.registry.guardian(committee.members[3].address)).missed).to.equal(1n);
    });

    it("pays a member's fee to the withdrawal address it named, not to its operator key", async function () {
      const g1 = committee.members[0];
      const cold = ethers.Wallet.createRandom().address as Address;
      await (await sys.registry.connect(g1.signer).setWithdrawalAddress(cold)).wait();
      const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      for (const slot of [1, 2, 3]) await post(sys, committee, request, slot);
      await networkHelpers.time.increase(3 * 24 * 3600);
      const before = await ethers.provider.getBalance(g1.address);
      const receipt = await (await sys.coordinator.settle(request.requestId, request.context, await historyOf(sys, request.requestId))).wait();
      const share = request.context.fee / BigInt(committee.members.length);
      expect(findEvent(sys.coordinator, receipt, "RequestSettled").args.served).to.equal(0b111n);
      expect(await ethers.provider.getBalance(cold)).to.equal(share);
      expect(await ethers.provider.getBalance(g1.address)).to.equal(before);
      expect((await sys.registry.guardian(g1.address)).served).to.equal(1n);
      expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
    });

    it("misses are judged from the newest standing posting of the true message, not moved by a posting for another message", async function () {
      const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      for (const slot of [1, 2, 3]) await post(sys, committee, request, slot);
      // a handover keeps every member; then member 4 posts at the new epoch, for another message
      const next = await handoverKeepingMembers(sys, committee);
      const epoch2 = await activeEpoch(sys, committee.committeeId);
      const other = postingFor(next, request, 4, epoch2, keccak256(concat([request.message, "0x01"])));
      await (await sys.coordinator.connect(committee.members[3].signer).postPartial(other.input)).wait();
      expect((await sys.coordinator.reset(request.requestId)).postingEpoch).to.equal(epoch2);
      await networkHelpers.time.increase(3 * 24 * 3600);
      const receipt = await (await sys.coordinator.settle(request.requestId, request.context, await historyOf(sys, request.requestId))).wait();
      const ev = findEvent(sys.coordinator, receipt, "RequestSettled");
      // slots 1–3 served at epoch 1; only 4 and 5 missed (never a slot that is also served)
      expect(ev.args.served).to.equal(0b111n);
      expect(ev.args.missed).to.equal(0b11000n);
      for (const k of [0, 1, 2]) expect((await sys.registry.guardian(committee.members[k].address)).missed, `g${k + 1}`).to.equal(0n);
    });

    it("no misses for a request that no standing posting of its message served (its membership is not known)", async function () {
      const silent = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
      const wrong = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
      const epoch = await activeEpoch(sys, committee.committeeId);
      const other = postingFor(committee, wrong, 2, epoch, keccak256(concat([wrong.message, "0x01"])));
      await (await sys.coordinator.connect(committee.members[1].signer).postPartial(other.input)).wait();
      await networkHelpers.time.increase(3 * 24 * 3600);
      for (const r of [silent, wrong]) {
        const receipt = await (await sys.coordinator.settle(r.requestId, r.context, await historyOf(sys, r.requestId))).wait();
        const ev = findEvent(sys.coordinator, receipt, "RequestSettled");
        expect([ev.args.served, ev.args.missed]).to.deep.equal([0n, 0n]);
      }
      for (const g of committee.members) expect((await sys.registry.guardian(g.address)).missed, g.name).to.equal(0n);
    });

    it("a fee recipient that returns a large return data costs settlement no more than the gas it is handed", async function () {
      const settleGas = async () => {
        const r = await approved(sys, committee, account, sys.bob, sys.bob.address as Address);
        await networkHelpers.time.increase(3 * 24 * 3600);
        const receipt = await (await sys.coordinator.settle(r.requestId, r.context, await historyOf(sys, r.requestId))).wait();
        return { gas: receipt.gasUsed as bigint, ev: findEvent(sys.coordinator, receipt, "RequestSettled") };
      };
      await settleGas(); // the first settlement pays for fresh counters and treasury balance
      const plain = await settleGas();
      // member 1's address now runs code (as an EIP-7702 account could) that returns 90,112 bytes to any call
      await networkHelpers.setCode(committee.members[0].address, "0x620160006000f3");
      const bomb = await settleGas();
      expect(bomb.ev.args.served).to.equal(0b111n);
      expect(bomb.ev.args.toTreasury).to.equal(plain.ev.args.toTreasury); // it was paid
      const transferGas = await sys.coordinator.FEE_TRANSFER_GAS();
      expect(bomb.gas - plain.gas).to.be.lessThan(transferGas + 5_000n);
    });

    it("the audit chain includes settlement, treasury withdrawals, role changes and failed consumer hooks", async function () {
      const hostile = await (await ethers.getContractFactory("RevertingConsumer")).deploy();
      const hooked = await linkTo(sys, sys.carol, committee, { consumer: (await hostile.getAddress()) as Address });
      const r = await approved(sys, committee, hooked, sys.carol, sys.bob.address as Address);
      await networkHelpers.time.increase(3600);
      await expect(sys.coordinator.finalizeReset(r.requestId)).to.emit(sys.coordinator, "ConsumerHookFailed");
      await networkHelpers.time.increase(3 * 24 * 3600);
      await (await sys.coordinator.settle(r.requestId, r.context, await historyOf(sys, r.requestId))).wait();
      const balance = await sys.coordinator.treasuryBalance();
      await expect(sys.coordinator.withdrawTreasury(sys.admin.address, balance + 1n)).to.be.revertedWithCustomError(sys.coordinator, "ResetParameterOutOfRange");
      await expect(sys.coordinator.withdrawTreasury(sys.admin.address, balance)).to.emit(sys.coordinator, "TreasuryWithdrawn");
      const role = await sys.coordinator.DEFAULT_ADMIN_ROLE();
      await (await sys.coordinator.grantRole(role, sys.carol.address)).wait();
      await (await sys.coordinator.revokeRole(role, sys.carol.address)).wait();
      await (await sys.registry.grantRole(await sys.registry.ATTESTER_ROLE(), sys.carol.address)).wait();
      expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
      const kinds = new Set((await auditedEvents(sys)).map((e) => e.eventName));
      for (const k of ["RequestSettled", "TreasuryWithdrawn", "RoleGranted", "RoleRevoked", "ConsumerHookFailed", "GuardianServiceRecorded", "PartialPosted"]) expect(kinds.has(k), k).to.equal(true);
    });
  });

  describe("proveInvalidPosting", function () {
    it("slashes exactly the guilty guardian and rewards the committed prover; a valid posting cannot be proven", async function () {
      const { request, bad, honest, history } = await invalidPostingFixture(sys, committee, account);
      const guilty = committee.members[4].address;
      const stakes = await Promise.all(committee.members.map(async (g) => (await sys.registry.guardian(g.address)).stake));
      const saltHonest = await commitProof(sys, sys.prover, request.requestId, 0);
      await expect(prove(sys, request, history, 0, honest, saltHonest)).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingValid").withArgs(request.requestId, 0);
      const salt = await commitProof(sys, sys.prover, request.requestId, 2);
      await expect(prove(sys, request, history, 2, bad, salt)).to.emit(sys.coordinator, "InvalidPostingProven");
      const after = await Promise.all(committee.members.map(async (g) => (await sys.registry.guardian(g.address)).stake));
      committee.members.forEach((g, k) => expect(after[k] < stakes[k], g.name).to.equal(g.address === guilty));
      expect(await sys.registry.claimable(sys.prover.address)).to.be.greaterThan(0n);
      const again = await commitProof(sys, sys.prover, request.requestId, 2);
      await expect(prove(sys, request, history, 2, bad, again)).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingAlreadyProven");
      await expect(prove(sys, request, history.slice(1), 0, honest, saltHonest)).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongPostingHistory");
      await expect(prove(sys, request, history, 0, honest, saltHonest, sys.prover, { commitments: (committee.commitments + "00") as Hex })).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongContext");
    });

    it("a guardian proving its own invalid posting earns no reward: the whole slash goes to the treasury", async function () {
      const { request, bad, history } = await invalidPostingFixture(sys, committee, account);
      const guilty = committee.members[4];
      const treasury = await sys.registry.treasury();
      const treasuryBefore = await sys.registry.claimable(treasury);
      const salt = await commitProof(sys, guilty.signer, request.requestId, 2);
      const receipt = await (await prove(sys, request, history, 2, bad, salt, guilty.signer)).wait();
      const slashed = findEvent(sys.registry, receipt, "GuardianSlashed");
      expect(slashed.args.prover).to.equal(guilty.address);
      expect(slashed.args.reward).to.equal(0n);
      expect(await sys.registry.claimable(guilty.address)).to.equal(0n);
      expect((await sys.registry.claimable(treasury)) - treasuryBefore).to.equal(slashed.args.amount);
    });

    it("property: random valid postings can never be proven invalid", async function () {
      this.timeout(300_000);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 5 }), async (slot) => {
          const request = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
          const made = await post(sys, committee, request, slot);
          const history = await historyOf(sys, request.requestId);
          const salt = await commitProof(sys, sys.prover, request.requestId, 0);
          await expect(prove(sys, request, history, 0, made, salt)).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingValid");
        }),
        { numRuns: 24 },
      );
    });

    it("invalid encodings are provable from the bytes: no compression flag, infinity flag, x ≥ p (G1 and G2)", async function () {
      const cases: [string, (b: Uint8Array) => void][] = [
        ["no compression flag on C", (b) => (b[0] &= 0x7f)],
        ["infinity flag on U", (b) => (b[48] |= 0x40)],
        ["x ≥ p in W", (b) => b.set(pBytes(), 192)],
        ["x.c0 ≥ p in V", (b) => b.set(pBytes(), 144)],
      ];
      for (const [name, mutate] of cases) {
        const request = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
        const made = postingFor(committee, request, 3, 1n);
        const bytes = hexToBytes(made.bytes);
        mutate(bytes);
        if (name.startsWith("x ≥ p in W")) bytes[192] |= 0x80;
        const forged = { ...made, bytes: toHex(bytes), input: { ...made.input, posting: toHex(bytes) } };
        await (await sys.coordinator.connect(committee.members[2].signer).postPartial(forged.input)).wait();
        const history = await historyOf(sys, request.requestId);
        const salt = await commitProof(sys, sys.prover, request.requestId, 0);
        await expect(prove(sys, request, history, 0, forged, salt), name).to.emit(sys.coordinator, "InvalidPostingProven");
      }
    });

    it("an x with no y is provable with a non-residue witness, for G1 and for G2; a wrong witness proves nothing", async function () {
      for (const point of [0, 2] as const) {
        const request = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
        const made = postingFor(committee, request, 4, 1n);
        const bytes = hexToBytes(made.bytes);
        const { x, w } = point === 0 ? g1NoY() : g2NoY();
        if (point === 0) bytes.set(x, 0);
        else bytes.set(x, 96);
        const forged = { ...made, bytes: toHex(bytes), input: { ...made.input, posting: toHex(bytes) } };
        await (await sys.coordinator.connect(committee.members[3].signer).postPartial(forged.input)).wait();
        const history = await historyOf(sys, request.requestId);
        const salt = await commitProof(sys, sys.prover, request.requestId, 0);
        const wrong = witness(point, w + 1n);
        await expect(prove(sys, request, history, 0, forged, salt, sys.prover, { witness: wrong })).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingMismatch");
        await expect(prove(sys, request, history, 0, forged, salt, sys.prover, { witness: witness(point, w) })).to.emit(sys.coordinator, "InvalidPostingProven");
      }
    });

    it("points on the curve but off the subgroup are provable; a full form that does not match the bytes proves nothing", async function () {
      const request = await requestOf(sys, account, sys.carol, sys.carol.address as Address);
      const made = postingFor(committee, request, 1, 1n);
      const off = offSubgroupPoint();
      const bytes = hexToBytes(made.bytes);
      bytes.set(off.compressed, 192); // W off the subgroup
      const forged = { ...made, bytes: toHex(bytes), input: { ...made.input, posting: toHex(bytes) }, full: { ...fullOf(made.posting), W: off.full } };
      await (await sys.coordinator.connect(committee.members[0].signer).postPartial(forged.input)).wait();
      const history = await historyOf(sys, request.requestId);
      const salt = await commitProof(sys, sys.prover, request.requestId, 0);
      // the honest decompression of another point is not this posting's full form
      await expect(prove(sys, request, history, 0, forged, salt, sys.prover, { full: fullOf(made.posting) })).to.be.revertedWithCustomError(sys.coordinator, "ResetPostingMismatch");
      await expect(prove(sys, request, history, 0, forged, salt, sys.prover, { full: forged.full })).to.emit(sys.coordinator, "InvalidPostingProven");
    });
  });
});

// ───────────────────────────── helpers ─────────────────────────────

const ZERO = "0x0000000000000000000000000000000000000000" as Address;
const P = Fp.ORDER;
const { ethers } = connection;

function pBytes(): Uint8Array {
  return hexToBytes(toHex(P, { size: 48 }));
}

/** A request approved with members 1–3's postings. */
async function approved(sys: System, committee: Committee, account: Account, sender: any, newController: Address = sender.address) {
  const r = await requestOf(sys, account, sender, newController);
  const postings = [];
  for (const slot of [1, 2, 3]) postings.push(await post(sys, committee, r, slot));
  await (await sys.coordinator.completeReset(r.requestId, keccak256(r.requesterKey), tokenOf(r, postings, 3), committee.groupKey)).wait();
  return r;
}

type Provable = { bytes: Hex; posting: any; full?: any };

function prove(sys: System, request: OpenRequest, history: any[], position: number, made: Provable, salt: Hex, prover: any = sys.prover, o: { witness?: Hex; full?: any; commitments?: Hex } = {}) {
  const full = o.full ?? made.full ?? fullOf(made.posting);
  const committee = currentCommittee!;
  return sys.coordinator.connect(prover).proveInvalidPosting(request.requestId, request.context, history, position, made.bytes, full, o.witness ?? "0x", o.commitments ?? committee.commitments, request.requesterKey, salt);
}

let currentCommittee: Committee | undefined;

/** Members 1 and 2 post honestly, member 5 posts with a wrong share (the second equation fails). */
async function invalidPostingFixture(sys: System, committee: Committee, account: Account) {
  currentCommittee = committee;
  const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
  const honest = await post(sys, committee, request, 1);
  await post(sys, committee, request, 2);
  const bad = postingFor({ ...committee, shares: new Map([[5, 424242n]]) }, request, 5, await activeEpoch(sys, committee.committeeId));
  await (await sys.coordinator.connect(committee.members[4].signer).postPartial(bad.input)).wait();
  return { request, bad, honest, history: await historyOf(sys, request.requestId) };
}

function witness(point: number, w: bigint): Hex {
  return concat([toHex(point, { size: 32 }), toHex(w >> 256n, { size: 32 }), toHex(w & ((1n << 256n) - 1n), { size: 32 })]);
}

const mod = (a: bigint) => ((a % P) + P) % P;
function powP(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
const isSquare = (a: bigint) => a === 0n || powP(a, (P - 1n) / 2n) === 1n;
const sqrt = (a: bigint) => powP(a, (P + 1n) / 4n);

/** A G1 x (compressed, flag set) with no y, and w with w² = −(x³ + 4). */
function g1NoY() {
  for (let x = 1n; ; x++) {
    const z = mod(x * x * x + 4n);
    if (!isSquare(z)) {
      const bytes = hexToBytes(toHex(x, { size: 48 }));
      bytes[0] |= 0x80;
      return { x: bytes, w: sqrt(mod(-z)) };
    }
  }
}

/** A G2 x = x0 + x1·u (compressed x1 ‖ x0) with no y, and w with w² = −N(x³ + 4(1 + u)). */
function g2NoY() {
  for (let x0 = 1n; ; x0++) {
    const x1 = 1n;
    const a0 = mod(x0 * x0 - x1 * x1);
    const a1 = mod(2n * x0 * x1);
    const z0 = mod(a0 * x0 - a1 * x1 + 4n);
    const z1 = mod(a0 * x1 + a1 * x0 + 4n);
    const n = mod(z0 * z0 + z1 * z1);
    if (!isSquare(n)) {
      const bytes = new Uint8Array(96);
      bytes.set(hexToBytes(toHex(x1, { size: 48 })), 0);
      bytes.set(hexToBytes(toHex(x0, { size: 48 })), 48);
      bytes[0] |= 0x80;
      return { x: bytes, w: sqrt(mod(-n)) };
    }
  }
}

/** A G1 point on the curve but off the subgroup: its compressed bytes and EIP-2537 form. */
function offSubgroupPoint() {
  for (let x = 1n; ; x++) {
    const z = mod(x * x * x + 4n);
    if (!isSquare(z)) continue;
    const y = sqrt(z);
    const point = G1.fromAffine({ x, y });
    if (point.isTorsionFree()) continue;
    const compressed = hexToBytes(toHex(x, { size: 48 }));
    compressed[0] |= 0x80;
    if (y > (P - 1n) / 2n) compressed[0] |= 0x20;
    const full = concat([toHex(x, { size: 64 }), toHex(y, { size: 64 })]);
    return { compressed, full };
  }
}

function offSubgroupG1(): Hex {
  return offSubgroupPoint().full;
}

/** Governance re-shares K to the next epoch keeping every member: the old epoch's shares retire. */
async function handoverKeepingMembers(sys: System, committee: Committee): Promise<Committee> {
  const helpers = await import("../helpers/committees.ts");
  const { ev } = await helpers.startHandover(sys, committee.committeeId, { slots: 0, threshold: 3 });
  const round = { committeeId: committee.committeeId, epoch: ev.args.epoch, members: committee.members, dealers: committee.members, threshold: 3, dealings: new Map() };
  await helpers.dealAll(sys, round as any, [1, 2, 3, 4, 5], committee.shares);
  await helpers.pastWindow(sys, round as any, "complaintDeadline");
  await helpers.finalize(sys, round as any, sys.bob, [1, 2, 3]);
  const shares = helpers.sharesFrom(round as any, [1, 2, 3], true);
  await helpers.acknowledge(sys, round as any, shares);
  return { ...committee, shares, commitments: await commitmentsOf(sys, committee.committeeId, round.epoch) };
}

async function commitmentsOf(sys: System, committeeId: bigint, epoch: bigint): Promise<Hex> {
  const logs = await sys.committees.queryFilter(sys.committees.filters.CommitteeRoundFinalized(committeeId, epoch));
  return (logs[0] as any).args.commitments as Hex;
}
