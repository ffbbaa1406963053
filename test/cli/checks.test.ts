import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { VERSION } from "../../cli/main.ts";
import { explainRevert, parseCatalogue, when } from "../../cli/errors.ts";
import { assertChannelKinds } from "../../sdk/client/index.ts";
import { PROJECT_ROOT, freePort } from "../../scripts/lib/localNode.ts";
import { cg } from "../helpers/cli.ts";
import { defaultAccountKey } from "../helpers/guardianNetwork.ts";
import { type CliNetwork, startCliNetwork } from "./localNetwork.ts";

/**
 * What `cg` checks before it spends, how it says what went wrong, and how it is installed: against a local hardhat
 * node with committee 1 (3 of 5) formed, as cg.test.ts does.
 */
describe("cg checks before paying, speaks in words, installs as a command", function () {
  this.timeout(120_000);
  let net: CliNetwork;
  const dir = mkdtempSync(join(tmpdir(), "cg-checks-"));
  const aliceKey = defaultAccountKey(2);
  const alice = privateKeyToAccount(aliceKey).address;
  const bobKey = defaultAccountKey(3);
  const bob = privateKeyToAccount(bobKey).address;
  const channels = ["mailto:alice@example.org", "sms:+15550000001", "https://app.example/alice", "mailto:alice2@example.org", "sms:+15550000002"];
  let accountId: string;
  const nonce = (a: string) => net.sys.ethers.provider.getTransactionCount(a);
  const noStack = (text: string) => expect(text).not.to.match(/\n\s+at .+:\d+:\d+/);

  before(async function () {
    net = await startCliNetwork();
    process.env.CG_RPC_URL = net.node.url;
    process.env.CG_DEPLOYMENT = net.deploymentFile;
    process.env.CG_PASSPHRASE = "alice's reset passphrase";
    const linked = await cg("account", "link", "--salt", "alice-checks", "--committee", "1", "--channels", channels.join(","), "--security-period", "3600", "--key", aliceKey, "--json");
    expect(linked.code, linked.err).to.equal(0);
    accountId = linked.json.accountId;
  });

  after(async function () {
    delete process.env.CG_RPC_URL;
    delete process.env.CG_DEPLOYMENT;
    delete process.env.CG_PASSPHRASE;
    await net?.close();
  });

  it("every group and command has --help with an example; --version; a typo is answered with the closest name; exit 2", async function () {
    const root = await cg("--help");
    expect(root.code).to.equal(0);
    expect(root.out).to.include("Example:");
    for (const group of ["account", "reset", "watch", "audit", "guardian", "committee"]) {
      const g = await cg(group, "--help");
      expect(g.code, group).to.equal(0);
      expect(g.out, group).to.match(new RegExp(`Example: .*cg ${group} `));
      const names = [...root.out.matchAll(new RegExp(`cg ${group} (\\S+)`, "g"))].map((m) => m[1]);
      expect(names.length, group).to.be.greaterThan(0);
      for (const name of new Set(names)) {
        const c = await cg(group, name, "--help");
        expect(c.code, `${group} ${name}`).to.equal(0);
        expect(c.out, `${group} ${name}`).to.match(new RegExp(`Example: .*cg ${group} ${name}`));
      }
    }
    expect((await cg("--version")).out.trim()).to.equal(VERSION);
    const typo = await cg("reset", "codez");
    expect(typo.code).to.equal(2);
    expect(typo.err).to.include("unknown command 'codez'").and.include("Did you mean codes?");
    const option = await cg("reset", "status", "--requets", "1");
    expect(option.code).to.equal(2);
    expect(option.err).to.include("unknown option '--requets'").and.include("Did you mean --request?");
    expect((await cg("reset")).code).to.equal(2);
    const devnet = await cg("devnet", "start");
    expect(devnet.code).to.equal(2);
    expect(devnet.err).to.include("unknown command 'devnet'");
  });

  it("every refusal of bad input exits 2 naming what is expected and sends nothing", async function () {
    const before = [await nonce(alice), await nonce(bob)];
    const existing = join(dir, "a-file");
    writeFileSync(existing, "x");
    const link = ["account", "link", "--salt", "alice-bad", "--committee", "1", "--key", aliceKey];
    const request = (state: string, ...more: string[]) => ["reset", "request", "--account", accountId, "--new-controller", bob, "--state", state, "--key", bobKey, ...more];
    const cases: [string[], string, Record<string, string>?][] = [
      [[...link, "--channels", "foo:bar,baz,qux"], `--channels: slot 1: expected a channel URI of scheme mailto:, sms: or https:, got "foo:"`],
      [[...link, "--channels", `${channels.slice(0, 4).join(",")},sms:12`], "--channels: slot 5"],
      [[...link, "--channels", channels.join(","), "--security-period", "1"], "--security-period expects 3600 to"],
      [[...link, "--channels", channels.join(","), "--security-period", "99999999999"], "--security-period expects 3600 to"],
      [[...link, "--channels", channels.join(","), "--controller", "0x" + "00".repeat(20)], "--controller expects a real address"],
      [request(join(dir, "weak.json")), "the passphrase (CG_PASSPHRASE or --passphrase-file) is too weak", { CG_PASSPHRASE: "short" }],
      [request(join(dir, "aaaa.json")), "is too weak", { CG_PASSPHRASE: "aaaaaaaaaaaaaaaa" }],
      [request(join(dir, "no-such-folder", "state.json")), "the folder " + join(dir, "no-such-folder") + " does not exist"],
      [request(join(existing, "state.json")), "does not exist"],
      [request(existing), "exists; choose another file"],
      [["reset", "request", "--account", accountId, "--new-controller", "0x" + "00".repeat(20), "--state", join(dir, "z.json"), "--key", bobKey], "--new-controller expects a real address"],
      [["guardian", "attest", alice, "--measurement", "v1", "--days", "99999999999", "--key", defaultAccountKey(1)], "--days expects a validity of 1 to 730 days"],
      [["guardian", "attest", alice, "--measurement", "v1", "--days", "0", "--key", defaultAccountKey(1)], "--days expects a validity of 1 to 730 days"],
      [["guardian", "stake", "--amount", "0", "--key", aliceKey], "--amount expects a positive amount of ETH"],
      [["guardian", "stake", "--amount", "1e3", "--key", aliceKey], "--amount expects an amount of ETH such as 1.5"],
      [["committee", "propose", "--size", "5", "--threshold", "0", "--no-wait", "--key", aliceKey], "expected a threshold t in [2, n = 5], got 0"],
      [["committee", "propose", "--size", "5", "--threshold", "6", "--no-wait", "--key", aliceKey], "expected a threshold t in [2, n = 5], got 6"],
    ];
    for (const [argv, message, env = {}] of cases) {
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      try {
        const r = await cg(...argv, "--json");
        expect(r.code, `${argv.join(" ")}: ${r.err}`).to.equal(2);
        expect(r.json.error.code).to.equal("USAGE");
        expect(r.json.error.message, argv.join(" ")).to.include(message);
        noStack(r.err);
      } finally {
        Object.assign(process.env, saved);
      }
    }
    expect(existsSync(join(dir, "weak.json"))).to.equal(false);
    expect([await nonce(alice), await nonce(bob)]).to.deep.equal(before);
  });

  it("a channel of a kind the slot's guardian does not deliver is refused, naming the slot and the guardian", function () {
    const members = [1, 7, 7].map((channelKinds, k) => ({ operator: net.sys.guardians[k].address as `0x${string}`, channelKinds }));
    expect(() => assertChannelKinds(["mailto:a@x.org", "sms:+15550000001", "https://app.example/a"], members)).not.to.throw();
    expect(() => assertChannelKinds(["sms:+15550000001", "mailto:a@x.org", "https://app.example/a"], members, "linkAccount")).to.throw(
      `linkAccount: slot 1's member ${net.sys.guardians[0].address} delivers email only, so its SMS channel (sms:) would never be reached`,
    );
  });

  it("an unfunded key is told how much the request needs, and nothing is sent or kept", async function () {
    const poorKey = generatePrivateKey();
    const state = join(dir, "poor.json");
    const r = await cg("reset", "request", "--account", accountId, "--new-controller", bob, "--state", state, "--key", poorKey, "--json");
    expect(r.code, r.err).to.equal(1);
    expect(r.json.error.code).to.equal("UNFUNDED");
    expect(r.json.error.message, r.json.error.message).to.match(/requestReset: the key 0x[0-9a-fA-F]{40} holds 0 ETH, not enough: it needs [0-9.]+ ETH \(the value it pays\) plus gas \(about \d+ gas at [0-9.]+ gwei = [0-9.e-]+ ETH\); about [0-9.]+ ETH in all/);
    expect(existsSync(state)).to.equal(false);
    expect(await nonce(privateKeyToAccount(poorKey).address)).to.equal(0);
  });

  it("reset request seals the secret to --state before the paid transaction and records the request once mined", async function () {
    const provider = net.sys.ethers.provider;
    const state = join(dir, "sealed-first.json");
    await provider.send("evm_setIntervalMining", [0]);
    await provider.send("evm_setAutomine", [false]);
    try {
      const running = cg("reset", "request", "--account", accountId, "--new-controller", bob, "--state", state, "--key", bobKey, "--json");
      const sent = await nonce(bob);
      const deadline = Date.now() + 20_000;
      while ((await provider.getTransactionCount(bob, "pending")) === sent) {
        if (Date.now() > deadline) throw new Error("no request was sent within 20 s");
        await new Promise((r) => setTimeout(r, 50));
      }
      // The transaction waits in the pool: the secret is on disk already, the request not yet.
      const pending = JSON.parse(readFileSync(state, "utf8"));
      expect(pending.requesterSecret.kdf.name).to.equal("scrypt");
      expect(pending.request).to.equal(undefined);
      expect(pending.pending.accountId).to.equal(accountId);
      await provider.send("evm_mine", []);
      const r = await running;
      expect(r.code, r.err).to.equal(0);
      const done = JSON.parse(readFileSync(state, "utf8"));
      expect(done.request.requestId).to.equal(r.json.requestId);
      expect(done.pending).to.equal(undefined);
      expect(done.requesterSecret).to.deep.equal(pending.requesterSecret);
    } finally {
      await provider.send("evm_setAutomine", [true]);
      await provider.send("evm_setIntervalMining", [200]);
    }
  });

  it("contract refusals are named and explained from docs/ERRORS.md with times in UTC and relative to the chain's clock", async function () {
    const catalogue = parseCatalogue(readFileSync(join(PROJECT_ROOT, "docs/ERRORS.md"), "utf8"));
    expect(catalogue.get("ResetSecurityPeriodActive")).to.deep.include({ params: ["requestId", "executableAt"], why: "finalizing before the security period ended" });
    const now = Date.UTC(2030, 0, 1, 14, 2, 0) / 1000 - 86_280;
    const e = explainRevert("ResetSecurityPeriodActive", [5n, BigInt(now + 86_280)], now)!;
    expect(e.times).to.deep.equal(["the security period ends at 2030-01-01 14:02 UTC, in 23 h 58 m"]);
    expect(when(now + 90, now + 100)).to.match(/UTC, 10 s ago$/);

    const gKey = defaultAccountKey(7); // g2's operator key
    expect((await cg("guardian", "unbond", "--amount", "0.1", "--key", gKey)).code).to.equal(0);
    const early = await cg("guardian", "withdraw", "--key", gKey);
    expect(early.code).to.equal(1);
    expect(early.err).to.include("GuardianUnbondingNotReady");
    expect(early.err).to.include("  why: withdrawing before the unbonding delay has passed");
    expect(early.err).to.include("  fix: wait until readyAt");
    expect(early.err).to.match(/the unbonding delay ends at (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC, in \d+ (d|h|m|s)/);
    noStack(early.err);
    const json = await cg("guardian", "withdraw", "--key", gKey, "--json");
    expect(json.json.error).to.include({ code: "TX_REFUSED", why: "withdrawing before the unbonding delay has passed" });
    expect(json.json.error.times[0]).to.match(/^the unbonding delay ends at/);
  });

  it("an unreachable RPC, a deployment of another chain, and an empty or malformed deployment file are named", async function () {
    const closed = await freePort();
    const unreachable = await cg("account", "show", accountId, "--rpc", `http://127.0.0.1:${closed}/secret-api-key`, "--json");
    expect(unreachable.code).to.equal(1);
    expect(unreachable.json.error.code).to.equal("RPC_UNREACHABLE");
    expect(unreachable.json.error.message).to.match(new RegExp(`^cannot reach the RPC at http://127\\.0\\.0\\.1:${closed}/…: connect ECONNREFUSED`));
    expect(unreachable.err).not.to.include("secret-api-key");
    noStack(unreachable.err);
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const other = file("mainnet.json", JSON.stringify({ ...net.sys.deployment, chainId: 1 }));
    const cases: [string, string][] = [
      [other, `${other} is a deployment on chain 1, but the RPC at ${net.node.url} serves chain ${net.sys.chainId}`],
      [file("empty.json", ""), "is empty"],
      [file("broken.json", "{ chainId: "), "is not JSON"],
      [file("partial.json", JSON.stringify({ chainId: 31337, contracts: {} })), "is malformed: expected deploymentBlock, contracts.GuardianRegistry, contracts.ResetCoordinator, contracts.CommitteeRegistry"],
      [join(dir, "missing.json"), "no deployment file at"],
    ];
    for (const [deployment, message] of cases) {
      const r = await cg("account", "show", accountId, "--deployment", deployment, "--json");
      expect(r.code, r.err).to.equal(2);
      expect(r.json.error.message).to.include(message);
    }
  });

  it("audit lists actor, time, transaction and amounts in ETH for each event, as text, --json and --csv", async function () {
    const json = await cg("audit", "account", accountId, "--json");
    expect(json.code, json.err).to.equal(0);
    const requested = json.json.find((e: { event: string }) => e.event === "ResetRequested");
    expect(requested.actor).to.equal(bob);
    expect(requested.transaction).to.match(/^0x[0-9a-f]{64}$/);
    expect(Date.parse(requested.time)).to.be.greaterThan(0);
    expect(requested.amountsEth.fee).to.match(/^\d+(\.\d+)?$/);
    const linked = json.json.find((e: { event: string }) => e.event === "AccountLinked");
    expect(linked.actor).to.equal(alice);
    const text = await cg("audit", "account", accountId);
    expect(text.out).to.match(new RegExp(`UTC  ResetRequested +by ${bob}  fee [0-9.]+ ETH  tx 0x[0-9a-f]{64}`));
    const csv = await cg("audit", "account", accountId, "--csv");
    const lines = csv.out.trim().split("\r\n");
    expect(lines[0]).to.equal("time,block,transaction,actor,event,amounts_eth,details");
    expect(lines.length).to.equal(json.json.length + 1);
    expect(lines.find((l) => l.includes(",ResetRequested,"))).to.match(new RegExp(`^\\d{4}-.*Z,\\d+,0x[0-9a-f]{64},${bob},ResetRequested,fee=[0-9.]+,`));
    const g = await cg("audit", "guardian", net.sys.guardians[1].address, "--json");
    expect(g.json.find((e: { event: string }) => e.event === "UnbondingStarted" || e.event === "GuardianUnbondingStarted")?.amountsEth.amount).to.equal("0.1");
    expect((await cg("audit", "account", "0x12")).code).to.equal(2);
  });

  it("the bin shims run cg under the project's Node 24 from the machine's Node, from any folder, with paths from that folder", function () {
    const machineNode = ["/usr/bin/node", "/bin/node", "/usr/local/bin/node"].find((p) => existsSync(p) && realpathSync(p) !== realpathSync(process.execPath));
    if (!machineNode) this.skip();
    const version = execFileSync(machineNode!, ["--version"], { encoding: "utf8" }).trim();
    const elsewhere = mkdtempSync(join(tmpdir(), "cg-elsewhere-"));
    mkdirSync(join(elsewhere, "deployments"));
    writeFileSync(join(elsewhere, "deployments", "here.json"), JSON.stringify(net.sys.deployment));
    const env = { ...process.env, PATH: "/usr/bin:/bin", CG_DEPLOYMENT: "", CG_RPC_URL: net.node.url };
    const shim = (bin: string, ...args: string[]) => spawnSync(machineNode!, [join(PROJECT_ROOT, "bin", bin), ...args], { cwd: elsewhere, env, encoding: "utf8" });
    const v = shim("cg.mjs", "--version");
    expect(v.status, `${version}: ${v.stderr}`).to.equal(0);
    expect(v.stdout.trim()).to.equal(VERSION);
    const shown = shim("cg.mjs", "account", "show", accountId, "--deployment", "deployments/here.json", "--json");
    expect(shown.status, shown.stderr).to.equal(0);
    expect(JSON.parse(shown.stdout).controller).to.equal(alice);
    const bad = shim("cg.mjs", "account", "show", accountId, "--deployment", "deployments/nowhere.json");
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include(`no deployment file at ${join(realpathSync(elsewhere), "deployments", "nowhere.json")}`);
    const guardianHelp = shim("cg-guardian.mjs", "--help");
    expect(guardianHelp.status, guardianHelp.stderr).to.equal(0);
    expect(guardianHelp.stdout).to.include("guardian");
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(pkg.bin).to.deep.equal({ cg: "bin/cg.mjs", "cg-guardian": "bin/cg-guardian.mjs" });
    // npx from a folder of the project, with only the machine's Node and npm on PATH.
    const npx = spawnSync("/usr/bin/npx", ["--no-install", "cg", "--version"], { cwd: join(PROJECT_ROOT, "docs"), env, encoding: "utf8" });
    if (npx.error === undefined) {
      expect(npx.status, npx.stderr).to.equal(0);
      expect(npx.stdout.trim()).to.equal(VERSION);
    }
  });
});
