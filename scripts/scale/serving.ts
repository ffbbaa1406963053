/**
 * One guardian agent's serving work, single-threaded, in this process: the agent's own `ResetWork` (guardian/resets.ts)
 * handles `ResetRequested` events, drains its postings in `postPartials` batches and delivers the codes, on a real
 * guardian database (guardian/store.ts, node:sqlite, synchronous = FULL). What is not the agent's work is answered in
 * memory: the chain reads (the committee, the request's view, its announcement, the receipt) and the channel (a
 * delivery is accepted at once). The wallet builds each batch's transaction for real (calldata encoded, signed with
 * the operator key) and does not send it. So the figure is the CPU of serving, without JSON-RPC and SMTP/HTTP
 * transport, which `npm run bench`'s `offchain.guardianCpuMsPerReset` includes (with the agent's polling).
 *
 * Also a per-step breakdown of the per-request cryptography, timed on its own (the profile of the hot path).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { pino } from "pino";
import { type Address, type Chain, type Hex, type PublicClient, type WalletClient, encodeFunctionData, hexToBytes, keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import type { AgentDeps } from "../../guardian/agent.ts";
import type { Channel } from "../../guardian/channels/channel.ts";
import type { GuardianConfig } from "../../guardian/config.ts";
import { createMetrics } from "../../guardian/metrics.ts";
import type { PeerApi } from "../../guardian/peer.ts";
import { ResetWork } from "../../guardian/resets.ts";
import { Store } from "../../guardian/store.ts";
import { G1, g1FromEip2537, g1ToEip2537, hashToG1, precomputeGenerators } from "../../sdk/crypto/bls.ts";
import { channelCodeScalar, compressPosting, makePosting, requesterKeyHash } from "../../sdk/crypto/posting.ts";
import { deal, randomScalar } from "../../sdk/crypto/threshold.ts";
import { generateChannelCode } from "../../sdk/encoding/channelCode.ts";
import { resetMessage } from "../../sdk/encoding/messages.ts";
import { fileBytes } from "./database.ts";

const CHAIN_ID = 31337;
const SLOT = 2;

export interface ServingResult {
  requests: number;
  batch: number;
  /** CPU of the agent's thread (user + system) per request, ms (process.threadCpuUsage: the main thread only). */
  cpuMsPerRequest: number;
  /** Wall time per request, ms (fsyncs of the database included). */
  wallMsPerRequest: number;
  /** Per phase, wall ms per request. */
  phases: { handle: number; post: number; deliver: number };
  /** Per-step breakdown of the cryptography of one request: mean CPU ms of the thread over up to 200 requests. */
  steps: Record<string, number>;
  /** The database after the run: bytes per request served (request, serving, two outbox jobs). */
  dbBytesPerRequest: number;
  /**
   * Wall ms of one commit of this database on this disk (synchronous = FULL: an fsync), the mean of 100. Commits run
   * on the agent's one thread (node:sqlite is synchronous).
   */
  commitMs: number;
  /**
   * Database commits per request served, counted (`Store.commits`). The agent groups them by pass: the requests of
   * one poll with its cursor, the postings of one batch confirmed together, the deliveries of a pass answered at the same moment; each pass
   * here has `batch` requests. (Before grouping: 4 a request.)
   */
  commitsPerRequest: number;
}

/** Serves `requests` reset requests of distinct accounts, postings drained every `batch` requests. */
export async function measureServing(requests: number, batch: number, progress: (line: string) => void): Promise<ServingResult> {
  if (batch < 1 || batch > 50) throw new Error(`the batch must be 1…50 postings (the agent drains at most 50 at a time), got ${batch}`);
  precomputeGenerators(); // as the agent does at start
  const dir = mkdtempSync(join(tmpdir(), "cg-scale-serving-"));
  const hpkeSecret = crypto.getRandomValues(new Uint8Array(32));
  const store = new Store(join(dir, "guardian.db"), hpkeSecret);
  try {
    const coordinator = privateKeyToAccount(generatePrivateKey()).address;
    const committees = privateKeyToAccount(generatePrivateKey()).address;
    const operator = privateKeyToAccount(generatePrivateKey());
    const dealing = deal(5, 3);
    store.putCommitteeShare("1", 1, SLOT, dealing.shares[SLOT - 1].value, "0x");

    // The requests, as their events carry them, and each account's channel as its envelope gave it.
    const announced = new Map<bigint, Hex>();
    const events: Parameters<ReturnType<ResetWork["handlers"]>["ResetRequested"]["run"]>[0][] = [];
    for (let k = 1; k <= requests; k++) {
      const accountId = toHex(k, { size: 32 });
      const requesterKey = toHex(g1ToEip2537(G1.BASE.multiply(randomScalar())));
      announced.set(BigInt(k), requesterKey);
      store.putChannel(accountId, 1n, SLOT, `mailto:owner${k}@example.org`, "envelope");
      events.push({ requestId: BigInt(k), accountId, committeeId: 1n, accountEpoch: 1n, newController: operator.address, drill: false, requesterKey, expiresAt: 10n ** 12n });
    }

    const now = BigInt(Math.floor(Date.now() / 1000));
    const publicClient = {
      readContract: async ({ functionName }: { functionName: string }) => {
        if (functionName === "committee") return { activeEpoch: 1n, threshold: 3 };
        if (functionName === "reset") return { expired: false, voided: false, status: 1, postingEpoch: 0n, posted: 0n };
        throw new Error(`unexpected read ${functionName}`);
      },
      getLogs: async ({ args }: { args: { requestId: bigint } }) => [{ removed: false, args: { requesterKey: announced.get(args.requestId) } }],
      getTransactionReceipt: async () => ({ status: "success", blockNumber: 2n, gasUsed: 0n }),
      getBlock: async () => ({ timestamp: now }),
    } as unknown as PublicClient;
    let nonce = 0;
    let sentPostings = 0;
    const wallet = {
      writeContract: async ({ address, abi, functionName, args }: { address: Address; abi: any; functionName: string; args: any[] }) => {
        const data = encodeFunctionData({ abi, functionName, args });
        const signed = await operator.signTransaction({ type: "eip1559", chainId: CHAIN_ID, nonce: nonce++, to: address, data, gas: 3_000_000n, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000n });
        sentPostings += functionName === "postPartials" ? args[0].length : 1;
        return keccak256(signed);
      },
    } as unknown as WalletClient;
    let delivered = 0;
    const email: Channel = {
      kind: "email",
      deliver: async () => {
        delivered++;
      },
    };
    const failures: unknown[] = [];
    const config = { coordinator, committees, confirmations: 1, reorgWindow: 64, pollIntervalMs: 100 } as unknown as GuardianConfig;
    // The agent logs JSON lines at info; here they are serialized as the agent's are, then dropped.
    const log = pino({ level: "info" }, { write: () => {} });
    const deps: AgentDeps = { config, store, operator, hpkeSecret, channels: { email }, log, metrics: createMetrics() };
    const work = new ResetWork({
      ...deps,
      publicClient,
      wallet,
      chain: { id: CHAIN_ID } as Chain,
      peer: {} as PeerApi,
      wake: () => {},
      fail: (_job, e) => void failures.push(e),
      tip: () => ({ number: 1n, time: now }),
    });
    const onRequested = work.handlers().ResetRequested.run;

    const phases = { handle: 0, post: 0, deliver: 0 };
    const timed = async (phase: keyof typeof phases, fn: () => Promise<unknown>) => {
      const start = performance.now();
      await fn();
      phases[phase] += performance.now() - start;
    };
    const commitsStart = store.commits;
    const cpuStart = process.threadCpuUsage();
    const wallStart = performance.now();
    for (let start = 0; start < requests; start += batch) {
      // As the chain loop does: the requests of one poll are written with the cursor that covers them.
      await timed("handle", async () => {
        const poll = store.batch();
        work.collectInto(poll);
        for (const e of events.slice(start, start + batch)) await onRequested(e, 1n);
        work.collectInto(undefined);
        poll.flush(() => store.setCursor(1n, "0x01"));
      });
      await timed("post", async () => {
        await work.drainPostings();
        await work.settled(); // the receipt (answered in memory), then the postings marked done
      });
      await timed("deliver", () => work.drainDeliveries());
      if (failures.length > 0) throw new Error(`serving failed: ${failures.map((f) => (f instanceof Error ? f.message : String(f))).join("; ")}`);
      if ((start + batch) % Math.max(batch, 100) < batch || start + batch >= requests) progress(`serving: ${Math.min(start + batch, requests)}/${requests} requests`);
    }
    const wall = performance.now() - wallStart;
    const cpu = process.threadCpuUsage(cpuStart);
    const commits = store.commits - commitsStart;
    if (sentPostings !== requests || delivered !== requests) throw new Error(`served ${sentPostings} postings and ${delivered} codes for ${requests} requests`);
    const result: ServingResult = {
      requests,
      batch,
      cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / requests,
      wallMsPerRequest: wall / requests,
      phases: { handle: phases.handle / requests, post: phases.post / requests, deliver: phases.deliver / requests },
      steps: cryptoSteps(Math.min(requests, 200), dealing.shares[SLOT - 1].value, coordinator),
      dbBytesPerRequest: 0,
      commitMs: commitLatency(store),
      commitsPerRequest: commits / requests,
    };
    // The store held the channels before the run: what the run added is per request.
    const withRequests = fileBytes(store);
    const channelsOnly = new Store(join(dir, "channels.db"), hpkeSecret);
    try {
      channelsOnly.transaction(() => {
        for (let k = 1; k <= requests; k++) channelsOnly.putChannel(toHex(k, { size: 32 }), 1n, SLOT, `mailto:owner${k}@example.org`, "envelope");
      });
      result.dbBytesPerRequest = (withRequests - fileBytes(channelsOnly)) / requests;
    } finally {
      channelsOnly.close();
    }
    return result;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mean wall ms of 100 one-row commits (`setMeta`, autocommit). */
function commitLatency(store: Store): number {
  const start = performance.now();
  for (let k = 0; k < 100; k++) store.setMeta("scale.commit", String(k));
  return (performance.now() - start) / 100;
}

/** The per-request cryptography of `#serveIfOpen`, step by step, mean CPU ms over `n` requests. */
function cryptoSteps(n: number, share: bigint, coordinator: Address): Record<string, number> {
  const keys = Array.from({ length: n }, () => hexToBytes(toHex(g1ToEip2537(G1.BASE.multiply(randomScalar())))));
  const t: Record<string, number> = {};
  // CPU time of this thread, not wall time: other processes on the machine do not count.
  const time = <T>(step: string, fn: () => T): T => {
    const start = process.threadCpuUsage();
    const out = fn();
    const used = process.threadCpuUsage(start);
    t[step] = (t[step] ?? 0) + (used.user + used.system) / 1000;
    return out;
  };
  for (let k = 0; k < n; k++) {
    const A = time("decode and check A", () => g1FromEip2537(keys[k], "requester key A"));
    const message = time("message m", () =>
      resetMessage({ chainId: BigInt(CHAIN_ID), coordinator, requestId: BigInt(k + 1), accountId: toHex(k + 1, { size: 32 }), accountEpoch: 1n, committeeId: 1n, newController: coordinator, requesterKeyHash: requesterKeyHash(A) }),
    );
    const hashed = time("H(m) (hash to G1)", () => hashToG1(hexToBytes(message)));
    const c = time("code and c", () => channelCodeScalar(BigInt(CHAIN_ID), coordinator, BigInt(k + 1), SLOT, generateChannelCode()));
    const posting = time("posting (C, U, V, W)", () => makePosting({ share: { index: SLOT, value: share }, hashedMessage: hashed, requesterKey: A, c }));
    time("compress", () => toHex(compressPosting(posting)));
  }
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / n]));
}
