import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { privateKeyToAccount } from "viem/accounts";

import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";
import { cg } from "../helpers/cli.ts";
import { type GuardianNetwork, defaultAccountKey, startGuardianNetwork } from "../helpers/guardianNetwork.ts";
import { Inbox } from "../helpers/localServices.ts";

describe("cg CLI against a local network", function () {
  this.timeout(180_000);
  const inbox = new Inbox();
  let net: GuardianNetwork;
  const dir = mkdtempSync(join(tmpdir(), "cg-cli-"));
  const aliceKey = defaultAccountKey(2);
  const bobKey = defaultAccountKey(3);
  const newController = privateKeyToAccount(defaultAccountKey(16)).address;
  let accountId: string;
  let requestId: string;
  const stateFile = join(dir, "reset.json");

  before(async function () {
    // Guardian #5 misbehaves: its fragments hold an invalid partial (for `cg reset prove`).
    net = await startGuardianNetwork(inbox, { guardians: 5, confirmations: 1, agentEnv: (i): Record<string, string> => (i === 5 ? { CG_FAILPOINTS: "serve.invalid-partial" } : {}) });
    const deployment = join(dir, "deployment.json");
    writeFileSync(deployment, JSON.stringify(net.sys.deployment));
    process.env.CG_RPC_URL = net.node.url;
    process.env.CG_DEPLOYMENT = deployment;
    process.env.CG_PASSPHRASE = "alice's reset passphrase";
  });

  after(async function () {
    delete process.env.CG_RPC_URL;
    delete process.env.CG_DEPLOYMENT;
    delete process.env.CG_PASSPHRASE;
    await net?.close();
  });

  it("help, usage errors and unknown groups exit with 0 or 2 and say what is expected", async function () {
    const help = await cg("reset", "request", "--help");
    expect(help.code).to.equal(0);
    expect(help.out).to.include("Example: CG_PASSPHRASE=… cg reset request");
    const missing = await cg("reset", "request", "--state", join(dir, "x.json"));
    expect(missing.code).to.equal(2);
    expect(missing.err).to.include("--account is required");
    expect((await cg("frobnicate")).code).to.equal(2);
    const badHex = await cg("account", "show", "0x1234", "--json");
    expect(badHex.code).to.equal(2);
    expect(badHex.json.error.code).to.equal("USAGE");
  });

  it("guardian list shows five eligible guardians; account link deals, sends and waits for acknowledgements", async function () {
    const list = await cg("guardian", "list", "--json");
    expect(list.code, list.err).to.equal(0);
    expect(list.json.filter((g: { eligible: boolean }) => g.eligible)).to.have.length(5);
    const concentrated = await cg("account", "link", "--salt", "bad", "--channels", "mailto:a@x.org,mailto:a@x.org,mailto:a@x.org,sms:+15550000009,sms:+15550000008", "--threshold", "3", "--key", aliceKey, "--json");
    expect(concentrated.code).to.equal(1);
    expect(concentrated.json.error.message).to.match(/one channel would receive 3 fragments with threshold 3/);
    const linked = await cg("account", "link", "--salt", "alice-cli", "--channels", `mailto:alice@example.org,sms:+15550000001,${net.appUrl}/alice,mailto:alice2@example.org,sms:+15550000002`, "--threshold", "3", "--security-period", "3600", "--key", aliceKey, "--json");
    expect(linked.code, linked.err).to.equal(0);
    accountId = linked.json.accountId;
    const id = await cg("account", "id", "--owner", privateKeyToAccount(aliceKey).address, "--salt", "alice-cli", "--json");
    expect(id.json.accountId).to.equal(accountId);
    const show = await cg("account", "show", accountId, "--json");
    expect(show.json.controller).to.equal(privateKeyToAccount(aliceKey).address);
    expect(show.json.activeMapId).to.equal(Number(linked.json.mapId));
  });

  it("reset request keeps the ephemeral secret sealed on disk; bad inputs change nothing", async function () {
    const unknown = await cg("reset", "request", "--account", "0x" + "11".repeat(32), "--new-controller", newController, "--state", join(dir, "u.json"), "--key", bobKey, "--json");
    expect(unknown.code).to.equal(1);
    expect(unknown.json.error.message).to.include("is not linked");
    const r = await cg("reset", "request", "--account", accountId, "--new-controller", newController, "--state", stateFile, "--key", bobKey, "--json");
    expect(r.code, r.err).to.equal(0);
    requestId = r.json.requestId;
    const file = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(file.ephemeral.kdf.name).to.equal("scrypt");
    expect(file.state.requestId).to.equal(requestId);
    const again = await cg("reset", "request", "--account", accountId, "--new-controller", newController, "--state", stateFile, "--key", bobKey);
    expect(again.code).to.equal(2);
    expect(again.err).to.include("exists");
  });

  it("reset assemble names what is wrong: too few, another request's, tampered, wrong passphrase", async function () {
    const deadline = Date.now() + 30_000;
    while (inbox.fragments(BigInt(requestId)).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const byIndex = (i: number) => inbox.fragments(BigInt(requestId)).find((f) => f.startsWith(`cg1.${requestId}.${i}.`))!;
    expect(inbox.fragments(BigInt(requestId))).to.have.length(5);
    const fragments = [1, 2, 3, 4].map(byIndex);
    const before = readFileSync(stateFile, "utf8");

    const few = await cg("reset", "assemble", "--state", stateFile, "--fragment", fragments[0], "--fragment", fragments[1], "--json");
    expect(few.code).to.equal(1);
    expect(few.json.error.message).to.match(/^2 valid fragments, 3 needed/);

    const foreign = fragments[2].replace(`cg1.${requestId}.`, `cg1.${BigInt(requestId) + 7n}.`);
    const tamperedBody = fragments[3].slice(0, -4) + (fragments[3].endsWith("AAAA") ? "BBBB" : "AAAA");
    const mixed = await cg("reset", "assemble", "--state", stateFile, "--fragment", fragments[0], "--fragment", fragments[1], "--fragment", foreign, "--fragment", tamperedBody, "--json");
    expect(mixed.code).to.equal(1);
    expect(mixed.json.error.message).to.include(`fragment for request ${BigInt(requestId) + 7n} while assembling request ${requestId}`);
    expect(mixed.json.error.message).to.match(/cannot be opened/);

    const malformed = await cg("reset", "assemble", "--state", stateFile, "--fragment", "cg1.x.y", "--json");
    expect(malformed.code).to.equal(1);
    expect(malformed.json.error.message).to.match(/expected 4 dot-separated parts/);

    const wrongPass = await cg("reset", "assemble", "--state", stateFile, "--fragment", fragments[0], "--json").then(async () => {
      process.env.CG_PASSPHRASE = "definitely not the passphrase";
      try {
        return await cg("reset", "assemble", "--state", stateFile, "--fragment", fragments[0], "--json");
      } finally {
        process.env.CG_PASSPHRASE = "alice's reset passphrase";
      }
    });
    expect(wrongPass.code).to.equal(1);
    expect(wrongPass.json.error.message).to.include("the passphrase does not open this keystore");

    expect(readFileSync(stateFile, "utf8")).to.equal(before);
    const status = await cg("reset", "show", "--request", requestId, "--json");
    expect(status.json.status).to.equal("pending");
  });

  it("reset assemble --complete approves it, reset show and cancel follow, audit replay matches", async function () {
    const codes = join(dir, "codes.txt");
    writeFileSync(codes, inbox.fragments(BigInt(requestId)).join("\n"));
    const done = await cg("reset", "assemble", "--state", stateFile, "--fragments-file", codes, "--complete", "--key", bobKey, "--json");
    expect(done.code, done.err).to.equal(0);
    expect(done.json.used).to.have.length(3);
    expect(done.json.problems.map((p: { index: number }) => p.index)).to.deep.equal([5]);
    expect(done.json.problems[0].reason).to.match(/invalid partial/);
    expect(Number(done.json.completed.gasUsed)).to.be.greaterThan(150_000);
    expect((await cg("reset", "show", "--request", requestId, "--json")).json.status).to.equal("approved");
    const notController = await cg("reset", "cancel", "--request", requestId, "--key", bobKey, "--json");
    expect(notController.code).to.equal(1);
    expect(notController.json.error.message).to.include("ResetNotController");
    expect((await cg("reset", "cancel", "--request", requestId, "--key", aliceKey, "--json")).code).to.equal(0);
    expect((await cg("reset", "show", "--request", requestId, "--json")).json.status).to.equal("cancelled");
    const audit = await cg("audit", "replay", "--json");
    expect(audit.code, audit.err).to.equal(0);
    expect(audit.json.matches).to.equal(true);
    // A dishonest event source: one altered commitment is named as the first divergence.
    const { replayAuditLog } = await import("../../sdk/client/index.ts");
    const { makeContext } = await import("../../cli/context.ts");
    const clients = await makeContext({}).clients();
    let alteredAt = "";
    const tampered = replayAuditLog(clients, (events) => {
      const k = events.findIndex((e) => e.eventName === "ShareCommitted");
      alteredAt = events[k].where!;
      return events.map((e, i) => (i === k ? { ...e, values: [e.values[0], e.values[1], e.values[2], "0x" + "01".repeat(32)] } : e));
    });
    await tampered.then(
      () => expect.fail("a tampered replay must not match"),
      (e: Error) => expect(e.message).to.include(`first divergence at`).and.include(`ShareCommitted (${alteredAt})`),
    );
    const history = await cg("audit", "account", accountId, "--json");
    expect(history.json.map((e: { event: string }) => e.event)).to.include.members(["ShardMapLinked", "ResetRequested", "ShareCommitted", "ResetApproved", "ResetCancelled"]);
    const g = await cg("guardian", "status", net.agents[0].guardian.address, "--json");
    expect(g.json.eligible).to.equal(true);
  });

  it("reset prove slashes the guardian whose fragment is invalid; a valid one cannot be proven", async function () {
    const codes = join(dir, "codes.txt");
    const g5 = net.agents[4].guardian.address;
    const before = await cg("guardian", "status", g5, "--json");
    const valid = await cg("reset", "prove", "--state", stateFile, "--index", "1", "--fragments-file", codes, "--key", bobKey, "--json");
    expect(valid.code).to.equal(1);
    expect(valid.json.error.message).to.include("ResetShareValid");
    const proven = await cg("reset", "prove", "--state", stateFile, "--index", "5", "--fragments-file", codes, "--key", bobKey, "--json");
    expect(proven.code, proven.err).to.equal(0);
    const after = await cg("guardian", "status", g5, "--json");
    expect(BigInt(before.json.stake) - BigInt(after.json.stake)).to.equal(5n * 10n ** 17n);
    expect(after.json.jailed).to.equal(true);
  });

  it("reset finalize moves control after the security period; guardian stake and unbond change the stake", async function () {
    const state2 = join(dir, "reset2.json");
    const r = await cg("reset", "request", "--account", accountId, "--new-controller", newController, "--state", state2, "--key", bobKey, "--json");
    expect(r.code, r.err).to.equal(0);
    const id = BigInt(r.json.requestId);
    const deadline = Date.now() + 30_000;
    while (inbox.fragments(id).length < 5 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    const codes = join(dir, "codes2.txt");
    writeFileSync(codes, inbox.fragments(id).join("\n"));
    const done = await cg("reset", "assemble", "--state", state2, "--fragments-file", codes, "--complete", "--key", bobKey, "--json");
    expect(done.code, done.err).to.equal(0);
    const early = await cg("reset", "finalize", "--request", String(id), "--key", bobKey, "--json");
    expect(early.code).to.equal(1);
    expect(early.json.error.message).to.include("ResetSecurityPeriodActive");
    await net.sys.networkHelpers.time.increase(3600);
    const fin = await cg("reset", "finalize", "--request", String(id), "--key", bobKey, "--json");
    expect(fin.code, fin.err).to.equal(0);
    expect((await cg("account", "show", accountId, "--json")).json.controller).to.equal(newController);

    const gKey = defaultAccountKey(6); // guardian g1's operator key on the local chain
    const g1 = privateKeyToAccount(gKey).address;
    const s0 = BigInt((await cg("guardian", "status", g1, "--json")).json.stake);
    expect((await cg("guardian", "stake", "--amount", "0.25", "--key", gKey, "--json")).code).to.equal(0);
    expect((await cg("guardian", "unbond", "--amount", "0.5", "--key", gKey, "--json")).code).to.equal(0);
    const s1 = await cg("guardian", "status", g1, "--json");
    expect(BigInt(s1.json.stake)).to.equal(s0 + 25n * 10n ** 16n - 5n * 10n ** 17n);
    expect(s1.json.unbonding).to.equal("500000000000000000");
    const early2 = await cg("guardian", "withdraw", "--key", gKey, "--json");
    expect(early2.code).to.equal(1);
    expect(early2.json.error.message).to.include("GuardianUnbondingNotReady");
    const bad = await cg("guardian", "stake", "--amount", "lots", "--key", gKey);
    expect(bad.code).to.equal(2);
  });

  it("account rotate deals a new key at the next epoch and retires the old map once acknowledged", async function () {
    const before = await cg("account", "show", accountId, "--json");
    // After the finalized reset, the new controller rotates; the old key cannot.
    const rotated = await cg("account", "rotate", accountId, "--channels", `mailto:alice@example.org,sms:+15550000001,${net.appUrl}/alice`, "--threshold", "2", "--security-period", "3600", "--key", defaultAccountKey(16), "--json");
    expect(rotated.code, rotated.err).to.equal(0);
    expect(rotated.json.epoch).to.equal("2");
    const after = await cg("account", "show", accountId, "--json");
    expect(after.json.activeMapId).to.equal(Number(rotated.json.mapId));
    expect(after.json.activeMapId).to.not.equal(before.json.activeMapId);
    const notController = await cg("account", "rotate", accountId, "--channels", "mailto:a@x.org,sms:+15550000007", "--threshold", "2", "--key", aliceKey, "--json");
    expect(notController.code).to.equal(1);
    expect(notController.json.error.message).to.include("ShardMapNotController");
  });

  it("a new operator creates keys, registers with stake through the guardian CLI, and cg guardian status shows it", async function () {
    const gdir = mkdtempSync(join(tmpdir(), "cg-operator-"));
    const config = join(gdir, "guardian.env");
    writeFileSync(config, [`CG_RPC_URL=${net.node.url}`, `CG_DEPLOYMENT=${process.env.CG_DEPLOYMENT}`, "CG_DATA_DIR=data", "CG_SCRYPT_N=1024", "CG_KEYSTORE_PASSPHRASE=operator passphrase"].join("\n"));
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
    expect(status.json.registered).to.equal(true);
    expect(status.json.stake).to.equal("1000000000000000000");
    expect(status.json.channelKinds).to.equal(5);
    expect(status.json.eligible).to.equal(false); // not attested yet
    const notAttester = await cg("guardian", "attest", operator, "--measurement", "agent v0.1", "--key", bobKey, "--json");
    expect(notAttester.code).to.equal(1);
    expect(notAttester.json.error.message).to.include("GuardianAttestationUnauthorized");
    const attested = await cg("guardian", "attest", operator, "--measurement", "agent v0.1", "--days", "30", "--key", defaultAccountKey(1), "--json");
    expect(attested.code, attested.err).to.equal(0);
    expect((await cg("guardian", "status", operator, "--json")).json.eligible).to.equal(true);
  });

  it("npm run demo runs the whole story and exits 0", async function () {
    const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "scripts/demo.ts")], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, output).to.equal(0);
    expect(output).to.include("slashed and jailed");
    expect(output).to.include("alice's new key moved 1 ETH");
    expect(output).to.match(/matches the on-chain head/);
  });
});
