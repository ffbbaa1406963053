/**
 * Guardian figures: latency from a confirmed `ResetRequested` (1 confirmation: the block that holds it) to the
 * fragment accepted by the local channel server, over 50 requests served by 3 guardian agents running as
 * processes (email, SMS and app channels); and the agents' CPU time per reset (process CPU seconds from their
 * /metrics, over the whole run, polling included, divided by requests and guardians).
 */
import { toHex } from "viem";

import { generateHpkeKeyPair } from "../../sdk/index.ts";
import { linkServedAccount, startGuardianNetwork } from "../../test/helpers/guardianNetwork.ts";
import { Inbox } from "../../test/helpers/localServices.ts";
import { findEvent } from "../../test/helpers/system.ts";
import type { Connection, Figure } from "../run.ts";
import { percentile, round } from "../stats.ts";

const REQUESTS = 50;

async function cpuSeconds(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^cg_guardian_process_cpu_seconds_total (\S+)$/m.exec(text);
  if (!m) throw new Error("no process_cpu_seconds_total in /metrics");
  return Number(m[1]);
}

export async function guardianSection(_connection: Connection): Promise<Figure[]> {
  const inbox = new Inbox();
  const net = await startGuardianNetwork(inbox, { guardians: 3, confirmations: 1, intervalMiningMs: 1000 });
  try {
    const { sys } = net;
    await sys.coordinator.setMaxOpenRequests(16);
    const account = await linkServedAccount(net, sys.alice, ["mailto:alice@example.org", "sms:+15550000001", `${net.appUrl}/alice`], 2);
    const fee = (await sys.coordinator.parameters()).requestFee;
    const cpuBefore = await Promise.all(net.agents.map((a) => cpuSeconds(a.httpPort)));
    const latencies: number[] = [];
    for (let k = 0; k < REQUESTS; k++) {
      const ephemeralKey = toHex((await generateHpkeKeyPair()).publicKey);
      const tx = await sys.coordinator.connect(sys.bob).requestReset(account.accountId, sys.carol.address, ephemeralKey, { value: fee });
      const receipt = await tx.wait();
      const minedAt = Date.now();
      const requestId: bigint = findEvent(sys.coordinator, receipt, "ResetRequested").args.requestId;
      const deliveries = await Promise.all(
        [1, 2, 3].map((i) => inbox.waitFor((m) => m.text.includes(`cg1.${requestId}.${i}.`), 30_000, `fragment ${i} of request ${requestId}`)),
      );
      for (const d of deliveries) latencies.push(Math.max(0, d.at - minedAt));
      await (await sys.coordinator.connect(sys.alice).cancelReset(requestId)).wait();
      if ((k + 1) % 10 === 0) process.stderr.write(`bench: guardian ${k + 1}/${REQUESTS} requests\n`);
    }
    const cpuAfter = await Promise.all(net.agents.map((a) => cpuSeconds(a.httpPort)));
    const cpuMs = cpuAfter.reduce((s, v, i) => s + (v - cpuBefore[i]), 0) * 1000;
    const sorted = latencies.sort((a, b) => a - b);
    return [
      { key: "offchain.requestToDeliveryP50Ms", value: round(percentile(sorted, 50)), unit: "ms", note: `${sorted.length} deliveries, 3 guardians, 1 confirmation` },
      { key: "offchain.requestToDeliveryP95Ms", value: round(percentile(sorted, 95)), unit: "ms", target: 1_000 },
      { key: "offchain.guardianCpuMsPerReset", value: round(cpuMs / REQUESTS / net.agents.length), unit: "ms", note: "per guardian, polling included" },
    ];
  } finally {
    await net.close();
  }
}
