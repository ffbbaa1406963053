/**
 * `npm run scale`: what grows with the number of accounts, measured on this machine, and its extrapolation to
 * 1,000,000 accounts per committee and 10,000 resets a day. Prints two tables (measured points, extrapolation) and
 * merges the figures into bench/results.json under `scale.*` (other keys are kept).
 *
 *   npm run scale                                   the full run (handovers with 1, 1,000 and 10,000 accounts)
 *   npm run scale -- --accounts 1,100 --requests 50 --peer-accounts 10 --db-accounts 500 --no-write   a quick one
 *
 * Sections: chain (link gas, handover gas by accounts linked), postings (batched posting gas), peer (channel
 * hand-over per account through the peer API), serving (one agent's serving work per request, single-threaded),
 * database (guardian database bytes per account and per request). scripts/scale/*.ts say how each is measured.
 */
import { availableParallelism, loadavg } from "node:os";

import { Command, InvalidArgumentError } from "commander";
import { network } from "hardhat";

import { mergeResults } from "../bench/results.ts";
import { type ChainResult, type PostingResult, measureChain, measurePostings } from "./scale/chain.ts";
import { type DatabaseResult, measureDatabase } from "./scale/database.ts";
import { type PeerResult, measurePeerHandover } from "./scale/peer.ts";
import { type ServingResult, measureServing } from "./scale/serving.ts";

const SECTIONS = ["chain", "postings", "peer", "serving", "database"] as const;
type Section = (typeof SECTIONS)[number];

/** The scale the model extrapolates to. */
const TARGET_ACCOUNTS = 1_000_000;
const TARGET_RESETS_PER_DAY = 10_000;
/** Members of the committee (each serves every request of it) and days a served request is kept in the database. */
const MEMBERS = 5;
const RETENTION_DAYS = 365;

function count(value: string): number {
  const n = Number(value.replace(/[_,]/g, ""));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

function counts(value: string): number[] {
  const list = value.split(/[\s,]+/).filter(Boolean).map((v) => count(v.replace(/_/g, "")));
  if (list.length === 0) throw new InvalidArgumentError("expected a list of account counts, e.g. 1,1000,10000");
  return [...new Set(list)].sort((a, b) => a - b);
}

function sections(value: string): Section[] {
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown section(s) ${unknown.join(", ")}; expected some of ${SECTIONS.join(", ")}`);
  return list as Section[];
}

const program = new Command()
  .name("npm run scale --")
  .description("Measures what grows with the number of accounts and extrapolates to 1,000,000 accounts per committee and 10,000 resets a day.")
  .option("--accounts <counts>", "accounts linked to the committee before a measured handover, comma-separated; each count on a deployment of its own", counts, [1, 1_000, 10_000])
  .option("--batch <n>", "postings per postPartials transaction (1…50)", count, 20)
  .option("--requests <n>", "reset requests served in the serving measurement", count, 1_000)
  .option("--peer-accounts <n>", "accounts whose channel a newcomer learns through the peer API", count, 200)
  .option("--db-accounts <n>", "accounts stored in the database measurement", count, 10_000)
  .option("--sections <list>", `sections to run (${SECTIONS.join(",")})`, sections, [...SECTIONS])
  .option("--no-write", "print only; leave bench/results.json alone")
  .parse();

const opts = program.opts<{ accounts: number[]; batch: number; requests: number; peerAccounts: number; dbAccounts: number; sections: Section[]; write: boolean }>();
if (opts.batch > 50) program.error("--batch: the agent drains at most 50 postings at a time; expected 1…50");
const run = (s: Section) => opts.sections.includes(s);
const started = Date.now();
const progress = (line: string) => process.stderr.write(`scale [${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

let chain: ChainResult | undefined;
let postings: PostingResult | undefined;
let peer: PeerResult | undefined;
let serving: ServingResult | undefined;
let database: DatabaseResult | undefined;

if (run("chain") || run("postings")) {
  const connection = await network.create();
  if (run("chain")) chain = await measureChain(connection as never, opts.accounts, progress);
  if (run("postings")) postings = await measurePostings(connection as never, opts.batch, progress);
  await connection.close();
}
if (run("peer")) peer = await measurePeerHandover(opts.peerAccounts, progress);
if (run("serving")) serving = await measureServing(opts.requests, opts.batch, progress);
if (run("database")) database = measureDatabase(opts.dbAccounts, progress);

// ───────────────────────────── figures ─────────────────────────────

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const figures: Record<string, number> = {};
interface Row {
  what: string;
  value: string;
  note: string;
}
const measured: Row[] = [];
const model: Row[] = [];
const fmt = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: x < 10 ? 2 : x < 1000 ? 1 : 0 });
const hours = (ms: number) => (ms >= 3_600_000 ? `${fmt(ms / 3_600_000)} h` : ms >= 60_000 ? `${fmt(ms / 60_000)} min` : `${fmt(ms / 1000)} s`);
const bytes = (b: number) => (b >= 1e9 ? `${fmt(b / 1e9)} GB` : b >= 1e6 ? `${fmt(b / 1e6)} MB` : `${fmt(b / 1e3)} kB`);

if (chain) {
  const g = chain.linkGas;
  const sorted = [...g].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  // Least-squares slope of gas over the link's position: how much a link costs more per 1,000 accounts already linked.
  const n = g.length;
  const meanX = (n - 1) / 2;
  const meanY = g.reduce((a, b) => a + b, 0) / n;
  const slope = n > 1 ? g.reduce((s, y, x) => s + (x - meanX) * (y - meanY), 0) / g.reduce((s, _, x) => s + (x - meanX) ** 2, 0) : 0;
  figures["scale.linkGas.first"] = g[0];
  figures["scale.linkGas.median"] = median;
  figures["scale.linkGas.max"] = sorted[n - 1];
  figures["scale.linkGas.last"] = g[n - 1];
  figures["scale.linkGas.slopePer1000Accounts"] = r1(slope * 1000);
  measured.push({ what: `link gas, account 1 / median / max / account ${n.toLocaleString("en-US")}`, value: `${fmt(g[0])} / ${fmt(median)} / ${fmt(sorted[n - 1])} / ${fmt(g[n - 1])}`, note: `${n.toLocaleString("en-US")} links; least-squares slope ${fmt(slope * 1000)} gas per 1,000 accounts linked` });
  const base = chain.handovers[0];
  for (const h of chain.handovers) {
    figures[`scale.handoverGas.accounts${h.accounts}`] = h.handoverGas;
    measured.push({ what: `handover gas, ${h.accounts.toLocaleString("en-US")} accounts linked`, value: fmt(h.handoverGas), note: h === base ? "3-of-5, one member replaced" : `${(((h.handoverGas - base.handoverGas) / base.handoverGas) * 100).toFixed(3)} % from ${base.accounts.toLocaleString("en-US")} account(s)` });
  }
  const gases = chain.handovers.map((h) => h.handoverGas);
  const spread = Math.max(...gases) - Math.min(...gases);
  model.push({ what: `links of ${TARGET_ACCOUNTS.toLocaleString("en-US")} accounts`, value: `${fmt((median * TARGET_ACCOUNTS) / 1e9)} Ggas`, note: `median link × 1,000,000 (each owner pays its own link); slope ${fmt(slope * 1000)} gas per 1,000 accounts` });
  figures["scale.handoverGas.spread"] = spread;
  model.push({
    what: `handover with ${TARGET_ACCOUNTS.toLocaleString("en-US")} accounts`,
    value: fmt(Math.max(...gases)),
    note: `the largest measured: ${chain.handovers.map((h) => h.accounts.toLocaleString("en-US")).join(", ")} accounts differ by ${fmt(spread)} gas in all (calldata of random shares), with no trend: a handover touches no account`,
  });
}
if (postings) {
  figures["scale.postingGas.batchPerPosting"] = postings.perPosting;
  figures["scale.postingGas.single"] = postings.singleGas;
  measured.push({ what: `posting gas, ${postings.batch} per postPartials / one postPartial`, value: `${fmt(postings.perPosting)} / ${fmt(postings.singleGas)}`, note: `batch of ${postings.batch}: ${fmt(postings.batchGas)} gas` });
  const perDay = TARGET_RESETS_PER_DAY * MEMBERS * postings.perPosting;
  model.push({ what: `posting gas a day, ${TARGET_RESETS_PER_DAY.toLocaleString("en-US")} resets`, value: `${fmt(perDay / 1e6)} Mgas`, note: `${MEMBERS} members post for every request, batched ${postings.batch} at a time (${fmt(perDay / MEMBERS / 1e6)} Mgas a member)` });
}
if (peer) {
  figures["scale.peerHandover.wallMsPerAccount"] = r3(peer.wallMsPerAccount);
  figures["scale.peerHandover.cpuMsPerAccount"] = r3(peer.cpuMsPerAccount);
  measured.push({ what: "peer API channel hand-over per account, wall / CPU", value: `${fmt(peer.wallMsPerAccount)} / ${fmt(peer.cpuMsPerAccount)} ms`, note: `${peer.accounts} accounts one after the other; CPU of newcomer + 4 answering members; chain reads in memory` });
  model.push({ what: `a newcomer learning all ${TARGET_ACCOUNTS.toLocaleString("en-US")} channels`, value: hours(peer.wallMsPerAccount * TARGET_ACCOUNTS), note: `one after the other (${hours(peer.cpuMsPerAccount * TARGET_ACCOUNTS)} CPU over the 5 members); the agent learns lazily, on an account's first delivery` });
  model.push({ what: `channels learned a day, ${TARGET_RESETS_PER_DAY.toLocaleString("en-US")} resets`, value: hours(peer.wallMsPerAccount * TARGET_RESETS_PER_DAY), note: "at most one per reset of an account the newcomer has not learned yet" });
}
if (serving) {
  const perSecond = 1000 / serving.cpuMsPerRequest;
  figures["scale.serving.cpuMsPerRequest"] = r3(serving.cpuMsPerRequest);
  figures["scale.serving.requestsPerCpuSecond"] = r1(perSecond);
  figures["scale.serving.wallMsPerRequest"] = r3(serving.wallMsPerRequest);
  figures["scale.serving.commitMs"] = r3(serving.commitMs);
  figures["scale.serving.commitsPerRequest"] = r3(serving.commitsPerRequest);
  for (const [step, ms] of Object.entries(serving.steps)) figures[`scale.serving.step.${step.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")}`] = r3(ms);
  measured.push({ what: "serving CPU per request / requests per CPU second", value: `${fmt(serving.cpuMsPerRequest)} ms / ${fmt(perSecond)}`, note: `${serving.requests} requests, postings ${serving.batch} per postPartials, single-threaded, agent code, chain and channel in memory` });
  measured.push({
    what: "serving wall time per request",
    value: `${fmt(serving.wallMsPerRequest)} ms`,
    note: `handle ${fmt(serving.phases.handle)}, post ${fmt(serving.phases.post)}, deliver ${fmt(serving.phases.deliver)} ms; includes the database's synchronous commits (fsync)`,
  });
  measured.push({ what: "database commit (fsync), wall", value: `${fmt(serving.commitMs)} ms`, note: `mean of 100 on this disk; ${fmt(serving.commitsPerRequest)} a request (counted; grouped by pass, ${serving.batch} requests a pass), each blocking the agent's thread` });
  measured.push({ what: "  of which cryptography (per step)", value: `${fmt(Object.values(serving.steps).reduce((a, b) => a + b, 0))} ms`, note: Object.entries(serving.steps).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") });
  const cpuPerDay = serving.cpuMsPerRequest * TARGET_RESETS_PER_DAY;
  model.push({ what: `serving CPU a day, ${TARGET_RESETS_PER_DAY.toLocaleString("en-US")} resets`, value: hours(cpuPerDay), note: `per member (each serves every request): ${((cpuPerDay / 86_400_000) * 100).toFixed(2)} % of one core on average` });
  const withCommits = 1000 / (serving.cpuMsPerRequest + serving.commitsPerRequest * serving.commitMs);
  figures["scale.serving.requestsPerSecondWithCommits"] = r1(withCommits);
  model.push({
    what: "peak resets per second on one core",
    value: fmt(perSecond),
    note: `CPU only; ${fmt(withCommits)} a second once the ${fmt(serving.commitsPerRequest)} commits a request at ${fmt(serving.commitMs)} ms (this disk) wait on the same thread; ${fmt(1000 / serving.wallMsPerRequest)} a second measured end to end here`,
  });
}
if (database || serving) {
  const perAccount = database?.bytesPerAccount;
  const perRequest = serving?.dbBytesPerRequest;
  if (perAccount !== undefined) {
    figures["scale.database.bytesPerAccount"] = r1(perAccount);
    measured.push({ what: "database bytes per account", value: fmt(perAccount), note: `${database!.accounts.toLocaleString("en-US")} accounts' channels: ${bytes(database!.bytes)}` });
  }
  if (perRequest !== undefined) {
    figures["scale.database.bytesPerRequest"] = r1(perRequest);
    measured.push({ what: "database bytes per request served", value: fmt(perRequest), note: "request, serving (sealed code, message, posting), post and deliver jobs" });
  }
  const total = (perAccount ?? 0) * TARGET_ACCOUNTS + (perRequest ?? 0) * TARGET_RESETS_PER_DAY * RETENTION_DAYS;
  model.push({
    what: `database, ${TARGET_ACCOUNTS.toLocaleString("en-US")} accounts + a year of requests`,
    value: bytes(total),
    note: `${perAccount === undefined ? "accounts not measured" : bytes(perAccount * TARGET_ACCOUNTS) + " of channels"}${perRequest === undefined ? "" : ` + ${bytes(perRequest * TARGET_RESETS_PER_DAY * RETENTION_DAYS)} of ${RETENTION_DAYS} days' requests (nothing is pruned)`}`,
  });
}

function table(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const header: Row = { what: title, value: "value", note: "note" };
  const w = { what: Math.max(...[header, ...rows].map((r) => r.what.length)), value: Math.max(...[header, ...rows].map((r) => r.value.length)) };
  const line = (r: Row) => `${r.what.padEnd(w.what)}  ${r.value.padStart(w.value)}  ${r.note}`.trimEnd();
  console.log(line(header));
  console.log(`${"-".repeat(w.what)}  ${"-".repeat(w.value)}  ----`);
  for (const r of rows) console.log(line(r));
  console.log();
}

// Wall times move with what else runs on the machine; CPU times much less.
const [load1] = loadavg();
measured.push({ what: "machine load at the end (1-minute average)", value: fmt(load1), note: `${availableParallelism()} cores; wall times above include waiting for a core, CPU times do not` });
figures["scale.loadAverage"] = r1(load1);
table("measured", measured);
table(`extrapolated (${TARGET_ACCOUNTS.toLocaleString("en-US")} accounts per committee, ${TARGET_RESETS_PER_DAY.toLocaleString("en-US")} resets a day, ${MEMBERS} members)`, model);

if (opts.write) {
  const command = ["npm run scale", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ");
  mergeResults({ figures, environment: { scale: `${command} (${new Date().toISOString()}, ${process.version}, load average ${fmt(load1)})` } });
  console.log(`merged ${Object.keys(figures).length} scale.* figures into bench/results.json`);
}
