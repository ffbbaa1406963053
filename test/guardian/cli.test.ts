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

  it("prints help with an example, and exits 2 on an unknown command", async function () {
    const help = await guardian(["--help"]);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include("guardian keys init --config guardian.env && guardian start --config guardian.env");
    const bad = await guardian(["frobnicate"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('unknown command "frobnicate"');
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

  it("start refuses a configuration with a bad field, naming it", async function () {
    const bad = await guardian(["start", "--config", config], { ...env, CG_CONFIRMATIONS: "0" });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('config CG_CONFIRMATIONS: expected a whole number in [1, 1000], got "0"');
  });
});
