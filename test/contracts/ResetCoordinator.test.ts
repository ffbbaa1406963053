import { expect } from "chai";
import { network } from "hardhat";
import { type Address, keccak256 } from "viem";

import { type System, deploySystem } from "../helpers/system.ts";
import {
  type Account,
  type Committee,
  committeeOf,
  findEvent,
  linkTo,
  post,
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
    });
  });
});
