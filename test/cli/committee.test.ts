import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { privateKeyToAccount } from "viem/accounts";

import { Fr, generateHpkeKeyPair } from "../../sdk/index.ts";
import { cg } from "../helpers/cli.ts";
import { type Round, acknowledge, finalize, formCommittee, makeDealing, pastWindow, postDealing, sharesFrom } from "../helpers/committees.ts";
import { type GuardianNetwork, defaultAccountKey, startGuardianNetwork } from "../helpers/guardianNetwork.ts";
import { Inbox } from "../helpers/localServices.ts";
import { type GuardianFixture, registerGuardian } from "../helpers/system.ts";

/**
 * `cg committee` against a local network of five guardian agents (g1…g5). The rounds this file drives by hand are
 * those of g6…g10: registered, staked and attested like the others but run by no agent, so the test alone decides
 * what each member does (deal, complain, answer wrongly, acknowledge or stay silent) whatever the agents do.
 */
describe("cg committee against a local network", function () {
  this.timeout(120_000);
  const inbox = new Inbox();
  let net: GuardianNetwork;
  const dir = mkdtempSync(join(tmpdir(), "cg-committee-"));
  const aliceKey = defaultAccountKey(2);
  const bobKey = defaultAccountKey(3);
  /** g6…g10: one region and one provider each, and no agent. */
  const silent: GuardianFixture[] = [];
  const addresses = (gs: GuardianFixture[]) => gs.map((g) => g.address).join(",");
  const committees = () => net.sys.committees;

  before(async function () {
    net = await startGuardianNetwork(inbox, { guardians: 5, confirmations: 1 });
    const regions = ["us", "ap", "sa", "af", "oc"];
    for (let k = 0; k < 5; k++) {
      const g: GuardianFixture = { name: `g${6 + k}`, signer: net.sys.spare[k], address: net.sys.spare[k].address as `0x${string}`, hpke: await generateHpkeKeyPair() };
      await registerGuardian(net.sys, g, { region: regions[k], provider: `host-${regions[k]}` });
      silent.push(g);
    }
    const deployment = join(dir, "deployment.json");
    writeFileSync(deployment, JSON.stringify(net.sys.deployment));
    process.env.CG_RPC_URL = net.node.url;
    process.env.CG_DEPLOYMENT = deployment;
  });

  after(async function () {
    delete process.env.CG_RPC_URL;
    delete process.env.CG_DEPLOYMENT;
    await net?.close();
  });

  /** The round of the next committee id once `cg committee propose` (running) has sent its proposal. */
  async function proposedRound(before: bigint, members: GuardianFixture[], threshold: number): Promise<Round> {
    const deadline = Date.now() + 20_000;
    while ((await committees().committeeCount()) === before) {
      if (Date.now() > deadline) throw new Error("cg committee propose sent no proposal within 20 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    return { committeeId: before + 1n, epoch: 1n, members, dealers: members, threshold, dealings: new Map() };
  }

  function inOrder(text: string, lines: string[]) {
    let at = -1;
    for (const line of lines) {
      const k = text.indexOf(line, at + 1);
      expect(k, `"${line}" after position ${at} in:\n${text}`).to.be.greaterThan(at);
      at = k;
    }
  }

  it("bad input exits 2 and an unknown committee or guardian exits 1, each naming what was expected; nothing is sent", async function () {
    const alice = privateKeyToAccount(aliceKey).address;
    const nonce = await net.sys.ethers.provider.getTransactionCount(alice);
    const cases: [string[], number, string][] = [
      [["--size", "5", "--threshold", "three"], 2, `--threshold expects a whole number, got "three"`],
      [["--guardians", addresses(silent.slice(0, 4)), "--threshold", "2"], 2, "expected a threshold t > n/2 = 2, got 2"],
      [["--size", "5", "--threshold", "6"], 2, "expected a threshold t in [2, n = 5], got 6"],
      [["--guardians", addresses([silent[0], silent[1], silent[0]])], 2, `expected distinct members, got ${silent[0].address} at positions 1 and 3`],
      [["--guardians", `${silent[0].address},0x1234`], 2, `--guardians expects an address, got "0x1234"`],
      [["--size", "40"], 2, "expected a committee size n in [2, 32], got 40"],
      [["--guardians", addresses(silent.slice(0, 2)), "--size", "3"], 2, "expected a size equal to the 2 members named, got 3"],
      [["--size", "12"], 1, "10 eligible guardians, 12 needed"],
      [["--guardians", `${addresses(silent.slice(0, 2))},${privateKeyToAccount(bobKey).address}`], 1, "is not a registered guardian"],
    ];
    for (const [args, code, message] of cases) {
      const r = await cg("committee", "propose", ...args, "--no-wait", "--key", aliceKey, "--json");
      expect(r.code, `${args.join(" ")}: ${r.err}`).to.equal(code);
      expect(r.json.error.message, args.join(" ")).to.include(message);
      if (code === 2) expect(r.json.error.code).to.equal("USAGE");
    }
    const unknown = await cg("committee", "show", "7", "--json");
    expect(unknown.code).to.equal(1);
    expect(unknown.json.error).to.deep.equal({ code: "UNKNOWN_COMMITTEE", message: "no committee 7 on this deployment (none proposed yet)" });
    const notAnId = await cg("committee", "show", "first");
    expect(notAnId.code).to.equal(2);
    expect(notAnId.err).to.include(`expected a committee id (a whole number ≥ 1), got "first"`);
    expect((await cg("committee", "handover", "7", "--key", bobKey)).err).to.include("no committee 7 on this deployment");
    expect((await cg("committee", "handover", "--key", bobKey)).code).to.equal(2);
    expect((await cg("committee", "propose", "--size", "5", "--timeout", "0", "--key", aliceKey)).err).to.include("--timeout expects a number of seconds ≥ 1");
    expect(await committees().committeeCount()).to.equal(0n);
    expect(await net.sys.ethers.provider.getTransactionCount(alice)).to.equal(nonce);
  });

  it("propose --no-wait returns the id; show reports the round dealing with its deadlines; list lists it; a handover of it is refused by name", async function () {
    const proposed = await cg("committee", "propose", "--guardians", addresses(silent), "--no-wait", "--key", aliceKey, "--json");
    expect(proposed.code, proposed.err).to.equal(0);
    expect(proposed.json).to.include({ committeeId: "1", epoch: "1", threshold: 3 });
    expect(proposed.json.members).to.deep.equal(silent.map((g) => g.address));

    const show = await cg("committee", "show", "1", "--json");
    expect(show.code, show.err).to.equal(0);
    const info = show.json;
    expect(info).to.include({ committeeId: "1", status: "forming", size: 5, threshold: 3, activeEpoch: "0" });
    expect(info.groupKeyHash).to.equal(undefined);
    expect(info.members.map((m: { operator: string; since: number }) => [m.operator, m.since])).to.deep.equal(silent.map((g) => [g.address, 1]));
    expect(info.round).to.include({ epoch: "1", kind: "formation", phase: "dealing", dealt: 0, acknowledged: 0 });
    const d = info.round.deadlines;
    expect(d.dealing).to.equal(proposed.json.dealDeadline);
    const seconds = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 1000;
    expect(seconds(d.dealing, d.complaints)).to.equal(300); // complaintWindow
    expect(seconds(d.complaints, d.answers)).to.equal(3600); // answerWindow
    expect(seconds(d.answers, d.finalizeBy)).to.equal(600); // ackWindow
    expect(d.acknowledgements).to.equal(undefined);
    expect(info.round.slots.every((s: { dealt: boolean; acknowledged: boolean }) => !s.dealt && !s.acknowledged)).to.equal(true);
    expect(info.history.map((h: { event: string }) => h.event)).to.deep.equal(["proposed"]);
    expect(info.history[0].detail).to.equal(`proposed by ${privateKeyToAccount(aliceKey).address}: 3 of 5`);
    const text = (await cg("committee", "show", "1")).out;
    expect(text).to.include("committee 1: forming, 3 of 5, active epoch none");
    expect(text).to.include(`round 1 (formation): dealing, 3 of 5, 0 of 5 dealt`);
    expect(text).to.include(`dealing until ${d.dealing}`);
    expect(text).to.include(`  slot 2  ${silent[1].address}  not dealt`);

    // --size picks eligible guardians spread over regions; the threshold defaults to the smallest majority.
    const picked = await cg("committee", "propose", "--size", "3", "--no-wait", "--key", aliceKey, "--json");
    expect(picked.code, picked.err).to.equal(0);
    expect(picked.json).to.include({ committeeId: "2", threshold: 2 });
    const guardians = (await cg("guardian", "list", "--json")).json as { operator: string; region: string }[];
    const regions = picked.json.members.map((m: string) => guardians.find((g) => g.operator === m)!.region);
    expect(new Set(regions).size).to.equal(3);

    const list = await cg("committee", "list", "--json");
    expect(list.code).to.equal(0);
    expect(list.json.map((k: { committeeId: string; status: string; roundPhase: string }) => [k.committeeId, k.status, k.roundPhase])).to.deep.equal([
      ["1", "forming", "dealing"],
      ["2", "forming", "dealing"],
    ]);
    expect(list.json[0].members).to.deep.equal(silent.map((g) => g.address));
    expect((await cg("committee", "list")).out).to.include("committee 1: forming (round 1 dealing), 3 of 5, active epoch none");

    const refused = await cg("committee", "handover", "1", "--no-wait", "--key", bobKey, "--json");
    expect(refused.code).to.equal(1);
    expect(refused.json.error.code).to.equal("TX_REFUSED");
    expect(refused.json.error.message).to.equal("startHandover: CommitteeNotActive — committee 1 is forming: only an active committee is handed over; its formation (epoch 1) has not finished");
    expect((await committees().round(1n, 2n)).phase).to.equal(0n);
  });

  it("propose follows the round in words, through a complaint and a wrong answer, until the committee is active (exit 0)", async function () {
    const count = await committees().committeeCount();
    const running = cg("committee", "propose", "--guardians", addresses(silent), "--timeout", "60", "--key", aliceKey);
    const round = await proposedRound(count, silent, 3);
    for (const i of [1, 2, 3, 4, 5]) await postDealing(net.sys, round, makeDealing(i, 5, 3));
    // Slot 3 complains against dealer 2, whose answer reveals a value that is not f_2(3): disqualified and slashed.
    await (await committees().connect(silent[2].signer).complain(round.committeeId, 1n, 2, 3)).wait();
    const wrong = Fr.add(round.dealings.get(2)!.subShares[2], 1n);
    await (await committees().connect(silent[1].signer).answer(round.committeeId, 1n, 2, 3, wrong, round.dealings.get(2)!.commitmentsHex)).wait();
    await pastWindow(net.sys, round, "complaintDeadline");
    await finalize(net.sys, round);
    await acknowledge(net.sys, round, sharesFrom(round, [1, 3, 4, 5], false));

    const done = await running;
    expect(done.code, done.err).to.equal(0);
    inOrder(done.err, [
      `proposing 3 of 5: ${silent.map((g) => g.address).join(", ")}`,
      `committee ${round.committeeId} proposed; dealing until`,
      "1 of 5 dealt",
      "2 of 5 dealt",
      "5 of 5 dealt",
      "complaint: slot 3 against dealer 2",
      "dealer 2 disqualified: wrong answer (0.5 ETH slashed)",
      "finalized: qualified dealers 1, 3, 4, 5",
      "1 of 5 acknowledged",
      "5 of 5 acknowledged",
      "active",
    ]);
    expect(done.err.match(/ of 5 dealt/g)).to.have.length(5); // each change once
    expect(done.out).to.include(`committee ${round.committeeId} is active (qualified dealers 1, 3, 4, 5)`);

    const info = (await cg("committee", "show", String(round.committeeId), "--json")).json;
    expect(info).to.include({ status: "active", activeEpoch: "1" });
    expect(info.groupKeyHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(info.round).to.include({ phase: "active", dealt: 5, acknowledged: 5 });
    expect(info.round.qualified).to.deep.equal([1, 3, 4, 5]);
    expect(info.round.complaints).to.deep.equal([{ dealer: 2, recipient: 3, status: "wrong answer" }]);
    expect(info.round.faults.map((f: { slot: number; fault: string; slashed: string }) => [f.slot, f.fault, f.slashed])).to.deep.equal([[2, "wrong answer", "500000000000000000"]]);
    expect(info.round.slots[1]).to.include({ disqualified: true, acknowledged: true });
    expect(info.round.slots[2].complainedAgainst).to.deep.equal([2]);
    expect(info.history.map((h: { event: string }) => h.event)).to.deep.equal(["proposed", "activated"]);
    const text = (await cg("committee", "show", String(round.committeeId))).out;
    expect(text).to.include("complaint: slot 3 against dealer 2: wrong answer");
    expect(text).to.include(`fault: slot 2 (${silent[1].address}) wrong answer, 0.5 ETH slashed`);
  });

  it("propose exits 1 when the formation fails, saying why; a timeout says the round goes on and how to follow it", async function () {
    const members = [silent[0], silent[2], silent[3], silent[4]]; // g7 was jailed by its wrong answer
    const count = await committees().committeeCount();
    const running = cg("committee", "propose", "--guardians", addresses(members), "--timeout", "60", "--key", aliceKey);
    const round = await proposedRound(count, members, 3);
    for (const i of [1, 2, 3, 4]) await postDealing(net.sys, round, makeDealing(i, 4, 3));
    await pastWindow(net.sys, round, "complaintDeadline");
    await finalize(net.sys, round);
    await acknowledge(net.sys, round, sharesFrom(round, [1, 2, 3, 4], false), [1, 2, 3]); // slot 4 stays silent
    await pastWindow(net.sys, round, "ackDeadline");
    await (await committees().connect(net.sys.bob).expire(round.committeeId, 1n)).wait();

    const failed = await running;
    expect(failed.code, failed.err).to.equal(1);
    inOrder(failed.err, ["4 of 4 dealt", "finalized: qualified dealers 1, 2, 3, 4", "3 of 4 acknowledged", "failed: not acknowledged in time"]);
    expect(failed.err).to.include(
      `cg committee propose: the formation of committee ${round.committeeId} (epoch 1) failed: not acknowledged in time; a failed formation is never resumed: propose again (without the members that stayed silent)`,
    );
    const info = (await cg("committee", "show", String(round.committeeId), "--json")).json;
    expect(info).to.include({ status: "failed" });
    expect(info.round).to.include({ phase: "failed", failure: "not acknowledged in time", acknowledged: 3 });
    expect(info.history.map((h: { event: string; detail: string }) => h.detail).at(-1)).to.equal("failed: not acknowledged in time");

    const slow = await cg("committee", "propose", "--guardians", addresses(members), "--timeout", "1", "--key", aliceKey, "--json");
    expect(slow.code).to.equal(1);
    expect(slow.json.error.code).to.equal("TIMEOUT");
    expect(slow.json.error.message).to.match(/^round 1 of committee (\d+) is still dealing \(0 of 4 dealt\) after 1 s; it continues on-chain: follow it with cg committee show \1$/);
  });

  it("handover names why it is not due; a due one replaces the member that is no longer eligible and a second is refused", async function () {
    const { round } = await formCommittee(net.sys, [silent[0], silent[2], silent[3]], 2);
    const id = String(round.committeeId);
    const active = (await cg("committee", "show", id, "--json")).json;
    expect(active.status).to.equal("active");
    const due = new Date(Date.parse(active.activatedAt) + 90 * 24 * 3600 * 1000).toISOString(); // maxEpochAge
    const notDue = await cg("committee", "handover", id, "--key", bobKey);
    expect(notDue.code).to.equal(1);
    expect(notDue.err).to.include(`startHandover: CommitteeHandoverNotDue — every member is eligible and epoch 1 is younger than maxEpochAge: due at ${due}`);

    // Committee 3 is active with g7 in slot 2, jailed since its wrong answer: the handover is due and replaces it.
    const started = await cg("committee", "handover", "3", "--no-wait", "--key", bobKey, "--json");
    expect(started.code, started.err).to.equal(0);
    expect(started.json).to.include({ committeeId: "3", epoch: "2", sourceEpoch: "1", threshold: 3 });
    expect(started.json.replaced).to.deep.equal([2]);
    const incoming = started.json.incoming[0];
    expect(incoming).to.include({ slot: 2, replaces: silent[1].address });
    expect(silent.map((g) => g.address)).to.not.include(incoming.operator); // every one of g6…g10 is a member
    expect(started.json.members).to.deep.equal([silent[0].address, incoming.operator, ...silent.slice(2).map((g) => g.address)]);

    const again = await cg("committee", "handover", "3", "--timeout", "1", "--key", bobKey);
    expect(again.code).to.equal(1);
    expect(again.err).to.include("startHandover: CommitteeHandoverInProgress — a handover to epoch 2 of committee 3 is already running");

    const info = (await cg("committee", "show", "3", "--json")).json;
    expect(info).to.include({ status: "active", activeEpoch: "1", lastEpoch: "2" });
    expect(info.members[1].operator).to.equal(silent[1].address); // epoch 1 serves until epoch 2 is active
    expect(info.round).to.include({ epoch: "2", kind: "handover", phase: "dealing" });
    expect(info.round.slots[1]).to.include({ replaced: true, dealer: silent[1].address, member: incoming.operator });
    expect(info.history.map((h: { event: string }) => h.event)).to.deep.equal(["proposed", "activated", "handover started"]);
    expect((await cg("committee", "show", "3")).out).to.include(`slot 2  ${silent[1].address} → ${incoming.operator} (replaced)  not dealt`);
    expect((await cg("committee", "list")).out).to.include("committee 3: active (round 2 dealing), 3 of 5, active epoch 1");
  });
  it("the agents of g1…g5 take a cg committee propose round to active on their own; propose exits 0", async function () {
    const agents = net.sys.guardians.slice(0, 5);
    const before = await committees().committeeCount();
    const provider = net.sys.ethers.provider;
    // The clock only has to pass the complaint window once the five agents have dealt; everything else is theirs.
    const clock = (async () => {
      const round = await proposedRound(before, agents, 3);
      const deadline = Date.now() + 60_000;
      while (Number((await committees().round(round.committeeId, 1n)).dealt) !== 0b11111) {
        if (Date.now() > deadline) throw new Error("the agents did not deal within 60 s");
        await new Promise((r) => setTimeout(r, 100));
      }
      await provider.send("evm_increaseTime", [301]);
      await provider.send("evm_mine", []);
    })();
    const [run] = await Promise.all([cg("committee", "propose", "--guardians", addresses(agents), "--threshold", "3", "--timeout", "120", "--key", aliceKey), clock]);
    expect(run.code, run.err).to.equal(0);
    inOrder(run.err, ["5 of 5 dealt", "finalized: qualified dealers 1, 2, 3, 4, 5", "5 of 5 acknowledged", "active"]);
    const shown = (await cg("committee", "show", String(before + 1n), "--json")).json;
    expect(shown).to.include({ status: "active", activeEpoch: "1" });
  });
});
