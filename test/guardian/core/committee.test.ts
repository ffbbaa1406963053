import { expect } from "chai";
import { type Hex, toHex } from "viem";

import {
  type RoundState,
  dealt,
  finalizeDealings,
  onAcknowledged,
  onActivated,
  onAnswer,
  onComplaint,
  onDealing,
  onFailed,
  onFinalized,
  open,
} from "../../../guardian/core/committee.ts";
import { Fr, G2, combineDkgCommitments, committeePublicShare, combineReshareCommitments, dealDkg, dealReshare, g2ToEip2537, type G2Point } from "../../../sdk/index.ts";

const members = ["0x1000000000000000000000000000000000000001", "0x1000000000000000000000000000000000000002", "0x1000000000000000000000000000000000000003"];
const hexOf = (points: readonly G2Point[]) => ("0x" + points.map((p) => toHex(g2ToEip2537(p)).slice(2)).join("")) as Hex;

/** g2's view of a 2-of-3 DKG (slot 2 deals and receives). */
function g2Round(): RoundState {
  const step = open({ me: members[1], committeeId: 7n, epoch: 1n, threshold: 2, sourceEpoch: 0n, dealers: members, recipients: members })!;
  expect(step.actions).to.deep.equal([{ kind: "deal" }]);
  return step.state;
}

describe("guardian/core/committee: a guardian's part in a round, as pure transitions", function () {
  it("a guardian outside the round has no part; a member deals once it opens", function () {
    expect(open({ me: "0x2000000000000000000000000000000000000000", committeeId: 7n, epoch: 1n, threshold: 2, sourceEpoch: 0n, dealers: members, recipients: members })).to.equal(undefined);
    const s = g2Round();
    expect([s.dealerSlot, s.recipientSlot, s.phase]).to.deep.equal([2, 2, "dealing"]);
    // A handover's leaving member deals but receives nothing; a newcomer receives but does not deal.
    const leaving = open({ me: members[0], committeeId: 7n, epoch: 2n, threshold: 2, sourceEpoch: 1n, dealers: members, recipients: ["0x3000000000000000000000000000000000000003", members[1], members[2]] })!;
    expect([leaving.state.dealerSlot, leaving.state.recipientSlot, leaving.actions.length]).to.deep.equal([1, 0, 1]);
    const newcomer = open({ me: "0x3000000000000000000000000000000000000003", committeeId: 7n, epoch: 2n, threshold: 2, sourceEpoch: 1n, dealers: members, recipients: ["0x3000000000000000000000000000000000000003", members[1], members[2]] })!;
    expect([newcomer.state.dealerSlot, newcomer.state.recipientSlot, newcomer.actions.length]).to.deep.equal([0, 1, 0]);
  });

  it("a sub-share that does not open or does not match draws a complaint; a good one is kept; a dealing is taken once", function () {
    let s = g2Round();
    const d1 = dealDkg(3, 2);
    const d3 = dealDkg(3, 2);
    const good = onDealing(s, 1, hexOf(d1.commitments), { value: d1.subShares[1] });
    expect(good.actions).to.deep.equal([]);
    expect(good.state.received[1].subShare).to.equal(d1.subShares[1].toString());
    s = good.state;
    const wrong = onDealing(s, 3, hexOf(d3.commitments), { value: Fr.add(d3.subShares[1], 1n) });
    expect(wrong.actions).to.deep.equal([{ kind: "complain", dealer: 3, reason: "the sub-share does not match the dealer's commitments" }]);
    expect(onDealing(wrong.state, 3, hexOf(d3.commitments), { value: d3.subShares[1] }).actions).to.deep.equal([]);
    const unopened = onDealing(s, 3, hexOf(d3.commitments), { error: "DECRYPT_FAILED: cannot be opened" });
    expect(unopened.actions[0]).to.include({ kind: "complain", dealer: 3 });
    const garbage = onDealing(s, 3, "0x1234", { value: 5n });
    expect(garbage.actions[0]).to.include({ kind: "complain", dealer: 3 });
    // A right answer to the complaint gives the recipient the revealed value; a wrong one disqualifies.
    const revealed = onAnswer(wrong.state, 3, 2, d3.subShares[1], true).state;
    expect(revealed.received[3]).to.include({ verdict: "revealed", subShare: d3.subShares[1].toString() });
    expect(onAnswer(wrong.state, 3, 2, 1n, false).state.disqualified).to.deep.equal([3]);
  });

  it("a dealer answers only complaints against itself, once each, with the value it sent", function () {
    const d2 = dealDkg(3, 2);
    let s = dealt(g2Round(), hexOf(d2.commitments), d2.subShares).state;
    expect(onComplaint(s, 1, 3).actions).to.deep.equal([]); // against another dealer
    const step = onComplaint(s, 2, 3);
    expect(step.actions).to.deep.equal([{ kind: "answer", recipient: 3, value: d2.subShares[2].toString() }]);
    s = step.state;
    expect(onComplaint(s, 2, 3).actions).to.deep.equal([]);
  });

  it("after finalization it acknowledges only a share that matches its public share, then keeps it when active", function () {
    let s = g2Round();
    const dealings = [dealDkg(3, 2), dealDkg(3, 2), dealDkg(3, 2)];
    dealings.forEach((d, k) => (s = onDealing(s, k + 1, hexOf(d.commitments), { value: d.subShares[1] }).state));
    const C = combineDkgCommitments(dealings.map((d) => d.commitments));
    const fin = onFinalized(s, [1, 2, 3], hexOf(C));
    const share = dealings.reduce((acc, d) => Fr.add(acc, d.subShares[1]), 0n);
    expect(fin.actions).to.deep.equal([{ kind: "acknowledge", share: share.toString() }]);
    expect(fin.state.share).to.equal(share.toString());
    expect(G2.BASE.multiply(share).equals(committeePublicShare(C, 2))).to.equal(true);
    // Commitments that do not match what it received: no acknowledgement.
    const other = combineDkgCommitments([dealDkg(3, 2).commitments, dealDkg(3, 2).commitments]);
    expect(onFinalized(s, [1, 2, 3], hexOf(other)).actions[0].kind).to.equal("refuse");
    // A qualified dealer it holds no verified sub-share from: no acknowledgement.
    const partial = onDealing(g2Round(), 1, hexOf(dealings[0].commitments), { value: dealings[0].subShares[1] }).state;
    expect(onFinalized(partial, [1, 2], hexOf(C)).actions[0]).to.include({ kind: "refuse" });
    const active = onActivated(fin.state);
    expect(active.actions).to.deep.equal([{ kind: "activate", share: share.toString() }]);
    expect(active.state.dealt).to.equal(undefined);
    expect(onFailed(fin.state).state).to.include({ phase: "failed", share: undefined });
  });

  it("in a handover it proves a dealing whose E_0 is not the dealer's public share, combines with Lagrange, and erases the old share", function () {
    const old = dealDkg(3, 2); // stands in for the source epoch: shares f(j), commitments C
    const shares = old.subShares;
    const me = "0x3000000000000000000000000000000000000003";
    let s = open({ me, committeeId: 7n, epoch: 2n, threshold: 2, sourceEpoch: 1n, dealers: members, recipients: [me, members[1], members[2]] })!.state;
    const reshares = [1, 2, 3].map((i) => dealReshare({ index: i, value: shares[i - 1] }, 3, 2));
    const cheat = dealReshare({ index: 3, value: Fr.add(shares[2], 1n) }, 3, 2);
    const source = hexOf(old.commitments);
    s = onDealing(s, 1, hexOf(reshares[0].commitments), { value: reshares[0].subShares[0] }, source).state;
    const proven = onDealing(s, 3, hexOf(cheat.commitments), { value: cheat.subShares[0] }, source);
    expect(proven.actions).to.deep.equal([{ kind: "prove-mismatch", dealer: 3 }]);
    s = onDealing(s, 2, hexOf(reshares[1].commitments), { value: reshares[1].subShares[0] }, source).state;
    const C = combineReshareCommitments([1, 2], [reshares[0].commitments, reshares[1].commitments]);
    expect(C[0].equals(old.commitments[0])).to.equal(true);
    const fin = onFinalized(s, [1, 2], hexOf(C));
    expect(fin.actions[0].kind).to.equal("acknowledge");
    expect(onActivated(fin.state).actions).to.deep.equal([{ kind: "activate", share: fin.state.share }, { kind: "erase", epoch: 1 }]);
  });

  it("acknowledgements build the round's history; another member's proof that does not verify is proven, its own never", function () {
    let s: RoundState = { ...g2Round(), finalized: { qualified: [1, 2, 3], commitments: "0x00" } };
    const h = (n: number) => toHex(n, { size: 32 });
    const verify = (_proof: Hex, slot: number) => slot !== 3;
    let step = onAcknowledged(s, 1, members[0], "0x11", h(1), verify);
    expect(step.actions).to.deep.equal([]);
    step = onAcknowledged(step.state, 3, members[2], "0x33", h(3), verify);
    expect(step.actions).to.deep.equal([{ kind: "prove-possession", slot: 3, proof: "0x33" }]);
    s = step.state;
    expect(s.acks).to.deep.equal([{ slot: 1, operator: members[0], proofHash: h(1) }, { slot: 3, operator: members[2], proofHash: h(3) }]);
    expect(onAcknowledged(s, 3, members[2], "0x33", h(3), verify)).to.deep.equal({ state: s, actions: [] }); // once
    expect(onAcknowledged(s, 2, members[1], "0x22", h(2), () => false).actions).to.deep.equal([]); // its own
    expect(onAcknowledged(s, 4, members[0], "0x44", h(4), () => { throw new Error("does not decode"); }).actions[0]).to.include({ kind: "prove-possession", slot: 4 });
  });

  it("finalize passes every qualified dealing at its dealer's slot (the contract picks a handover's Q' itself)", function () {
    const s = g2Round();
    const withAll: RoundState = { ...s, received: { 1: { commitments: "0x01", verdict: "ok" }, 2: { commitments: "0x02", verdict: "ok" }, 3: { commitments: "0x03", verdict: "ok" } } };
    expect(finalizeDealings(withAll, 0b111, 0b010, 0)).to.deep.equal(["0x01", "0x", "0x03"]);
    expect(finalizeDealings({ ...withAll, sourceEpoch: 1 }, 0b111, 0, 0)).to.deep.equal(["0x01", "0x02", "0x03"]);
    expect(finalizeDealings({ ...withAll, sourceEpoch: 1 }, 0b011, 0, 0b001)).to.deep.equal(["0x", "0x02"]);
  });
});
