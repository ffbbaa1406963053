import { expect } from "chai";
import { join } from "node:path";
import { type Hex, hexToBytes, keccak256, toHex } from "viem";

import { Store } from "../../guardian/store.ts";
import { G1, G2, combine, committeePublicShare, computePartial, deal, decodeCommitments, g1ToEip2537, verifyPartial, verifyToken } from "../../sdk/index.ts";
import { commitmentsHexOf as commitmentsHex, startHandover } from "../helpers/committees.ts";
import { type AgentProcess, type GuardianNetwork, startAgent, startGuardianNetwork, stopAgent, waitForLog } from "../helpers/guardianNetwork.ts";
import { Inbox } from "../helpers/localServices.ts";
import { ONE_ETH, findEvent } from "../helpers/system.ts";
import { message } from "../helpers/fixtures.ts";

const PHASE = { Dealing: 1n, Acknowledging: 2n, Active: 3n, Retired: 4n, Failed: 5n };
const STATUS = { Active: 2n, Failed: 3n };
const FAULT = { WrongAnswer: 0n };

/**
 * Committees formed and handed over by guardian agents running as processes against a hardhat node: the test only
 * proposes, starts handovers and moves the clock past the windows; the agents deal, complain, answer, finalize and
 * acknowledge by themselves.
 */
describe("guardian agents run committee rounds as processes against a hardhat node", function () {
  this.timeout(300_000);
  const inbox = new Inbox();
  let net: GuardianNetwork;
  // Each failpoint SIGKILLs its agent right after the job it names is recorded, before it is sent (once per process).
  const failpoints: Record<number, string> = {
    1: "committee.after-finalize", // slot 1 has the first turn to finalize
    2: "committee.bad-subshare,committee.after-answer", // sends g3 a bad sub-share, dies after queuing its (wrong) answer
    3: "committee.after-complain", // the victim dies after queuing its complaint
    4: "committee.after-acknowledge",
    5: "committee.after-deal",
  };

  before(async function () {
    net = await startGuardianNetwork(inbox, { guardians: 7, confirmations: 1, agentEnv: (i): Record<string, string> => (failpoints[i] ? { CG_FAILPOINTS: failpoints[i] } : {}) });
  });

  after(async function () {
    await net?.close();
  });

  const committees = () => net.sys.committees;

  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Restarts, without its failpoints, every agent that a failpoint killed. */
  function restartKilled(): number {
    let restarted = 0;
    for (const a of net.agents) {
      if (a.process && a.process.signalCode === "SIGKILL") {
        startAgent(a, {});
        restarted++;
      }
    }
    return restarted;
  }

  async function passDeadline(deadline: bigint) {
    const provider = net.sys.ethers.provider;
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    if (now <= deadline) await provider.send("evm_increaseTime", [Number(deadline - now) + 1]);
    await provider.send("evm_mine", []);
  }

  /** Follows a round to the end, moving the clock past its windows and restarting agents a failpoint killed. */
  async function driveRound(committeeId: bigint, epoch: bigint, options: { expectDealt: number; killed?: number }) {
    let kills = 0;
    await until(`${options.expectDealt} dealings`, async () => {
      kills += restartKilled();
      const r = await committees().round(committeeId, epoch);
      return popcount(Number(r.dealt)) >= options.expectDealt && r;
    });
    // Complaints and answers come within seconds of the dealings.
    await new Promise((r) => setTimeout(r, 1500));
    kills += restartKilled();
    await until("open complaints to be answered", async () => {
      kills += restartKilled();
      return Number((await committees().round(committeeId, epoch)).complained) === 0;
    }, 30_000);
    await passDeadline((await committees().round(committeeId, epoch)).complaintDeadline);
    const r = await until("the round to be finalized and activated (or fail)", async () => {
      kills += restartKilled();
      const v = await committees().round(committeeId, epoch);
      return (v.phase === PHASE.Active || v.phase === PHASE.Failed) && v;
    });
    if (options.killed !== undefined) expect(kills).to.equal(options.killed);
    return r;
  }

  /** The share an agent stored for (committee, epoch), read from its database with its HPKE key. */
  function storedShare(agent: AgentProcess, committeeId: bigint, epoch: bigint) {
    const store = new Store(join(agent.dataDir, "guardian.db"), agent.guardian.hpke.privateKey);
    try {
      return store.getCommitteeShare(committeeId.toString(), Number(epoch));
    } finally {
      store.close();
    }
  }

  let committeeId: bigint;
  let formedCommitments: Hex;
  const oldShares = new Map<number, bigint>();

  it("five agents form a 3-of-5 committee; a dealer that sent a bad sub-share answers wrongly, is disqualified and slashed; agents killed in every phase resume", async function () {
    const { sys } = net;
    const members = sys.guardians.slice(0, 5);
    const g2Stake = (await sys.registry.guardian(members[1].address)).stake;
    const receipt = await (await committees().connect(sys.alice).propose(members.map((g) => g.address), 3)).wait();
    committeeId = findEvent(committees(), receipt, "CommitteeProposed").args.committeeId;

    const round = await driveRound(committeeId, 1n, { expectDealt: 5, killed: 5 });
    expect(round.phase).to.equal(PHASE.Active);
    const view = await committees().committee(committeeId);
    expect(view.status).to.equal(STATUS.Active);

    // g3 complained against g2, g2 answered with the bad value it sent: proven at once, g2 slashed, left out of Q.
    const faults = await committees().queryFilter(committees().filters.CommitteeFaultProven(committeeId, 1n));
    expect(faults.map((f: any) => [Number(f.args.slot), f.args.fault])).to.deep.equal([[2, FAULT.WrongAnswer]]);
    expect((await sys.registry.guardian(members[1].address)).stake).to.equal(g2Stake - ONE_ETH / 2n);
    const finalized = (await committees().queryFilter(committees().filters.CommitteeRoundFinalized(committeeId, 1n)))[0] as any;
    expect(Number(finalized.args.qualified)).to.equal(0b11101);
    formedCommitments = finalized.args.commitments;
    expect(view.groupKeyHash).to.equal(keccak256(("0x" + formedCommitments.slice(2, 2 + 512)) as Hex));

    // Every agent (g2 included) holds a share that matches its public share, and any three sign for K.
    const commitments = decodeCommitments(formedCommitments);
    for (const agent of net.agents.slice(0, 5)) {
      const stored = await until(`${agent.guardian.name}'s share`, async () => storedShare(agent, committeeId, 1n));
      expect(stored.slot).to.equal(agent.index);
      expect(G2.BASE.multiply(stored.share).equals(committeePublicShare(commitments, agent.index))).to.equal(true);
      oldShares.set(agent.index, stored.share);
    }
    const msg = hexToBytes(message(3));
    const token = combine([1, 3, 5].map((j) => computePartial({ index: j, value: oldShares.get(j)! }, msg)), 3);
    expect(verifyToken(token, commitments[0], msg)).to.equal(true);
    // Nobody logged a share or a sub-share.
    for (const a of net.agents) for (const s of oldShares.values()) expect(a.logs.join("\n")).not.to.include(s.toString());
  });

  it("a member unbonds, a handover replaces it (and the jailed g2): the new epoch's shares make tokens under the unchanged K, old-epoch partials are refused, old shares are erased", async function () {
    const { sys } = net;
    const g4 = sys.guardians[3];
    await (await sys.registry.connect(g4.signer).startUnbonding(ONE_ETH / 2n)).wait();
    const { ev: started } = await startHandover(sys, committeeId);
    const epoch: bigint = started.args.epoch;
    // g4 is unbonding and g2 was jailed by its slash: both slots change hands, to the two guardians outside.
    expect(started.args.replaced).to.equal(0b1010n);
    const incoming = [(started.args.members as string[])[1], (started.args.members as string[])[3]];
    expect([...incoming].sort()).to.deep.equal([sys.guardians[5].address, sys.guardians[6].address].sort());

    const round = await driveRound(committeeId, epoch, { expectDealt: 5 });
    expect(round.phase).to.equal(PHASE.Active);
    expect((await committees().committee(committeeId)).activeEpoch).to.equal(epoch);
    expect((await committees().round(committeeId, 1n)).phase).to.equal(PHASE.Retired);
    const finalized = (await committees().queryFilter(committees().filters.CommitteeRoundFinalized(committeeId, epoch)))[0] as any;
    const commitments = decodeCommitments(finalized.args.commitments);
    expect(commitments[0].equals(decodeCommitments(formedCommitments)[0])).to.equal(true); // K unchanged

    // The agents now in slots 1…5 hold the new shares; g4 (who left) and everyone else erased epoch 1.
    const bySlot = (started.args.members as string[]).map((a) => net.agents.find((x) => x.guardian.address === a)!);
    const newShares = new Map<number, bigint>();
    for (const [k, agent] of bySlot.entries()) {
      const stored = await until(`slot ${k + 1}'s share`, async () => storedShare(agent, committeeId, epoch));
      newShares.set(k + 1, stored.share);
      expect(storedShare(agent, committeeId, 1n)).to.equal(undefined);
    }
    // The members who left erase theirs when they see the activation (they hold no share of the new epoch).
    for (const left of [net.agents[1], net.agents[3]]) {
      await until(`${left.guardian.name} to erase its epoch-1 share`, async () => storedShare(left, committeeId, 1n) === undefined);
      expect(storedShare(left, committeeId, epoch)).to.equal(undefined);
    }
    const msg = hexToBytes(message(9));
    const token = combine([2, 4, 5].map((j) => computePartial({ index: j, value: newShares.get(j)! }, msg)), 3);
    expect(verifyToken(token, commitments[0], msg)).to.equal(true);
    // An old-epoch partial fails against the new epoch's public share of its slot, so a client refuses it.
    const oldPartial = computePartial({ index: 1, value: oldShares.get(1)! }, msg);
    expect(verifyPartial(oldPartial, commitments, msg)).to.equal(false);
    expect(verifyPartial(computePartial({ index: 1, value: newShares.get(1)! }, msg), commitments, msg)).to.equal(true);
  });

  it("a formation with a silent member fails at its deadline and changes nothing else", async function () {
    const { sys } = net;
    const silent = net.agents[5]; // g6
    await stopAgent(silent);
    // Eligible now: g1, g3, g5 and the newcomers g6, g7 (g2 is jailed, g4 unbonding).
    const members = [sys.guardians[0], sys.guardians[2], sys.guardians[4], sys.guardians[6], sys.guardians[5]];
    const stakes = await Promise.all(members.map(async (g) => (await sys.registry.guardian(g.address)).stake));
    const receipt = await (await committees().connect(sys.alice).propose(members.map((g) => g.address), 3)).wait();
    const id: bigint = findEvent(committees(), receipt, "CommitteeProposed").args.committeeId;
    await until("four dealings", async () => popcount(Number((await committees().round(id, 1n)).dealt)) === 4);
    await passDeadline((await committees().round(id, 1n)).dealDeadline);
    await passDeadline((await committees().round(id, 1n)).complaintDeadline);
    await until("finalization", async () => (await committees().round(id, 1n)).phase === PHASE.Acknowledging);
    await until("four acknowledgements", async () => popcount(Number((await committees().round(id, 1n)).acknowledged)) === 4);
    await passDeadline((await committees().round(id, 1n)).ackDeadline);
    await until("the round to fail", async () => (await committees().committee(id)).status === STATUS.Failed);
    expect((await committees().round(id, 1n)).phase).to.equal(PHASE.Failed);
    expect(await Promise.all(members.map(async (g) => (await sys.registry.guardian(g.address)).stake))).to.deep.equal(stakes);
    expect((await committees().queryFilter(committees().filters.CommitteeFaultProven(id))).length).to.equal(0);
    // The first committee is untouched.
    expect((await committees().committee(committeeId)).status).to.equal(STATUS.Active);
    startAgent(silent, {});
    await waitForLog(silent, "guardian started", 60_000);
  });

  it("hostile dealings (malformed commitments, sealed sub-shares that do not open) draw complaints and slashes; a false complaint against an honest agent is answered and costs it nothing; a bogus proof of possession is proven by the agents", async function () {
    const { sys } = net;
    const [g1, , g3, , g5, g6, g7] = sys.guardians;
    // g6 and g7 are driven by hand: their agents are stopped.
    await Promise.all([stopAgent(net.agents[5]), stopAgent(net.agents[6])]);
    const g1Stake = (await sys.registry.guardian(g1.address)).stake;
    const receipt = await (await committees().connect(sys.alice).propose([g1, g3, g5, g6, g7].map((g) => g.address), 3)).wait();
    const id: bigint = findEvent(committees(), receipt, "CommitteeProposed").args.committeeId;
    const random = (n: number) => toHex(crypto.getRandomValues(new Uint8Array(n)));
    await (await committees().connect(g6.signer).deal(id, 1, 4, random(3 * 256), random(5 * 80))).wait();
    const honest = deal(5, 3);
    await (await committees().connect(g7.signer).deal(id, 1, 5, commitmentsHex(honest.commitments), random(5 * 80))).wait();
    await until("the agents' dealings", async () => Number((await committees().round(id, 1n)).dealt) === 0b11111);
    await (await committees().connect(g6.signer).complain(id, 1, 1, 4)).wait(); // false: g1's sub-share is fine
    await until("the agents' complaints against slots 4 and 5", async () => {
      const [c4, c5] = await Promise.all([committees().complaints(id, 1, 4), committees().complaints(id, 1, 5)]);
      return Number(c4) === 0b00111 && Number(c5) === 0b00111;
    });
    await until("g1's answer", async () => Number(await committees().complaints(id, 1, 1)) === 0);
    const answered = (await committees().queryFilter(committees().filters.CommitteeComplaintAnswered(id, 1n))) as any[];
    expect(answered.map((e) => [Number(e.args.dealer), Number(e.args.recipient), e.args.valid])).to.deep.equal([[1, 4, true]]);
    await passDeadline((await committees().round(id, 1n)).answerDeadline);
    await until("finalization", async () => (await committees().round(id, 1n)).phase === PHASE.Acknowledging);
    const faults = (await committees().queryFilter(committees().filters.CommitteeFaultProven(id))) as any[];
    expect(faults.map((f) => [Number(f.args.slot), Number(f.args.fault)]).sort()).to.deep.equal([[4, 1], [5, 1]]);
    expect((await sys.registry.guardian(g1.address)).stake).to.equal(g1Stake);
    expect(Number((await committees().round(id, 1n)).disqualified)).to.equal(0b11000);
    await until("the agents' acknowledgements", async () => Number((await committees().round(id, 1n)).acknowledged) === 0b00111);
    // g6 acknowledges with a proof it could not have made (no share of its own): the agents prove it invalid.
    const bogus = toHex(g1ToEip2537(G1.BASE.multiply(12345n)));
    await (await committees().connect(g6.signer).acknowledge(id, 1, 4, bogus)).wait();
    const proven = await until("the agents' proof of g6's invalid possession", async () => {
      const all = (await committees().queryFilter(committees().filters.CommitteeFaultProven(id))) as any[];
      return all.find((f) => Number(f.args.fault) === 3);
    });
    expect([Number(proven.args.slot), proven.args.operator]).to.deep.equal([4, g6.address]);
    expect([g1, g3, g5].map((g) => g.address)).to.include(proven.args.prover);
    for (const a of [net.agents[5], net.agents[6]]) startAgent(a, {});
    await Promise.all([5, 6].map((k) => waitForLog(net.agents[k], "guardian started", 60_000)));
  });
});

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}
