/** `npm run web` explains its flags and refuses a bad start in words (exit 2), never with a stack trace. */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";

/** Runs `node scripts/web.ts <args>` to its exit (killed after 30 s). */
function web(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "scripts/web.ts"), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, CG_RPC_URL: "", CG_DEPLOYMENT: "", CG_WEB_PORT: "", CG_WEB_HOST: "", CG_INBOX_URL: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe("npm run web", function () {
  this.timeout(60_000);
  let dir: string;
  let deployment: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "cg-web-cli-"));
    deployment = join(dir, "deployment.json");
    const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
    writeFileSync(deployment, JSON.stringify({ chainId: 31337, deploymentBlock: 0, contracts: { GuardianRegistry: address(1), ResetCoordinator: address(2), CommitteeRegistry: address(3) } }));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("--help names every flag and its environment variable", async function () {
    const r = await web(["--help"]);
    expect(r.code).to.equal(0);
    for (const flag of ["--rpc", "--deployment", "--inbox", "--port", "--host", "--no-build", "--help", "CG_RPC_URL", "CG_DEPLOYMENT", "CG_INBOX_URL", "CG_WEB_PORT", "CG_WEB_HOST"]) expect(r.out, flag).to.include(flag);
  });

  it("names a missing deployment file, an unreachable RPC, an unknown flag and a port in use, in words", async function () {
    const missing = await web(["--rpc", "http://127.0.0.1:9", "--deployment", join(dir, "nope.json")]);
    expect(missing.code).to.equal(2);
    expect(missing.err).to.include(`no deployment file at ${join(dir, "nope.json")}`);

    // A port nothing listens on: taken and released at once.
    const closed = createServer();
    const free = await new Promise<number>((ok) => closed.listen(0, "127.0.0.1", () => ok((closed.address() as { port: number }).port)));
    await new Promise((ok) => closed.close(ok));
    const unreachable = await web(["--rpc", `http://127.0.0.1:${free}/v1/secret-token`, "--deployment", deployment]);
    expect(unreachable.code).to.equal(2);
    expect(unreachable.err).to.include(`cannot reach the RPC at http://127.0.0.1:${free}/…`);
    expect(unreachable.err).to.not.include("secret-token");

    const unknown = await web(["--bogus"]);
    expect(unknown.code).to.equal(2);
    expect(unknown.err).to.match(/Unknown option '--bogus' \(npm run web -- --help lists the flags\)/);

    const taken = createServer();
    const port = await new Promise<number>((ok) => taken.listen(0, "127.0.0.1", () => ok((taken.address() as { port: number }).port)));
    try {
      const busy = await web(["--port", String(port)]);
      expect(busy.code).to.equal(2);
      expect(busy.err).to.include(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((ok) => taken.close(ok));
    }
    for (const r of [missing, unreachable, unknown]) expect(r.err).to.not.match(/\n\s+at /);
  });
});
