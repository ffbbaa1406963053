import { expect } from "chai";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { network } from "hardhat";
import { parseEther, toHex } from "viem";

import { sealKeystore } from "../../guardian/keystore.ts";
import { PROJECT_ROOT, type LocalNode, freePort, startHardhatNode } from "../../scripts/lib/localNode.ts";
import { generateHpkeKeyPair } from "../../sdk/crypto/hpke.ts";
import { defaultAccountKey, until } from "../helpers/guardianNetwork.ts";
import { type GuardianFixture, type System, attest, deploySystem } from "../helpers/system.ts";

const PASSPHRASE = "g1 operator passphrase";
type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `cg-guardian …` as a process with only the given CG_* environment. */
function guardian(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CG_")));
  const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "guardian/main.ts"), ...args], { env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

/** An agent as a long-running process; `output` collects stdout and stderr. */
function spawnAgent(config: string, env: Record<string, string> = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CG_")));
  const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "guardian/main.ts"), "start", "--config", config], { env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const agent = { child, output: "", exited: new Promise<number | null>((r) => child.once("exit", (code) => r(code))) };
  child.stdout!.on("data", (d) => (agent.output += d));
  child.stderr!.on("data", (d) => (agent.output += d));
  return agent;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  child.kill("SIGTERM");
  await exited;
  clearTimeout(timer);
}

/**
 * The operator's commands as processes against a hardhat node: g1 registers, is checked by `doctor` before and after
 * its attestation and its agent's start, moves its stake, exports and imports its keys; a second agent on the same
 * data directory is refused; an agent whose RPC node is down answers /healthz as degraded.
 */
describe("guardian operator commands against a hardhat node", function () {
  this.timeout(90_000);
  let node: LocalNode;
  let sys: System;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let g1: GuardianFixture;
  let dir: string;
  let config: string;
  let httpPort: number;
  let agent: ReturnType<typeof spawnAgent> | undefined;
  const env = { CG_KEYSTORE_PASSPHRASE: PASSPHRASE };

  before(async function () {
    node = await startHardhatNode();
    connection = await network.create({ network: "localhost", override: { url: node.url } });
    sys = await deploySystem(connection as never, { guardians: 0 });
    const signer = sys.spare[0]; // hardhat account 6
    g1 = { name: "g1", signer, address: signer.address as never, hpke: await generateHpkeKeyPair() };
    dir = mkdtempSync(join(tmpdir(), "cg-operator-"));
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "operator.json"), JSON.stringify(sealKeystore("operator", Buffer.from(defaultAccountKey(6).slice(2), "hex"), g1.address, PASSPHRASE, 2 ** 10)));
    writeFileSync(join(data, "hpke.json"), JSON.stringify(sealKeystore("hpke", g1.hpke.privateKey, toHex(g1.hpke.publicKey), PASSPHRASE, 2 ** 10)));
    writeFileSync(join(dir, "deployment.json"), JSON.stringify(sys.deployment));
    httpPort = await freePort();
    const peerPort = await freePort();
    config = join(dir, "guardian.env");
    writeFileSync(
      config,
      [
        `CG_RPC_URL=${node.url}`,
        "CG_DEPLOYMENT=deployment.json",
        "CG_DATA_DIR=data",
        "CG_SCRYPT_N=1024",
        "CG_CONFIRMATIONS=1",
        "CG_POLL_INTERVAL_MS=100",
        `CG_HTTP_PORT=${httpPort}`,
        "CG_PEER_HOST=127.0.0.1",
        `CG_PEER_PORT=${peerPort}`,
        `CG_PEER_PUBLIC_URL=http://127.0.0.1:${peerPort}`,
        "CG_PEER_ALLOW_HTTP=true",
        "",
      ].join("\n"),
    );
  });

  after(async function () {
    if (agent) await stop(agent.child);
    await connection?.close();
    await node?.stop();
  });

  it("doctor names each failed check with its fix, and passes once the guardian is registered, attested and running", async function () {
    const unregistered = await guardian(["doctor", "--config", config, "--json"], env);
    expect(unregistered.code, unregistered.stderr).to.equal(1);
    const first = JSON.parse(unregistered.stdout) as { checks: { name: string; status: string; fix?: string }[] };
    expect(first.checks.map((c) => [c.name, c.status])).to.deep.equal([
      ["config", "ok"],
      ["keys", "ok"],
      ["rpc", "ok"],
      ["chain id", "ok"],
      ["registration", "fail"],
      ["attestation", "skip"],
      ["stake", "skip"],
      ["channels", "skip"],
      ["peer endpoint", "skip"],
    ]);
    expect(first.checks[4].fix).to.include("cg-guardian register");

    const register = await guardian(["register", "--config", config, "--stake", "1", "--channels", "email,app", "--region", "eu", "--provider", "g1"], env);
    expect(register.code, register.stderr).to.equal(0);
    const registered = await guardian(["doctor", "--config", config], env);
    expect(registered.code).to.equal(1);
    expect(registered.stdout).to.match(/FAIL {2}attestation: no attestation\n {8}fix: ask an attester/);
    expect(registered.stdout).to.match(/FAIL {2}channels: registered email, app, but email is not configured.*\n {8}fix: set CG_SMTP_HOST and CG_SMTP_FROM/);
    expect(registered.stdout).to.match(/FAIL {2}peer endpoint: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/cg-guardian\.json is not reachable \(ECONNREFUSED\)\n {8}fix: start the agent/);

    await attest(sys, g1);
    agent = spawnAgent(config, { ...env, CG_SMTP_HOST: "127.0.0.1", CG_SMTP_FROM: "g1@guardians.example" });
    await until("the agent to start", async () => agent!.output.includes("guardian started"), 30_000);
    const healthy = await guardian(["doctor", "--config", config, "--json"], { ...env, CG_SMTP_HOST: "127.0.0.1", CG_SMTP_FROM: "g1@guardians.example" });
    expect(healthy.code, healthy.stdout).to.equal(0);
    expect((JSON.parse(healthy.stdout) as { checks: { status: string }[] }).checks.every((c) => c.status === "ok")).to.equal(true);

    const wrongPassphrase = await guardian(["doctor", "--config", config], { CG_KEYSTORE_PASSPHRASE: "not it" });
    expect(wrongPassphrase.stdout).to.match(/FAIL {2}keys: .*the passphrase does not open this keystore\n {8}fix: give the passphrase/);
  });

  it("start prints the effective configuration with the source of each value and no secret", async function () {
    const out = agent!.output;
    expect(out).to.include("precedence: environment > --config file > default");
    expect(out).to.match(new RegExp(`CG_RPC_URL +http://127\\.0\\.0\\.1:${node.port} +file ${config.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(out).to.match(/CG_SMTP_HOST +127\.0\.0\.1 +environment/);
    expect(out).to.match(/CG_CONFIRMATIONS +1 +file /);
    expect(out).to.match(/CG_MAX_ATTEMPTS +8 +default/);
    expect(out).to.match(/CG_REGISTRY +0x[0-9a-fA-F]{40} +CG_DEPLOYMENT/);
    expect(out).to.match(/CG_KEYSTORE_PASSPHRASE +\(set, not shown\) +environment/);
    expect(out).to.not.include(PASSPHRASE);
  });

  it("a second agent on the same data directory refuses to start and names the running one", async function () {
    const second = await guardian(["start", "--config", config], env);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.include(`another guardian agent is running on ${join(dir, "data")}: pid ${agent!.child.pid}`);
    expect(second.stderr).to.not.match(/\n\s+at /); // no stack trace
    const lock = JSON.parse(readFileSync(join(dir, "data", "guardian.lock"), "utf8"));
    expect(lock.pid).to.equal(agent!.child.pid);
  });

  it("stake, unbond, withdraw, claim and withdrawal-address move the operator's stake, refusing in words what the registry would refuse", async function () {
    const stake = await guardian(["stake", "0.5", "--config", config, "--json"], env);
    expect(stake.code, stake.stderr).to.equal(0);
    expect(JSON.parse(stake.stdout)).to.include({ action: "stake", stake: parseEther("1.5").toString(), eligible: true });

    const tooMuch = await guardian(["unbond", "5", "--config", config], env);
    expect(tooMuch.code).to.equal(1);
    expect(tooMuch.stderr).to.include("only 1.5 ETH is staked; unbond at most that");
    const unbond = await guardian(["unbond", "0.25", "--config", config], env);
    expect(unbond.code, unbond.stderr).to.equal(0);
    expect(unbond.stdout).to.match(/^unbonding 0\.25 ETH; withdraw from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, in 14 d 0 h on/);
    expect((await sys.registry.guardian(g1.address)).unbonding).to.equal(parseEther("0.25"));

    const early = await guardian(["withdraw", "--config", config], env);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.match(/0\.25 ETH is unbonding; the delay ends at .* UTC, in 1[34] d/);
    await sys.networkHelpers.time.increase(14 * 24 * 3600 + 1);
    const before = await sys.ethers.provider.getBalance(g1.address);
    const withdraw = await guardian(["withdraw", "--config", config, "--json"], env);
    expect(withdraw.code, withdraw.stderr).to.equal(0);
    expect(JSON.parse(withdraw.stdout)).to.include({ action: "withdraw", withdrawn: parseEther("0.25").toString() });
    expect((await sys.ethers.provider.getBalance(g1.address)) > before).to.equal(true);

    // A withdrawal address: the first takes effect at once, a change of it only after the unbonding delay.
    const cold = sys.spare[1].address;
    const notAddress = await guardian(["withdrawal-address", "0x1234", "--config", config], env);
    expect(notAddress.code).to.equal(2);
    const self = await guardian(["withdrawal-address", g1.address, "--config", config], env);
    expect(self.code).to.equal(1);
    expect(self.stderr).to.include("that is the operator address, which is paid when no withdrawal address is named; use --clear");
    const named = await guardian(["withdrawal-address", cold.toLowerCase(), "--config", config], env);
    expect(named.code, named.stderr).to.equal(0);
    expect(named.stdout).to.include(`withdrawals, claims and fees are paid to ${cold} from now on`);
    const again = await guardian(["withdrawal-address", cold, "--config", config], env);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include(`payouts already go to ${cold}`);
    const cleared = await guardian(["withdrawal-address", "--clear", "--config", config, "--json"], env);
    expect(cleared.code, cleared.stderr).to.equal(0);
    expect(JSON.parse(cleared.stdout)).to.include({ withdrawalAddress: cold, payee: cold, next: "0x0000000000000000000000000000000000000000" });
    const shown = await guardian(["withdrawal-address", "--config", config], env);
    expect(shown.stdout).to.match(new RegExp(`^withdrawals, claims and fees are paid to ${cold}\n  changing to the operator address from .* UTC, in 14 d`));
    const doctor = await guardian(["doctor", "--config", config], env);
    expect(doctor.stdout).to.match(/warn {2}withdrawal address: payouts change from 0x[0-9a-fA-F]{40} to the operator address at .*\n {8}fix: if you did not ask for it, the operator key is compromised/);
    // The withdrawal address in effect cancels the change; withdrawals go to it.
    await (await sys.registry.connect(sys.spare[1]).cancelWithdrawalAddressChange(g1.address)).wait();
    const unbondMore = await guardian(["unbond", "0.25", "--config", config], env);
    expect(unbondMore.code, unbondMore.stderr).to.equal(0);
    await sys.networkHelpers.time.increase(14 * 24 * 3600 + 1);
    const coldBefore = await sys.ethers.provider.getBalance(cold);
    const toCold = await guardian(["withdraw", "--config", config, "--json"], env);
    expect(toCold.code, toCold.stderr).to.equal(0);
    expect(JSON.parse(toCold.stdout)).to.include({ withdrawn: parseEther("0.25").toString(), to: cold });
    expect((await sys.ethers.provider.getBalance(cold)) - coldBefore).to.equal(parseEther("0.25"));

    const claim = await guardian(["claim", "--config", config], env);
    expect(claim.code).to.equal(1);
    expect(claim.stderr).to.include(`nothing to claim for ${g1.address}`);
    const usage = await guardian(["unbond", "--config", config], env);
    expect(usage.code).to.equal(2);
    const badAmount = await guardian(["stake", "-1", "--config", config], env);
    expect(badAmount.code).to.equal(2);
  });

  it("keys export writes a sealed bundle (no secret unless asked) that keys import installs elsewhere", async function () {
    const bundle = join(dir, "bundle.json");
    const exported = await guardian(["keys", "export", "--config", config, "--out", bundle], env);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(statSync(bundle).mode & 0o777).to.equal(0o600);
    const key = defaultAccountKey(6).slice(2);
    expect(readFileSync(bundle, "utf8") + exported.stdout).to.not.include(key);
    const shown = await guardian(["keys", "export", "--config", config, "--show-private-key"], env);
    expect(shown.stdout).to.include(key);
    expect(shown.stderr).to.include("printed above in the clear");

    // Into another data directory, re-sealed under another passphrase.
    const passFile = join(dir, "old-passphrase");
    writeFileSync(passFile, `${PASSPHRASE}\n`);
    const other = { CG_KEYSTORE_PASSPHRASE: "the new machine's passphrase", CG_DATA_DIR: join(dir, "moved") };
    const imported = await guardian(["keys", "import", bundle, "--config", config, "--bundle-passphrase-file", passFile], other);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.include({ operator: g1.address });
    const show = await guardian(["keys", "show", "--config", config], other);
    expect(JSON.parse(show.stdout)).to.deep.equal({ operator: g1.address, encryptionKey: toHex(g1.hpke.publicKey) });
    const again = await guardian(["keys", "import", bundle, "--config", config, "--bundle-passphrase-file", passFile], other);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include("refusing to replace them");
    const wrong = await guardian(["keys", "import", bundle, "--config", config], { ...other, CG_DATA_DIR: join(dir, "moved2") });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.include("the passphrase does not open this keystore");
  });

  it("an agent whose RPC node is down answers /healthz as degraded with the reason, takes over a stale lock, and stops on SIGTERM", async function () {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const data = join(dir, "moved"); // the keys imported above, no agent on them
    writeFileSync(join(data, "guardian.lock"), JSON.stringify({ pid: Number(dead.stdout), host: (await import("node:os")).hostname(), startedAt: "2020-01-01T00:00:00.000Z" }));
    const port = await freePort();
    const down = spawnAgent(config, {
      CG_KEYSTORE_PASSPHRASE: "the new machine's passphrase",
      CG_DATA_DIR: data,
      CG_RPC_URL: `http://127.0.0.1:${await freePort()}/secret-api-key`,
      CG_HTTP_PORT: String(port),
      CG_PEER_PORT: String(await freePort()),
    });
    try {
      const health = await until(
        "/healthz",
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return res && { status: res.status, body: (await res.json()) as { status: string; reason: string } };
        },
        20_000,
      );
      expect(health.status).to.equal(503);
      expect(health.body.status).to.equal("degraded");
      expect(health.body.reason).to.match(/^(starting: waiting for the RPC node|the RPC node) http:\/\/127\.0\.0\.1:\d+/);
      await until("a failed RPC attempt in the reason", async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { reason: string };
        return body.reason.includes("does not answer eth_chainId") && body;
      });
      expect(down.output).to.include("took over the lock of an agent that no longer runs");
      expect(down.output).to.not.include("secret-api-key");
    } finally {
      await stop(down.child);
    }
    expect(await down.exited).to.equal(0);
  });
});
