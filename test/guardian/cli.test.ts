import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";

function guardian(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "guardian/main.ts"), ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("guardian CLI", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), "cg-cli-"));
  const config = join(dir, "guardian.env");
  writeFileSync(
    config,
    ["CG_RPC_URL=http://127.0.0.1:9", "CG_COORDINATOR=0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "CG_REGISTRY=0x5FbDB2315678afecb367f032d93F642f64180aa3", "CG_COMMITTEES=0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "CG_DATA_DIR=data", "CG_SCRYPT_N=1024"].join("\n"),
  );
  const env = { CG_KEYSTORE_PASSPHRASE: "operator passphrase" };

  it("prints help with examples and --version, exits 2 on bad usage with a suggestion for a typo, and never shows a stack trace", async function () {
    const help = await guardian(["--help"]);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include("cg-guardian keys init --config guardian.env && cg-guardian start --config guardian.env");
    expect(help.stdout).to.include("Exit codes: 0 done, 1 refused or failed, 2 bad usage");
    const subHelp = await guardian(["unbond", "--help"]);
    expect(subHelp.code).to.equal(0);
    expect(subHelp.stdout).to.include("--all");
    const version = await guardian(["--version"]);
    expect(version.code).to.equal(0);
    expect(version.stdout.trim()).to.equal(JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")).version);
    const bad = await guardian(["frobnicate"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("unknown command 'frobnicate'");
    const typo = await guardian(["doctr"]);
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.include("(Did you mean doctor?)");
    const option = await guardian(["status", "--jsn"]);
    expect(option.code).to.equal(2);
    expect(option.stderr).to.include("(Did you mean --json?)");
    const none = await guardian([]);
    expect(none.code).to.equal(2);
    const amount = await guardian(["stake", "lots", "--config", config], env);
    expect(amount.code).to.equal(2);
    expect(amount.stderr).to.equal('cg-guardian: guardian stake <eth> expects an amount of ETH such as 1.5, got "lots"\n');
    const unreachable = await guardian(["stake", "1", "--config", config], env);
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.match(/^cg-guardian: (keystore .* does not exist|the RPC node http:\/\/127\.0\.0\.1:9 does not answer)/);
    for (const r of [bad, typo, option, amount, unreachable]) expect(r.stderr).to.not.match(/\n\s+at /);
  });

  it("keys init creates encrypted keystores readable only by the operator, and refuses to overwrite them", async function () {
    const init = await guardian(["keys", "init", "--config", config], env);
    expect(init.code, init.stderr).to.equal(0);
    const out = JSON.parse(init.stdout);
    expect(out.operator).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(out.encryptionKey).to.match(/^0x[0-9a-f]{64}$/);
    const file = join(dir, "data", "operator.json");
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).public).to.equal(out.operator);
    const again = await guardian(["keys", "init", "--config", config], env);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include("refusing to replace them");
    const show = await guardian(["keys", "show", "--config", config], env);
    expect(JSON.parse(show.stdout)).to.deep.equal({ operator: out.operator, encryptionKey: out.encryptionKey });
  });

  it("status reports the cursor, pending work, dead letters and ignored events; a wrong passphrase is refused", async function () {
    const status = await guardian(["status", "--config", config, "--json"], env);
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout)).to.deep.equal({ cursor: "none", pending: {}, done: 0, deadLetters: [], ignoredEvents: { total: 0, recent: [] } });
    const wrong = await guardian(["status", "--config", config], { CG_KEYSTORE_PASSPHRASE: "not the passphrase" });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/the passphrase does not open this keystore/);
  });

  it("config shows the effective value of each setting and where it came from: the environment over the file over the default", async function () {
    const shown = await guardian(["config", "--config", config, "--json"], { ...env, CG_CONFIRMATIONS: "7" });
    expect(shown.code, shown.stderr).to.equal(0);
    const rows = Object.fromEntries((JSON.parse(shown.stdout) as { name: string; value: string; from: string }[]).map((r) => [r.name, r]));
    expect(rows.CG_CONFIRMATIONS).to.deep.equal({ name: "CG_CONFIRMATIONS", value: "7", from: "environment" });
    expect(rows.CG_DATA_DIR).to.deep.equal({ name: "CG_DATA_DIR", value: join(dir, "data"), from: `file ${config}` });
    expect(rows.CG_HTTP_PORT).to.deep.equal({ name: "CG_HTTP_PORT", value: "9464", from: "default" });
    expect(rows.CG_KEYSTORE_PASSPHRASE.value).to.equal("(set, not shown)");
    expect(shown.stdout).to.not.include(env.CG_KEYSTORE_PASSPHRASE);
  });

  it("start refuses a configuration with a bad field, naming it", async function () {
    const bad = await guardian(["start", "--config", config], { ...env, CG_CONFIRMATIONS: "0" });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('config CG_CONFIRMATIONS: expected a whole number in [1, 1000], got "0"');
  });
});
