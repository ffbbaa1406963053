/**
 * The soak: load and faults on a whole local network (a node, the contracts, stand-in SMTP / SMS / app servers and
 * guardian agents as processes), shared by `npm run soak` (scripts/soak.ts) and its short version in the test suite
 * (test/guardian/soak.test.ts).
 *
 * The agents form one t-of-n committee; `accounts` accounts are linked to it; `resets` resets are requested over
 * `rampMs` (spread evenly, each from its own fresh key, cycling over the accounts) and run concurrently, the owner's
 * side by the SDK's client flows (`requestReset` with a one-time key, the codes read from the stand-in inboxes,
 * `assembleReset`, `completeReset`). While they run, faults are injected:
 * - an agent is SIGKILLed every `killEveryMs`, rotating over the agents, and restarted `downMs` later; the next kill
 *   waits until the last one has restarted, so at most one agent is down at a time and t of n can always serve;
 * - the agents reach the node only through a proxy on 127.0.0.1 (rpcProxy.ts) that drops, delays and answers errors
 *   for a share of their calls, from a seeded draw;
 * - the SMTP server goes down `smtpOutages` times for `smtpOutageMs` and comes back on the same port;
 * - optionally a handover in the middle: the member of slot 2 starts unbonding, anyone starts the handover, the
 *   standby agent (n + 1) is drawn into slot 2, the agents reshare (the clock is moved past the complaint window) and
 *   the new epoch activates while resets are in flight.
 * A reset not completed (approved on-chain from codes that arrived) by `deadlineMs` after the start counts as lost.
 * What the stand-in servers received is then compared with the chain: deliveries per (request, slot, committee epoch)
 * (by the idempotency key each delivery carries, and each code checked against the posting it belongs to), standing
 * postings per (request, slot, committee epoch), and every transaction the agents sent in the run.
 */
import { createWriteStream, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

import {
  type Address,
  type Hex,
  type PublicClient,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  decodeFunctionData,
  hexToBytes,
  http,
  keccak256,
  slice,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { percentile } from "../../bench/stats.ts";
import { committeeRegistryAbi, resetCoordinatorAbi } from "../../sdk/abi/index.ts";
import { type Clients, assembleReset, chainFor, completeReset, linkAccount, readCodes, requestReset, saltFromText } from "../../sdk/client/index.ts";
import { channelCodeScalar } from "../../sdk/crypto/posting.ts";
import { G1, g1FromCompressed } from "../../sdk/crypto/bls.ts";
import { parseCodeMessage } from "../../sdk/encoding/channelCode.ts";
import { CGError } from "../../sdk/errors.ts";
import { rpc } from "../../scripts/lib/localNode.ts";
import { startHandover } from "./committees.ts";
import { type AgentProcess, type GuardianNetwork, agentsFormCommittee, defaultAccountKey, passDeadline, startAgent, startGuardianNetwork, until, waitForLog } from "./guardianNetwork.ts";
import { Inbox } from "./localServices.ts";
import { ProcessMeter } from "./procStats.ts";
import { type FaultRates, NO_FAULTS, type ProxyCounts, type RpcProxy, startRpcProxy } from "./rpcProxy.ts";
import { ONE_ETH } from "./system.ts";

export interface SoakOptions {
  accounts: number;
  resets: number;
  /** Committee size n (agents that form it); with `handover` one more agent stands by. */
  agents: number;
  threshold: number;
  /** Requests are spread evenly over this window from the start. */
  rampMs: number;
  /** From the start: a reset not completed by then is lost. */
  deadlineMs: number;
  seed: number;
  /** 0: no kills. */
  killEveryMs: number;
  downMs: number;
  proxy: FaultRates;
  smtpOutages: number;
  smtpOutageMs: number;
  handover: boolean;
  /** When the handover starts, as a share of the ramp. */
  handoverAt: number;
  confirmations: number;
  blockMs: number;
  progressEveryMs: number;
  /** Progress and fault lines. */
  say: (line: string) => void;
  /** Where the agents' logs go (a file is made in a temporary folder unless given). */
  agentLogFile?: string;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, "say"> = {
  accounts: 50,
  resets: 200,
  agents: 5,
  threshold: 3,
  rampMs: 90_000,
  deadlineMs: 600_000,
  seed: 1,
  killEveryMs: 5_000,
  downMs: 1_500,
  proxy: { drop: 0.02, delay: 0.05, error: 0.02, maxDelayMs: 1_500 },
  smtpOutages: 2,
  smtpOutageMs: 8_000,
  handover: true,
  handoverAt: 0.4,
  confirmations: 2,
  blockMs: 250,
  progressEveryMs: 5_000,
};

export interface AgentFigures {
  name: string;
  processes: number;
  cpuSeconds: number;
  peakRssMb: number;
}

export interface SoakReport {
  options: Omit<SoakOptions, "say" | "agentLogFile">;
  durationMs: number;
  resets: number;
  requested: number;
  completed: number;
  lost: number;
  /** Requests that could not even be sent (not counted as requested). */
  requestFailures: number;
  deliveries: number;
  /** Codes the owner's channels show twice for one (request, slot, epoch): must be 0 (the stand-ins honour the
   *  idempotency key, as a real SMS provider, app endpoint or mail client that supports it does). */
  duplicateDeliveries: number;
  /** The agents' raw re-sends of a message with a key the receiver had taken already (suppressed by the receiver):
   *  each should follow a SIGKILL of its agent between the receiver taking the message and the agent recording it. */
  resendsAfterKill: number;
  /** Re-sends that no kill of their agent explains (a bug if not 0). */
  unexplainedResends: number;
  /** Each duplicated delivery and each re-send in words (request, slot, epoch, channel, times, kills around them). */
  duplicateDetails: string[];
  /** Each reverted agent transaction in words (agent, function, requests, the contract's error). */
  revertedDetails: string[];
  /** (request, slot, epoch) that got two different codes. */
  conflictingCodes: number;
  /** Delivered codes that match no posting on-chain. */
  orphanCodes: number;
  /** Standing postings whose code never arrived (the reset may still complete from t others). */
  undeliveredPostings: number;
  postings: number;
  duplicatePostings: number;
  postingTransactions: number;
  revertedPostingTransactions: number;
  /** Posting attempts the node refused before mining (estimate or send), from the agents' logs, by error. */
  refusedPostingAttempts: Record<string, number>;
  otherAgentTransactions: number;
  revertedOtherAgentTransactions: number;
  requestToCodeMs: { p50: number; p95: number; p99: number; max: number; samples: number };
  requestToCompletionMs: { p50: number; p95: number; p99: number };
  agents: AgentFigures[];
  /** CPU over the soak (from the first request) of the node and of the soak's own process (owners' clients, stand-in
   *  servers, proxy), and the machine's 1-minute load average at the end. */
  otherCpu: { nodeSeconds: number; soakSeconds: number; loadAverage: number };
  faults: {
    kills: number;
    restarts: number;
    proxy: ProxyCounts;
    smtpOutages: number;
    smtpDownMs: number;
    handover?: { epoch: number; replacedSlot: number; newcomer: string; startedAtMs: number; activatedAtMs?: number; failure?: string };
  };
  agentLogFile: string;
  /** Every process the soak started (the node, each agent process) and what it listened on, to check they are gone. */
  started: { pids: number[]; proxyUrl: string; smtpPort: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ResetRun {
  index: number;
  accountId: Hex;
  key: Hex;
  requestId?: bigint;
  requestBlock?: bigint;
  /** When the request's block was first seen. */
  requestedAt?: number;
  completedAt?: number;
  state: "waiting" | "requested" | "completed" | "failed";
  problem?: string;
}

/** Records when each block is first seen (the node polled every 25 ms). */
function watchBlocks(client: PublicClient) {
  const seen = new Map<bigint, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const n = await client.getBlockNumber({ cacheTime: 0 }).catch(() => undefined);
      if (n !== undefined && !seen.has(n)) seen.set(n, Date.now());
      await sleep(25);
    }
  })();
  return {
    async at(n: bigint): Promise<number> {
      for (;;) {
        const exact = seen.get(n);
        if (exact !== undefined) return exact;
        const later = [...seen].filter(([b]) => b > n);
        if (later.length > 0) return Math.min(...later.map(([, t]) => t));
        await sleep(25);
      }
    },
    seenAt: (n: bigint) => seen.get(n),
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** An agent's reverted transaction in words: who, which function, for which requests, and the contract's error (from
 *  the node's trace when it gives one). */
async function describeRevert(client: PublicClient, guardians: { name: string; address: string }[], tx: { hash: Hex; from: string; to: string | null; input: Hex }, block: bigint, seen: string): Promise<string> {
  const who = guardians.find((g) => g.address.toLowerCase() === tx.from.toLowerCase())?.name ?? tx.from;
  let what = "a call";
  try {
    const call = decodeFunctionData({ abi: [...resetCoordinatorAbi, ...committeeRegistryAbi], data: tx.input });
    const inputs = call.functionName === "postPartials" ? (call.args![0] as readonly { requestId: bigint; slot: number; committeeEpoch: number }[]) : call.functionName === "postPartial" ? [call.args![0] as { requestId: bigint; slot: number; committeeEpoch: number }] : [];
    what = `${call.functionName}${inputs.length ? ` (${inputs.map((i) => `request ${i.requestId} slot ${i.slot} epoch ${i.committeeEpoch}`).join("; ")})` : ""}`;
  } catch {
    // not one of ours
  }
  let error = "error unknown";
  try {
    const trace = (await client.request({ method: "debug_traceTransaction" as never, params: [tx.hash, { disableStorage: true, disableMemory: true, disableStack: true }] as never })) as { returnValue?: string };
    const data = trace.returnValue ? ((trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`) as Hex) : undefined;
    if (data && data.length >= 10) {
      const decoded = decodeErrorResult({ abi: [...resetCoordinatorAbi, ...committeeRegistryAbi], data });
      error = `${decoded.errorName}(${(decoded.args ?? []).map(String).join(", ")})`;
    }
  } catch {
    // the node gives no trace
  }
  return `${who}: ${what} reverted in block ${block} (seen at ${seen}): ${error}`;
}

function channelsFor(account: number, n: number, appUrl: string): string[] {
  return Array.from({ length: n }, (_, k) => {
    const slot = k + 1;
    switch (k % 3) {
      case 0:
        return `mailto:owner${account}.s${slot}@example.org`;
      case 1:
        return `sms:+1555${String(account * 100 + slot).padStart(7, "0")}`;
      default:
        return `${appUrl}/owner${account}/s${slot}`;
    }
  });
}

/** Runs the soak and returns what it measured; stops everything it started, whatever happens. */
export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const stamp = () => `[${(elapsed() / 1000).toFixed(0).padStart(4)}s]`;
  const say = (line: string) => o.say(`${stamp()} ${line}`);
  const logFile = o.agentLogFile ?? join(mkdtempSync(join(tmpdir(), "cg-soak-")), "agents.log");
  const agentLog = createWriteStream(logFile);
  const inbox = new Inbox();
  let proxy: RpcProxy | undefined;
  let net: GuardianNetwork | undefined;
  const meter = new ProcessMeter();
  let sampler: NodeJS.Timeout | undefined;
  let blocks: ReturnType<typeof watchBlocks> | undefined;
  const background: Promise<unknown>[] = [];
  let faultsOn = false;
  const pids = new Set<number>();

  const total = o.agents + (o.handover ? 1 : 0);
  try {
    say(`starting a node, the contracts, ${total} agents (${o.agents} members${o.handover ? " + 1 standby" : ""}) behind an RPC proxy, SMTP/SMS/app stand-ins`);
    net = await startGuardianNetwork(inbox, {
      guardians: total,
      confirmations: o.confirmations,
      intervalMiningMs: o.blockMs,
      agentRpcUrl: async (nodeUrl) => {
        proxy = await startRpcProxy(nodeUrl, { seed: o.seed });
        return proxy.url;
      },
      log: (line) => agentLog.write(line + "\n"),
    });
    const network = net;
    const { sys } = network;
    const sampleAll = () => {
      if (network.node.process.pid) pids.add(network.node.process.pid);
      meter.sample("node", network.node.process.pid);
      for (const a of network.agents) if (a.process?.pid) pids.add(a.process.pid);
      for (const a of network.agents) if (a.process && a.process.exitCode === null && a.process.signalCode === null) meter.sample(a.guardian.name, a.process.pid);
    };
    sampleAll();
    sampler = setInterval(sampleAll, 1_000);

    const chain = chainFor(Number(sys.chainId), network.node.url);
    const publicClient = createPublicClient({ chain, transport: http(network.node.url), pollingInterval: 100 }) as PublicClient;
    const clientsFor = (key: Hex): Clients => ({
      public: publicClient,
      wallet: createWalletClient({ chain, account: privateKeyToAccount(key), transport: http(network.node.url) }) as never,
      deployment: sys.deployment as never,
    });

    // ── the committee and the accounts ──
    const members = sys.guardians.slice(0, o.agents);
    const { committeeId } = await agentsFormCommittee(sys, members, o.threshold);
    say(`committee ${committeeId} active: ${o.threshold} of ${o.agents}, formed by the agents (DKG)`);
    const owner = clientsFor(defaultAccountKey(2));
    const accountIds: Hex[] = [];
    for (let k = 0; k < o.accounts; k++) {
      const linked = await linkAccount(owner, { salt: saltFromText(`soak-${o.seed}-${k}`), committeeId, channels: channelsFor(k, o.agents, network.appUrl), securityPeriod: 3600 });
      accountIds.push(linked.accountId);
    }
    say(`${o.accounts} accounts linked`);
    const runs: ResetRun[] = Array.from({ length: o.resets }, (_, k) => ({
      index: k,
      accountId: accountIds[k % o.accounts],
      key: keccak256(toHex(`soak-requester-${o.seed}-${k}`)),
      state: "waiting",
    }));
    for (const r of runs) await rpc(network.node.url, "hardhat_setBalance", [privateKeyToAccount(r.key).address, toHex(10n ** 20n)]);
    blocks = watchBlocks(publicClient);
    const watcher = blocks;
    const soakStartBlock = await publicClient.getBlockNumber();

    // ── faults ──
    const t0 = Date.now();
    const sinceStart = () => Date.now() - t0;
    const harnessCpuStart = process.cpuUsage();
    const nodeCpuStart = meter.totals("node").cpuSeconds;
    const deadline = t0 + o.deadlineMs;
    proxy!.setRates(o.proxy);
    faultsOn = true;
    let kills = 0;
    let restarts = 0;
    let down: string | undefined;
    const killLog: { name: string; at: number }[] = [];
    let smtpOutages = 0;
    let smtpDownMs = 0;
    let smtpDown = false;
    let handover: SoakReport["faults"]["handover"];
    let handoverPhase = "";

    const killer = async () => {
      if (o.killEveryMs <= 0) return;
      let next = 0;
      while (faultsOn) {
        await sleep(o.killEveryMs);
        if (!faultsOn) break;
        const agent: AgentProcess = network.agents[next++ % network.agents.length];
        if (!agent.process || agent.process.exitCode !== null || agent.process.signalCode !== null) continue;
        meter.sample(agent.guardian.name, agent.process.pid); // what it used up to the kill
        agent.process.kill("SIGKILL");
        await agent.exited;
        kills++;
        killLog.push({ name: agent.guardian.name, at: sinceStart() });
        down = agent.guardian.name;
        say(`SIGKILL ${agent.guardian.name} (kill ${kills})`);
        await sleep(o.downMs);
        const from = agent.logs.length;
        startAgent(agent, {}, (line) => agentLog.write(line + "\n"));
        restarts++;
        if (agent.process?.pid) pids.add(agent.process.pid);
        await waitForLog(agent, "guardian started", 120_000, from);
        meter.sample(agent.guardian.name, agent.process?.pid);
        down = undefined;
      }
    };
    background.push(killer());

    const smtpFaults = async () => {
      for (let k = 0; k < o.smtpOutages && faultsOn; k++) {
        await sleep(Math.max(0, ((k + 1) * o.rampMs) / (o.smtpOutages + 1) - sinceStart()));
        if (!faultsOn) break;
        await network.stopSmtp();
        smtpDown = true;
        smtpOutages++;
        const downAt = Date.now();
        say(`SMTP down (outage ${smtpOutages}, ${o.smtpOutageMs} ms)`);
        await sleep(o.smtpOutageMs);
        await network.startSmtp();
        smtpDown = false;
        smtpDownMs += Date.now() - downAt;
        say("SMTP up again on the same port");
      }
    };
    background.push(smtpFaults());

    const handoverRun = async () => {
      await sleep(o.handoverAt * o.rampMs);
      if (!faultsOn) return;
      const startedAtMs = sinceStart();
      const slot = 2;
      const leaving = sys.guardians[slot - 1];
      const newcomer = sys.guardians[o.agents];
      try {
        handoverPhase = "unbonding";
        for (let attempt = 0; ; attempt++) {
          // The operator key is also the agent's: a nonce race with its postings is retried.
          try {
            await (await sys.registry.connect(leaving.signer).startUnbonding(ONE_ETH / 2n)).wait();
            break;
          } catch (e) {
            if (attempt >= 5) throw e;
            await sleep(200);
          }
        }
        handoverPhase = "drawing";
        const { ev } = await startHandover(sys, committeeId);
        const epoch = Number(ev.args.epoch);
        const incoming = (ev.args.members as string[])[slot - 1];
        handover = { epoch, replacedSlot: slot, newcomer: incoming === newcomer.address ? newcomer.name : incoming, startedAtMs };
        say(`handover to epoch ${epoch} started: ${leaving.name} unbonds, ${handover.newcomer} drawn into slot ${slot}`);
        handoverPhase = "dealing";
        const dealtMask = async () => Number((await sys.committees.round(committeeId, BigInt(epoch))).dealt);
        const dealStart = Date.now();
        await until(
          "reshare dealings",
          async () => {
            const dealt = popcount(await dealtMask());
            return dealt >= o.agents || (dealt >= o.threshold && Date.now() - dealStart > 60_000);
          },
          180_000,
        );
        await sleep(1_000); // late dealings still count
        handoverPhase = "finalizing";
        await passDeadline(sys, (await sys.committees.round(committeeId, BigInt(epoch))).complaintDeadline);
        await until("the new epoch's activation", async () => Number((await sys.committees.round(committeeId, BigInt(epoch))).phase) === 3, 240_000);
        handover.activatedAtMs = sinceStart();
        handoverPhase = "active";
        say(`handover: epoch ${epoch} active after ${((handover.activatedAtMs - startedAtMs) / 1000).toFixed(1)} s`);
      } catch (e) {
        handoverPhase = "failed";
        const failure = e instanceof Error ? e.message.split("\n")[0] : String(e);
        handover = { ...(handover ?? { epoch: 0, replacedSlot: slot, newcomer: newcomer.name, startedAtMs }), failure };
        say(`handover failed: ${failure}`);
      }
    };
    if (o.handover) background.push(handoverRun());

    // ── the owners ──
    const resetFlow = async (r: ResetRun) => {
      await sleep(Math.max(0, (r.index * o.rampMs) / o.resets - sinceStart()));
      const c = clientsFor(r.key);
      const newController = privateKeyToAccount(r.key).address as Address;
      let opened;
      for (let attempt = 0; ; attempt++) {
        try {
          opened = await requestReset(c, { accountId: r.accountId, newController });
          break;
        } catch (e) {
          if (attempt >= 2 || Date.now() > deadline) {
            r.state = "failed";
            r.problem = `request: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
            return;
          }
          await sleep(500);
        }
      }
      r.state = "requested";
      r.requestId = opened.request.requestId;
      r.requestBlock = opened.request.blockNumber;
      r.requestedAt = await watcher.at(opened.request.blockNumber);
      let tried = 0;
      while (Date.now() < deadline) {
        const texts = inbox.codes(opened.request.requestId);
        if (texts.length > tried && texts.length >= o.threshold) {
          tried = texts.length;
          try {
            const assembled = await assembleReset(c, opened.request, opened.requesterKey.secret, readCodes(texts).codes);
            await completeReset(c, opened.request, assembled);
            r.state = "completed";
            r.completedAt = Date.now();
            return;
          } catch (e) {
            // Not t codes of one epoch yet (a handover mid-request), or a completion to try again.
            if (!(e instanceof CGError && e.code === "NOT_ENOUGH_CODES")) r.problem = e instanceof Error ? e.message.split("\n")[0] : String(e);
            if (e instanceof CGError && e.code !== "NOT_ENOUGH_CODES") tried = 0;
          }
        }
        await sleep(200);
      }
    };
    const flows = Promise.all(runs.map((r) => resetFlow(r)));

    // ── progress ──
    let finished = false;
    const progress = (async () => {
      while (!finished) {
        await sleep(o.progressEveryMs);
        if (finished) break;
        const requested = runs.filter((r) => r.state !== "waiting" && r.state !== "failed").length;
        const completed = runs.filter((r) => r.state === "completed").length;
        const p = proxy!.counts;
        say(
          `requested ${requested}/${o.resets}, completed ${completed}, codes received ${inbox.messages.length}; kills ${kills}${down ? ` (${down} down)` : ""}; ` +
            `proxy ${p.requests} calls: ${p.dropsBeforeForward + p.dropsAfterForward} dropped, ${p.delays} delayed, ${p.httpErrors + p.rpcErrors} errors; ` +
            `SMTP ${smtpDown ? "DOWN" : "up"}${o.handover ? `; handover ${handoverPhase || "not yet"}` : ""}`,
        );
      }
    })();
    await flows;
    finished = true;
    faultsOn = false;
    await progress;
    say("every reset completed or past the deadline: faults stop");
    await Promise.all(background);
    proxy!.setRates(NO_FAULTS);
    // Let the agents finish what they have queued (late deliveries count as duplicates too).
    await until(
      "the agents' outboxes to drain",
      async () => {
        const health = await Promise.all(
          network.agents.map(async (a) => (await (await fetch(`http://127.0.0.1:${a.httpPort}/healthz`)).json().catch(() => ({}))) as { pending?: Record<string, number> }),
        ).catch(() => undefined);
        return health?.every((h) => h.pending !== undefined && (h.pending.deliver ?? 0) === 0 && (h.pending.post ?? 0) === 0);
      },
      60_000,
    ).catch(() => say("some agent still had work queued after 60 s"));
    await sleep(2_000);
    sampleAll();
    const durationMs = sinceStart();
    const harnessCpu = process.cpuUsage(harnessCpuStart);
    const otherCpu = { nodeSeconds: meter.totals("node").cpuSeconds - nodeCpuStart, soakSeconds: (harnessCpu.user + harnessCpu.system) / 1e6, loadAverage: loadavg()[0] };
    const endBlock = await publicClient.getBlockNumber();

    // ── what the chain and the stand-ins say ──
    const coordinator = sys.deployment.contracts.ResetCoordinator as Address;
    const postedLogs = await publicClient.getContractEvents({ address: coordinator, abi: resetCoordinatorAbi, eventName: "PartialPosted", fromBlock: BigInt(sys.deployment.deploymentBlock) });
    const requestIds = new Set(runs.filter((r) => r.requestId !== undefined).map((r) => r.requestId!.toString()));
    const postings = postedLogs.filter((l) => requestIds.has(String(l.args.requestId)));
    const postingsByTriple = new Map<string, typeof postings>();
    for (const p of postings) {
      const k = `${p.args.requestId}:${p.args.slot}:${p.args.committeeEpoch}`;
      postingsByTriple.set(k, [...(postingsByTriple.get(k) ?? []), p]);
    }
    const duplicatePostings = [...postingsByTriple.values()].reduce((s, list) => s + list.length - 1, 0);

    // Each delivery by the key it carries (…-<requestId>-<slot>-<committeeEpoch>), its code checked against the postings.
    const deliveriesByTriple = new Map<string, { codes: Set<string>; count: number; firstAt: number; arrivals: { channel: string; at: number }[] }>();
    let orphanCodes = 0;
    let deliveries = 0;
    const codeMatches = new Map<string, string | undefined>();
    for (const m of inbox.messages) {
      const text = /cg2\.[0-9]+\.[0-9]+\.[0-9A-Za-z-]+/.exec(m.text)?.[0];
      if (!text) continue;
      const code = parseCodeMessage(text);
      if (!requestIds.has(code.requestId.toString())) continue;
      deliveries++;
      const keyMatch = /-([0-9]+)-([0-9]+)-([0-9]+)(@|$)/.exec(m.key.replace(/^<|>$/g, ""));
      if (!codeMatches.has(text)) {
        const C = G1.BASE.multiply(channelCodeScalar(sys.chainId, coordinator, code.requestId, code.slot, code.code));
        const match = postings.find((p) => BigInt(p.args.requestId!) === code.requestId && Number(p.args.slot) === code.slot && g1FromCompressed(hexToBytes(slice(p.args.posting!, 0, 48))).equals(C));
        codeMatches.set(text, match ? `${code.requestId}:${code.slot}:${match.args.committeeEpoch}` : undefined);
      }
      const matched = codeMatches.get(text);
      if (matched === undefined) orphanCodes++;
      const triple = matched ?? (keyMatch ? `${keyMatch[1]}:${keyMatch[2]}:${keyMatch[3]}` : `${code.requestId}:${code.slot}:?`);
      const entry = deliveriesByTriple.get(triple) ?? { codes: new Set<string>(), count: 0, firstAt: m.at, arrivals: [] };
      entry.arrivals.push({ channel: m.channel, at: m.at - t0 });
      entry.codes.add(text);
      entry.count++;
      entry.firstAt = Math.min(entry.firstAt, m.at);
      deliveriesByTriple.set(triple, entry);
    }
    const duplicateDeliveries = [...deliveriesByTriple.values()].reduce((s, e) => s + e.count - 1, 0);
    const secondsOf = (x: number) => `${(x / 1000).toFixed(2)} s`;
    // A duplicate is put down to a kill when the agent that posted for the slot was SIGKILLed after the first arrival
    // and before the next, with one code under one key: the agent died between the receiver taking the message and
    // recording it as sent, and sent it again after its restart (at-least-once; the key lets a receiver drop it).
    const nameOf = (address: string) => sys.guardians.find((g) => g.address.toLowerCase() === address.toLowerCase())?.name;
    const duplicateDetails = [...deliveriesByTriple.entries()]
      .filter(([, e]) => e.count > 1)
      .map(([triple, e]) => {
        const [requestId, slot, epoch] = triple.split(":");
        const server = nameOf(String(postingsByTriple.get(triple)?.[0]?.args.guardian ?? ""));
        const times = e.arrivals.map((a) => a.at).sort((a, b) => a - b);
        const kills = killLog.filter((k) => k.name === server && k.at >= times[0] - 1_000 && k.at <= times.at(-1)!).map((k) => `${k.name} killed at ${secondsOf(k.at)}`);
        return `request ${requestId} slot ${slot} epoch ${epoch} (${server ?? "?"}): ${e.arrivals.map((a) => `${a.channel} at ${secondsOf(a.at)}`).join(", ")}${kills.length ? `; ${kills.join(", ")}` : "; no kill of its agent in between"}`;
      });
    // The receivers' suppressed repeats: each is explained when the agent that posted for the slot was SIGKILLed after
    // it sent the message and before the repeat, with the same code (it died between the receiver taking the message
    // and recording it as sent, and sent it again after its restart). An arrival is timed when this process has read
    // the whole message, which under load lags its sending by up to hundreds of milliseconds: a kill up to 1 s before
    // the recorded first arrival counts (a killed agent sends nothing, so the message left before the kill).
    let unexplainedResends = 0;
    for (const m of inbox.repeats) {
      const text = /cg2\.[0-9]+\.[0-9]+\.[0-9A-Za-z-]+/.exec(m.text)?.[0];
      if (!text) continue;
      const code = parseCodeMessage(text);
      if (!requestIds.has(code.requestId.toString())) continue;
      const triple = codeMatches.get(text) ?? `${code.requestId}:${code.slot}:?`;
      const entry = deliveriesByTriple.get(triple);
      const server = nameOf(String(postingsByTriple.get(triple)?.[0]?.args.guardian ?? ""));
      const first = entry?.firstAt;
      const explained = first !== undefined && entry!.codes.has(text) && killLog.some((x) => x.name === server && x.at >= first - t0 - 1_000 && x.at <= m.at - t0);
      if (!explained) unexplainedResends++;
      const [requestId, slot, epoch] = triple.split(":");
      duplicateDetails.push(
        `re-sent, suppressed by the receiver: request ${requestId} slot ${slot} epoch ${epoch} (${server ?? "?"}): ${m.channel} first at ${first === undefined ? "?" : secondsOf(first - t0)}, again at ${secondsOf(m.at - t0)}; ${explained ? `${server} killed in between` : "no kill of its agent in between"}`,
      );
    }
    const resendsAfterKill = inbox.repeats.length;
    const conflictingCodes = [...deliveriesByTriple.values()].filter((e) => e.codes.size > 1).length;
    const undeliveredPostings = [...postingsByTriple.keys()].filter((k) => !deliveriesByTriple.has(k)).length;
    const requestedAt = new Map(runs.filter((r) => r.requestId !== undefined && r.requestedAt !== undefined).map((r) => [r.requestId!.toString(), r.requestedAt!]));
    const latencies = [...deliveriesByTriple.entries()]
      .map(([triple, e]) => {
        const at = requestedAt.get(triple.split(":")[0]);
        return at === undefined ? undefined : e.firstAt - at;
      })
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    const completions = runs
      .filter((r) => r.completedAt !== undefined && r.requestedAt !== undefined)
      .map((r) => r.completedAt! - r.requestedAt!)
      .sort((a, b) => a - b);

    // Every transaction the agents sent during the soak, by kind and outcome.
    const agentAddresses = new Set(sys.guardians.map((g) => g.address.toLowerCase()));
    let postingTransactions = 0;
    let revertedPostingTransactions = 0;
    let otherAgentTransactions = 0;
    let revertedOtherAgentTransactions = 0;
    const revertedDetails: string[] = [];
    const sinceStartOfBlock = (b: bigint) => {
      const seenAt = watcher.seenAt(b);
      return seenAt === undefined ? "?" : secondsOf(seenAt - t0);
    };
    for (let b = soakStartBlock + 1n; b <= endBlock; b++) {
      const block = await publicClient.getBlock({ blockNumber: b, includeTransactions: true });
      for (const tx of block.transactions) {
        if (!agentAddresses.has(tx.from.toLowerCase())) continue;
        const receipt = await publicClient.getTransactionReceipt({ hash: tx.hash });
        let posting = false;
        if (tx.to?.toLowerCase() === coordinator.toLowerCase()) {
          try {
            posting = decodeFunctionData({ abi: resetCoordinatorAbi, data: tx.input }).functionName.startsWith("postPartial");
          } catch {
            posting = false;
          }
        }
        if (posting) {
          postingTransactions++;
          if (receipt.status !== "success") revertedPostingTransactions++;
        } else {
          otherAgentTransactions++;
          if (receipt.status !== "success") revertedOtherAgentTransactions++;
        }
        if (receipt.status !== "success") revertedDetails.push(await describeRevert(publicClient, sys.guardians, tx, b, sinceStartOfBlock(b)));
      }
    }
    const refusedPostingAttempts: Record<string, number> = {};
    for (const a of network.agents) {
      for (const line of a.logs) {
        if (line.includes("batch refused for a request that changed")) {
          const postings = Number(/"postings":([0-9]+)/.exec(line)?.[1] ?? 0);
          refusedPostingAttempts["batch refused, checked again at once"] = (refusedPostingAttempts["batch refused, checked again at once"] ?? 0) + postings;
          continue;
        }
        if (!line.includes('"job failed') || !line.includes('"job":"post:')) continue;
        let err = "";
        try {
          err = String(JSON.parse(line.slice(line.indexOf("{"))).err ?? "");
        } catch {
          // a line cut short by a kill
        }
        const named = /\((Reset[A-Za-z]+|Committee[A-Za-z]+)\)/.exec(err)?.[1] ?? (/no reason/.test(err) ? "reverted without a reason (RPC error)" : /nonce/i.test(err) ? "nonce" : "RPC failure");
        refusedPostingAttempts[named] = (refusedPostingAttempts[named] ?? 0) + 1;
      }
    }

    const completed = runs.filter((r) => r.state === "completed").length;
    const requested = runs.filter((r) => r.requestId !== undefined).length;
    const requestFailures = runs.filter((r) => r.requestId === undefined).length;
    for (const line of duplicateDetails) say(`duplicated delivery: ${line}`);
    for (const line of revertedDetails) say(`reverted: ${line}`);
    for (const r of runs.filter((x) => x.state !== "completed")) say(`not completed: reset ${r.index} (request ${r.requestId ?? "none"}): ${r.problem ?? "no t codes of one epoch by the deadline"}`);
    const { say: _say, agentLogFile: _file, ...options } = o;
    return {
      options,
      durationMs,
      resets: o.resets,
      requested,
      completed,
      lost: o.resets - completed,
      requestFailures,
      deliveries,
      duplicateDeliveries,
      duplicateDetails,
      resendsAfterKill,
      unexplainedResends,
      revertedDetails,
      conflictingCodes,
      orphanCodes,
      undeliveredPostings,
      postings: postings.length,
      duplicatePostings,
      postingTransactions,
      revertedPostingTransactions,
      refusedPostingAttempts,
      otherAgentTransactions,
      revertedOtherAgentTransactions,
      requestToCodeMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN, samples: latencies.length },
      requestToCompletionMs: { p50: percentile(completions, 50), p95: percentile(completions, 95), p99: percentile(completions, 99) },
      otherCpu,
      agents: network.agents.map((a) => {
        const t = meter.totals(a.guardian.name);
        return { name: a.guardian.name, processes: t.processes, cpuSeconds: t.cpuSeconds, peakRssMb: t.peakRssBytes / 2 ** 20 };
      }),
      faults: { kills, restarts, proxy: structuredClone(proxy!.counts), smtpOutages, smtpDownMs, handover },
      agentLogFile: logFile,
      started: { pids: [...pids], proxyUrl: proxy!.url, smtpPort: network.smtpPort },
    };
  } finally {
    faultsOn = false;
    await Promise.allSettled(background);
    if (sampler) clearInterval(sampler);
    await blocks?.stop();
    await net?.close().catch(() => {});
    await proxy?.close().catch(() => {});
    await new Promise<void>((r) => agentLog.end(() => r()));
  }
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x).toLocaleString("en-US")} ms` : "–");

/** The report as a printed table. */
export function formatReport(r: SoakReport): string {
  const p = r.faults.proxy;
  const refused = Object.entries(r.refusedPostingAttempts)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const rows: [string, string][] = [
    ["resets requested", `${r.requested} of ${r.resets}${r.requestFailures ? ` (${r.requestFailures} requests could not be sent)` : ""}`],
    ["completed (approved on-chain from delivered codes)", String(r.completed)],
    ["lost (not completed by the deadline)", String(r.lost)],
    ["code deliveries received", String(r.deliveries)],
    ["duplicated deliveries the owner sees (same request/slot/epoch)", String(r.duplicateDeliveries)],
    ["re-sends after a SIGKILL (same key, suppressed by the receiver)", `${r.resendsAfterKill}${r.unexplainedResends ? ` (${r.unexplainedResends} with no kill of their agent to explain them)` : ""}`],
    ["codes matching no posting / two codes for one slot", `${r.orphanCodes} / ${r.conflictingCodes}`],
    ["standing postings whose code never arrived", String(r.undeliveredPostings)],
    ["standing postings", String(r.postings)],
    ["duplicated postings (same request/slot/epoch)", String(r.duplicatePostings)],
    ["posting transactions (reverted)", `${r.postingTransactions} (${r.revertedPostingTransactions})`],
    ["posting attempts refused before mining", refused || "0"],
    ["other agent transactions (reverted)", `${r.otherAgentTransactions} (${r.revertedOtherAgentTransactions})`],
    ["request → code p50 / p95 / p99 (max)", `${ms(r.requestToCodeMs.p50)} / ${ms(r.requestToCodeMs.p95)} / ${ms(r.requestToCodeMs.p99)} (${ms(r.requestToCodeMs.max)}), ${r.requestToCodeMs.samples} codes`],
    ["request → completed p50 / p95 / p99", `${ms(r.requestToCompletionMs.p50)} / ${ms(r.requestToCompletionMs.p95)} / ${ms(r.requestToCompletionMs.p99)}`],
    ...r.agents.map((a): [string, string] => [`agent ${a.name}: CPU, peak RSS (processes)`, `${a.cpuSeconds.toFixed(1)} s, ${a.peakRssMb.toFixed(0)} MB (${a.processes})`]),
    ["agents: CPU total, peak RSS max", `${r.agents.reduce((s, a) => s + a.cpuSeconds, 0).toFixed(1)} s, ${Math.max(...r.agents.map((a) => a.peakRssMb)).toFixed(0)} MB`],
    ["node CPU / soak process CPU (owners, stand-ins, proxy)", `${r.otherCpu.nodeSeconds.toFixed(1)} s / ${r.otherCpu.soakSeconds.toFixed(1)} s (machine load average ${r.otherCpu.loadAverage.toFixed(1)} at the end)`],
    ["faults: SIGKILLs (restarts)", `${r.faults.kills} (${r.faults.restarts})`],
    ["faults: RPC proxy, calls", String(p.requests)],
    ["faults: RPC proxy, dropped (after the node ran them)", `${p.dropsBeforeForward + p.dropsAfterForward} (${p.dropsAfterForward}, of them ${p.lostAnswersByMethod.eth_sendRawTransaction ?? 0} transactions)`],
    ["faults: RPC proxy, delayed (mean)", `${p.delays} (${ms(p.delays ? p.delayMsTotal / p.delays : Number.NaN)})`],
    ["faults: RPC proxy, HTTP 503 / JSON-RPC errors", `${p.httpErrors} / ${p.rpcErrors}`],
    ["faults: SMTP outages", `${r.faults.smtpOutages} (${(r.faults.smtpDownMs / 1000).toFixed(1)} s down in all)`],
    [
      "faults: handover",
      r.faults.handover === undefined
        ? "none"
        : r.faults.handover.failure
        ? `failed: ${r.faults.handover.failure}`
        : `epoch ${r.faults.handover.epoch}, slot ${r.faults.handover.replacedSlot} to ${r.faults.handover.newcomer}, started at ${(r.faults.handover.startedAtMs / 1000).toFixed(0)} s, active at ${((r.faults.handover.activatedAtMs ?? Number.NaN) / 1000).toFixed(0)} s`,
    ],
    ["duration (from the first request)", `${(r.durationMs / 1000).toFixed(0)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  const line = `+${"-".repeat(width + 2)}+${"-".repeat(valueWidth + 2)}+`;
  return [line, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v.padEnd(valueWidth)} |`), line].join("\n");
}

/** The figures `npm run soak` merges into bench/results.json. */
export function reliabilityFigures(r: SoakReport): Record<string, number> {
  return {
    "reliability.resets": r.resets,
    "reliability.completed": r.completed,
    "reliability.lost": r.lost,
    "reliability.duplicateDeliveries": r.duplicateDeliveries,
    "reliability.duplicatePostings": r.duplicatePostings,
    "reliability.resendsAfterKill": r.resendsAfterKill,
    "reliability.requestToCodeP50Ms": Math.round(r.requestToCodeMs.p50),
    "reliability.requestToCodeP95Ms": Math.round(r.requestToCodeMs.p95),
    "reliability.requestToCodeP99Ms": Math.round(r.requestToCodeMs.p99),
    "reliability.revertedPostingTransactions": r.revertedPostingTransactions,
    "reliability.agentCpuSeconds": Math.round(r.agents.reduce((s, a) => s + a.cpuSeconds, 0) * 10) / 10,
    "reliability.agentPeakRssMb": Math.round(Math.max(...r.agents.map((a) => a.peakRssMb))),
    "reliability.kills": r.faults.kills,
  };
}
