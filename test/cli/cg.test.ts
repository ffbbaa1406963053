import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { privateKeyToAccount } from "viem/accounts";

import { type ResetRequest, replayAuditLog, resetRequest } from "../../sdk/client/index.ts";
import { makeContext } from "../../cli/context.ts";
import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";
import { cg } from "../helpers/cli.ts";
import { defaultAccountKey } from "../helpers/guardianNetwork.ts";
import { type CliNetwork, startCliNetwork } from "./localNetwork.ts";

/**
 * `cg` against a local hardhat node with committee 1 (3 of 5) formed; the test plays the guardians' postings (see
 * localNetwork.ts), so every command meets real postings, codes and refusals.
 */
describe("cg CLI against a local network", function () {
  this.timeout(180_000);
  let net: CliNetwork;
  const dir = mkdtempSync(join(tmpdir(), "cg-cli-"));
  const aliceKey = defaultAccountKey(2);
  const alice = privateKeyToAccount(aliceKey).address;
  const bobKey = defaultAccountKey(3);
  const watcherKey = defaultAccountKey(5);
  const newControllerKey = defaultAccountKey(16);
  const newController = privateKeyToAccount(newControllerKey).address;
  const channels = ["mailto:alice@example.org", "sms:+15550000001", "https://app.example/alice", "mailto:alice2@example.org", "sms:+15550000002"];
  let accountId: string;
  let reset: ResetRequest;
  const codes = new Map<number, string>();
  const stateFile = join(dir, "reset.json");

  const request = async (id: string | bigint) => resetRequest(await makeContext({}).clients(), BigInt(id));

  before(async function () {
    net = await startCliNetwork();
    process.env.CG_RPC_URL = net.node.url;
    process.env.CG_DEPLOYMENT = net.deploymentFile;
    process.env.CG_PASSPHRASE = "alice's reset passphrase";
  });

  after(async function () {
    delete process.env.CG_RPC_URL;
    delete process.env.CG_DEPLOYMENT;
    delete process.env.CG_PASSPHRASE;
    await net?.close();
  });

  it("help lists the v2 commands; bad input exits 2 naming what is expected, and nothing is sent", async function () {
    const help = await cg("--help");
    expect(help.code).to.equal(0);
    for (const line of ["cg reset drill", "cg reset codes", "cg reset complete", "cg reset status", "cg reset settle", "cg watch scan", "cg watch prove"]) expect(help.out).to.include(line);
    expect(help.out).not.to.match(/fragment|assemble/);
    const one = await cg("reset", "codes", "--help");
    expect(one.code).to.equal(0);
    expect(one.out).to.include("Example: cg reset codes --state");
    const nonce = await net.sys.ethers.provider.getTransactionCount(alice);
    const cases: [string[], string][] = [
      [["account", "link", "--salt", "x", "--channels", channels.join(","), "--key", aliceKey], "--committee is required"],
      [["account", "link", "--salt", "x", "--committee", "one", "--channels", channels.join(","), "--key", aliceKey], `--committee expects a committee id (a whole number ≥ 1), got "one"`],
      [["account", "link", "--salt", "x", "--committee", "1", "--key", aliceKey], "--channels is required"],
      [["account", "show"], "expected the account id"],
      [["account", "show", "0x1234"], "--accountId expects 32 bytes as 0x-hex"],
      [["reset", "request", "--state", join(dir, "x.json"), "--key", aliceKey], "--account is required"],
      [["reset", "codes", "--state", join(dir, "missing.json")], "does not exist (cg reset request or cg reset drill writes it)"],
      [["reset", "status", "--request", "seven"], `--request expects a whole number, got "seven"`],
      [["watch", "prove", "--request", "1", "--key", watcherKey], "--position is required"],
    ];
    for (const [argv, message] of cases) {
      const r = await cg(...argv, "--json");
      expect(r.code, `${argv.join(" ")}: ${r.err}`).to.equal(2);
      expect(r.json.error.code).to.equal("USAGE");
      expect(r.json.error.message).to.include(message);
    }
    expect((await cg("frobnicate")).code).to.equal(2);
    expect((await cg("reset", "assemble")).err).to.include("unknown command 'assemble'");
    expect(await net.sys.ethers.provider.getTransactionCount(alice)).to.equal(nonce);
  });

  it("account link sends one transaction to committee 1; refusals name the committee, the channel rule or the salt", async function () {
    const nonce = await net.sys.ethers.provider.getTransactionCount(alice);
    const few = await cg("account", "link", "--salt", "alice-cli", "--committee", "1", "--channels", channels.slice(0, 3).join(","), "--key", aliceKey, "--json");
    expect(few.code).to.equal(1);
    expect(few.json.error.message).to.include("committee 1 has 5 slots, so 5 channel URIs are needed (one per slot), got 3");
    const concentrated = await cg("account", "link", "--salt", "alice-cli", "--committee", "1", "--channels", "mailto:a@x.org,MAILTO:a@X.org,mailto:a@x.org,sms:+15550000009,sms:+15550000008", "--key", aliceKey, "--json");
    expect(concentrated.code).to.equal(1);
    expect(concentrated.json.error.message).to.match(/slots 1, 2 and 3 all deliver to mailto:a@x\.org: with threshold 3/);
    const unknown = await cg("account", "link", "--salt", "alice-cli", "--committee", "9", "--channels", channels.join(","), "--key", aliceKey, "--json");
    expect(unknown.code).to.equal(1);
    expect(unknown.json.error.message).to.include("no committee 9 on this deployment");
    expect(await net.sys.ethers.provider.getTransactionCount(alice)).to.equal(nonce);

    const linked = await cg("account", "link", "--salt", "alice-cli", "--committee", "1", "--channels", channels.join(","), "--security-period", "3600", "--key", aliceKey, "--json");
    expect(linked.code, linked.err).to.equal(0);
    expect(await net.sys.ethers.provider.getTransactionCount(alice)).to.equal(nonce + 1);
    accountId = linked.json.accountId;
    expect(linked.json.epoch).to.equal("1");
    expect(Number(linked.json.gasUsed)).to.be.below(200_000);
    const id = await cg("account", "id", "--owner", alice, "--salt", "alice-cli", "--json");
    expect(id.json.accountId).to.equal(accountId);
    const show = await cg("account", "show", accountId, "--json");
    expect(show.json).to.include({ controller: alice, committeeId: "1", epoch: "1", securityPeriod: 3600 });
    expect(show.json.openRequests).to.deep.equal([]);
    const again = await cg("account", "link", "--salt", "alice-cli", "--committee", "1", "--channels", channels.join(","), "--key", aliceKey, "--json");
    expect(again.code).to.equal(1);
    expect(again.json.error.message).to.include("AccountExists — account").and.include("choose another salt");
  });

  it("reset request keeps the requester secret sealed in a 0600 file; an unknown account or an existing file is refused", async function () {
    const unknown = await cg("reset", "request", "--account", "0x" + "11".repeat(32), "--new-controller", newController, "--state", join(dir, "u.json"), "--key", bobKey, "--json");
    expect(unknown.code).to.equal(1);
    expect(unknown.json.error.message).to.include("is not linked");
    expect(existsSync(join(dir, "u.json"))).to.equal(false);
    const r = await cg("reset", "request", "--account", accountId, "--new-controller", newController, "--state", stateFile, "--key", bobKey, "--json");
    expect(r.code, r.err).to.equal(0);
    expect(statSync(stateFile).mode & 0o777).to.equal(0o600);
    const file = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(file.version).to.equal(2);
    expect(file.requesterSecret.kdf.name).to.equal("scrypt");
    expect(file.request.requestId).to.equal(r.json.requestId);
    expect(JSON.stringify(file)).not.to.match(/"secret"/);
    reset = await request(r.json.requestId);
    expect(reset.requesterKey).to.equal(file.request.requesterKey);
    const again = await cg("reset", "request", "--account", accountId, "--new-controller", newController, "--state", stateFile, "--key", bobKey);
    expect(again.code).to.equal(2);
    expect(again.err).to.include("exists");
    const status = await cg("reset", "status", "--state", stateFile, "--json");
    expect(status.json.status).to.equal("pending");
    expect(status.json.postings).to.deep.equal([]);
  });

  it("reset codes checks each code against its slot's posting: typed by hand, for another request, not yet posted, mistyped, forged", async function () {
    for (const slot of [1, 2, 4]) codes.set(slot, await net.post(reset, slot));
    codes.set(5, await net.post(reset, 5, { invalid: true }));
    // What alice types from her SMS: lower case, dashes, O for 0 and l for 1 are all read back.
    const [, , , body] = codes.get(2)!.split(".");
    const typed = `cg2.${reset.requestId}.2.${body.match(/.{1,4}/g)!.join("-").toLowerCase().replaceAll("0", "o").replaceAll("1", "l")}`;
    const r = await cg("reset", "codes", "--state", stateFile, "--code", codes.get(1)!, "--code", typed, "--json");
    expect(r.code, r.err).to.equal(0);
    expect(r.json.checks.map((x: { slot: number; ok: boolean }) => [x.slot, x.ok])).to.deep.equal([[1, true], [2, true]]);
    expect(r.json.kept).to.equal(2);
    expect(r.json.threshold).to.equal(3);

    const unposted = await cg("reset", "codes", "--state", stateFile, "--code", codes.get(1)!.replace(`.${reset.requestId}.1.`, `.${reset.requestId}.3.`), "--json");
    expect(unposted.json.checks[0].detail).to.include("slot 3 has not posted yet");
    const foreign = await cg("reset", "codes", "--state", stateFile, "--code", codes.get(4)!.replace(`cg2.${reset.requestId}.`, `cg2.${reset.requestId + 7n}.`), "--json");
    expect(foreign.code).to.equal(1);
    expect(foreign.json.checks[0].detail).to.equal(`code for request ${reset.requestId + 7n}, not for request ${reset.requestId}`);
    // A code delivered for slot 4 but read as slot 1's (a forged or misrouted message) does not match slot 1's posting.
    const swapped = await cg("reset", "codes", "--state", stateFile, "--code", codes.get(4)!.replace(`.${reset.requestId}.4.`, `.${reset.requestId}.1.`), "--json");
    expect(swapped.code).to.equal(1);
    expect(swapped.json.checks[0].detail).to.include("code for slot 1 does not match its posting").and.include(net.sys.guardians[0].address);
    const mistyped = await cg("reset", "codes", "--state", stateFile, "--code", `cg2.${reset.requestId}.4.${"Z".repeat(28)}`, "--json");
    expect(mistyped.code).to.equal(1);
    expect(mistyped.json.problems[0]).to.match(/^code 1: .*(check symbols|padding)/);
    expect(JSON.stringify(mistyped.json)).not.to.include(body);
  });

  it("watch scan names the invalid posting by slot, operator and check; prove refuses a valid one unsent and slashes the invalid one", async function () {
    const scan = await cg("watch", "scan", "--request", String(reset.requestId), "--json");
    expect(scan.code, scan.err).to.equal(0);
    const verdicts = scan.json.postings.map((p: { slot: number; verdict: string }) => [p.slot, p.verdict]);
    expect(verdicts).to.deep.equal([[1, "standing"], [2, "standing"], [4, "standing"], [5, "invalid"]]);
    const bad = scan.json.postings[3];
    expect(bad.guardian).to.equal(net.sys.guardians[4].address);
    expect(bad.check).to.include("W does not hold the guardian's partial");

    const watcher = privateKeyToAccount(watcherKey).address;
    const nonce = await net.sys.ethers.provider.getTransactionCount(watcher);
    const valid = await cg("watch", "prove", "--request", String(reset.requestId), "--position", "0", "--key", watcherKey, "--json");
    expect(valid.code).to.equal(1);
    expect(valid.json.error.code).to.equal("POSTING_VALID");
    expect(valid.json.error.message).to.include(`slot 1 (${net.sys.guardians[0].address})`);
    expect(await net.sys.ethers.provider.getTransactionCount(watcher)).to.equal(nonce);

    const before = await net.sys.registry.guardian(bad.guardian);
    const proven = await cg("watch", "prove", "--request", String(reset.requestId), "--position", "3", "--key", watcherKey, "--json");
    expect(proven.code, proven.err).to.equal(0);
    expect(proven.json.slot).to.equal(5);
    const after = await net.sys.registry.guardian(bad.guardian);
    expect(before.stake - after.stake).to.equal(BigInt(proven.json.slashed));
    expect(BigInt(proven.json.slashed)).to.be.greaterThan(0n);
    const twice = await cg("watch", "prove", "--request", String(reset.requestId), "--position", "3", "--key", watcherKey, "--json");
    expect(twice.json.error.code).to.equal("ALREADY_PROVEN");
    const status = await cg("reset", "status", "--request", String(reset.requestId), "--json");
    expect(status.json.postings.map((p: { proven: boolean }) => p.proven)).to.deep.equal([false, false, false, true]);
  });

  it("reset complete with a wrong passphrase changes nothing; with the codes kept and one more it approves the reset", async function () {
    const before = readFileSync(stateFile, "utf8");
    process.env.CG_PASSPHRASE = "definitely not the passphrase";
    try {
      const wrong = await cg("reset", "complete", "--state", stateFile, "--json");
      expect(wrong.code).to.equal(1);
      expect(wrong.json.error.message).to.include("the passphrase does not open this keystore");
    } finally {
      process.env.CG_PASSPHRASE = "alice's reset passphrase";
    }
    expect(readFileSync(stateFile, "utf8")).to.equal(before);
    const few = await cg("reset", "complete", "--state", stateFile, "--json");
    expect(few.code).to.equal(1);
    expect(few.json.error.message).to.match(/3 needed|need 3|3 of/);
    const done = await cg("reset", "complete", "--state", stateFile, "--code", codes.get(4)!, "--code", codes.get(5)!, "--key", bobKey, "--json");
    expect(done.code, done.err).to.equal(0);
    expect([...done.json.used].sort()).to.deep.equal([1, 2, 4]);
    expect(done.json.problems.join("\n")).to.include(`posting of slot 5 fails the public check (guardian ${net.sys.guardians[4].address}, epoch 1)`);
    expect((await cg("reset", "status", "--state", stateFile, "--json")).json.status).to.equal("approved");
    const notController = await cg("reset", "cancel", "--request", String(reset.requestId), "--key", bobKey, "--json");
    expect(notController.code).to.equal(1);
    expect(notController.json.error.message).to.include("ResetNotController — ").and.include("only the controller may cancel");
    const early = await cg("reset", "finalize", "--request", String(reset.requestId), "--key", bobKey, "--json");
    expect(early.code).to.equal(1);
    expect(early.json.error.message).to.include("ResetSecurityPeriodActive — ").and.include("can be finalized from");
    expect(early.json.error.why).to.equal("finalizing before the security period ended");
    expect(early.json.error.times[0]).to.match(/^the security period ends at (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC, in \d+ (h|m) \d+ (m|s)$/);
  });

  it("a drill is served and verified like a reset, and can never be finalized", async function () {
    const drillFile = join(dir, "drill.json");
    const r = await cg("reset", "drill", "--account", accountId, "--state", drillFile, "--key", aliceKey, "--json");
    expect(r.code, r.err).to.equal(0);
    expect(r.json.drill).to.equal(true);
    const drill = await request(r.json.requestId);
    const texts = [];
    for (const slot of [2, 3, 4]) texts.push(await net.post(drill, slot));
    const codesFile = join(dir, "drill-codes.txt");
    writeFileSync(codesFile, texts.map((t, k) => (k === 0 ? `Your Credential Guardians code: ${t} (a drill)` : t)).join("\n"));
    const kept = await cg("reset", "codes", "--state", drillFile, "--codes-file", codesFile, "--json");
    expect(kept.code, kept.err).to.equal(0);
    expect(kept.json.kept).to.equal(3);
    const done = await cg("reset", "complete", "--state", drillFile, "--key", aliceKey, "--json");
    expect(done.code, done.err).to.equal(0);
    expect(done.json.drill).to.equal(true);
    expect((await cg("reset", "status", "--state", drillFile, "--json")).json.status).to.equal("drill verified");
    const fin = await cg("reset", "finalize", "--state", drillFile, "--key", aliceKey, "--json");
    expect(fin.code).to.equal(1);
    expect(fin.json.error.message).to.include("is a drill");
  });

  it("reset finalize moves control after the security period; the new controller rotates the account; the old one cannot", async function () {
    await net.sys.networkHelpers.time.increase(3601);
    const fin = await cg("reset", "finalize", "--request", String(reset.requestId), "--key", bobKey, "--json");
    expect(fin.code, fin.err).to.equal(0);
    expect((await cg("account", "show", accountId, "--json")).json.controller).to.equal(newController);
    const old = await cg("account", "rotate", accountId, "--committee", "1", "--channels", channels.join(","), "--key", aliceKey, "--json");
    expect(old.code).to.equal(1);
    expect(old.json.error.message).to.include(`only the controller ${newController} may rotate`);
    const rotated = await cg("account", "rotate", accountId, "--committee", "1", "--channels", [...channels].reverse().join(","), "--key", newControllerKey, "--json");
    expect(rotated.code, rotated.err).to.equal(0);
    expect(rotated.json.epoch).to.equal("2");
    expect((await cg("account", "show", accountId, "--json")).json.epoch).to.equal("2");
  });

  it("audit replay matches the on-chain head; a tampered event is named as the first divergence; histories list v2 events", async function () {
    const audit = await cg("audit", "replay", "--json");
    expect(audit.code, audit.err).to.equal(0);
    expect(audit.json.matches).to.equal(true);
    expect((await cg("audit", "replay")).out).to.match(/matches the on-chain head/);
    let alteredAt = "";
    const clients = await makeContext({}).clients();
    await replayAuditLog(clients, (events) => {
      const k = events.findIndex((e) => e.eventName === "PartialPosted");
      alteredAt = events[k].where!;
      return events.map((e, i) => (i === k ? { ...e, values: e.values.map((v, j) => (e.inputs[j].name === "message" ? "0x" + "01".repeat(32) : v)) } : e));
    }).then(
      () => expect.fail("a tampered replay must not match"),
      (e: Error) => expect(e.message).to.include("first divergence at").and.include(`PartialPosted (${alteredAt})`),
    );
    const history = await cg("audit", "account", accountId, "--json");
    expect(history.json.map((e: { event: string }) => e.event)).to.include.members(["AccountLinked", "ResetRequested", "PartialPosted", "InvalidPostingProven", "ResetApproved", "DrillVerified", "ResetFinalized", "AccountRotated"]);
    const g = await cg("audit", "guardian", net.sys.guardians[4].address, "--json");
    expect(g.json.map((e: { event: string }) => e.event)).to.include("GuardianSlashed");
  });

  it("guardian stake, unbond and withdraw change the stake and refuse an early withdrawal in words", async function () {
    const gKey = defaultAccountKey(6); // g1's operator key on the local chain
    const g1 = privateKeyToAccount(gKey).address;
    const s0 = BigInt((await cg("guardian", "status", g1, "--json")).json.stake);
    expect((await cg("guardian", "stake", "--amount", "0.25", "--key", gKey, "--json")).code).to.equal(0);
    expect((await cg("guardian", "unbond", "--amount", "0.5", "--key", gKey, "--json")).code).to.equal(0);
    const s1 = await cg("guardian", "status", g1, "--json");
    expect(BigInt(s1.json.stake)).to.equal(s0 + 25n * 10n ** 16n - 5n * 10n ** 17n);
    expect(s1.json.unbonding).to.equal("500000000000000000");
    const early = await cg("guardian", "withdraw", "--key", gKey, "--json");
    expect(early.code).to.equal(1);
    expect(early.json.error.message).to.include("GuardianUnbondingNotReady");
    expect((await cg("guardian", "stake", "--amount", "lots", "--key", gKey)).code).to.equal(2);
  });

  it("a new operator creates keys and registers with stake through the guardian CLI; cg guardian attest makes it eligible", async function () {
    const gdir = mkdtempSync(join(tmpdir(), "cg-operator-"));
    const config = join(gdir, "guardian.env");
    writeFileSync(config, [`CG_RPC_URL=${net.node.url}`, `CG_DEPLOYMENT=${net.deploymentFile}`, "CG_DATA_DIR=data", "CG_SCRYPT_N=1024", "CG_KEYSTORE_PASSPHRASE=operator passphrase"].join("\n"));
    const guardianCli = (args: string[]) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CG_")));
      const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "guardian/main.ts"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.once("exit", (code) => resolve({ code, out })));
    };
    const init = await guardianCli(["keys", "init", "--config", config]);
    expect(init.code, init.out).to.equal(0);
    const { operator } = JSON.parse(init.out);
    await (await net.sys.carol.sendTransaction({ to: operator, value: 2n * 10n ** 18n })).wait();
    const reg = await guardianCli(["register", "--config", config, "--stake", "1", "--metadata", "https://g6.example/meta.json", "--region", "us", "--provider", "acme", "--channels", "email,app"]);
    expect(reg.code, reg.out).to.equal(0);
    const status = await cg("guardian", "status", operator, "--json");
    expect(status.json).to.include({ registered: true, stake: "1000000000000000000", channelKinds: 5, eligible: false });
    const notAttester = await cg("guardian", "attest", operator, "--measurement", "agent v0.1", "--key", bobKey, "--json");
    expect(notAttester.code).to.equal(1);
    expect(notAttester.json.error.message).to.include("GuardianAttestationUnauthorized");
    const attested = await cg("guardian", "attest", operator, "--measurement", "agent v0.1", "--days", "30", "--key", defaultAccountKey(1), "--json");
    expect(attested.code, attested.err).to.equal(0);
    expect((await cg("guardian", "status", operator, "--json")).json.eligible).to.equal(true);
  });
});
