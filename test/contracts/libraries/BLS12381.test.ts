import { expect } from "chai";
import { network } from "hardhat";
import { hexToBytes, stringToHex, toBytes, toHex, type Hex } from "viem";

import {
  DST,
  Fp,
  Fp2Field,
  Fr,
  deal,
  lagrangeAtZero,
  randomScalar,
  G1,
  G2,
  computePartial,
  g1ToEip2537,
  g2ToEip2537,
  hashToG1,
  publicShare,
} from "../../../sdk/index.ts";
import { message, tokenFixture } from "../../helpers/fixtures.ts";
import { eip2537Vectors, expandVectors, fpHex, g1Hex, hashToG1Vectors } from "../../helpers/vectors.ts";

const { ethers } = await network.create();

/** BLS12381.BLSError, in declaration order. */
const BLSError = {
  None: 0,
  InvalidLength: 1,
  InvalidFieldElement: 2,
  PointNotOnCurve: 3,
  PointNotInSubgroup: 4,
  PointAtInfinity: 5,
  SignatureInvalid: 6,
  ShareInvalid: 7,
} as const;
const errorName = (v: number) => Object.keys(BLSError).find((k) => BLSError[k as keyof typeof BLSError] === v);

async function deployHarness() {
  return ethers.deployContract("BLS12381Harness");
}

/** A G1 point on the curve y² = x³ + 4 but outside the prime-order subgroup, in EIP-2537 form. */
function g1OffSubgroup(): Hex {
  for (let x = 1n; ; x++) {
    const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
    let y: bigint;
    try {
      y = Fp.sqrt(rhs);
    } catch {
      continue;
    }
    const p = G1.fromAffine({ x, y });
    if (!p.isTorsionFree()) return (fpHex(x.toString()) + fpHex(y.toString()).slice(2)) as Hex;
  }
}

/** A G2 point on the twist but outside the prime-order subgroup, in EIP-2537 form. */
function g2OffSubgroup(): Hex {
  const { b } = G2.CURVE();
  for (let k = 1n; ; k++) {
    const x = Fp2Field.create({ c0: k, c1: 1n });
    const rhs = Fp2Field.add(Fp2Field.mul(Fp2Field.sqr(x), x), b);
    let y;
    try {
      y = Fp2Field.sqrt(rhs);
    } catch {
      continue;
    }
    const p = G2.fromAffine({ x, y });
    if (!p.isTorsionFree()) return toHex(g2ToEip2537Unchecked(x, y));
  }
}

function g2ToEip2537Unchecked(x: { c0: bigint; c1: bigint }, y: { c0: bigint; c1: bigint }): Uint8Array {
  return hexToBytes(("0x" + [x.c0, x.c1, y.c0, y.c1].map((v) => v.toString(16).padStart(128, "0")).join("")) as Hex);
}

describe("BLS12381 library", function () {
  describe("RFC 9380 hash to G1", function () {
    for (const file of expandVectors) {
      it(`expand_message_xmd matches every K.1 vector with DST of ${file.DST.length} bytes`, async function () {
        const harness = await deployHarness();
        for (const v of file.tests) {
          const out = await harness.expandMessageXmd(stringToHex(v.msg), stringToHex(file.DST), BigInt(v.len_in_bytes));
          expect(out).to.equal("0x" + v.uniform_bytes, `msg ${JSON.stringify(v.msg)}, len ${v.len_in_bytes}`);
        }
      });
    }

    it("hash_to_field and hash_to_curve match every J.9.1 vector with the RFC's DST", async function () {
      const harness = await deployHarness();
      const dst = stringToHex(hashToG1Vectors.dst);
      for (const v of hashToG1Vectors.vectors) {
        const u = await harness.hashToField(stringToHex(v.msg), dst);
        expect(u).to.equal(fpHex(v.u[0]) + fpHex(v.u[1]).slice(2), `u for ${JSON.stringify(v.msg)}`);
        expect(await harness["hashToG1(bytes,bytes)"](stringToHex(v.msg), dst)).to.equal(g1Hex(v.P), `P for ${JSON.stringify(v.msg)}`);
      }
    });

    it("the precompile MAP_FP_TO_G1 of this EVM answers the EIP-2537 vectors", async function () {
      for (const v of eip2537Vectors.G1) {
        const out = await ethers.provider.call({ to: "0x0000000000000000000000000000000000000010", data: "0x" + v.Input });
        expect(out).to.equal("0x" + v.Expected, v.Name);
      }
    });

    it("spells the protocol DST exactly as the TypeScript constant", async function () {
      const harness = await deployHarness();
      expect(await harness.dst()).to.equal(stringToHex(DST));
    });

    it("hashToG1 with the protocol DST equals @noble/curves for 50 random messages", async function () {
      const harness = await deployHarness();
      for (let i = 0; i < 50; i++) {
        const m = toHex(crypto.getRandomValues(new Uint8Array(32)));
        const expected = toHex(g1ToEip2537(hashToG1(hexToBytes(m))));
        expect(await harness["hashToG1(bytes32)"](m)).to.equal(expected, `message ${m}`);
      }
    });

    it("the fixed-DST hashToG1(bytes32) equals the general path with the protocol DST", async function () {
      const harness = await deployHarness();
      for (let i = 0; i < 5; i++) {
        const m = message(100 + i);
        expect(await harness["hashToG1(bytes32)"](m)).to.equal(await harness["hashToG1(bytes,bytes)"](m, stringToHex(DST)));
      }
    });

    it("reduces 512-bit values mod p exactly at the edges of the Barrett bound", async function () {
      const harness = await deployHarness();
      const p = Fp.ORDER;
      const max = (1n << 512n) - 1n;
      const q = max / p;
      const values = [0n, 1n, p - 1n, p, p + 1n, 2n * p - 1n, 2n * p, 3n * p - 1n, q * p, q * p - 1n, max, max - p, (1n << 511n), (1n << 131n) * p];
      for (let k = 0; k < 30; k++) values.push(BigInt(toHex(crypto.getRandomValues(new Uint8Array(64)))));
      for (const v of values) {
        const [hi, lo] = await harness.reduceModP(v >> 256n, v & ((1n << 256n) - 1n));
        expect((hi << 256n) + lo).to.equal(v % p, `V = ${v.toString(16)}`);
      }
    });

    it("refuses an expand_message_xmd length of 0 or beyond 255 blocks", async function () {
      const harness = await deployHarness();
      await expect(harness.expandMessageXmd("0x", "0x41", 0n)).to.be.revertedWithCustomError(harness, "BLSExpandLengthOutOfRange").withArgs(0n);
      await expect(harness.expandMessageXmd("0x", "0x41", 8161n)).to.be.revertedWithCustomError(harness, "BLSExpandLengthOutOfRange").withArgs(8161n);
    });
  });

  describe("token verification", function () {
    it("accepts tokens combined by the TypeScript library", async function () {
      const harness = await deployHarness();
      for (let i = 0; i < 3; i++) {
        const f = tokenFixture(message(i));
        await harness.verifyToken(f.tokenHex, f.groupKeyHex, f.message);
        expect(await harness.tryVerifyToken(f.tokenHex, f.groupKeyHex, f.message)).to.equal(BLSError.None);
      }
    });

    it("refuses a tampered token, a token for another message and a token under another key", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(7));
      const tampered = toHex(g1ToEip2537(f.token.add(G1.BASE)));
      await expect(harness.verifyToken(tampered, f.groupKeyHex, f.message))
        .to.be.revertedWithCustomError(harness, "BLSSignatureInvalid")
        .withArgs(tampered);
      await expect(harness.verifyToken(f.tokenHex, f.groupKeyHex, message(8))).to.be.revertedWithCustomError(harness, "BLSSignatureInvalid");
      const other = tokenFixture(message(7));
      await expect(harness.verifyToken(f.tokenHex, other.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSSignatureInvalid");
      expect(await harness.tryVerifyToken(tampered, f.groupKeyHex, f.message)).to.equal(BLSError.SignatureInvalid);
    });

    it("names malformed encodings with their own errors", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(9));
      const short = f.tokenHex.slice(0, -2) as Hex;
      await expect(harness.verifyToken(short, f.groupKeyHex, f.message))
        .to.be.revertedWithCustomError(harness, "BLSInvalidPointLength")
        .withArgs(128n, 127n);
      await expect(harness.verifyToken(f.tokenHex, f.tokenHex, f.message))
        .to.be.revertedWithCustomError(harness, "BLSInvalidPointLength")
        .withArgs(256n, 128n);

      const padded = ("0x01" + f.tokenHex.slice(4)) as Hex; // a non-zero byte in the 16-byte padding
      await expect(harness.verifyToken(padded, f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSInvalidFieldElement").withArgs(padded);
      const p = Fp.ORDER.toString();
      const notReduced = (fpHex(p) + fpHex("1").slice(2)) as Hex; // x = p
      await expect(harness.verifyToken(notReduced, f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSInvalidFieldElement");

      const offCurve = (fpHex("1") + fpHex("1").slice(2)) as Hex;
      await expect(harness.verifyToken(offCurve, f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSPointNotOnCurve").withArgs(offCurve);

      const offSubgroup = g1OffSubgroup();
      await expect(harness.verifyToken(offSubgroup, f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSPointNotInSubgroup").withArgs(offSubgroup);

      const keyOffSubgroup = g2OffSubgroup();
      await expect(harness.verifyToken(f.tokenHex, keyOffSubgroup, f.message)).to.be.revertedWithCustomError(harness, "BLSPointNotInSubgroup").withArgs(keyOffSubgroup);

      const zeroG1 = toHex(new Uint8Array(128));
      const zeroG2 = toHex(new Uint8Array(256));
      await expect(harness.verifyToken(zeroG1, f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSPointAtInfinity").withArgs(zeroG1);
      await expect(harness.verifyToken(f.tokenHex, zeroG2, f.message)).to.be.revertedWithCustomError(harness, "BLSPointAtInfinity").withArgs(zeroG2);
    });

    it("the calldata fast path accepts the same tokens and refuses with the same errors", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(20));
      await harness.verifyTokenCalldata(f.tokenHex, f.groupKeyHex, f.message);
      expect(await harness.tryVerifyTokenCalldata(f.tokenHex, f.groupKeyHex, f.message)).to.equal(BLSError.None);
      await expect(harness.verifyTokenCalldata(f.tokenHex, f.groupKeyHex, message(21))).to.be.revertedWithCustomError(harness, "BLSSignatureInvalid").withArgs(f.tokenHex);
      const offSubgroup = g1OffSubgroup();
      await expect(harness.verifyTokenCalldata(offSubgroup, f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSPointNotInSubgroup").withArgs(offSubgroup);
      const zeroG2 = toHex(new Uint8Array(256));
      await expect(harness.verifyTokenCalldata(f.tokenHex, zeroG2, f.message)).to.be.revertedWithCustomError(harness, "BLSPointAtInfinity").withArgs(zeroG2);
      await expect(harness.verifyTokenCalldata(f.tokenHex.slice(0, -2), f.groupKeyHex, f.message)).to.be.revertedWithCustomError(harness, "BLSInvalidPointLength").withArgs(128n, 127n);
      expect(await harness.tryVerifyTokenCalldata(g1OffSubgroup(), f.groupKeyHex, f.message)).to.equal(BLSError.PointNotInSubgroup);
    });

    it("returns the refusal from tryVerifyToken without burning the caller's gas", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(10));
      const cases: [Hex, Hex, number][] = [
        [g1OffSubgroup(), f.groupKeyHex, BLSError.PointNotInSubgroup],
        [(fpHex("1") + fpHex("1").slice(2)) as Hex, f.groupKeyHex, BLSError.PointNotOnCurve],
        [f.tokenHex, g2OffSubgroup(), BLSError.PointNotInSubgroup],
        [toHex(new Uint8Array(127)), f.groupKeyHex, BLSError.InvalidLength],
      ];
      for (const [sigma, key, expected] of cases) {
        expect(await harness.tryVerifyToken(sigma, key, f.message)).to.equal(expected);
        const gas = await harness.tryVerifyToken.estimateGas(sigma, key, f.message);
        expect(gas < 300_000n, `refusal ${errorName(expected)} used ${gas} gas`).to.equal(true);
      }
    });
  });

  describe("Feldman public shares and partials", function () {
    it("derives PK_i = Σ i^j·C_j as the TypeScript library does, for every member", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(11), 5, 3);
      for (let i = 1; i <= 5; i++) {
        const expected = toHex(g2ToEip2537(publicShare(f.dealing.commitments, i)));
        expect(await harness.derivePublicShare(f.commitmentsHex, i)).to.equal(expected);
      }
    });

    it("accepts a valid partial and refuses another member's partial under index i", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(12), 5, 3);
      const [s1, s2] = f.dealing.shares;
      const p1 = toHex(g1ToEip2537(computePartial(s1, toBytes(f.message)).sigma));
      const p2 = toHex(g1ToEip2537(computePartial(s2, toBytes(f.message)).sigma));
      await harness.verifyPartial(p1, f.commitmentsHex, 1, f.message);
      expect(await harness.tryVerifyPartial(p1, f.commitmentsHex, 1, f.message)).to.equal(BLSError.None);
      expect(await harness.tryVerifyPartial(p2, f.commitmentsHex, 1, f.message)).to.equal(BLSError.SignatureInvalid);
      await expect(harness.verifyPartial(p2, f.commitmentsHex, 1, f.message)).to.be.revertedWithCustomError(harness, "BLSSignatureInvalid").withArgs(p2);
    });

    it("refuses index 0, a ragged commitment list and a commitment off the subgroup", async function () {
      const harness = await deployHarness();
      const f = tokenFixture(message(13), 3, 2);
      await expect(harness.derivePublicShare(f.commitmentsHex, 0)).to.be.revertedWithCustomError(harness, "BLSInvalidShareIndex").withArgs(0n);
      await expect(harness.derivePublicShare(f.commitmentsHex.slice(0, -2), 1)).to.be.revertedWithCustomError(harness, "BLSInvalidCommitments").withArgs(511n);
      await expect(harness.derivePublicShare("0x", 1)).to.be.revertedWithCustomError(harness, "BLSInvalidCommitments").withArgs(0n);
      const bad = g2OffSubgroup();
      const commitments = (f.commitmentsHex + bad.slice(2)) as Hex;
      await expect(harness.derivePublicShare(commitments, 2)).to.be.revertedWithCustomError(harness, "BLSPointNotInSubgroup").withArgs(bad);
      const [err] = await harness.tryDerivePublicShare(commitments, 2);
      expect(err).to.equal(BigInt(BLSError.PointNotInSubgroup));
    });
  });

  describe("committee rounds: Feldman shares, G2 sums, Lagrange coefficients (PROTOCOL.md §3–§4)", function () {
    const hexOf = (points: readonly (typeof G2.BASE)[]) => ("0x" + points.map((p) => toHex(g2ToEip2537(p)).slice(2)).join("")) as Hex;

    it("tryVerifyShare accepts every true share of random dealings and refuses a wrong, zero or out-of-range one", async function () {
      const harness = await deployHarness();
      for (let k = 0; k < 4; k++) {
        const d = deal(5, 3);
        const commitments = hexOf(d.commitments);
        for (const s of d.shares) expect(await harness.tryVerifyShare(commitments, s.index, s.value)).to.equal(BLSError.None);
        expect(await harness.tryVerifyShare(commitments, 1, Fr.add(d.shares[0].value, 1n))).to.equal(BLSError.ShareInvalid);
        expect(await harness.tryVerifyShare(commitments, 2, d.shares[0].value)).to.equal(BLSError.ShareInvalid);
      }
      const d = deal(3, 2);
      const commitments = hexOf(d.commitments);
      expect(await harness.tryVerifyShare(commitments, 1, 0n)).to.equal(BLSError.ShareInvalid);
      expect(await harness.tryVerifyShare(commitments, 1, Fr.ORDER)).to.equal(BLSError.ShareInvalid);
      await expect(harness.verifyShare(commitments, 1, 5n)).to.be.revertedWithCustomError(harness, "BLSShareInvalid").withArgs(1n, 5n);
      const bad = g2OffSubgroup();
      expect(await harness.tryVerifyShare((commitments + bad.slice(2)) as Hex, 1, d.shares[0].value)).to.equal(BLSError.PointNotInSubgroup);
    });

    it("trySumG2 adds lists of commitments entry by entry, as @noble/curves does, and names an off-curve point", async function () {
      const harness = await deployHarness();
      const dealings = [deal(5, 3), deal(5, 3), deal(5, 3), deal(5, 3)];
      const [err, sum] = await harness.trySumG2(dealings.map((d) => hexOf(d.commitments)));
      expect(err).to.equal(BigInt(BLSError.None));
      const expected = [0, 1, 2].map((l) => dealings.reduce((acc, d) => acc.add(d.commitments[l]), G2.ZERO));
      expect(sum).to.equal(hexOf(expected));
      const offCurve = ("0x" + "00".repeat(255) + "01") as Hex;
      const [err2] = await harness.trySumG2([hexOf(dealings[0].commitments.slice(0, 1)), offCurve]);
      expect(err2).to.equal(BigInt(BLSError.PointNotOnCurve));
      await expect(harness.trySumG2([hexOf(dealings[0].commitments), hexOf(dealings[1].commitments.slice(0, 2))])).to.be.revertedWithCustomError(harness, "BLSInvalidCommitments");
    });

    it("lagrangeAtZero equals the TypeScript coefficients for random index sets and refuses duplicates and 0", async function () {
      const harness = await deployHarness();
      for (const indices of [[1, 2, 3], [2, 3, 4], [1, 5, 9, 17], [3, 7, 11, 19, 23, 29, 31, 32]]) {
        expect(await harness.lagrangeAtZero(indices)).to.deep.equal(lagrangeAtZero(indices));
      }
      await expect(harness.lagrangeAtZero([1, 2, 2])).to.be.revertedWithCustomError(harness, "BLSInvalidLagrangeIndices").withArgs(2n);
      await expect(harness.lagrangeAtZero([0, 2])).to.be.revertedWithCustomError(harness, "BLSInvalidLagrangeIndices").withArgs(0n);
    });

    it("tryLinearCombinationG2 with Lagrange coefficients recovers the reshared key: C'_0 = K", async function () {
      const harness = await deployHarness();
      const old = deal(5, 3);
      // Old members 2, 4, 5 reshare their shares with fresh polynomials g_i(0) = s_i.
      const dealers = [2, 4, 5];
      const reshares = dealers.map((i) => deal(5, 3, { coefficients: [old.shares[i - 1].value, randomScalar(), randomScalar()] }));
      const [err, combined] = await harness.tryLinearCombinationG2(reshares.map((d) => hexOf(d.commitments)), lagrangeAtZero(dealers));
      expect(err).to.equal(BigInt(BLSError.None));
      expect((combined as string).slice(0, 2 + 512)).to.equal(toHex(g2ToEip2537(old.groupKey)));
      const [err2] = await harness.tryLinearCombinationG2([hexOf(reshares[0].commitments), g2OffSubgroup() + "00".repeat(512)], [1n, 1n]);
      expect(err2).to.equal(BigInt(BLSError.PointNotInSubgroup));
    });
  });

  describe("point validation", function () {
    it("accepts subgroup points and names each kind of invalid point", async function () {
      const harness = await deployHarness();
      await harness.validateG1(toHex(g1ToEip2537(G1.BASE.multiply(5n))));
      await harness.validateG2(toHex(g2ToEip2537(G2.BASE.multiply(5n))));
      await expect(harness.validateG1(toHex(new Uint8Array(128)))).to.be.revertedWithCustomError(harness, "BLSPointAtInfinity");
      await expect(harness.validateG1(g1OffSubgroup())).to.be.revertedWithCustomError(harness, "BLSPointNotInSubgroup");
      await expect(harness.validateG2(g2OffSubgroup())).to.be.revertedWithCustomError(harness, "BLSPointNotInSubgroup");
      await expect(harness.validateG2(toHex(new Uint8Array(128)))).to.be.revertedWithCustomError(harness, "BLSInvalidPointLength").withArgs(256n, 128n);
      expect(await harness.tryValidateG1((fpHex("1") + fpHex("1").slice(2)) as Hex)).to.equal(BLSError.PointNotOnCurve);
    });
  });
});
