/**
 * `npm run soak` — load and faults on a local network: agents as processes serve concurrent resets while one of them is
 * SIGKILLed and restarted every few seconds, an RPC proxy drops, delays and fails their calls, the SMTP server goes
 * down and comes back, and a committee handover runs in the middle. Prints progress, then a table, and merges the
 * `reliability.*` figures into bench/results.json (other keys kept). Exits 1 if a reset was lost, a posting was
 * duplicated, the owner saw a code twice, or an agent re-sent a delivery (or one did not match its posting) without
 * its kill to explain it.
 * `npm run soak -- --help` lists the parameters.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Command, InvalidArgumentError } from "commander";

import { mergeResults } from "../bench/results.ts";
import { SOAK_DEFAULTS, formatReport, reliabilityFigures, runSoak } from "../test/helpers/soak.ts";

const d = SOAK_DEFAULTS;
const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};
const share = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("a share between 0 and 1");
  return n;
};
const seconds = (v: string) => {
  const n = Number(v);
  if (!(n >= 0)) throw new InvalidArgumentError("seconds ≥ 0");
  return n;
};

const program = new Command("soak")
  .description("Concurrent resets against guardian agents as processes, with kills, RPC faults, SMTP outages and a handover")
  .option("--accounts <n>", "accounts linked to the committee", int("--accounts", 1), d.accounts)
  .option("--resets <n>", "resets requested (each from its own key, cycling over the accounts)", int("--resets", 1), d.resets)
  .option("--agents <n>", "committee size n (one more agent stands by for the handover)", int("--agents", 2), d.agents)
  .option("--threshold <t>", "committee threshold t (t > n/2)", int("--threshold", 2), d.threshold)
  .option("--ramp <seconds>", "requests are spread evenly over this window", seconds, d.rampMs / 1000)
  .option("--deadline <seconds>", "from the first request: a reset not completed by then is lost", seconds, d.deadlineMs / 1000)
  .option("--seed <n>", "seed of the proxy's fault draws and the requester keys", int("--seed", 0), d.seed)
  .option("--kill-every <seconds>", "SIGKILL an agent this often, rotating (0: never)", seconds, d.killEveryMs / 1000)
  .option("--down <seconds>", "how long a killed agent stays down", seconds, d.downMs / 1000)
  .option("--drop <share>", "share of the agents' RPC calls dropped without an answer", share, d.proxy.drop)
  .option("--delay <share>", "share of the agents' RPC calls delayed", share, d.proxy.delay)
  .option("--max-delay <seconds>", "longest injected delay", seconds, d.proxy.maxDelayMs / 1000)
  .option("--error <share>", "share of the agents' RPC calls answered with an error", share, d.proxy.error)
  .option("--smtp-outages <n>", "SMTP outages, spread over the ramp", int("--smtp-outages", 0), d.smtpOutages)
  .option("--smtp-outage <seconds>", "length of each SMTP outage", seconds, d.smtpOutageMs / 1000)
  .option("--no-handover", "no committee handover")
  .option("--handover-at <share>", "when the handover starts, as a share of the ramp", share, d.handoverAt)
  .option("--confirmations <n>", "the agents' confirmation depth", int("--confirmations", 1), d.confirmations)
  .option("--block <seconds>", "an empty block this often (transactions are mined at once)", seconds, d.blockMs / 1000)
  .option("--no-write", "do not write bench/results.json")
  .addHelpText("after", "\nExamples:\n  npm run soak\n  npm run soak -- --accounts 5 --resets 30 --ramp 20 --deadline 90 --no-handover\n  npm run soak -- --drop 0.1 --error 0.1 --seed 7");

program.parse();
const f = program.opts();
if (f.threshold * 2 <= f.agents || f.threshold > f.agents) program.error(`--threshold must be more than half of --agents and at most --agents (got ${f.threshold} of ${f.agents})`);

// The agents' logs are kept (no secret is ever logged); everything else the soak and what it starts write to a
// temporary folder goes into one folder, removed at the end.
const logFile = join(tmpdir(), `cg-soak-agents-${process.pid}.log`);
const workDir = mkdtempSync(join(tmpdir(), "cg-soak-"));
process.env.TMPDIR = workDir;

const options = {
  accounts: f.accounts,
  resets: f.resets,
  agents: f.agents,
  threshold: f.threshold,
  rampMs: f.ramp * 1000,
  deadlineMs: f.deadline * 1000,
  seed: f.seed,
  killEveryMs: f.killEvery * 1000,
  downMs: f.down * 1000,
  proxy: { drop: f.drop, delay: f.delay, error: f.error, maxDelayMs: f.maxDelay * 1000 },
  smtpOutages: f.smtpOutages,
  smtpOutageMs: f.smtpOutage * 1000,
  handover: f.handover,
  handoverAt: f.handoverAt,
  confirmations: f.confirmations,
  blockMs: f.block * 1000,
  progressEveryMs: 5_000,
  say: (line: string) => console.log(line),
  agentLogFile: logFile,
};

try {
  const report = await runSoak(options);
  console.log(`\n${formatReport(report)}\n`);
  console.log(`agents' logs: ${report.agentLogFile}`);
  if (f.write) {
    mergeResults({
      figures: reliabilityFigures(report),
      top: {
        soak: {
          generated: new Date().toISOString(),
          command: `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
          parameters: report.options,
          faults: { ...report.faults, proxy: { ...report.faults.proxy } },
          durationMs: report.durationMs,
        },
      },
    });
    console.log("merged the reliability figures into bench/results.json");
  }
  rmSync(workDir, { recursive: true, force: true });
  // A re-send its agent's SIGKILL mid-send explains is the outbox's at-least-once window (the receiver drops it by its
  // key); a duplicate the owner sees, or a re-send without a kill, is a bug.
  const unexplained = report.duplicateDeliveries + report.unexplainedResends + report.conflictingCodes + report.orphanCodes;
  process.exit(report.lost === 0 && report.duplicatePostings === 0 && unexplained === 0 ? 0 : 1);
} catch (e) {
  console.error(`soak failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  rmSync(workDir, { recursive: true, force: true });
  process.exit(1);
}
