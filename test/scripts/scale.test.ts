import { expect } from "chai";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { PROJECT_ROOT, completion } from "../../scripts/lib/localNode.ts";

/** Runs `npm run scale`'s script with the given flags (EDR in its own process, nothing on the network). */
function scale(args: string[]) {
  const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "scripts/scale.ts"), ...args], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return completion(child).finally(() => clearTimeout(killer));
}

describe("scripts/scale.ts (npm run scale) with tiny counts", function () {
  this.timeout(90_000);

  it("measures every section, prints both tables with progress, and leaves bench/results.json alone with --no-write", async function () {
    const before = readFileSync(join(PROJECT_ROOT, "bench/results.json"), "utf8");
    const { code, output } = await scale(["--accounts", "1,20", "--requests", "8", "--batch", "4", "--peer-accounts", "3", "--db-accounts", "200", "--no-write"]);
    expect(code, output).to.equal(0);
    expect(output).to.match(/scale \[ *\d+ s\] chain: 20\/20 accounts linked/);
    expect(output).to.match(/serving: 8\/8 requests/);
    for (const row of [
      /link gas, account 1 \/ median \/ max \/ account 20 +[\d,]+ \/ [\d,]+ \/ [\d,]+ \/ [\d,]+ +20 links/,
      /handover gas, 1 accounts linked +1,4\d\d,\d\d\d/,
      /handover gas, 20 accounts linked +1,4\d\d,\d\d\d/,
      /posting gas, 4 per postPartials \/ one postPartial +[\d,]+ \/ [\d,]+/,
      /peer API channel hand-over per account, wall \/ CPU +[\d.,]+ \/ [\d.,]+ ms +3 accounts/,
      /serving CPU per request \/ requests per CPU second +[\d.,]+ ms \/ [\d.,]+ +8 requests/,
      /database bytes per account +[\d.,]+ +200 accounts/,
      /handover with 1,000,000 accounts/,
      /peak resets per second on one core/,
    ]) {
      expect(output).to.match(row);
    }
    expect(readFileSync(join(PROJECT_ROOT, "bench/results.json"), "utf8")).to.equal(before);
  });

  it("refuses a bad flag with a message that names it", async function () {
    const { code, output } = await scale(["--accounts", "ten", "--no-write"]);
    expect(code).to.not.equal(0);
    expect(output).to.include('expected a positive whole number, got "ten"');
  });
});
