import { expect } from "chai";
import { network } from "hardhat";
import { type Address, type Hex, hexToBytes, toHex } from "viem";

import {
  G1,
  packEntries,
  unpackEntries,
  checkAudit,
  replayAudit,
  combine,
  computePartial,
  deal,
  g1ToEip2537,
  g2ToEip2537,
} from "../../sdk/index.ts";
import {
  type LinkedAccount,
  assemble,
  type OpenRequest,
  type System,
  ONE_ETH,
  collectAuditedEvents,
  commit,
  committeeArg,
  deploySystem,
  linkAccount,
  replayFromChain,
  requestReset,
  rotateAccount,
  serve,
} from "../helpers/system.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

async function baseFixture() {
  const sys = await deploySystem(connection);
  const account = await linkAccount(sys, sys.alice);
  return { sys, account };
}

/** Members `indices` serve and commit; the client assembles the token from their fragments. */
async function serveAndAssemble(sys: System, account: LinkedAccount, request: OpenRequest, indices: number[]) {
  const fragments: string[] = [];
  const commits = new Map<number, Hex>();
  for (const i of indices) {
    const served = await serve(sys, account, request, i);
    await commit(sys, account, request, i, served);
    fragments.push(served.fragment);
    commits.set(i, served.commitment);
  }
  return assemble(sys, account, request, fragments, commits);
}

function groupKeyHex(account: LinkedAccount): Hex {
  return toHex(g2ToEip2537(account.prepared.groupKey));
}

async function complete(sys: System, account: LinkedAccount, request: OpenRequest, tokenHex: Hex, from = sys.bob) {
  return sys.coordinator.connect(from).completeReset(request.requestId, account.accountId, request.ephemeralKey, tokenHex, groupKeyHex(account));
}

describe("ResetCoordinator", function () {
  describe("the whole lifecycle against the real cryptography", function () {
    it("moves control of a RecoverableAccount to alice's new key after the security period, funds untouched", async function () {
      const sys = await deploySystem(connection);
      const [aliceNew] = sys.spare;
      // alice deploys her smart account for the account id she is about to link, funds it, then links it.
      const salt = toHex(new TextEncoder().encode("alice-wallet".padEnd(32, "\0")));
      const accountId = (await sys.coordinator.computeAccountId(sys.alice.address, salt)) as Hex;
      const wallet = await ethers.deployContract("RecoverableAccount", [await sys.coordinator.getAddress(), accountId]);
      await (await sys.alice.sendTransaction({ to: await wallet.getAddress(), value: 3n * ONE_ETH })).wait();
      const account = await linkAccount(sys, sys.alice, { salt, consumer: (await wallet.getAddress()) as Address });
      expect(account.accountId).to.equal(accountId);
      expect(await wallet.controller()).to.equal(sys.alice.address);
      expect((await sys.coordinator.shardMap(account.mapId)).status).to.equal(2n); // Active

      // alice lost her key: her new key asks for a reset; any 3 of the 5 guardians serve it.
      const request = await requestReset(sys, account, aliceNew, aliceNew.address as Address);
      const assembled = await serveAndAssemble(sys, account, request, [1, 3, 5]);
      expect(assembled.used).to.deep.equal([1, 3, 5]);
      await expect(complete(sys, account, request, assembled.tokenHex, aliceNew)).to.emit(sys.coordinator, "ResetApproved");

      await expect(sys.coordinator.finalizeReset(request.requestId))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetSecurityPeriodActive");
      await networkHelpers.time.increase(3600);
      await expect(sys.coordinator.connect(sys.carol).finalizeReset(request.requestId))
        .to.emit(sys.coordinator, "ResetFinalized")
        .withArgs(request.requestId, accountId, sys.alice.address, aliceNew.address)
        .and.to.emit(wallet, "ControlMoved");

      expect(await sys.coordinator.controllerOf(accountId)).to.equal(aliceNew.address);
      expect(await ethers.provider.getBalance(await wallet.getAddress())).to.equal(3n * ONE_ETH);
      await expect(wallet.connect(sys.alice).execute(sys.bob.address, ONE_ETH, "0x"))
        .to.be.revertedWithCustomError(wallet, "RecoverableAccountNotController");
      await expect(wallet.connect(aliceNew).execute(sys.bob.address, ONE_ETH, "0x")).to.changeEtherBalances(
        ethers,
        [wallet, sys.bob],
        [-ONE_ETH, ONE_ETH],
      );
      await expect(sys.coordinator.finalizeReset(request.requestId))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetNotApproved")
        .withArgs(request.requestId, 4n);
    });

    it("lets the controller cancel an approved reset during the security period", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const { tokenHex } = await serveAndAssemble(sys, account, request, [2, 3, 4]);
      await complete(sys, account, request, tokenHex);
      await expect(sys.coordinator.connect(sys.bob).cancelReset(request.requestId))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetNotController")
        .withArgs(request.requestId, sys.bob.address);
      await expect(sys.coordinator.connect(sys.alice).cancelReset(request.requestId))
        .to.emit(sys.coordinator, "ResetCancelled")
        .withArgs(request.requestId, account.accountId, sys.alice.address);
      await networkHelpers.time.increase(3600);
      await expect(sys.coordinator.finalizeReset(request.requestId))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetNotApproved")
        .withArgs(request.requestId, 3n);
      expect(await sys.coordinator.controllerOf(account.accountId)).to.equal(sys.alice.address);
    });

    it("voids the account's other open requests when one is finalized", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const first = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const second = await requestReset(sys, account, sys.carol, sys.carol.address as Address);
      const a = await serveAndAssemble(sys, account, first, [1, 2, 3]);
      const b = await serveAndAssemble(sys, account, second, [1, 2, 3]);
      await complete(sys, account, first, a.tokenHex);
      await networkHelpers.time.increase(3600);
      await sys.coordinator.finalizeReset(first.requestId);
      expect((await sys.coordinator.reset(second.requestId)).voided).to.equal(true);
      await expect(complete(sys, account, second, b.tokenHex))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetVoided")
        .withArgs(second.requestId);
      expect((await sys.coordinator.account(account.accountId)).openRequests).to.equal(0n);
    });
  });

  describe("refusals, each by its custom error", function () {
    it("unknown account, map not active yet", async function () {
      const sys = await deploySystem(connection);
      const fee = (await sys.coordinator.parameters()).requestFee;
      const unknown = toHex(new Uint8Array(32).fill(7));
      await expect(sys.coordinator.requestReset(unknown, sys.bob.address, toHex(new Uint8Array(32).fill(1)), { value: fee }))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapUnknownAccount")
        .withArgs(unknown);
      const pending = await linkAccount(sys, sys.alice, { acknowledge: false });
      await expect(sys.coordinator.requestReset(pending.accountId, sys.bob.address, toHex(new Uint8Array(32).fill(1)), { value: fee }))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapNotActive")
        .withArgs(pending.mapId, 1n);
    });

    it("fee too low, open-request cap, zero new controller or ephemeral key", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const fee: bigint = (await sys.coordinator.parameters()).requestFee;
      const key = toHex(new Uint8Array(32).fill(9));
      await expect(sys.coordinator.requestReset(account.accountId, sys.bob.address, key, { value: fee - 1n }))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetFeeTooLow")
        .withArgs(fee, fee - 1n);
      await expect(sys.coordinator.requestReset(account.accountId, "0x0000000000000000000000000000000000000000", key, { value: fee }))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetInvalidNewController");
      await expect(sys.coordinator.requestReset(account.accountId, sys.bob.address, toHex(new Uint8Array(32)), { value: fee }))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetInvalidEphemeralKey");
      for (let k = 0; k < 3; k++) await sys.coordinator.requestReset(account.accountId, sys.bob.address, key, { value: fee });
      await expect(sys.coordinator.requestReset(account.accountId, sys.bob.address, key, { value: fee }))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetTooManyOpenRequests")
        .withArgs(account.accountId, 3n);
      // An expired request frees its place once closed.
      await networkHelpers.time.increase(24 * 3600 + 1);
      await expect(sys.coordinator.expireReset(1n)).to.emit(sys.coordinator, "ResetLapsed").withArgs(1n, account.accountId);
      await expect(sys.coordinator.requestReset(account.accountId, sys.bob.address, key, { value: fee })).to.emit(sys.coordinator, "ResetRequested");
    });

    it("a token of another request, under another key, with a wrong group key, or malformed", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const mine = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const other = await requestReset(sys, account, sys.carol, sys.carol.address as Address);
      const { tokenHex } = await serveAndAssemble(sys, account, other, [1, 2, 3]);
      // The token of carol's request does not complete bob's, nor can bob claim it with his own key.
      await expect(complete(sys, account, mine, tokenHex)).to.be.revertedWithCustomError(sys.coordinator, "BLSSignatureInvalid");
      await expect(
        sys.coordinator.completeReset(other.requestId, account.accountId, mine.ephemeralKey, tokenHex, groupKeyHex(account)),
      ).to.be.revertedWithCustomError(sys.coordinator, "BLSSignatureInvalid");
      const strangerKey = toHex(g2ToEip2537(deal(3, 2).groupKey));
      await expect(sys.coordinator.completeReset(other.requestId, account.accountId, other.ephemeralKey, tokenHex, strangerKey))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetWrongGroupKey")
        .withArgs(other.requestId);
      await expect(sys.coordinator.completeReset(other.requestId, account.accountId, other.ephemeralKey, tokenHex.slice(0, -2), groupKeyHex(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "BLSInvalidPointLength")
        .withArgs(128n, 127n);
      const offCurve = ("0x" + "00".repeat(31) + "01" + "00".repeat(31) + "01" + "00".repeat(31) + "01" + "00".repeat(31) + "01") as Hex;
      await expect(sys.coordinator.completeReset(other.requestId, account.accountId, other.ephemeralKey, offCurve, groupKeyHex(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "BLSPointNotOnCurve");
      await expect(complete(sys, account, other, tokenHex)).to.emit(sys.coordinator, "ResetApproved");
    });

    it("an expired request cannot be completed", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const { tokenHex } = await serveAndAssemble(sys, account, request, [1, 2, 3]);
      await networkHelpers.time.increase(24 * 3600 + 1);
      await expect(complete(sys, account, request, tokenHex)).to.be.revertedWithCustomError(sys.coordinator, "ResetExpired");
    });

    it("finalize before the security period, twice, or on a pending request", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      await expect(sys.coordinator.finalizeReset(request.requestId))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetNotApproved")
        .withArgs(request.requestId, 1n);
      const { tokenHex } = await serveAndAssemble(sys, account, request, [1, 2, 3]);
      await complete(sys, account, request, tokenHex);
      await expect(sys.coordinator.finalizeReset(request.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetSecurityPeriodActive");
      await networkHelpers.time.increase(3600);
      await sys.coordinator.finalizeReset(request.requestId);
      await expect(sys.coordinator.finalizeReset(request.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotApproved");
      await expect(sys.coordinator.connect(sys.bob).cancelReset(request.requestId)).to.be.revertedWithCustomError(sys.coordinator, "ResetNotPending");
      await expect(sys.coordinator.finalizeReset(999n)).to.be.revertedWithCustomError(sys.coordinator, "ResetUnknownRequest").withArgs(999n);
    });

    it("commit by a non-member, by a member under another index, twice, or with a wrong committee", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const served = await serve(sys, account, request, 1);
      const c = { requestId: request.requestId, index: 1, commitment: served.commitment };
      await expect(sys.coordinator.connect(sys.carol).commitShare(c, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapNotMember")
        .withArgs(account.mapId, 1n, sys.carol.address);
      await expect(sys.coordinator.connect(account.committee[1].signer).commitShare(c, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapNotMember");
      await expect(sys.coordinator.connect(account.committee[0].signer).commitShare(c, { ...committeeArg(account), commitmentsHash: toHex(new Uint8Array(32)) }))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapWrongCommittee");
      await commit(sys, account, request, 1, served);
      await expect(commit(sys, account, request, 1, served))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetAlreadyCommitted")
        .withArgs(request.requestId, 1n);
    });

    it("links only eligible, distinct committees with a threshold in range", async function () {
      const sys = await deploySystem(connection, { guardians: 6 });
      const [g1, g2, g3, g4, g5, g6] = sys.guardians;
      await sys.registry.connect(sys.attester).revokeAttestation(g6.address);
      await expect(linkAccount(sys, sys.alice, { committee: [g1, g2, g3, g4, g6] }))
        .to.be.revertedWithCustomError(sys.registry, "GuardianNotEligible")
        .withArgs(g6.address);
      await expect(linkAccount(sys, sys.alice, { committee: [g1, g2, g3, g4, g1] }))
        .to.be.revertedWithCustomError(sys.registry, "GuardianDuplicateMember")
        .withArgs(g1.address);
      await sys.registry.setJailed(g5.address, true);
      await expect(linkAccount(sys, sys.carol, { committee: [g1, g2, g5] , threshold: 2}))
        .to.be.revertedWithCustomError(sys.registry, "GuardianNotEligible")
        .withArgs(g5.address);
    });

    it("refuses a duplicate member even when the channels are spread", async function () {
      const sys = await deploySystem(connection, { guardians: 4 });
      const [g1, g2, g3] = sys.guardians;
      const params = (await linkAccount(sys, sys.alice, { committee: [g1, g2, g3], threshold: 2, acknowledge: false })).prepared.params;
      const dup = { ...params, committee: [g1.address, g2.address, g1.address] };
      await expect(sys.coordinator.connect(sys.bob).link(toHex(new Uint8Array(32).fill(3)), "0x0000000000000000000000000000000000000000", dup))
        .to.be.revertedWithCustomError(sys.registry, "GuardianDuplicateMember")
        .withArgs(g1.address);
      const single = { ...params, threshold: 1 };
      await expect(sys.coordinator.connect(sys.bob).link(toHex(new Uint8Array(32).fill(5)), "0x0000000000000000000000000000000000000000", single))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapThresholdOutOfRange")
        .withArgs(1n, 3n);
      const cut = { ...params, envelopes: params.envelopes.slice(0, -2) as Hex };
      await expect(sys.coordinator.connect(sys.bob).link(toHex(new Uint8Array(32).fill(6)), "0x0000000000000000000000000000000000000000", cut))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapLengthMismatch");
      const two = { ...params, sealedChannels: packEntries(unpackEntries(params.sealedChannels).slice(0, 2)) };
      await expect(sys.coordinator.connect(sys.bob).link(toHex(new Uint8Array(32).fill(7)), "0x0000000000000000000000000000000000000000", two))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapLengthMismatch")
        .withArgs(toHex(new TextEncoder().encode("sealedChannels"), { size: 32 }), 3n, 2n);
      const bad = { ...params, threshold: 4 };
      await expect(sys.coordinator.connect(sys.bob).link(toHex(new Uint8Array(32).fill(4)), "0x0000000000000000000000000000000000000000", bad))
        .to.be.revertedWithCustomError(sys.coordinator, "ShardMapThresholdOutOfRange")
        .withArgs(4n, 3n);
    });
  });

  describe("owner rotation", function () {
    it("refuses tokens made with the old key once the new epoch is active", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const [g1, g2, g3, g4, g5] = sys.guardians;
      const oldRequest = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const oldToken = await serveAndAssemble(sys, account, oldRequest, [1, 2, 3]);

      const rotated = await rotateAccount(sys, sys.alice, account, [g5, g4, g3, g2], 3, false);
      // Until the new map is acknowledged the old one is still in charge.
      expect((await sys.coordinator.account(account.accountId)).activeMapId).to.equal(account.mapId);
      for (let i = 1; i <= 4; i++) {
        const { acknowledgeOne } = await import("../helpers/system.ts");
        await acknowledgeOne(sys, rotated, i);
      }
      expect((await sys.coordinator.shardMap(account.mapId)).status).to.equal(3n); // Retired
      await expect(complete(sys, account, oldRequest, oldToken.tokenHex))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetEpochRetired")
        .withArgs(oldRequest.requestId, account.mapId);

      // A new request under the new epoch: the old committee's shares make a token under the old key, refused.
      const request = await requestReset(sys, rotated, sys.bob, sys.bob.address as Address);
      const oldShares = [g1, g2, g3].map((g) => g.assignments.get(account.mapId)!.share);
      const forged = combine(oldShares.map((s) => computePartial(s, hexToBytes(request.message))), 3);
      await expect(sys.coordinator.completeReset(request.requestId, account.accountId, request.ephemeralKey, toHex(g1ToEip2537(forged)), groupKeyHex(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetWrongGroupKey");
      await expect(sys.coordinator.completeReset(request.requestId, account.accountId, request.ephemeralKey, toHex(g1ToEip2537(forged)), groupKeyHex(rotated)))
        .to.be.revertedWithCustomError(sys.coordinator, "BLSSignatureInvalid");
      const fresh = await serveAndAssemble(sys, rotated, request, [1, 2, 4]);
      await expect(complete(sys, rotated, request, fresh.tokenHex)).to.emit(sys.coordinator, "ResetApproved");
      void g1;
    });
  });

  describe("accountability", function () {
    it("slashes exactly the guardian whose committed share is invalid and rewards the prover", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const fragments: string[] = [];
      const history: { index: number; commitment: Hex }[] = [];
      const sigmas = new Map<number, Hex>();
      for (const i of [1, 2, 3, 4]) {
        const served = await serve(sys, account, request, i, i === 2 ? G1.BASE.multiply(12345n) : undefined);
        await commit(sys, account, request, i, served);
        fragments.push(served.fragment);
        history.push({ index: i, commitment: served.commitment });
        sigmas.set(i, served.sigma);
      }
      const assembled = await assemble(sys, account, request, fragments);
      expect(assembled.problems.map((p) => p.index)).to.deep.equal([2]);
      expect(assembled.problems[0].operator).to.equal(account.committee[1].address);

      const g2 = account.committee[1];
      const before = await sys.registry.guardian(g2.address);
      const others = await Promise.all([1, 3, 4].map((i) => sys.registry.guardian(account.committee[i - 1].address)));
      const proof = (index: number) =>
        sys.coordinator.connect(sys.prover).proveInvalidShare(
          request.requestId,
          index,
          sigmas.get(index)!,
          request.ephemeralKey,
          account.prepared.params.commitments,
          account.prepared.params.committee,
          history,
        );
      await expect(proof(3)).to.be.revertedWithCustomError(sys.coordinator, "ResetShareValid").withArgs(request.requestId, 3n);
      const slash = ONE_ETH / 2n;
      await expect(proof(2))
        .to.emit(sys.coordinator, "InvalidShareProven")
        .withArgs(request.requestId, 2n, g2.address, sys.prover.address, slash)
        .and.to.emit(sys.registry, "GuardianSlashed")
        .withArgs(g2.address, slash, sys.prover.address, slash / 5n);
      const after = await sys.registry.guardian(g2.address);
      expect(before.stake - after.stake).to.equal(slash);
      expect(after.jailed).to.equal(true);
      for (const [k, i] of [1, 3, 4].entries()) {
        expect((await sys.registry.guardian(account.committee[i - 1].address)).stake).to.equal(others[k].stake);
      }
      expect(await sys.registry.claimable(sys.prover.address)).to.equal(slash / 5n);
      await expect(sys.registry.connect(sys.prover).claim()).to.changeEtherBalance(ethers, sys.prover, slash / 5n);
      await expect(proof(2)).to.be.revertedWithCustomError(sys.coordinator, "ResetShareNotCommitted");
      // A history that is not the real one is refused.
      await expect(
        sys.coordinator.proveInvalidShare(request.requestId, 1, sigmas.get(1)!, request.ephemeralKey, account.prepared.params.commitments, account.prepared.params.committee, history.slice(1)),
      ).to.be.revertedWithCustomError(sys.coordinator, "ResetWrongCommitHistory");
      // The remaining valid fragments still complete the reset.
      await expect(complete(sys, account, request, assembled.tokenHex)).to.emit(sys.coordinator, "ResetApproved");
    });

    it("pays each member that committed before approval its part of the fee, once, and counts service", async function () {
      const { sys, account } = await networkHelpers.loadFixture(baseFixture);
      const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
      const { tokenHex } = await serveAndAssemble(sys, account, request, [1, 2, 4]);
      await expect(sys.coordinator.claimFee(request.requestId, 1, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetNotApproved");
      await complete(sys, account, request, tokenHex);
      const fee: bigint = (await sys.coordinator.parameters()).requestFee;
      const g4 = account.committee[3];
      await expect(sys.coordinator.claimFee(request.requestId, 4, committeeArg(account))).to.changeEtherBalance(ethers, g4.signer, fee / 5n);
      await expect(sys.coordinator.claimFee(request.requestId, 4, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetFeeAlreadyClaimed");
      await expect(sys.coordinator.claimFee(request.requestId, 3, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetShareNotCommitted");
      await expect(sys.coordinator.recordService(request.requestId, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetNotClosed");
      await networkHelpers.time.increase(3600);
      await sys.coordinator.finalizeReset(request.requestId);
      await sys.coordinator.recordService(request.requestId, committeeArg(account));
      const counters = await Promise.all(account.committee.map((g) => sys.registry.guardian(g.address)));
      expect(counters.map((c) => [c.served, c.missed])).to.deep.equal([[1n, 0n], [1n, 0n], [0n, 1n], [1n, 0n], [0n, 1n]]);
      await expect(sys.coordinator.recordService(request.requestId, committeeArg(account)))
        .to.be.revertedWithCustomError(sys.coordinator, "ResetServiceAlreadyRecorded");
    });
  });

  describe("consumer hooks", function () {
    for (const name of ["RevertingConsumer", "ReentrantConsumer", "GasBurningConsumer"]) {
      it(`a ${name} neither breaks nor stalls finalization`, async function () {
        const sys = await deploySystem(connection);
        const consumer = await ethers.deployContract(name);
        const account = await linkAccount(sys, sys.alice, { consumer: (await consumer.getAddress()) as Address });
        const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
        const { tokenHex } = await serveAndAssemble(sys, account, request, [1, 2, 3]);
        await complete(sys, account, request, tokenHex);
        await networkHelpers.time.increase(3600);
        await expect(sys.coordinator.finalizeReset(request.requestId))
          .to.emit(sys.coordinator, "ConsumerHookFailed")
          .withArgs(request.requestId, await consumer.getAddress());
        expect(await sys.coordinator.controllerOf(account.accountId)).to.equal(sys.bob.address);
      });
    }
  });

  describe("audit log", function () {
    it("the head recomputed from the emitted events equals the on-chain head after a long mixed run", async function () {
      const sys = await deploySystem(connection, { guardians: 6 });
      const alice = await linkAccount(sys, sys.alice);
      const bob = await linkAccount(sys, sys.bob, { committee: sys.guardians.slice(1, 6), threshold: 2 });
      // requests, commits (single and batched), approvals, a cancel, a finalize, an expiry, a fraud proof
      const r1 = await requestReset(sys, alice, sys.carol, sys.carol.address as Address);
      const a1 = await serveAndAssemble(sys, alice, r1, [1, 2, 3]);
      await complete(sys, alice, r1, a1.tokenHex);
      const r2 = await requestReset(sys, bob, sys.carol, sys.carol.address as Address);
      const served = await Promise.all([1, 2].map((i) => serve(sys, bob, r2, i)));
      const r3 = await requestReset(sys, bob, sys.carol, sys.carol.address as Address);
      const g3 = bob.committee[1];
      const s3 = await serve(sys, bob, r3, 2, G1.BASE.multiply(77n));
      await sys.coordinator.connect(g3.signer).commitShares([
        {
          committee: committeeArg(bob),
          commits: [
            { requestId: r2.requestId, index: 2, commitment: served[1].commitment },
            { requestId: r3.requestId, index: 2, commitment: s3.commitment },
          ],
        },
      ]);
      await commit(sys, bob, r2, 1, served[0]);
      await sys.coordinator.connect(sys.prover).proveInvalidShare(r3.requestId, 2, s3.sigma, r3.ephemeralKey, bob.prepared.params.commitments, bob.prepared.params.committee, [{ index: 2, commitment: s3.commitment }]);
      await sys.coordinator.connect(sys.bob).cancelReset(r2.requestId);
      await networkHelpers.time.increase(24 * 3600 + 1);
      await sys.coordinator.expireReset(r3.requestId);
      await sys.coordinator.finalizeReset(r1.requestId);
      await sys.registry.connect(sys.guardians[5].signer).startUnbonding(ONE_ETH / 4n);
      await sys.registry.setMinStake(ONE_ETH / 2n);
      await sys.coordinator.setRequestFee(10n ** 15n * 2n);

      const replay = await replayFromChain(sys);
      const onChain = { head: (await sys.coordinator.auditHead()) as Hex, length: await sys.coordinator.auditLength() };
      expect(replay.length).to.equal(onChain.length);
      expect(replay.head + "00".repeat(8)).to.equal(onChain.head);
      expect(checkAudit(replay, onChain)).to.match(/matches the on-chain head/);
      // One altered event (a different commitment) or one missing event no longer replays to the head.
      const events = await collectAuditedEvents(sys);
      const k = events.findIndex((e) => e.eventName === "ShareCommitted");
      const altered = events.map((e, i) => (i === k ? { ...e, values: [e.values[0], e.values[1], e.values[2], toHex(new Uint8Array(32).fill(1))] } : e));
      expect(() => checkAudit(replayAudit(altered), onChain)).to.throw(/an event was altered/);
      const missing = events.filter((_, i) => i !== k);
      expect(() => checkAudit(replayAudit(missing), onChain)).to.throw(/events are missing or extra/);
      expect(Number(replay.length)).to.be.greaterThan(50, "the run should have folded many entries");
    });
  });
});

