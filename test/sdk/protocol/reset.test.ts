import { expect } from "chai";
import fc from "fast-check";
import { type Address, type Hex, getAddress, hexToBytes, toHex } from "viem";

import {
  type AssembleFromCodesInput,
  type AssemblyProblem,
  type CodeMessage,
  type G2Point,
  type OnChainPosting,
  type Posting,
  type Share,
  CGError,
  G1,
  G2,
  assembleFromCodes,
  channelCodeScalar,
  compressPosting,
  deal,
  formatChannelCode,
  formatCodeMessage,
  generateChannelCode,
  hashToG1,
  makePosting,
  parseCodeMessage,
  publicShare,
  randomScalar,
  requesterKeyHash,
  resetMessage,
} from "../../../sdk/index.ts";

const chainId = 31337n;
const coordinator: Address = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const requestId = 12n;
/** Operators g1…g5 of epoch 1 and their replacements of epoch 2. */
const operator = (epoch: number, slot: number): Address => getAddress(toHex(0x1000n * BigInt(epoch) + BigInt(slot), { size: 20 }));

interface Epoch {
  epoch: number;
  shares: Share[];
  publicShares: G2Point[];
}

/**
 * A committee of n with threshold t whose key k has two sharings (epoch 1 and, after a handover, epoch 2), alice's
 * request with A = a·G1, and, per slot and epoch, the guardian's code and posting.
 */
function scene(n: number, t: number) {
  const k = randomScalar();
  const epochs: Epoch[] = [1, 2].map((epoch) => {
    const d = deal(n, t, { coefficients: [k, ...Array.from({ length: t - 1 }, () => randomScalar())] });
    return { epoch, shares: d.shares, publicShares: d.shares.map((s) => publicShare(d.commitments, s.index)) };
  });
  const groupKey = G2.BASE.multiply(k);
  const a = randomScalar();
  const A = G1.BASE.multiply(a);
  const message = resetMessage({
    chainId,
    coordinator,
    requestId,
    accountId: toHex(7n, { size: 32 }),
    accountEpoch: 1n,
    committeeId: 1n,
    newController: getAddress("0x00000000000000000000000000000000000000b0"),
    requesterKeyHash: requesterKeyHash(A),
  });
  const hm = hashToG1(hexToBytes(message));
  /** Guardian `slot` of `epoch` serves: a code (delivered as cg2 text) and its compressed posting. */
  const serve = (epoch: number, slot: number, tamper?: (p: Posting) => Posting) => {
    const code = generateChannelCode();
    const c = channelCodeScalar(chainId, coordinator, requestId, slot, code);
    const share = epochs[epoch - 1].shares[slot - 1];
    const made = makePosting({ share, hashedMessage: hm, requesterKey: A, c });
    const posting: OnChainPosting = {
      slot,
      committeeEpoch: epoch,
      guardian: operator(epoch, slot),
      message,
      posting: toHex(compressPosting(tamper ? tamper(made) : made)),
    };
    const delivered = parseCodeMessage(`Reset under way. ${formatCodeMessage({ requestId, slot, code })} — cancel if not you.`);
    return { posting, code: delivered, text: formatChannelCode(code) };
  };
  const input = (postings: OnChainPosting[], codes: CodeMessage[]): AssembleFromCodesInput => ({
    chainId,
    coordinator,
    requestId,
    message,
    requesterKey: A,
    requesterSecret: a,
    t,
    groupKey,
    postings,
    codes,
    publicShares: new Map(epochs.map((e) => [e.epoch, e.publicShares])),
  });
  return { k, a, hm, message, serve, input };
}

/** A code for `slot` that no guardian sent (random bytes, well-formed). */
const forged = (slot: number): CodeMessage => ({ requestId, slot, code: generateChannelCode() });

function failure(fn: () => unknown): CGError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CGError);
    return e as CGError;
  }
  expect.fail("expected assembleFromCodes to fail");
}

const blamed = (problems: readonly AssemblyProblem[]) => problems.filter((p) => p.blamed).map((p) => p.slot);

describe("assembleFromCodes (protocol v2 §6.6)", function () {
  it("any t of n codes assemble the same token, k·H(m), which verifies under K", function () {
    const s = scene(5, 3);
    const served = [1, 2, 3, 4, 5].map((slot) => s.serve(1, slot));
    const want = s.hm.multiply(s.k);
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 3, maxLength: 3 }), (chosen) => {
        const result = assembleFromCodes(s.input(served.map((x) => x.posting), chosen.map((k) => served[k].code)));
        expect(result.token.equals(want)).to.equal(true);
        expect(result.slotsUsed).to.deep.equal([...chosen].sort().map((k) => k + 1));
        expect(result.epoch).to.equal(1);
        expect(result.problems).to.deep.equal([]);
      }),
      { numRuns: 6 },
    );
  });

  it("a forged code for a slot never blames its guardian; the genuine code beside it still works", function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), (slot, forgeries, forgedFirst) => {
        const s = scene(4, 3);
        const served = [1, 2, 3, 4].map((j) => s.serve(1, j));
        const fakes = Array.from({ length: forgeries }, () => forged(slot));
        const others = served.filter((_, k) => k + 1 !== slot).slice(0, 2).map((x) => x.code);
        const genuine = served[slot - 1].code;
        const codes = forgedFirst ? [...fakes, genuine, ...others] : [genuine, ...fakes, ...others];
        const result = assembleFromCodes(s.input(served.map((x) => x.posting), codes));
        expect(result.token.equals(s.hm.multiply(s.k))).to.equal(true);
        expect(blamed(result.problems)).to.deep.equal([]);
        expect(result.problems.map((p) => [p.slot, p.check, p.message])).to.deep.equal(
          fakes.map(() => [slot, "code", `code for slot ${slot} does not match its posting (mistyped, or not sent by its guardian)`]),
        );
        // Without the genuine code the slot is missing, still without blame.
        const e = failure(() => assembleFromCodes(s.input(served.map((x) => x.posting), [...fakes, ...others])));
        expect(e.code).to.equal("NOT_ENOUGH_CODES");
        expect(blamed(e.details.problems as AssemblyProblem[])).to.deep.equal([]);
        expect(e.message).to.contain(`code for slot ${slot} does not match its posting`);
      }),
      { numRuns: 5 },
    );
  });

  it("a bad posting that keeps the owner from its partial always blames its guardian, by slot and operator", function () {
    const tampers: [string, (p: Posting) => Posting][] = [
      ["W", (p) => ({ ...p, W: p.W.add(G1.BASE) })],
      ["U", (p) => ({ ...p, U: p.U.add(G1.BASE) })],
      ["another share", (p) => ({ ...p, W: p.W.add(hashToG1(new Uint8Array([1]))) })],
    ];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.constantFrom(...tampers), (slot, [, tamper]) => {
        const s = scene(4, 3);
        const served = [1, 2, 3, 4].map((j) => s.serve(1, j, j === slot ? tamper : undefined));
        const result = assembleFromCodes(s.input(served.map((x) => x.posting), served.map((x) => x.code)));
        expect(result.token.equals(s.hm.multiply(s.k))).to.equal(true);
        expect(result.slotsUsed).to.not.include(slot);
        expect(result.problems).to.deep.equal([
          { slot, guardian: operator(1, slot), committeeEpoch: 1, check: "posting", blamed: true, message: `posting of slot ${slot} fails the public check` },
        ]);
      }),
      { numRuns: 6 },
    );
  });

  it("a posting wrong only in V still opens to a valid partial: used, not rechecked (watchers prove it on-chain)", function () {
    // The public check costs three pairings a posting; the owner's path runs it only when a partial fails.
    const s = scene(3, 2);
    const served = [1, 2, 3].map((j) => s.serve(1, j, j === 1 ? (p) => ({ ...p, V: p.V.add(G2.BASE) }) : undefined));
    const result = assembleFromCodes(s.input(served.map((x) => x.posting), served.slice(0, 2).map((x) => x.code)));
    expect([result.slotsUsed, result.problems]).to.deep.equal([[1, 2], []]);
    expect(result.token.equals(s.hm.multiply(s.k))).to.equal(true);
  });

  it("a posting whose bytes are not points is blamed with the reason, and a forged code beside it blames nobody else", function () {
    const s = scene(3, 2);
    const served = [1, 2, 3].map((j) => s.serve(1, j));
    const broken = hexToBytes(served[2].posting.posting as Hex);
    broken[192] &= 0x7f; // W loses its compression flag
    const postings = [served[0].posting, served[1].posting, { ...served[2].posting, posting: broken }];
    const e = failure(() => assembleFromCodes(s.input(postings, [served[0].code, served[2].code, forged(1)])));
    expect(e.code).to.equal("NOT_ENOUGH_CODES");
    const problems = e.details.problems as AssemblyProblem[];
    expect(problems.map((p) => [p.slot, p.check, p.blamed])).to.deep.equal([
      [1, "code", false],
      [3, "posting", true],
    ]);
    expect(problems[1].message).to.equal("posting of slot 3 fails the public check: W (G1) lacks the compression flag (bit 0x80 of its first byte)");
    expect(e.message).to.equal(
      "assembleFromCodes: 1 verified partial of one committee epoch, 2 needed (epoch 1: slot 1) — " +
        `code for slot 1 does not match its posting (mistyped, or not sent by its guardian) (guardian ${operator(1, 1)}); ` +
        `posting of slot 3 fails the public check: W (G1) lacks the compression flag (bit 0x80 of its first byte) (guardian ${operator(1, 3)}, epoch 1)`,
    );
  });

  it("a posting broken only in V still opens to its partial and is used (V plays no part in opening; watchers prove it)", function () {
    const s = scene(3, 2);
    const served = [1, 2].map((j) => s.serve(1, j));
    const broken = hexToBytes(served[1].posting.posting as Hex);
    broken[96] &= 0x7f; // V loses its compression flag
    const result = assembleFromCodes(s.input([served[0].posting, { ...served[1].posting, posting: broken }], served.map((x) => x.code)));
    expect(result.slotsUsed).to.deep.equal([1, 2]);
    expect(result.problems).to.deep.equal([]);
  });

  it("after a handover mid-request, combines t partials of one committee epoch, never a mix", function () {
    const s = scene(3, 2);
    const old = [1].map((j) => s.serve(1, j));
    const renewed = [2, 3].map((j) => s.serve(2, j));
    const mixed = [...old, renewed[0]];
    // One partial of each epoch is not t of one epoch.
    const e = failure(() => assembleFromCodes(s.input(mixed.map((x) => x.posting), mixed.map((x) => x.code))));
    expect(e.code).to.equal("NOT_ENOUGH_CODES");
    expect(e.message).to.match(/^assembleFromCodes: 1 verified partial of one committee epoch, 2 needed \(epoch 1: slot 1; epoch 2: slot 2\)$/);
    const all = [...old, ...renewed];
    const result = assembleFromCodes(s.input(all.map((x) => x.posting), all.map((x) => x.code)));
    expect([result.epoch, result.slotsUsed]).to.deep.equal([2, [2, 3]]);
    expect(result.token.equals(s.hm.multiply(s.k))).to.equal(true);
  });

  it("sets aside codes for another request, postings for another message, and codes with no posting, blaming nobody", function () {
    const s = scene(3, 2);
    const served = [1, 2, 3].map((j) => s.serve(1, j));
    const otherMessage = { ...served[2].posting, message: toHex(1n, { size: 32 }) };
    const codes = [served[0].code, { ...served[1].code, requestId: 13n }, served[2].code];
    const e = failure(() => assembleFromCodes(s.input([served[0].posting, otherMessage], codes)));
    const problems = e.details.problems as AssemblyProblem[];
    expect(problems.map((p) => [p.slot, p.check, p.blamed, p.message])).to.deep.equal([
      [3, "other-message", false, "posting of slot 3 was made for another message and is not used"],
      [2, "request", false, "a code for slot 2 is for request 13, not 12"],
      [3, "no-posting", false, "code for slot 3 has no posting on-chain"],
    ]);
  });

  it("names what is missing when no public share is given for an epoch", function () {
    const s = scene(3, 2);
    const served = [1, 2].map((j) => s.serve(2, j));
    const input = { ...s.input(served.map((x) => x.posting), served.map((x) => x.code)), publicShares: new Map([[1, [] as G2Point[]]]) };
    const problems = failure(() => assembleFromCodes(input)).details.problems as AssemblyProblem[];
    expect(problems.map((p) => [p.check, p.blamed, p.message])).to.deep.equal([
      ["public-share", false, "no public share of slot 1 was given for committee epoch 2"],
      ["public-share", false, "no public share of slot 2 was given for committee epoch 2"],
    ]);
  });

  it("refuses t partials that do not combine under K (public shares of another key) with TOKEN_INVALID", function () {
    const s = scene(3, 2);
    const served = [1, 2].map((j) => s.serve(1, j));
    const input = { ...s.input(served.map((x) => x.posting), served.map((x) => x.code)), groupKey: G2.BASE.multiply(randomScalar()) };
    expect(failure(() => assembleFromCodes(input)).code).to.equal("TOKEN_INVALID");
  });

  it("never shows a code or the requester secret in what it reports", function () {
    const s = scene(3, 2);
    const served = [1, 2, 3].map((j) => s.serve(1, j, j === 3 ? (p) => ({ ...p, W: p.W.add(G1.BASE) }) : undefined));
    const fake = forged(2);
    const e = failure(() => assembleFromCodes(s.input(served.map((x) => x.posting), [served[0].code, fake, served[2].code])));
    const shown = `${e.message} ${JSON.stringify(e.details, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`;
    for (const secret of [...served.map((x) => x.text), formatChannelCode(fake.code), s.a.toString(), s.a.toString(16)]) {
      expect(shown).to.not.contain(secret.replaceAll("-", "").slice(0, 12));
      expect(shown).to.not.contain(secret.slice(0, 12));
    }
    expect(blamed(e.details.problems as AssemblyProblem[])).to.deep.equal([3]);
  });

  it("refuses a requester secret that does not belong to A, without showing it", function () {
    const s = scene(3, 2);
    const served = [1, 2].map((j) => s.serve(1, j));
    const wrong = randomScalar();
    const e = failure(() => assembleFromCodes({ ...s.input(served.map((x) => x.posting), served.map((x) => x.code)), requesterSecret: wrong }));
    expect(e.message).to.equal("assembleFromCodes: the requester secret a does not belong to the requester key A");
    expect(e.message).to.not.contain(wrong.toString().slice(0, 10));
  });
});
