/**
 * Guardian figures of protocol v2, with 3 guardian agents running as processes (1 confirmation, polling every 100 ms)
 * that form a 2-of-3 committee themselves; one account linked in one transaction with an e-mail, an SMS and an app
 * channel; 50 reset requests one after the other. The node mines every transaction at once, and an empty block every
 * `CG_BENCH_BLOCK_MS` (1,000 ms unless set).
 *
 * - requestToCode: from the moment the request's block is first seen mined (1 confirmation; blocks watched every
 *   10 ms) to the code `cg2.<requestId>.<slot>.<code>` accepted by the local channel server, for each of the 3 slots.
 *   A member delivers only once its posting is on-chain (§6.4–§6.5); the note splits the time at the posting's block.
 * - guardianCpuMsPerReset: the agents' process CPU time (from their /metrics) over the 50 requests, polling included,
 *   divided by requests and agents.
 * - guardianIdleCpuMsPerSecond: the same CPU over 5 s with no request before them (polling the node, empty blocks), per
 *   agent and second; guardianServingCpuMsPerReset: guardianCpuMsPerReset less that idle rate over the requests' time.
 */
import type { Address } from "viem";

import { agentsFormCommittee, startGuardianNetwork } from "../../test/helpers/guardianNetwork.ts";
import { Inbox } from "../../test/helpers/localServices.ts";
import { linkToCommittee, request } from "../../test/helpers/resetClient.ts";
import { type System, toBytes32 } from "../../test/helpers/system.ts";
import type { Connection, Figure } from "../run.ts";
import { median, percentile, round } from "../stats.ts";

const REQUESTS = 50;
const AGENTS = 3;
const IDLE_MS = 5_000;

async function cpuSeconds(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^cg_guardian_process_cpu_seconds_total (\S+)$/m.exec(text);
  if (!m) throw new Error("no process_cpu_seconds_total in /metrics");
  return Number(m[1]);
}

/** Records when each block is first seen mined (polling the node every 10 ms until stopped). */
function watchBlocks(sys: System) {
  const seen = new Map<number, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const n = await sys.ethers.provider.getBlockNumber();
      if (!seen.has(n)) seen.set(n, Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    /** When block `n` was first seen, once the watcher has seen it or a later block. */
    async at(n: number): Promise<number> {
      while (![...seen.keys()].some((b) => b >= n)) await new Promise((r) => setTimeout(r, 10));
      return seen.get(n) ?? Math.min(...[...seen].filter(([b]) => b > n).map(([, t]) => t));
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export async function guardianSection(_connection: Connection): Promise<Figure[]> {
  const blockMs = Number(process.env.CG_BENCH_BLOCK_MS ?? 1000);
  const inbox = new Inbox();
  const net = await startGuardianNetwork(inbox, { guardians: AGENTS, confirmations: 1, intervalMiningMs: blockMs });
  const blocks = watchBlocks(net.sys);
  try {
    const { sys } = net;
    const members = sys.guardians.slice(0, AGENTS);
    const { committeeId, commitments } = await agentsFormCommittee(sys, members, 2);
    const channels = ["mailto:alice@example.org", "sms:+15550000001", `${net.appUrl}/alice`];
    const account = await linkToCommittee(sys, sys.alice, committeeId, members, commitments, channels, toBytes32("bench-alice"));
    const idleFrom = await Promise.all(net.agents.map((a) => cpuSeconds(a.httpPort)));
    const idleStart = Date.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleTo = await Promise.all(net.agents.map((a) => cpuSeconds(a.httpPort)));
    const idleCpuMsPerSecond = (idleTo.reduce((s, v, i) => s + (v - idleFrom[i]), 0) * 1000) / net.agents.length / ((Date.now() - idleStart) / 1000);
    const cpuBefore = await Promise.all(net.agents.map((a) => cpuSeconds(a.httpPort)));
    const requestsStart = Date.now();
    const latencies: number[] = [];
    const toPosting: number[] = [];
    const fromPosting: number[] = [];
    for (let k = 0; k < REQUESTS; k++) {
      const r = await request(sys, account, sys.bob, sys.carol.address as Address);
      const confirmedAt = await blocks.at(r.blockNumber);
      const deliveries = await Promise.all(
        [1, 2, 3].map((slot) => inbox.waitFor((m) => m.text.includes(`cg2.${r.requestId}.${slot}.`), 30_000, `code ${slot} of request ${r.requestId}`)),
      );
      const posted = (await sys.coordinator.queryFilter(sys.coordinator.filters.PartialPosted(r.requestId), r.blockNumber)) as any[];
      for (const [i, d] of deliveries.entries()) {
        latencies.push(d.at - confirmedAt);
        const log = posted.find((l) => Number(l.args.slot) === i + 1);
        if (log === undefined) throw new Error(`no posting of slot ${i + 1} for request ${r.requestId}, yet its code arrived`);
        const postedAt = await blocks.at(log.blockNumber);
        toPosting.push(postedAt - confirmedAt);
        fromPosting.push(d.at - postedAt);
      }
      if ((k + 1) % 10 === 0) process.stderr.write(`bench: guardian ${k + 1}/${REQUESTS} requests\n`);
    }
    const cpuAfter = await Promise.all(net.agents.map((a) => cpuSeconds(a.httpPort)));
    const requestsSeconds = (Date.now() - requestsStart) / 1000;
    const cpuMs = cpuAfter.reduce((s, v, i) => s + (v - cpuBefore[i]), 0) * 1000;
    const cpuMsPerReset = cpuMs / REQUESTS / net.agents.length;
    const idleMsPerReset = (idleCpuMsPerSecond * requestsSeconds) / REQUESTS;
    const sorted = latencies.sort((a, b) => a - b);
    return [
      {
        key: "offchain.requestToCodeP50Ms",
        value: round(percentile(sorted, 50)),
        unit: "ms",
        note: `${sorted.length} codes, ${AGENTS} agents, 1 confirmation, transactions mined at once (empty block every ${blockMs} ms); medians: request mined → posting mined ${round(median(toPosting))} ms, posting mined → code accepted ${round(median(fromPosting))} ms`,
      },
      { key: "offchain.requestToCodeP95Ms", value: round(percentile(sorted, 95)), unit: "ms", target: 1_000 },
      { key: "offchain.guardianCpuMsPerReset", value: round(cpuMsPerReset), unit: "ms", target: 40, note: `per agent, polling included (${round(idleMsPerReset)} ms of it at the idle rate over ${round(requestsSeconds)} s)` },
      { key: "offchain.guardianIdleCpuMsPerSecond", value: round(idleCpuMsPerSecond), unit: "ms", note: `per agent, ${IDLE_MS / 1000} s with no request (polling every 100 ms)` },
      { key: "offchain.guardianServingCpuMsPerReset", value: round(cpuMsPerReset - idleMsPerReset), unit: "ms", note: "guardianCpuMsPerReset less the idle rate over the requests' time; npm run scale has it per step (scale.serving.*)" },
    ];
  } finally {
    await blocks.stop();
    await net.close();
  }
}
