import { expect } from "chai";
import fc from "fast-check";
import { type Address, type Hex, concat, encodeAbiParameters, hexToBytes, keccak256, stringToHex, toBytes, toHex } from "viem";

import {
  CGError,
  COMMITTEE_MAX_SIZE,
  Fp2Field,
  Fr,
  G1,
  G2,
  R,
  SEALED_SUBSHARE_LENGTH,
  TAG,
  TAG_HASH,
  type G2Point,
  type Share,
  assemble,
  checkReshareDealing,
  combine,
  combineDkgCommitments,
  combineDkgShares,
  combineReshareCommitments,
  combineReshareShares,
  committeeAckMessage,
  committeePossessionProof,
  committeePublicShare,
  commitmentsHash,
  computePartial,
  dealDkg,
  dealReshare,
  dealingHash,
  decodeDealing,
  encodeDealing,
  g1ToEip2537,
  g2ToEip2537,
  generateHpkeKeyPair,
  groupKeyHash,
  lagrangeAtZero,
  openSubShare,
  publicShare,
  reshareDealers,
  scalarToBytes,
  seal,
  sealSubShare,
  subShareInfo,
  verifyCommitteePossession,
  verifySubShare,
  verifyToken,
} from "../../../sdk/index.ts";
import { errorCode, message } from "../../helpers/fixtures.ts";

const chainId = 31337n;
const registry: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const committeeId = 7n;

// ───────────────────────────── fixtures ─────────────────────────────

/** One epoch of a committee: its commitments C (C_0 = K) and every member's share. */
interface Epoch {
  n: number;
  t: number;
  commitments: G2Point[];
  shares: Share[];
}

/** n and t with 2 ≤ t ≤ n and t > n/2 (PROTOCOL v2 §3.1). */
const committee = (maxN = 7) =>
  fc.integer({ min: 2, max: maxN }).chain((n) => fc.integer({ min: Math.floor(n / 2) + 1, max: n }).map((t) => ({ n, t })));

function range(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k + 1);
}

function subsetOf(items: readonly number[], size: number) {
  return fc.shuffledSubarray([...items], { minLength: size, maxLength: size });
}

/**
 * A DKG in which every member deals and every member checks every sub-share (§3.2–§3.3); the qualified
 * dealers (all of them unless told) make the committee's commitments and the shares (§3.5).
 */
function runDkg(n: number, t: number, qualified: readonly number[] = range(n)): Epoch {
  const dealings = range(n).map(() => dealDkg(n, t));
  for (const [k, d] of dealings.entries()) {
    expect(d.commitments, `dealer ${k + 1}`).to.have.length(t);
    for (const j of range(n)) expect(verifySubShare(j, d.subShares[j - 1], d.commitments), `sub-share ${k + 1}→${j}`).to.equal(true);
  }
  const commitments = combineDkgCommitments(qualified.map((i) => dealings[i - 1].commitments));
  const shares = range(n).map((j) => ({ index: j, value: combineDkgShares(qualified.map((i) => dealings[i - 1].subShares[j - 1])) }));
  for (const d of dealings) d.wipe();
  return { n, t, commitments, shares };
}

/**
 * A reshare of `old` to a committee of nNew with threshold tNew (§4.1–§4.3): every old member in
 * `qualified` deals from its share, every new member checks the sub-shares and combines those of Q'.
 */
function runReshare(old: Epoch, nNew: number, tNew: number, qualified: readonly number[] = range(old.n)): Epoch {
  const dealings = new Map(qualified.map((i) => [i, dealReshare(old.shares[i - 1], nNew, tNew)]));
  for (const [i, d] of dealings) {
    expect(checkReshareDealing(i, d.commitments, old.commitments), `dealer ${i}`).to.equal(true);
    for (const j of range(nNew)) expect(verifySubShare(j, d.subShares[j - 1], d.commitments)).to.equal(true);
  }
  const dealers = reshareDealers(qualified, old.t);
  const commitments = combineReshareCommitments(dealers, dealers.map((i) => dealings.get(i)!.commitments));
  const shares = range(nNew).map((j) => ({
    index: j,
    value: combineReshareShares(dealers, dealers.map((i) => dealings.get(i)!.subShares[j - 1])),
  }));
  for (const d of dealings.values()) d.wipe();
  return { n: nNew, t: tNew, commitments, shares };
}

/** Σ λ_i·s_i over the given shares: the secret they interpolate at 0. */
function interpolate(shares: readonly Share[]): bigint {
  const lambdas = lagrangeAtZero(shares.map((s) => s.index));
  return shares.reduce((acc, s, k) => Fr.add(acc, Fr.mul(lambdas[k], s.value)), 0n);
}

function pick(epoch: Epoch, indices: readonly number[]): Share[] {
  return indices.map((i) => epoch.shares[i - 1]);
}

/** A token of the given members on m, combined with Lagrange over their indices. */
function tokenOf(shares: readonly Share[], m: Uint8Array) {
  return combine(
    shares.map((s) => computePartial(s, m)),
    shares.length,
  );
}


async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp): Promise<CGError> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(CGError);
    expect((e as CGError).code, (e as CGError).message).to.equal(code);
    if (text) expect((e as CGError).message).to.match(text);
    return e as CGError;
  }
  expect.fail(`expected a CGError ${code}`);
}

/** A G2 point on the curve but outside the prime-order subgroup, in EIP-2537 form. */
function nonSubgroupG2(): Uint8Array {
  const { b } = G2.CURVE();
  for (let k = 1n; ; k++) {
    const x = Fp2Field.create({ c0: k, c1: 1n });
    let y;
    try {
      y = Fp2Field.sqrt(Fp2Field.add(Fp2Field.mul(Fp2Field.sqr(x), x), b));
    } catch {
      continue; // not a square: next x
    }
    if (G2.fromAffine({ x, y }).isTorsionFree()) continue;
    return hexToBytes(concat([x.c0, x.c1, y.c0, y.c1].map((v) => toHex(v, { size: 64 }))));
  }
}

describe("sdk/crypto/dkg", function () {
  this.timeout(60_000);

  // ───────────────────────────── DKG (§3) ─────────────────────────────

  it("property: after a DKG every share matches its public share, any t shares give K and t − 1 do not", function () {
    fc.assert(
      fc.property(
        committee().chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), subsetOf(range(n), t), subsetOf(range(n), t), subsetOf(range(n), t - 1))),
        ([{ n, t }, setA, setB, short]) => {
          const epoch = runDkg(n, t);
          const K = epoch.commitments[0];
          expect(epoch.commitments).to.have.length(t);
          for (const s of epoch.shares) expect(G2.BASE.multiply(s.value).equals(publicShare(epoch.commitments, s.index))).to.equal(true);
          const secret = interpolate(pick(epoch, setA));
          expect(interpolate(pick(epoch, setB))).to.equal(secret);
          expect(G2.BASE.multiply(secret).equals(K)).to.equal(true);
          expect(G2.BASE.multiply(interpolate(pick(epoch, short))).equals(K)).to.equal(false);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("property: the partial tokens of any t members of a DKG committee combine to a token valid under K", function () {
    fc.assert(
      fc.property(
        committee().chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), subsetOf(range(n), t), fc.nat(1000))),
        ([{ n, t }, set, k]) => {
          const epoch = runDkg(n, t);
          const m = toBytes(message(k));
          expect(verifyToken(tokenOf(pick(epoch, set), m), epoch.commitments[0], m)).to.equal(true);
          const assembled = assemble(epoch.shares.map((s) => computePartial(s, m)), epoch.commitments, m);
          expect(assembled.invalid).to.deep.equal([]);
        },
      ),
      { numRuns: 6 },
    );
  });

  it("property: without a disqualified dealer, the qualified dealers still give consistent shares and commitments", function () {
    fc.assert(
      fc.property(
        committee()
          .filter(({ n, t }) => n > t)
          .chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), fc.integer({ min: 1, max: n }), subsetOf(range(n), t))),
        ([{ n, t }, dropped, set]) => {
          const qualified = range(n).filter((i) => i !== dropped);
          const epoch = runDkg(n, t, qualified);
          for (const s of epoch.shares) expect(G2.BASE.multiply(s.value).equals(committeePublicShare(epoch.commitments, s.index))).to.equal(true);
          expect(G2.BASE.multiply(interpolate(pick(epoch, set))).equals(epoch.commitments[0])).to.equal(true);
        },
      ),
      { numRuns: 6 },
    );
  });

  it("g1…g5 form a 3-of-5 committee over the wire: sealed, posted, decoded, opened, checked and acknowledged", async function () {
    const n = 5;
    const t = 3;
    const keys = await Promise.all(range(n).map(() => generateHpkeKeyPair()));
    const ctx = (dealer: number, recipient: number) => ({ chainId, registry, committeeId, committeeEpoch: 1n, dealer, recipient });

    // §3.2: each of g1…g5 deals and posts its commitments and sealed sub-shares.
    const posted = [];
    for (const i of range(n)) {
      const d = dealDkg(n, t);
      const sealedSubShares = await Promise.all(range(n).map((j) => sealSubShare(keys[j - 1].publicKey, ctx(i, j), d.subShares[j - 1])));
      for (const s of sealedSubShares) expect(s.length).to.equal(SEALED_SUBSHARE_LENGTH).and.to.equal(80);
      const encoded = encodeDealing({ commitments: d.commitments, sealedSubShares });
      expect(hexToBytes(encoded.commitments).length).to.equal(t * 256);
      expect(hexToBytes(encoded.sealedShares).length).to.equal(n * 80);
      expect(dealingHash(encoded.commitments)).to.equal(keccak256(concat(d.commitments.map((c) => toHex(g2ToEip2537(c))))));
      posted.push(encoded);
      d.wipe();
    }

    // §3.3–§3.5: every member decodes every dealing, opens its sub-shares, checks them and combines.
    const decoded = posted.map((p) => decodeDealing(p.commitments, p.sealedShares, t, n));
    const C = combineDkgCommitments(decoded.map((d) => d.commitments));
    expect(commitmentsHash(C.map((c) => g2ToEip2537(c)))).to.equal(keccak256(concat(C.map((c) => toHex(g2ToEip2537(c))))));
    expect(groupKeyHash(g2ToEip2537(C[0]))).to.equal(keccak256(g2ToEip2537(C[0])));
    const shares: Share[] = [];
    for (const j of range(n)) {
      const subShares: bigint[] = [];
      for (const i of range(n)) {
        const v = await openSubShare(keys[j - 1].privateKey, ctx(i, j), decoded[i - 1].sealedSubShares[j - 1]);
        expect(verifySubShare(j, v, decoded[i - 1].commitments)).to.equal(true);
        subShares.push(v);
      }
      const share = { index: j, value: combineDkgShares(subShares) };
      // §3.6: s_j·P2 == PK_j, then a proof of possession anyone can check against PK_j.
      const pk = committeePublicShare(C, j);
      expect(G2.BASE.multiply(share.value).equals(pk)).to.equal(true);
      const proof = committeePossessionProof(share, chainId, registry, committeeId, 1n);
      expect(verifyCommitteePossession(proof, pk, chainId, registry, committeeId, 1n, j)).to.equal(true);
      shares.push(share);
    }
    const m = toBytes(message(1));
    expect(verifyToken(tokenOf([shares[4], shares[0], shares[2]], m), C[0], m)).to.equal(true);
  });

  // ───────────────────────────── sub-share checks (§3.3) ─────────────────────────────

  it("property: a sub-share raised by one, out of range, or meant for another member fails its recipient's check", function () {
    fc.assert(
      fc.property(
        committee().chain(({ n, t }) =>
          fc.tuple(fc.constant({ n, t }), fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n - 1 })),
        ),
        ([{ n, t }, j, shift]) => {
          const d = dealDkg(n, t);
          const other = ((j - 1 + shift) % n) + 1; // another recipient than j
          const v = d.subShares[j - 1];
          expect(verifySubShare(j, v, d.commitments)).to.equal(true);
          expect(verifySubShare(j, Fr.add(v, 1n), d.commitments)).to.equal(false);
          expect(verifySubShare(j, d.subShares[other - 1], d.commitments)).to.equal(false);
          expect(verifySubShare(j, 0n, d.commitments)).to.equal(false);
          expect(verifySubShare(j, v + R, d.commitments)).to.equal(false);
        },
      ),
      { numRuns: 10 },
    );
  });

  it("every dealt coefficient commitment and sub-share is non-zero, for committees up to 32", function () {
    const d = dealDkg(COMMITTEE_MAX_SIZE, 17);
    expect(d.subShares).to.have.length(32);
    expect(d.subShares.every((v) => v > 0n && v < R)).to.equal(true);
    expect(d.commitments.every((c) => !c.is0())).to.equal(true);
    expect(verifySubShare(32, d.subShares[31], d.commitments)).to.equal(true);
    d.wipe();
    expect(d.subShares).to.deep.equal([]);
  });

  it("refuses committee bounds outside 2 ≤ t ≤ n ≤ 32 and t > n/2, naming what came", function () {
    expect(() => dealDkg(33, 17)).to.throw(CGError, "dealDkg: expected a committee size n in [2, 32], got 33");
    expect(() => dealDkg(1, 1)).to.throw(CGError, "dealDkg: expected a committee size n in [2, 32], got 1");
    expect(() => dealDkg(5, 1)).to.throw(CGError, "dealDkg: expected a threshold t in [2, n = 5], got 1");
    expect(() => dealDkg(5, 6)).to.throw(CGError, "dealDkg: expected a threshold t in [2, n = 5], got 6");
    expect(() => dealDkg(5, 2)).to.throw(CGError, "dealDkg: expected a threshold t > n/2 = 2.5, got 2");
    expect(() => dealDkg(4, 2)).to.throw(CGError, "dealDkg: expected a threshold t > n/2 = 2, got 2");
    expect(() => dealReshare({ index: 1, value: 0n }, 5, 3)).to.throw(CGError, "dealReshare: expected share #1 in [1, r-1], got a value out of range");
    expect(() => dealReshare({ index: 33, value: 1n }, 5, 3)).to.throw(CGError, "dealReshare: expected a share index in [1, 32], got 33");
    expect(() => verifySubShare(0, 1n, [G2.BASE])).to.throw(CGError, "verifySubShare: expected a recipient index in [1, 32], got 0");
    expect(() => verifySubShare(1, 1n, [])).to.throw(CGError, "verifySubShare: expected commitments as 1 to 32 G2 points, got 0");
    expect(() => verifySubShare(1, 1n, [G2.BASE, G2.ZERO])).to.throw(CGError, "verifySubShare: commitments[1] is the point at infinity");
  });

  it("public shares reach index 32, the largest committee, and no further", function () {
    const d = dealDkg(32, 20);
    const pk = committeePublicShare(d.commitments, 32);
    expect(G2.BASE.multiply(d.subShares[31]).equals(pk)).to.equal(true);
    expect(publicShare(d.commitments, 32).equals(pk)).to.equal(true);
    expect(() => publicShare(d.commitments, 33)).to.throw(CGError, `publicShare: expected a share index in [1, ${COMMITTEE_MAX_SIZE}], got 33`);
    expect(() => committeePublicShare(d.commitments, 33)).to.throw(CGError, "committeePublicShare: expected a member index in [1, 32], got 33");
  });

  it("refuses to combine commitments of dealings of different lengths, or fewer dealings than t", function () {
    const a = dealDkg(5, 3);
    const b = dealDkg(5, 4);
    const c = dealDkg(5, 3);
    expect(() => combineDkgCommitments([a.commitments, b.commitments, c.commitments])).to.throw(
      CGError,
      "combineDkgCommitments: expected every dealing to have t = 3 commitments, dealing 1 has 4",
    );
    expect(() => combineDkgCommitments([a.commitments, c.commitments])).to.throw(CGError, "combineDkgCommitments: expected at least t = 3 qualified dealings, got 2");
    expect(() => combineDkgCommitments([])).to.throw(CGError, "combineDkgCommitments: expected the commitments of 1 to 32 qualified dealings, got 0");
    expect(() => combineDkgShares([1n])).to.throw(CGError, "combineDkgShares: expected the sub-shares of 2 to 32 qualified dealers, got 1");
    expect(() => combineDkgShares([1n, R])).to.throw(CGError, "combineDkgShares: expected sub-share at position 1 in [1, r-1], got a value out of range");
    expect(errorCode(() => combineDkgShares([1n, R - 1n]))).to.equal("INVALID_SHARE");
    // Dealers whose constant terms cancel out would make K the point at infinity.
    const cancelling = [a.commitments[0].add(c.commitments[0]).negate(), ...b.commitments.slice(1, 3)];
    expect(() => combineDkgCommitments([a.commitments, c.commitments, cancelling])).to.throw(
      CGError,
      "combineDkgCommitments: the combined group key K = C_0 is the point at infinity",
    );
  });

  // ───────────────────────────── reshare (§4) ─────────────────────────────

  it("property: a reshare to a new committee (disjoint or overlapping) keeps K, and any t' new shares sign under K", function () {
    fc.assert(
      fc.property(
        committee(6)
          .chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), committee(6), fc.integer({ min: t, max: n })))
          .chain(([old, next, q]) =>
            fc.tuple(fc.constant(old), fc.constant(next), subsetOf(range(old.n), q), subsetOf(range(next.n), next.t), fc.nat(1000)),
          ),
        ([old, next, qualified, set, k]) => {
          const before = runDkg(old.n, old.t);
          const K = before.commitments[0];
          const after = runReshare(before, next.n, next.t, qualified);
          expect(after.commitments).to.have.length(next.t);
          expect(after.commitments[0].equals(K)).to.equal(true); // §4.3: C'_0 = K
          for (const s of after.shares) expect(G2.BASE.multiply(s.value).equals(committeePublicShare(after.commitments, s.index))).to.equal(true);
          // A member that stays (same slot in both epochs) holds a fresh share, not its old one.
          for (const j of range(Math.min(old.n, next.n))) expect(after.shares[j - 1].value).to.not.equal(before.shares[j - 1].value);
          const m = toBytes(message(k));
          expect(verifyToken(tokenOf(pick(after, set), m), K, m)).to.equal(true);
        },
      ),
      { numRuns: 6 },
    );
  });

  it("property: checkReshareDealing holds for an honest old dealer and fails for one that deals from another value", function () {
    fc.assert(
      fc.property(
        committee(5).chain(({ n, t }) => fc.tuple(fc.constant({ n, t }), fc.integer({ min: 1, max: n }), fc.bigInt({ min: 1n, max: 1n << 64n }))),
        ([{ n, t }, i, delta]) => {
          const epoch = runDkg(n, t);
          const honest = dealReshare(epoch.shares[i - 1], n, t);
          expect(honest.commitments[0].equals(committeePublicShare(epoch.commitments, i))).to.equal(true); // E_{i,0} = PK_i
          expect(checkReshareDealing(i, honest.commitments, epoch.commitments)).to.equal(true);
          const forged = dealReshare({ index: i, value: Fr.add(epoch.shares[i - 1].value, delta) }, n, t);
          expect(checkReshareDealing(i, forged.commitments, epoch.commitments)).to.equal(false);
          // An honest dealing claimed by another dealer fails too.
          expect(checkReshareDealing((i % n) + 1, honest.commitments, epoch.commitments)).to.equal(false);
        },
      ),
      { numRuns: 5 },
    );
  });

  it("property: partials of a retired epoch and of the new one never combine into a valid token", function () {
    fc.assert(
      fc.property(
        committee(6)
          .chain(({ n, t }) =>
            fc.tuple(
              fc.constant({ n, t }),
              fc.integer({ min: t, max: Math.min(2 * t - 1, 6) }), // n' with t' = t > n'/2
              fc.integer({ min: 1, max: t - 1 }), // k new partials, t − k old ones
              fc.nat(1000),
            ),
          )
          .chain(([{ n, t }, nNew, k, seed]) =>
            subsetOf(range(n), t - k).chain((oldSet) =>
              fc.tuple(
                fc.constant({ n, t, nNew, k, seed, oldSet }),
                subsetOf(range(nNew).filter((j) => !oldSet.includes(j)), k),
              ),
            ),
          ),
        ([{ n, t, nNew, seed, oldSet }, newSet]) => {
          const before = runDkg(n, t);
          const after = runReshare(before, nNew, t);
          const K = before.commitments[0];
          const m = toBytes(message(seed));
          const mixed = [...pick(before, oldSet), ...pick(after, newSet)];
          expect(verifyToken(tokenOf(mixed, m), K, m)).to.equal(false);
          // Each epoch on its own still signs.
          expect(verifyToken(tokenOf(pick(after, range(t)), m), K, m)).to.equal(true);
        },
      ),
      { numRuns: 6 },
    );
  });

  it("two reshares in a row (g1…g5 3-of-5, then 4-of-7, then 2-of-3) keep K", function () {
    const first = runDkg(5, 3);
    const K = first.commitments[0];
    const second = runReshare(first, 7, 4, [2, 3, 5]);
    const third = runReshare(second, 3, 2, [1, 4, 6, 7]);
    for (const epoch of [second, third]) expect(epoch.commitments[0].equals(K)).to.equal(true);
    const m = toBytes(message(9));
    expect(verifyToken(tokenOf(pick(third, [3, 1]), m), K, m)).to.equal(true);
    expect(G2.BASE.multiply(interpolate(pick(third, [2, 3]))).equals(K)).to.equal(true);
  });

  it("reshareDealers picks the t qualified dealers with the lowest old indices and names the shortfall", function () {
    expect(reshareDealers([5, 2, 4, 1], 3)).to.deep.equal([1, 2, 4]);
    expect(reshareDealers([3, 2], 2)).to.deep.equal([2, 3]);
    try {
      reshareDealers([4, 2], 3);
      expect.fail("reshareDealers should refuse");
    } catch (e) {
      expect(e).to.be.instanceOf(CGError);
      expect((e as CGError).code).to.equal("NOT_ENOUGH_DEALERS");
      expect((e as CGError).message).to.equal("reshareDealers: 2 qualified dealers, 3 needed");
      expect((e as CGError).details).to.deep.equal({ qualified: [4, 2], need: 3 });
    }
    expect(() => reshareDealers([1, 1, 2], 2)).to.throw(CGError, "reshareDealers: expected distinct old indices, got [1, 1, 2]");
    expect(() => combineReshareShares([1, 2, 3], [1n, 2n])).to.throw(CGError, "combineReshareShares: expected one sub-share per dealer (3), got 2");
    expect(() => combineReshareCommitments([1, 2], [[G2.BASE, G2.BASE]])).to.throw(CGError, "combineReshareCommitments: expected one dealing per dealer (2), got 1");
  });

  // ───────────────────────────── HPKE (§3.2, §11) ─────────────────────────────

  it("a sealed sub-share is 80 bytes and opens only with g2's key and the exact context", async function () {
    const g2 = await generateHpkeKeyPair();
    const g3 = await generateHpkeKeyPair();
    const ctx = { chainId, registry, committeeId, committeeEpoch: 2n, dealer: 1, recipient: 2 };
    const d = dealDkg(3, 2);
    const sealed = await sealSubShare(g2.publicKey, ctx, d.subShares[1]);
    expect(sealed.length).to.equal(80);
    expect(await openSubShare(g2.privateKey, ctx, sealed)).to.equal(d.subShares[1]);

    for (const wrong of [{ dealer: 3 }, { recipient: 3 }, { committeeEpoch: 1n }, { committeeId: 8n }, { chainId: 1n }]) {
      await rejectsWith(openSubShare(g2.privateKey, { ...ctx, ...wrong }, sealed), "DECRYPT_FAILED");
    }
    await rejectsWith(openSubShare(g3.privateKey, ctx, sealed), "DECRYPT_FAILED", /sub-share from dealer #1 to member #2 \(committee 7, epoch 2\)/);
    for (const at of [0, 31, 32, 79]) {
      const flipped = sealed.slice();
      flipped[at] ^= 1;
      await rejectsWith(openSubShare(g2.privateKey, ctx, flipped), "DECRYPT_FAILED");
    }
  });

  it("an all-zero or low-order enc, a wrong length, or a scalar outside [1, r-1] is a CGError, never a raw exception", async function () {
    const g1 = await generateHpkeKeyPair();
    const ctx = { chainId, registry, committeeId, committeeEpoch: 1n, dealer: 2, recipient: 1 };
    const sealed = await sealSubShare(g1.publicKey, ctx, 5n);
    const zeroEnc = sealed.slice();
    zeroEnc.fill(0, 0, 32);
    await rejectsWith(openSubShare(g1.privateKey, ctx, zeroEnc), "DECRYPT_FAILED");
    const orderFour = sealed.slice(); // u = 1 has order 4 on Curve25519
    orderFour.fill(0, 0, 32);
    orderFour[0] = 1;
    await rejectsWith(openSubShare(g1.privateKey, ctx, orderFour), "DECRYPT_FAILED");
    await rejectsWith(openSubShare(g1.privateKey, ctx, new Uint8Array(80)), "DECRYPT_FAILED");
    await rejectsWith(openSubShare(g1.privateKey, ctx, sealed.subarray(0, 79)), "INVALID_INPUT", /expected 80 sealed bytes, got 79 bytes/);
    await rejectsWith(openSubShare(g1.privateKey.subarray(0, 31), ctx, sealed), "INVALID_INPUT");
    await rejectsWith(openSubShare(g1.privateKey, { ...ctx, recipient: 0 }, sealed), "INVALID_INPUT", /recipient/);

    // A dealer that seals 0 or r (which sealSubShare refuses to do) is caught when the sub-share is opened.
    const info = subShareInfo(chainId, registry, committeeId, 1n, 2, 1);
    for (const bad of [new Uint8Array(32), scalarToBytes(R)]) {
      const forged = await seal(g1.publicKey, info, bad);
      expect(forged.length).to.equal(80);
      await rejectsWith(openSubShare(g1.privateKey, ctx, forged), "INVALID_SCALAR", /in \[1, r-1\]/);
    }
    await rejectsWith(sealSubShare(g1.publicKey, ctx, 0n), "INVALID_INPUT", /got a value out of range/);
  });

  // ───────────────────────────── encodings (§11) ─────────────────────────────

  it("subShareInfo and committeeAckMessage are the exact §11 encodings", function () {
    const u = { type: "uint256" } as const;
    const expectedInfo = concat([
      stringToHex("CGUARD-V02/subshare"),
      encodeAbiParameters([u, { type: "address" }, u, u, u, u], [chainId, registry, committeeId, 3n, 4n, 5n]),
    ]);
    expect(toHex(subShareInfo(chainId, registry, committeeId, 3n, 4, 5))).to.equal(expectedInfo);
    expect(hexToBytes(expectedInfo).length).to.equal(19 + 6 * 32);

    const tag = keccak256(stringToHex("CGUARD-V02/ack"));
    expect(TAG.committeeAck).to.equal("CGUARD-V02/ack");
    expect(TAG_HASH.committeeAck).to.equal(tag);
    const expectedAck = keccak256(encodeAbiParameters([{ type: "bytes32" }, u, { type: "address" }, u, u, u], [tag, chainId, registry, committeeId, 3n, 4n]));
    expect(committeeAckMessage(chainId, registry, committeeId, 3n, 4)).to.equal(expectedAck);
  });

  it("refuses encoding inputs that are not what §11 declares, naming the field", function () {
    expect(() => subShareInfo(chainId, registry, committeeId, 0n, 1, 2)).to.throw(CGError, "subShareInfo: expected committeeEpoch as a bigint in [1, 2^256 − 1], got 0n");
    expect(() => subShareInfo(-1n, registry, committeeId, 1n, 1, 2)).to.throw(CGError, /expected chainId/);
    expect(() => subShareInfo(chainId, "0x1234" as Address, committeeId, 1n, 1, 2)).to.throw(CGError, /expected registry as a 20-byte 0x-hex address/);
    expect(() => subShareInfo(chainId, registry, committeeId, 1n, 33, 2)).to.throw(CGError, "subShareInfo: expected dealer as an integer in [1, 32], got 33");
    expect(() => committeeAckMessage(chainId, registry, committeeId, 1n, 0)).to.throw(CGError, "committeeAckMessage: expected member index i as an integer in [1, 32], got 0");
  });

  it("decodes an encoded dealing and refuses wrong lengths and invalid points by name", async function () {
    const g1 = await generateHpkeKeyPair();
    const d = dealDkg(3, 2);
    const ctx = (j: number) => ({ chainId, registry, committeeId, committeeEpoch: 1n, dealer: 1, recipient: j });
    const sealedSubShares = await Promise.all(range(3).map((j) => sealSubShare(g1.publicKey, ctx(j), d.subShares[j - 1])));
    const wire = encodeDealing({ commitments: d.commitments, sealedSubShares });
    const back = decodeDealing(wire.commitments, wire.sealedShares, 2, 3);
    expect(back.commitments.map((c, l) => c.equals(d.commitments[l]))).to.deep.equal([true, true]);
    expect(back.sealedSubShares).to.deep.equal(sealedSubShares);

    expect(() => decodeDealing(wire.commitments, wire.sealedShares, 3, 3)).to.throw(CGError, "decodeDealing: expected commitments of t = 3 × 256 = 768 bytes, got 512 bytes");
    expect(() => decodeDealing(wire.commitments, wire.sealedShares, 2, 4)).to.throw(CGError, "decodeDealing: expected a threshold t > n/2 = 2, got 2");
    expect(() => decodeDealing(wire.commitments, (wire.sealedShares + "00") as Hex, 2, 3)).to.throw(CGError, "decodeDealing: expected sealed sub-shares of n = 3 × 80 = 240 bytes, got 241 bytes");
    expect(() => decodeDealing("0x123" as Hex, wire.sealedShares, 2, 3)).to.throw(CGError, /decodeDealing: expected commitments as 0x-hex of whole bytes/);

    const commitmentBytes = hexToBytes(wire.commitments);
    const offSubgroup = commitmentBytes.slice();
    offSubgroup.set(nonSubgroupG2(), 256);
    const err = codeAndMessage(() => decodeDealing(toHex(offSubgroup), wire.sealedShares, 2, 3));
    expect(err).to.deep.equal({ code: "NOT_IN_SUBGROUP", message: "decodeDealing: commitment D_1: the point is not in the G2 subgroup" });
    const offCurve = commitmentBytes.slice();
    offCurve[511] ^= 1; // the last byte of D_1
    expect(codeAndMessage(() => decodeDealing(toHex(offCurve), wire.sealedShares, 2, 3))).to.deep.equal({
      code: "NOT_ON_CURVE",
      message: "decodeDealing: commitment D_1: the point is not on the G2 curve",
    });
    const infinity = commitmentBytes.slice();
    infinity.fill(0, 0, 256);
    expect(codeAndMessage(() => decodeDealing(toHex(infinity), wire.sealedShares, 2, 3)).code).to.equal("POINT_AT_INFINITY");

    expect(() => encodeDealing({ commitments: d.commitments, sealedSubShares: [sealedSubShares[0], sealedSubShares[1], new Uint8Array(79)] })).to.throw(
      CGError,
      "encodeDealing: expected the sealed sub-share for recipient 3 as 80 bytes, got 79 bytes",
    );
    expect(() => encodeDealing({ commitments: d.commitments, sealedSubShares: sealedSubShares.slice(0, 1) })).to.throw(CGError, /n in \[2, 32\], got 1/);
    expect(() => dealingHash("0x1234")).to.throw(CGError, "dealingHash: expected 2 to 32 commitments of 256 bytes each, got 2 bytes");
  });

  // ───────────────────────────── proof of possession (§3.6) ─────────────────────────────

  it("g4's proof of possession verifies under g4's public share and fails under g5's or for another epoch", function () {
    const epoch = runDkg(5, 3);
    const g4 = epoch.shares[3];
    const pk4 = committeePublicShare(epoch.commitments, 4);
    const pk5 = committeePublicShare(epoch.commitments, 5);
    const proof = committeePossessionProof(g4, chainId, registry, committeeId, 1n);
    expect(hexToBytes(proof).length).to.equal(128);
    // It is the partial signature of g4 on the 32 bytes of the acknowledgement message.
    const m = hexToBytes(committeeAckMessage(chainId, registry, committeeId, 1n, 4));
    expect(proof).to.equal(toHex(g1ToEip2537(computePartial(g4, m).sigma)));
    expect(verifyCommitteePossession(proof, pk4, chainId, registry, committeeId, 1n, 4)).to.equal(true);
    expect(verifyCommitteePossession(proof, pk5, chainId, registry, committeeId, 1n, 4)).to.equal(false);
    expect(verifyCommitteePossession(proof, pk5, chainId, registry, committeeId, 1n, 5)).to.equal(false);
    expect(verifyCommitteePossession(proof, pk4, chainId, registry, committeeId, 2n, 4)).to.equal(false);
    expect(errorCode(() => verifyCommitteePossession(toHex(new Uint8Array(128)), pk4, chainId, registry, committeeId, 1n, 4))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => verifyCommitteePossession(toHex(g1ToEip2537(G1.BASE)), G2.ZERO, chainId, registry, committeeId, 1n, 4))).to.equal("INVALID_INPUT");
  });
});

function codeAndMessage(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof CGError) return { code: e.code, message: e.message };
    throw e;
  }
  return { code: "no error", message: "" };
}
