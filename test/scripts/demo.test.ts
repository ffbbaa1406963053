import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";

/** `npm run demo` (without the build step, which the test run has done) tells the v2 story, exits 0 in bounded time and leaves its temporary folder as it found it. */
describe("npm run demo", function () {
  const BOUND_MS = 240_000;
  this.timeout(BOUND_MS + 30_000);

  it("runs the whole v2 story against agents as processes, exits 0 within the bound and leaves nothing in the temporary folder", async function () {
    const started = Date.now();
    const temporary = mkdtempSync(join(tmpdir(), "cg-demo-test-"));
    const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "scripts/demo.ts")], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TMPDIR: temporary },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), BOUND_MS);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearTimeout(timer);
    expect(code, `exit ${code} after ${Date.now() - started} ms:\n${output}`).to.equal(0);
    const left = readdirSync(temporary);
    rmSync(temporary, { recursive: true, force: true });
    expect(left, "what the demo left in its temporary folder").to.deep.equal([]);
    // The story in order: link in one transaction, handover, a drill in which a watcher proves the malicious posting
    // invalid and alice types her SMS code, the reset completed and finalized, the audit replayed.
    const steps = [
      /committee 1 is active/,
      /alice linked her account to committee 1 in one transaction/,
      /handover: slot 2 \(g2\) replaced by g6/,
      /alice's account did nothing: committee 1, account epoch 1/,
      /a watcher proved the posting of slot 4 \(g4\) invalid: .* ETH slashed/,
      /alice typed the SMS code/,
      /drill \d+ verified on-chain/,
      /reset \d+ approved/,
      /reset finalized/,
      /alice's new key moved 1 ETH/,
      /matches the on-chain head/,
    ];
    let at = 0;
    for (const step of steps) {
      const rest = output.slice(at);
      const m = step.exec(rest);
      expect(m, `${step} after position ${at} in:\n${output}`).to.not.equal(null);
      at += m!.index + m![0].length;
    }
  });
});
