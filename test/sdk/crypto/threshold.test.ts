import { expect } from "chai";
import fc from "fast-check";
import { toBytes } from "viem";

import {
  CGError,
  G1,
  assemble,
  combine,
  computePartial,
  deal,
  publicShare,
  verifyPartial,
  verifyShare,
  verifyToken,
} from "../../../sdk/index.ts";
import { message } from "../../helpers/fixtures.ts";

/** n, t and a subset of {1..n} of the given size relation, as fast-check arbitraries. */
const committee = fc
  .integer({ min: 2, max: 7 })
  .chain((n) => fc.integer({ min: 2, max: n }).map((t) => ({ n, t })));

function subsetOf(n: number, size: number) {
  return fc.shuffledSubarray(
    Array.from({ length: n }, (_, k) => k + 1),
    { minLength: size, maxLength: size },
  );
}

describe("sdk/crypto/threshold", function () {
  it("every dealt share passes the Feldman check and a share of another member does not", function () {
    const d = deal(5, 3);
    for (const s of d.shares) expect(verifyShare(s, d.commitments)).to.equal(true);
    expect(verifyShare({ index: 2, value: d.shares[0].value }, d.commitments)).to.equal(false);
  });

  it("property: any t of n valid partials combine to the same token, which verifies under K", function () {
    fc.assert(
      fc.property(
        committee.chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), subsetOf(n, t), subsetOf(n, t))),
        ([{ n, t }, setA, setB]) => {
          const d = deal(n, t);
          const m = toBytes(message(n * 100 + t));
          const byIndex = new Map(d.shares.map((s) => [s.index, computePartial(s, m)]));
          const a = combine(setA.map((i) => byIndex.get(i)!), t);
          const b = combine(setB.map((i) => byIndex.get(i)!), t);
          expect(a.equals(b)).to.equal(true);
          expect(verifyToken(a, d.groupKey, m)).to.equal(true);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("property: t − 1 partials do not make a token (combined as if t − 1 were the threshold, it fails under K)", function () {
    fc.assert(
      fc.property(
        committee.filter(({ t }) => t >= 3).chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), subsetOf(n, t - 1))),
        ([{ n, t }, set]) => {
          const d = deal(n, t);
          const m = toBytes(message(7 * n + t));
          const partials = set.map((i) => computePartial(d.shares[i - 1], m));
          expect(() => combine(partials, t)).to.throw(CGError, /needed/);
          expect(verifyToken(combine(partials, t - 1), d.groupKey, m)).to.equal(false);
          expect(() => assemble(partials, d.commitments, m)).to.throw(CGError, `${t - 1} valid partials, ${t} needed`);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("property: one tampered partial among the inputs is named by its index, and the rest still assemble", function () {
    fc.assert(
      fc.property(
        committee
          .filter(({ n, t }) => n > t)
          .chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), fc.integer({ min: 1, max: n }), fc.bigInt({ min: 1n, max: 1n << 64n }))),
        ([{ n, t }, bad, delta]) => {
          const d = deal(n, t);
          const m = toBytes(message(bad));
          const partials = d.shares.map((s) => computePartial(s, m));
          partials[bad - 1] = { index: bad, sigma: partials[bad - 1].sigma.add(G1.BASE.multiply(delta)) };
          expect(verifyPartial(partials[bad - 1], d.commitments, m)).to.equal(false);
          const result = assemble(partials, d.commitments, m);
          expect(result.invalid).to.deep.equal([bad]);
          expect(result.used).to.not.include(bad);
          expect(verifyToken(result.token, d.groupKey, m)).to.equal(true);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("names every invalid partial when too few valid ones remain", function () {
    const d = deal(4, 3);
    const m = toBytes(message(1));
    const other = toBytes(message(2));
    const partials = [computePartial(d.shares[0], m), computePartial(d.shares[1], other), computePartial(d.shares[2], other)];
    try {
      assemble(partials, d.commitments, m);
      expect.fail("assemble should refuse");
    } catch (e) {
      expect(e).to.be.instanceOf(CGError);
      const err = e as CGError;
      expect(err.code).to.equal("NOT_ENOUGH_PARTIALS");
      expect(err.message).to.equal("1 valid partials, 3 needed; invalid: #2, #3");
      expect(err.details.invalid).to.deep.equal([2, 3]);
    }
  });

  it("refuses bad committee parameters with messages naming the expected range", function () {
    expect(() => deal(33, 3)).to.throw(CGError, "deal: expected a committee size n in [1, 32], got 33");
    expect(() => deal(5, 1)).to.throw(CGError, "deal: expected a threshold t in [2, n = 5], got 1");
    expect(() => deal(5, 6)).to.throw(CGError, "deal: expected a threshold t in [2, n = 5], got 6");
    expect(deal(1, 1, { allowSingle: true }).shares).to.have.length(1);
    expect(() => publicShare(deal(3, 2).commitments, 0)).to.throw(CGError, "publicShare: expected a share index in [1, 32], got 0");
  });

  it("wipe() drops the shares of a dealing", function () {
    const d = deal(3, 2);
    d.wipe();
    expect(d.shares).to.deep.equal([]);
  });
});
