/**
 * The guardian agent: watches the chain, serves its shard maps and resets, and drains an outbox of side effects
 * (acknowledgements, fragment deliveries, share commits).
 *
 * Exactly-once effects across crashes: every effect is an outbox job whose id is its idempotency key
 * (`ack:<mapId>`, `deliver:<requestId>`, `commit:<requestId>`), written in the same database transaction as the
 * state that caused it. On-chain effects are checked against the chain before they are sent (an acknowledgement
 * or commit already on-chain is marked done, not repeated); deliveries carry the key as Message-ID /
 * Idempotency-Key so a receiver can drop a duplicate if a crash falls between sending and recording.
 *
 * Reorg safety: a log is acted on only once its block has `confirmations` confirmations; after a restart the last
 * `reorgWindow` blocks are scanned again (handlers are idempotent), and a cursor whose block hash changed is rewound.
 *
 * Isolation: every chain event is handled through `#handle`. An event whose content cannot be processed (it does not
 * decode, a key or point in it is refused, anything throws while its payload is processed) is recorded as ignored
 * with its reason, counted and logged, and the cursor moves on; it is never handled again, also after a restart.
 * A failure of the RPC node or of the local database is not the event's fault: it propagates, and the poll reads
 * the same blocks again later (`core/failures.ts` tells the two apart).
 */
import { type Server, createServer } from "node:http";

import type { Logger } from "pino";
import {
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  getAbiItem,
  hexToBytes,
  http,
  keccak256,
} from "viem";

import { resetCoordinatorAbi } from "../sdk/abi/index.ts";
import { chainFor } from "../sdk/client/index.ts";
import { G1 } from "../sdk/crypto/bls.ts";
import { computePartial } from "../sdk/crypto/threshold.ts";
import { CGError } from "../sdk/errors.ts";
import { fragmentLink } from "../sdk/encoding/fragment.ts";
import { resetMessage } from "../sdk/encoding/messages.ts";
import { decodeCommitments, openAssignment, possessionProof, unpackEntries } from "../sdk/protocol/shardMap.ts";
import { servePartial } from "../sdk/protocol/reset.ts";
import { type Channel, type ChannelKind, type Delivery, channelKind } from "./channels/channel.ts";
import { COMMITTEE_EVENTS, CommitteeWork } from "./committees.ts";
import type { GuardianConfig } from "./config.ts";
import { classifyHandlerFailure } from "./core/failures.ts";
import { failpoint, isFailpoint } from "./failpoints.ts";
import type { Metrics } from "./metrics.ts";
import type { OutboxJob, Store } from "./store.ts";

const LINKED = getAbiItem({ abi: resetCoordinatorAbi, name: "ShardMapLinked" });
const REQUESTED = getAbiItem({ abi: resetCoordinatorAbi, name: "ResetRequested" });
/** Every event the agent reads (the coordinator's and the committee registry's); each needs an entry in `#handlers`
 *  (the type checker insists). */
const EVENTS = [LINKED, REQUESTED, ...COMMITTEE_EVENTS] as const;
type EventName = (typeof EVENTS)[number]["name"];
const MAX_LOG_RANGE = 2_000n;
const SHARD_MAP_PENDING = 1;
const SHARD_MAP_ACTIVE = 2;
const RESET_PENDING = 1;

/** How the agent handles one kind of chain event. */
interface EventHandler {
  /** Names the event in the store, logs and metrics, e.g. `{ requestId: "7" }`. */
  subject(args: any): Record<string, string>;
  run(args: any, blockNumber: bigint): Promise<void>;
}

interface AckPayload {
  mapId: string;
  index: number;
  committee: Address[];
  commitmentsHash: Hex;
  proof: Hex;
}

interface DeliverPayload {
  requestId: string;
  index: number;
  uri: string;
  fragment: string;
}

interface CommitPayload {
  requestId: string;
  mapId: string;
  index: number;
  commitment: Hex;
  committee: Address[];
  commitmentsHash: Hex;
}

export interface AgentDeps {
  config: GuardianConfig;
  store: Store;
  operator: LocalAccount;
  hpkeSecret: Uint8Array;
  channels: Partial<Record<ChannelKind, Channel>>;
  log: Logger;
  metrics: Metrics;
}

export class GuardianAgent {
  readonly #d: AgentDeps;
  #running = false;
  #chain?: Chain;
  #public?: PublicClient;
  #wallet?: WalletClient;
  #http?: Server;
  readonly #sleepers = new Set<() => void>();
  #loops: Promise<void>[] = [];
  #head = 0n;
  #firstPass = true;
  #chainErrorStreak = 0;
  #committees?: CommitteeWork;
  #handlers!: Record<EventName, EventHandler>;

  constructor(deps: AgentDeps) {
    this.#d = deps;
  }

  get address(): Address {
    return this.#d.operator.address;
  }

  async start(): Promise<{ httpPort: number }> {
    const { config, log } = this.#d;
    const probe = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0 }) });
    const chainId = await this.#retry("eth_chainId", () => probe.getChainId());
    if (config.chainId !== undefined && config.chainId !== chainId) {
      throw new CGError("INVALID_CONFIG", `the RPC serves chain ${chainId}, the deployment file is for chain ${config.chainId}`);
    }
    this.#chain = chainFor(chainId, config.rpcUrl);
    this.#public = createPublicClient({ chain: this.#chain, transport: http(config.rpcUrl, { retryCount: 2 }), pollingInterval: config.pollIntervalMs }) as PublicClient;
    this.#wallet = createWalletClient({ chain: this.#chain, account: this.#d.operator, transport: http(config.rpcUrl, { retryCount: 2 }) });
    this.#committees = new CommitteeWork({
      ...this.#d,
      publicClient: this.#public,
      wallet: this.#wallet,
      chain: this.#chain,
      wake: () => this.#wakeAll(),
    });
    this.#handlers = {
      ShardMapLinked: { subject: (a) => ({ mapId: String(a.mapId) }), run: (a, block) => this.#onLinked(a, block) },
      ResetRequested: { subject: (a) => ({ requestId: String(a.requestId) }), run: (a, block) => this.#onRequested(a, block) },
      ...this.#committees.handlers(),
    };
    const httpPort = await this.#startHttp();
    this.#running = true;
    // Deliveries never wait behind a transaction receipt: they have their own loop.
    this.#loops = [this.#chainLoop(), this.#outboxLoop("deliveries", () => this.#drainDeliveries()), this.#outboxLoop("transactions", () => this.#drainTransactions())];
    log.info({ guardian: this.address, chainId, httpPort }, "guardian started");
    return { httpPort };
  }

  /** Stops the loops after their current step (in-flight work finishes or stays parked in the outbox). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wakeAll();
    await Promise.race([Promise.allSettled(this.#loops), new Promise((r) => setTimeout(r, 15_000))]);
    await new Promise<void>((r) => (this.#http ? this.#http.close(() => r()) : r()));
    for (const c of Object.values(this.#d.channels)) await c?.close?.();
    this.#d.log.info({ guardian: this.address }, "guardian stopped");
  }

  // ───────────────────────────── chain ─────────────────────────────

  async #chainLoop(): Promise<void> {
    while (this.#running) {
      try {
        await this.#pollChain();
        this.#chainErrorStreak = 0;
      } catch (e) {
        this.#chainErrorStreak++;
        this.#d.metrics.chainErrors.inc();
        this.#d.log.warn({ err: errorText(e), streak: this.#chainErrorStreak }, "chain poll failed; retrying");
        await this.#sleep(Math.min(30_000, this.#d.config.pollIntervalMs * 2 ** Math.min(this.#chainErrorStreak, 5)));
        continue;
      }
      await this.#sleep(this.#d.config.pollIntervalMs);
    }
  }

  async #pollChain(): Promise<void> {
    const { config, store, metrics, log } = this.#d;
    const client = this.#public!;
    this.#head = await client.getBlockNumber();
    const safe = this.#head - BigInt(config.confirmations - 1);
    let cursor = store.cursor()?.block ?? config.startBlock - 1n;
    const stored = store.cursor();
    if (stored?.hash) {
      const block = await client.getBlock({ blockNumber: stored.block }).catch(() => undefined);
      if (block === undefined || block.hash !== stored.hash) {
        const rewound = maxBig(config.startBlock - 1n, stored.block - BigInt(config.reorgWindow));
        log.warn({ from: stored.block.toString(), to: rewound.toString() }, "the processed block changed (reorg): rescanning");
        store.rollbackAbove(rewound);
        cursor = rewound;
      }
    }
    if (this.#firstPass) {
      // After a restart, look at the last window again: handlers are idempotent.
      cursor = maxBig(config.startBlock - 1n, cursor - BigInt(config.reorgWindow));
      this.#firstPass = false;
    }
    while (this.#running && safe > cursor) {
      const to = minBig(safe, cursor + MAX_LOG_RANGE);
      const logs = await client.getLogs({ address: [config.coordinator, config.committees], events: EVENTS, fromBlock: cursor + 1n, toBlock: to });
      for (const entry of logs) {
        if (entry.removed) continue;
        const handler = this.#handlers[entry.eventName];
        let subject: Record<string, string>;
        try {
          subject = handler.subject(entry.args);
        } catch {
          subject = { log: `${entry.transactionHash}:${entry.logIndex}` }; // arguments that did not decode
        }
        await this.#handle(entry.eventName, subject, entry.blockNumber!, () => handler.run(entry.args, entry.blockNumber!));
      }
      const block = await client.getBlock({ blockNumber: to });
      store.setCursor(to, block.hash!);
      cursor = to;
    }
    await this.#committees!.tick();
    metrics.cursorBlock.set(Number(cursor));
    metrics.cursorLag.set(Number(this.#head - cursor));
  }

  /**
   * Runs one event's handler in isolation. An event recorded as ignored is skipped. A failure caused by the event's
   * content records it as ignored (store, metric, warn log with the reason; the cursor moves on); a failure of the
   * chain or the store is rethrown, so the poll reads the block range again.
   */
  async #handle(event: EventName, subject: Record<string, string>, blockNumber: bigint, run: () => Promise<void>): Promise<void> {
    if (this.#d.store.isIgnored(event, subjectKey(subject))) return;
    try {
      await run();
    } catch (e) {
      const failure = classifyHandlerFailure(e);
      if (failure.retry) {
        throw new CGError(failure.boundary === "chain" ? "CHAIN_UNAVAILABLE" : "STORE_FAILED", `${event} ${subjectKey(subject)}: ${errorText(e)}`, { cause: e });
      }
      this.#ignore(event, subject, failure.reason, errorText(e), blockNumber);
    }
  }

  /** Records an event as ignored for `reason` (with `alsoStore` in the same database transaction), counts and logs it. */
  #ignore(
    event: EventName,
    subject: Record<string, string>,
    reason: string,
    detail: string,
    blockNumber: bigint,
    options: { message?: string; alsoStore?: () => void } = {},
  ): void {
    const { store, metrics, log } = this.#d;
    store.transaction(() => {
      options.alsoStore?.();
      store.putIgnored({ event, key: subjectKey(subject), reason, detail, blockNumber });
    });
    metrics.eventsIgnored.inc({ event, reason });
    log.warn({ event, ...subject, block: blockNumber.toString(), reason, detail }, options.message ?? "chain event ignored");
  }

  async #onLinked(
    args: { accountId: Hex; mapId: bigint; epoch: bigint; committee: readonly Address[]; commitments: Hex; envelopes: Hex },
    blockNumber: bigint,
  ): Promise<void> {
    const { store, log, config } = this.#d;
    const index = args.committee.findIndex((a) => a.toLowerCase() === this.address.toLowerCase()) + 1;
    if (index === 0 || store.getMap(args.mapId) !== undefined) return;
    const context = { mapId: args.mapId.toString(), index, epoch: args.epoch.toString() };
    let assignment;
    const base = {
      mapId: args.mapId,
      accountId: args.accountId,
      epoch: args.epoch,
      index,
      committee: [...args.committee],
      commitments: args.commitments,
      commitmentsHash: "",
      blockNumber,
    };
    try {
      const commitments = decodeCommitments(args.commitments);
      base.commitmentsHash = keccak256(args.commitments); // keccak256(C_0 ‖ … ‖ C_{t−1})
      assignment = await openAssignment({
        privateKey: this.#d.hpkeSecret,
        chainId: BigInt(this.#chain!.id),
        shardMapRegistry: config.coordinator,
        accountId: args.accountId,
        epoch: args.epoch,
        index,
        envelope: unpackEntries(args.envelopes)[index - 1] ?? "0x",
        commitments,
      });
    } catch (e) {
      // A refusal of the protocol (no acknowledgement follows); the map is kept so its requests are answered
      // "refused-map", and the event is recorded as ignored like any other whose content is unusable.
      const reason = e instanceof CGError ? e.code : "INVALID_ENVELOPE";
      this.#ignore("ShardMapLinked", { mapId: context.mapId }, reason, errorText(e), blockNumber, {
        message: "shard map refused: no acknowledgement",
        alsoStore: () => store.putMap({ ...base, status: "refused", reason }),
      });
      return;
    }
    const proof = possessionProof(assignment.share, BigInt(this.#chain!.id), config.coordinator, args.accountId, args.epoch);
    store.transaction(() => {
      store.putMap({ ...base, status: "assigned", share: assignment.share.value, channelUri: assignment.channelUri });
      store.enqueue(`ack:${args.mapId}`, "acknowledge", {
        mapId: args.mapId.toString(),
        index,
        committee: [...args.committee],
        commitmentsHash: base.commitmentsHash as Hex,
        proof,
      } satisfies AckPayload);
    });
    log.info({ ...context, channel: channelKindSafe(assignment.channelUri) }, "shard map assigned: share verified, acknowledgement queued");
    this.#wakeAll();
  }

  async #onRequested(
    args: { requestId: bigint; accountId: Hex; mapId: bigint; epoch: bigint; newController: Address; ephemeralKey: Hex; expiresAt: bigint },
    blockNumber: bigint,
  ): Promise<void> {
    const { store, log, metrics, config } = this.#d;
    const context = { requestId: args.requestId.toString(), mapId: args.mapId.toString() };
    if (store.hasRequest(args.requestId)) return;
    const map = store.getMap(args.mapId);
    if (map === undefined) {
      log.debug(context, "request ignored: not an account this guardian serves");
      return;
    }
    const ignore = (reason: string) => {
      store.putRequest(args.requestId, args.mapId, args.accountId, "ignored", reason, blockNumber);
      metrics.requestsIgnored.inc({ reason });
      log.info({ ...context, reason }, "request ignored");
    };
    if (map.status === "refused" || map.share === undefined || map.channelUri === undefined) return ignore("refused-map");
    const onChain = await this.#public!.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "shardMap", args: [args.mapId] });
    if (onChain.status !== SHARD_MAP_ACTIVE) return ignore(onChain.status > SHARD_MAP_ACTIVE ? "retired-epoch" : "map-not-active");
    const latest = await this.#public!.getBlock({ blockTag: "latest" });
    if (latest.timestamp > args.expiresAt) return ignore("expired");

    const chainId = BigInt(this.#chain!.id);
    const message = resetMessage({
      chainId,
      coordinator: config.coordinator,
      requestId: args.requestId,
      accountId: args.accountId,
      epoch: args.epoch,
      newController: args.newController,
      ephemeralKey: args.ephemeralKey,
    });
    const share = { index: map.index, value: map.share };
    const served = await servePartial({
      share,
      chainId,
      coordinator: config.coordinator,
      requestId: args.requestId,
      message,
      ephemeralKey: args.ephemeralKey,
      // A misbehaving guardian for the demo: serves and commits a partial that is off by the generator.
      override: isFailpoint("serve.invalid-partial") ? computePartial(share, hexToBytes(message)).sigma.add(G1.BASE) : undefined,
    });
    store.transaction(() => {
      store.putRequest(args.requestId, args.mapId, args.accountId, "served", undefined, blockNumber);
      store.enqueue(`deliver:${args.requestId}`, "deliver", {
        requestId: args.requestId.toString(),
        index: map.index,
        uri: map.channelUri!,
        fragment: served.fragment,
      } satisfies DeliverPayload);
      store.enqueue(`commit:${args.requestId}`, "commit", {
        requestId: args.requestId.toString(),
        mapId: args.mapId.toString(),
        index: map.index,
        commitment: served.commitment,
        committee: map.committee as Address[],
        commitmentsHash: map.commitmentsHash as Hex,
      } satisfies CommitPayload);
    });
    metrics.requestsServed.inc();
    log.info({ ...context, index: map.index, channel: channelKindSafe(map.channelUri) }, "partial computed: delivery and commit queued");
    failpoint("serve.after-commit");
    this.#wakeAll();
  }

  // ───────────────────────────── outbox ─────────────────────────────

  async #outboxLoop(name: string, step: () => Promise<void>): Promise<void> {
    while (this.#running) {
      try {
        await step();
        this.#updateOutboxMetrics();
      } catch (e) {
        if (name === "transactions") this.#d.metrics.chainErrors.inc();
        this.#d.log.warn({ loop: name, err: errorText(e) }, "outbox step failed; retrying");
      }
      await this.#sleep(Math.min(500, this.#d.config.pollIntervalMs));
    }
  }

  async #drainTransactions(): Promise<void> {
    await this.#drainAcks();
    await this.#drainCommits();
    await this.#committees!.drain(() => this.#running, (job, e, permanent) => this.#fail(job, e, permanent));
  }

  #backoff(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.#d.config;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** attempts);
    return Date.now() + Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  #fail(job: OutboxJob, e: unknown, permanent = false): void {
    const { store, config, log } = this.#d;
    const status = store.markFailed(job.id, errorText(e), this.#backoff(job.attempts), permanent ? 0 : config.maxAttempts);
    const line = { job: job.id, attempts: job.attempts + 1, err: errorText(e) };
    if (status === "dead") log.error(line, "job failed too often: dead letter");
    else log.warn(line, "job failed; will retry");
  }

  async #drainAcks(): Promise<void> {
    const { store, config, metrics, log } = this.#d;
    for (const job of store.due("acknowledge")) {
      if (!this.#running) return;
      const p = job.payload as AckPayload;
      try {
        const map = await this.#public!.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "shardMap", args: [BigInt(p.mapId)] });
        if (map.status !== SHARD_MAP_PENDING && (map.acknowledged & (1 << (p.index - 1))) === 0) {
          // Superseded by a newer rotation before this guardian acknowledged: nothing left to do.
          store.markDone(job.id);
          log.info({ mapId: p.mapId, status: map.status }, "acknowledgement dropped: the map is no longer pending");
          continue;
        }
        if ((map.acknowledged & (1 << (p.index - 1))) === 0) {
          const hash = await this.#wallet!.writeContract({
            address: config.coordinator,
            abi: resetCoordinatorAbi,
            functionName: "acknowledge",
            args: [BigInt(p.mapId), p.index, p.committee, p.commitmentsHash, p.proof],
            account: this.#d.operator,
            chain: this.#chain!,
          });
          const receipt = await this.#public!.waitForTransactionReceipt({ hash, timeout: 60_000 });
          if (receipt.status !== "success") throw new CGError("TX_REVERTED", `acknowledge of map ${p.mapId} reverted`);
        }
        store.transaction(() => {
          store.markDone(job.id);
          store.setMapStatus(BigInt(p.mapId), "acknowledged");
        });
        metrics.acknowledgements.inc({ outcome: "ok" });
        log.info({ mapId: p.mapId, index: p.index }, "shard map acknowledged");
      } catch (e) {
        metrics.acknowledgements.inc({ outcome: "error" });
        this.#fail(job, e);
      }
    }
  }

  async #drainDeliveries(): Promise<void> {
    const { store, config, metrics, log } = this.#d;
    const jobs = store.due("deliver");
    await Promise.all(
      jobs.map(async (job) => {
        const p = job.payload as DeliverPayload;
        let kind: ChannelKind;
        try {
          kind = channelKind(p.uri);
        } catch (e) {
          return this.#fail(job, e, true);
        }
        const channel = this.#d.channels[kind];
        if (channel === undefined) return this.#fail(job, new CGError("CHANNEL_REJECTED", `no ${kind} channel is configured`), true);
        const delivery: Delivery = {
          requestId: BigInt(p.requestId),
          index: p.index,
          fragment: p.fragment,
          link: fragmentLink(config.resetLinkBase, p.fragment),
          chainId: BigInt(this.#chain!.id),
          coordinator: config.coordinator,
          guardian: this.address,
          idempotencyKey: `cg1-${this.#chain!.id}-${config.coordinator.toLowerCase()}-${p.requestId}-${p.index}`,
        };
        try {
          await channel.deliver(p.uri, delivery);
          store.markDone(job.id);
          metrics.deliveries.inc({ channel: kind, outcome: "ok" });
          log.info({ requestId: p.requestId, index: p.index, channel: kind }, "fragment delivered");
        } catch (e) {
          const permanent = e instanceof CGError && e.code === "CHANNEL_REJECTED";
          metrics.deliveries.inc({ channel: kind, outcome: permanent ? "rejected" : "retry" });
          this.#fail(job, e, permanent);
        }
      }),
    );
  }

  async #drainCommits(): Promise<void> {
    const { store, config, metrics, log } = this.#d;
    const jobs = store.due("commit");
    if (jobs.length === 0) return;
    // Skip what is already on-chain (a crash after sending, before recording) and what can no longer be committed.
    const send: OutboxJob[] = [];
    for (const job of jobs) {
      const p = job.payload as CommitPayload;
      const reset = await this.#public!.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "reset", args: [BigInt(p.requestId)] });
      if ((reset.committed & (1 << (p.index - 1))) !== 0) {
        store.markDone(job.id);
        continue;
      }
      if (reset.status !== RESET_PENDING || reset.voided) {
        store.markDone(job.id);
        log.info({ requestId: p.requestId, status: reset.status }, "commit dropped: the request is no longer open");
        continue;
      }
      send.push(job);
    }
    if (send.length === 0) return;
    const groups = new Map<string, OutboxJob[]>();
    for (const job of send) {
      const key = (job.payload as CommitPayload).mapId;
      groups.set(key, [...(groups.get(key) ?? []), job]);
    }
    const args = [...groups.values()].map((js) => {
      const first = js[0].payload as CommitPayload;
      return {
        committee: { members: first.committee, commitmentsHash: first.commitmentsHash },
        commits: js.map((j) => {
          const p = j.payload as CommitPayload;
          return { requestId: BigInt(p.requestId), index: p.index, commitment: p.commitment };
        }),
      };
    });
    try {
      const hash = await this.#wallet!.writeContract({
        address: config.coordinator,
        abi: resetCoordinatorAbi,
        functionName: "commitShares",
        args: [args],
        account: this.#d.operator,
        chain: this.#chain!,
      });
      const receipt = await this.#public!.waitForTransactionReceipt({ hash, timeout: 60_000 });
      if (receipt.status !== "success") throw new CGError("TX_REVERTED", "commitShares reverted");
      store.transaction(() => send.forEach((j) => store.markDone(j.id)));
      metrics.commits.inc({ outcome: "ok" }, send.length);
      log.info({ requests: send.map((j) => (j.payload as CommitPayload).requestId), gasUsed: receipt.gasUsed.toString() }, "shares committed");
    } catch (e) {
      metrics.commits.inc({ outcome: "error" }, send.length);
      for (const j of send) this.#fail(j, e);
    }
  }

  #updateOutboxMetrics(): void {
    const { pending, dead } = this.#d.store.counts();
    for (const kind of ["acknowledge", "deliver", "commit", "committee"]) this.#d.metrics.outboxPending.set({ kind }, pending[kind] ?? 0);
    this.#d.metrics.deadLetters.set(dead);
  }

  // ───────────────────────────── http ─────────────────────────────

  async #startHttp(): Promise<number> {
    const { config, metrics, store } = this.#d;
    this.#http = createServer(async (req, res) => {
      try {
        if (req.url === "/healthz") {
          const cursor = store.cursor()?.block ?? config.startBlock - 1n;
          const healthy = this.#chainErrorStreak < 5;
          res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              status: healthy ? "ok" : "degraded",
              guardian: this.address,
              cursor: cursor.toString(),
              head: this.#head.toString(),
              ...store.counts(),
              ignoredEvents: store.ignoredEvents(0).total,
            }),
          );
        } else if (req.url === "/metrics") {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(await metrics.registry.metrics());
        } else {
          res.writeHead(404).end();
        }
      } catch {
        res.writeHead(500).end();
      }
    });
    return new Promise((resolve, reject) => {
      this.#http!.once("error", reject);
      this.#http!.listen(config.httpPort, config.httpHost, () => {
        const address = this.#http!.address();
        resolve(typeof address === "object" && address ? address.port : config.httpPort);
      });
    });
  }

  // ───────────────────────────── helpers ─────────────────────────────

  async #retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        // Never fatal: an agent started before its RPC keeps trying (and says so) until it answers.
        this.#d.metrics.chainErrors.inc();
        this.#d.log.warn({ what, attempt: attempt + 1, err: errorText(e) }, "RPC call failed; retrying");
        await new Promise((r) => setTimeout(r, Math.min(30_000, 200 * 2 ** Math.min(attempt, 8))));
      }
    }
  }

  /** Sleeps `ms`, or less if new work arrives or the agent stops. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }
}

/** The store key of an event's subject: `requestId=7`. */
function subjectKey(subject: Record<string, string>): string {
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function channelKindSafe(uri: string): string {
  try {
    return channelKind(uri);
  } catch {
    return "unknown";
  }
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** An error's message without secrets: our errors never carry them; foreign ones are cut short. */
export function errorText(e: unknown): string {
  if (e instanceof CGError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message.split("\n")[0].slice(0, 300);
  return String(e).slice(0, 300);
}
