import { expect } from "chai";
import { AbiCoder, concat as ethersConcat, keccak256 as ethersKeccak, toUtf8Bytes as ethersUtf8 } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";
import { getAddress, keccak256, stringToHex, toHex, zeroAddress } from "viem";

import {
  TAG_HASH,
  channelIdentity,
  commitmentsHash,
  deal,
  envelopeInfo,
  g2ToEip2537,
  groupKeyHash,
  peerSignatureInfo,
  resetMessage,
} from "../../../sdk/index.ts";
import { message, refusal } from "../../helpers/fixtures.ts";

const { ethers } = await network.create();

describe("sdk/encoding/messages against the EVM", function () {
  it("computes m and id_j exactly as the contracts' abi.encode (ProtocolMessages)", async function () {
    const harness = await ethers.deployContract("BLS12381Harness");
    const address = getAddress(await harness.getAddress());
    for (let k = 0; k < 5; k++) {
      const fields = {
        chainId: 31337n + BigInt(k),
        coordinator: address,
        requestId: BigInt(k * 1000 + 1),
        accountId: message(k),
        accountEpoch: BigInt(k + 1),
        committeeId: BigInt(k * 7 + 1),
        newController: k === 0 ? zeroAddress : getAddress(toHex(BigInt(k + 0xabc), { size: 20 })),
        requesterKeyHash: message(k + 50),
      };
      expect(
        await harness.resetMessage(
          fields.chainId,
          fields.coordinator,
          fields.requestId,
          fields.accountId,
          fields.accountEpoch,
          fields.committeeId,
          fields.newController,
          fields.requesterKeyHash,
        ),
      ).to.equal(resetMessage(fields));
      expect(await harness.channelIdentity(fields.chainId, address, fields.accountId, fields.accountEpoch, k + 1)).to.equal(
        channelIdentity(fields.chainId, address, fields.accountId, fields.accountEpoch, k + 1),
      );
    }
  });

  it("hashes domain tags and commitments as PROTOCOL.md §11 states", function () {
    expect(TAG_HASH.reset).to.equal(keccak256(stringToHex("CGUARD-V02/reset")));
    const d = deal(3, 2);
    const encoded = d.commitments.map((c) => g2ToEip2537(c));
    expect(commitmentsHash(encoded)).to.equal(keccak256(Buffer.concat(encoded)));
    expect(groupKeyHash(encoded[0])).to.equal(keccak256(encoded[0]));
  });
});

// ───────────────────────────── protocol v2 (§4.6, §5, §6.2, §11), against ethers' encoder ─────────────────────────────

describe("sdk/encoding/messages v2 against an independent encoder (ethers AbiCoder)", function () {
  const coder = AbiCoder.defaultAbiCoder();
  const coordinator = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
  const tag = (s: string) => ethersKeccak(ethersUtf8(s));

  it("m binds the v2 tag, chain, coordinator, request, account, account epoch, committee, new controller and keccak256(A)", function () {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
        fc.bigInt({ min: 1n, max: 1000n }),
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        fc.integer({ min: 0, max: 1000 }),
        (chainId, requestId, accountEpoch, committeeId, seed) => {
          const f = {
            chainId,
            coordinator,
            requestId,
            accountId: message(seed),
            accountEpoch,
            committeeId,
            newController: getAddress(toHex(BigInt(seed + 0xabc), { size: 20 })),
            requesterKeyHash: message(seed + 7),
          };
          const want = ethersKeccak(
            coder.encode(
              ["bytes32", "uint256", "address", "uint256", "bytes32", "uint256", "uint256", "address", "bytes32"],
              [tag("CGUARD-V02/reset"), chainId, coordinator, requestId, f.accountId, accountEpoch, committeeId, f.newController, f.requesterKeyHash],
            ),
          );
          expect(resetMessage(f)).to.equal(want);
        },
      ),
      { numRuns: 30 },
    );
    expect(TAG_HASH.reset).to.equal(keccak256(stringToHex("CGUARD-V02/reset")));
    expect(TAG_HASH.channel).to.equal(keccak256(stringToHex("CGUARD-V02/channel")));
  });

  it("a drill's m (newController = 0) differs from the reset's, and every field changes m", function () {
    const base = {
      chainId: 31337n,
      coordinator,
      requestId: 5n,
      accountId: message(1),
      accountEpoch: 1n,
      committeeId: 2n,
      newController: getAddress("0x00000000000000000000000000000000000000aa"),
      requesterKeyHash: message(2),
    };
    const m = resetMessage(base);
    const variants = [
      { ...base, chainId: 1n },
      { ...base, coordinator: getAddress("0x00000000000000000000000000000000000000bb") },
      { ...base, requestId: 6n },
      { ...base, accountId: message(3) },
      { ...base, accountEpoch: 2n },
      { ...base, committeeId: 3n },
      { ...base, newController: zeroAddress },
      { ...base, requesterKeyHash: message(4) },
    ];
    expect(new Set([m, ...variants.map((v) => resetMessage(v))]).size).to.equal(variants.length + 1);
  });

  it("id_j, the envelope info and the peer-signature info are the §11 encodings with the coordinator as registry", function () {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.bigInt({ min: 1n, max: 99n }), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 32 }), (seed, accountEpoch, j, signer) => {
        const accountId = message(seed);
        const head = coder.encode(["uint256", "address", "bytes32", "uint256", "uint256"], [31337n, coordinator, accountId, accountEpoch, j]);
        expect(channelIdentity(31337n, coordinator, accountId, accountEpoch, j)).to.equal(
          ethersKeccak(coder.encode(["bytes32", "uint256", "address", "bytes32", "uint256", "uint256"], [tag("CGUARD-V02/channel"), 31337n, coordinator, accountId, accountEpoch, j])),
        );
        expect(toHex(envelopeInfo(31337n, coordinator, accountId, accountEpoch, j))).to.equal(ethersConcat([ethersUtf8("CGUARD-V02/channel"), head]));
        expect(toHex(peerSignatureInfo(31337n, coordinator, accountId, accountEpoch, j, signer))).to.equal(
          ethersConcat([
            ethersUtf8("CGUARD-V02/peer-signature"),
            coder.encode(["uint256", "address", "bytes32", "uint256", "uint256", "uint256"], [31337n, coordinator, accountId, accountEpoch, j, signer]),
          ]),
        );
      }),
      { numRuns: 30 },
    );
  });

  it("refuses fields out of range, naming them", function () {
    const accountId = message(1);
    expect(refusal(() => channelIdentity(31337n, coordinator, accountId, 0n, 1)).message).to.equal(
      "channelIdentity: expected accountEpoch as a bigint in [1, 2^256 − 1], got 0n",
    );
    expect(refusal(() => envelopeInfo(31337n, coordinator, accountId, 1n, 33)).message).to.equal(
      "envelopeInfo: expected slot j as an integer in [1, 32], got 33",
    );
    expect(refusal(() => peerSignatureInfo(31337n, coordinator, accountId, 1n, 1, 0)).message).to.equal(
      "peerSignatureInfo: expected signer as an integer in [1, 32], got 0",
    );
    expect(refusal(() => channelIdentity(31337n, coordinator, "0x12", 1n, 1)).message).to.match(/accountId: expected 32 bytes/);
    expect(
      refusal(() =>
        resetMessage({
          chainId: 1n,
          coordinator,
          requestId: 1n,
          accountId,
          accountEpoch: 1n,
          committeeId: 1n,
          newController: zeroAddress,
          requesterKeyHash: "0x1234",
        }),
      ).message,
    ).to.match(/requesterKeyHash: expected 32 bytes/);
  });
});
