import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import { bytesToHex, hexToBytes, type Hex } from "viem";

import {
  Fp,
  G1,
  G2,
  g1CompressedToEip2537,
  g1Eip2537ToCompressed,
  g1FromCompressed,
  g1FromEip2537,
  g1ToEip2537,
  g2CompressedToEip2537,
  g2Eip2537ToCompressed,
  g2FromEip2537,
  g2ToEip2537,
  hashToG1,
  inSubgroup,
  scalarFromBytes,
} from "../../../sdk/index.ts";
import { errorCode } from "../../helpers/fixtures.ts";
import { expandVectors, fpHex, g1Hex, hashToG1Vectors } from "../../helpers/vectors.ts";


describe("sdk/crypto/bls", function () {
  it("hashToG1 matches every RFC 9380 J.9.1 vector with the RFC's DST", function () {
    for (const v of hashToG1Vectors.vectors) {
      const p = hashToG1(new TextEncoder().encode(v.msg), hashToG1Vectors.dst);
      expect(bytesToHex(g1ToEip2537(p))).to.equal(g1Hex(v.P));
    }
  });

  it("the expand_message_xmd it relies on matches every RFC 9380 K.1 vector", function () {
    for (const file of expandVectors) {
      for (const v of file.tests) {
        const out = expand_message_xmd(new TextEncoder().encode(v.msg), file.DST, Number(v.len_in_bytes), sha256);
        expect(bytesToHex(out)).to.equal("0x" + v.uniform_bytes);
      }
    }
  });

  it("round-trips points between EIP-2537 and compressed encodings", function () {
    for (let k = 1n; k <= 5n; k++) {
      const p1 = G1.BASE.multiply(k * 7919n);
      const p2 = G2.BASE.multiply(k * 104729n);
      expect(g1FromEip2537(g1ToEip2537(p1)).equals(p1)).to.equal(true);
      expect(g2FromEip2537(g2ToEip2537(p2)).equals(p2)).to.equal(true);
      expect(g1Eip2537ToCompressed(g1CompressedToEip2537(p1.toBytes(true)))).to.deep.equal(p1.toBytes(true));
      expect(g2Eip2537ToCompressed(g2CompressedToEip2537(p2.toBytes(true)))).to.deep.equal(p2.toBytes(true));
    }
  });

  it("refuses wrong lengths, bad padding, unreduced coordinates, off-curve points and infinity with distinct codes", function () {
    const good = g1ToEip2537(G1.BASE);
    expect(errorCode(() => g1FromEip2537(good.subarray(0, 127)))).to.equal("INVALID_LENGTH");
    const padded = good.slice();
    padded[0] = 1;
    expect(errorCode(() => g1FromEip2537(padded))).to.equal("INVALID_ENCODING");
    expect(errorCode(() => g1FromEip2537(hexToBytes((fpHex(Fp.ORDER.toString()) + fpHex("2").slice(2)) as Hex)))).to.equal("INVALID_ENCODING");
    expect(errorCode(() => g1FromEip2537(hexToBytes((fpHex("1") + fpHex("1").slice(2)) as Hex)))).to.equal("NOT_ON_CURVE");
    expect(errorCode(() => g1FromEip2537(new Uint8Array(128)))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => g2FromEip2537(new Uint8Array(256)))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => g1FromCompressed(G1.ZERO.toBytes(true)))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => g1FromCompressed(new Uint8Array(47)))).to.equal("INVALID_LENGTH");
  });

  it("refuses a G1 point on the curve but outside the subgroup", function () {
    let x = 1n;
    for (;; x++) {
      const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
      try {
        const y = Fp.sqrt(rhs);
        if (!G1.fromAffine({ x, y }).isTorsionFree()) {
          const bytes = hexToBytes((fpHex(x.toString()) + fpHex(y.toString()).slice(2)) as Hex);
          expect(errorCode(() => g1FromEip2537(bytes))).to.equal("NOT_IN_SUBGROUP");
          return;
        }
      } catch {
        // not a square: next x
      }
    }
  });

  it("inSubgroup (noble's assertValidity, the decoders' one subgroup check) refuses points on the curve outside the subgroup, in G1 and G2", function () {
    // The decoders rest their subgroup check on assertValidity: if a noble upgrade stopped it checking the subgroup,
    // this fails.
    const g1 = (() => {
      for (let x = 1n; ; x++) {
        try {
          const p = G1.fromAffine({ x, y: Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 4n)) });
          if (!p.isTorsionFree()) return p;
        } catch {
          // not a square: next x
        }
      }
    })();
    const g2 = (() => {
      const Fp2 = G2.Fp;
      const { b } = G2.CURVE();
      for (let k = 1n; ; k++) {
        const x = Fp2.create({ c0: k, c1: 1n });
        try {
          const p = G2.fromAffine({ x, y: Fp2.sqrt(Fp2.add(Fp2.mul(Fp2.sqr(x), x), b)) });
          if (!p.isTorsionFree()) return p;
        } catch {
          // not a square: next x
        }
      }
    })();
    expect(inSubgroup(g1)).to.equal(false);
    expect(inSubgroup(g2)).to.equal(false);
    expect(inSubgroup(g1), "a refusal is not remembered").to.equal(false);
    expect(inSubgroup(G1.BASE.multiply(12345n))).to.equal(true);
    expect(inSubgroup(G2.BASE.multiply(12345n))).to.equal(true);
  });

  it("refuses scalars outside [1, r-1]", function () {
    expect(errorCode(() => scalarFromBytes(new Uint8Array(32)))).to.equal("INVALID_SCALAR");
    expect(errorCode(() => scalarFromBytes(new Uint8Array(31)))).to.equal("INVALID_INPUT");
    expect(errorCode(() => scalarFromBytes(new Uint8Array(32).fill(0xff)))).to.equal("INVALID_SCALAR");
  });
});
