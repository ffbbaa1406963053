import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, keccak256, stringToHex, toHex } from "viem";

import {
  TAG_HASH,
  ackMessage,
  channelIdentity,
  commitmentsHash,
  computePartial,
  deal,
  g1ToEip2537,
  g2ToEip2537,
  groupKeyHash,
  resetMessage,
  shareCommit,
} from "../../../sdk/index.ts";
import { message } from "../../helpers/fixtures.ts";

const { ethers } = await network.create();

describe("sdk/encoding/messages against the EVM", function () {
  it("computes m, h_i, the acknowledgement message and id_j exactly as the contracts' abi.encode", async function () {
    const harness = await ethers.deployContract("BLS12381Harness");
    const address = getAddress(await harness.getAddress());
    const d = deal(3, 2);
    for (let k = 0; k < 5; k++) {
      const fields = {
        chainId: 31337n + BigInt(k),
        coordinator: address,
        requestId: BigInt(k * 1000 + 1),
        accountId: message(k),
        epoch: BigInt(k + 1),
        newController: getAddress(toHex(BigInt(k + 0xabc), { size: 20 })),
        ephemeralKey: message(k + 50),
      };
      const m = resetMessage(fields);
      expect(
        await harness.resetMessage(fields.chainId, fields.coordinator, fields.requestId, fields.accountId, fields.epoch, fields.newController, fields.ephemeralKey),
      ).to.equal(m);
      const sigma = g1ToEip2537(computePartial(d.shares[0], Buffer.from(m.slice(2), "hex")).sigma);
      expect(await harness.shareCommit(fields.requestId, k + 1, toHex(sigma))).to.equal(shareCommit(fields.requestId, k + 1, sigma));
      expect(await harness.ackMessage(fields.chainId, address, fields.accountId, fields.epoch, k + 1)).to.equal(
        ackMessage(fields.chainId, address, fields.accountId, fields.epoch, k + 1),
      );
      expect(await harness.channelIdentity(fields.chainId, address, fields.accountId, k + 1)).to.equal(
        channelIdentity(fields.chainId, address, fields.accountId, k + 1),
      );
    }
  });

  it("hashes domain tags and commitments as PROTOCOL.md §9 states", function () {
    expect(TAG_HASH.reset).to.equal(keccak256(stringToHex("CGUARD-V01/reset")));
    const d = deal(3, 2);
    const encoded = d.commitments.map((c) => g2ToEip2537(c));
    expect(commitmentsHash(encoded)).to.equal(keccak256(Buffer.concat(encoded)));
    expect(groupKeyHash(encoded[0])).to.equal(keccak256(encoded[0]));
  });
});
