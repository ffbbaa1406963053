import { expect } from "chai";
import { type Hex, hexToBytes, toHex } from "viem";

import { judgePosting, readCodes } from "../../../sdk/client/index.ts";
import { Fp, G1, P, hashToG1 } from "../../../sdk/crypto/bls.ts";
import { compressPosting, makePosting } from "../../../sdk/crypto/posting.ts";
import { deal, publicShare, randomScalar } from "../../../sdk/crypto/threshold.ts";
import { formatCodeMessage, generateChannelCode } from "../../../sdk/encoding/channelCode.ts";

/** Judging postings as a watcher does, with no chain: honest postings always stand, each kind of fault is named. */
describe("sdk/client watchers: judging postings", function () {
  const dealing = deal(5, 3);
  const message: Hex = `0x${"ab".repeat(32)}`;
  const hashed = hashToG1(hexToBytes(message));
  const a = randomScalar();
  const A = G1.BASE.multiply(a);

  function honest(slot: number) {
    return makePosting({ share: dealing.shares[slot - 1], hashedMessage: hashed, requesterKey: A, c: randomScalar() });
  }
  const judge = (posting: Hex, slot: number) => judgePosting(posting, { message, publicShare: publicShare(dealing.commitments, slot), requesterKey: A });

  it("never judges an honest posting invalid (random postings of every slot)", function () {
    for (let k = 0; k < 10; k++) {
      const slot = 1 + (k % 5);
      const v = judge(toHex(compressPosting(honest(slot))), slot);
      expect(v, `slot ${slot}`).to.deep.equal({ valid: true, check: "" });
    }
  });

  it("names the failing equation: W off by P1, U and V with different ρ, a posting checked against another slot's key", function () {
    const p = honest(2);
    expect(judge(toHex(compressPosting({ ...p, W: p.W.add(G1.BASE) })), 2).check).to.include("W does not hold the guardian's partial");
    expect(judge(toHex(compressPosting({ ...p, U: p.U.add(G1.BASE) })), 2).check).to.include("U and V do not carry the same ρ");
    expect(judge(toHex(compressPosting(p)), 3).valid).to.equal(false);
  });

  it("names bad encodings from the bytes: flags, x ≥ p, infinity, no curve point (with a witness that checks), length", function () {
    const bytes = compressPosting(honest(1));
    const flags = bytes.slice();
    flags[48] &= 0x7f; // U without the compression flag
    expect(judge(toHex(flags), 1)).to.include({ valid: false, check: "U is no point: bad flags" });
    const big = bytes.slice();
    big.set(hexToBytes(toHex(P, { size: 48 })), 192);
    big[192] |= 0x80;
    expect(judge(toHex(big), 1).check).to.equal("W is no point: x not below p");
    const inf = bytes.slice();
    inf.fill(0, 0, 48);
    inf[0] = 0xc0;
    expect(judge(toHex(inf), 1).check).to.equal("C is the point at infinity");
    // Find an x with no y on G1 (x³ + 4 not a square) and check the witness: w² = −(x³ + 4).
    let x = 5n;
    while (Fp.pow(Fp.add(Fp.mul(Fp.sqr(x), x), 4n), (P - 1n) / 2n) === 1n) x++;
    const off = bytes.slice();
    off.set(hexToBytes(toHex(x, { size: 48 })), 0);
    off[0] |= 0x80;
    const v = judge(toHex(off), 1);
    expect(v.check).to.equal("C is no point: not on the curve");
    const w = v.encoding!.witness!;
    expect(Fp.sqr(w)).to.equal(Fp.neg(Fp.add(Fp.mul(Fp.sqr(x), x), 4n)));
    expect(judge(toHex(bytes.slice(0, 200)), 1).check).to.equal("the posting is 200 bytes, not 240");
  });

  it("reads codes in every form a person gives them and names a bad one by position only", function () {
    const code = generateChannelCode();
    const text = formatCodeMessage({ requestId: 12n, slot: 3, code });
    const body = text.split(".")[3];
    const dashed = `cg2.12.3.${body.match(/.{1,4}/g)!.join("-").toLowerCase()}`;
    const { codes, problems } = readCodes([text, `https://wallet.example/reset#${text}`, `Your code: ${dashed}. If you did not ask, cancel.`, "cg2.12.3.ABC", "hello"]);
    expect(codes).to.have.length(3);
    for (const m of codes) expect(m).to.deep.include({ requestId: 12n, slot: 3 }) && expect(toHex(m.code)).to.equal(toHex(code));
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^code 4: /);
    expect(problems[1]).to.match(/^code 5: /);
    expect(problems.join(" ")).not.to.include(body.slice(0, 8));
  });
});
