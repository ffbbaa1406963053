/**
 * The guardian agent: watches the chain, takes part in its committees' rounds (committees.ts), keeps the channels of
 * the account slots it serves, serves resets and drills (resets.ts), answers other members on the peer API (peer.ts),
 * and drains an outbox of side effects (committee transactions, postings, code deliveries).
 *
 * Exactly-once effects across crashes: every effect is an outbox job whose id is its idempotency key
 * (`post:<requestId>:<slot>:<epoch>`, `deliver:<requestId>:<slot>:<epoch>`, `committee:…`), written in the same
 * database transaction as the state that caused it. On-chain effects are checked against the chain before they are
 * sent (a posting already on-chain is not repeated; it is marked done, and its code delivered, once confirmed); deliveries carry the key as Message-ID /
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
import type { Server } from "node:http";

import type { Logger } from "pino";
import { type Address, BaseError, type Chain, ContractFunctionRevertedError, type LocalAccount, type PublicClient, type WalletClient, createPublicClient, createWalletClient, http } from "viem";

import { chainFor } from "../sdk/client/index.ts";
import { precomputeGenerators } from "../sdk/crypto/bls.ts";
import { CGError } from "../sdk/errors.ts";
import type { Channel, ChannelKind } from "./channels/channel.ts";
import { COMMITTEE_EVENTS, CommitteeWork } from "./committees.ts";
import { type GuardianConfig, requirePeer, rpcOrigin } from "./config.ts";
import { cursorIntact } from "./core/cursor.ts";
import { classifyHandlerFailure } from "./core/failures.ts";
import type { Metrics } from "./metrics.ts";
import { createMonitorServer } from "./monitor.ts";
import { PeerApi } from "./peer.ts";
import { type ChainTip, RESET_EVENTS, ResetWork } from "./resets.ts";
import type { OutboxJob, Store, WriteBatch } from "./store.ts";

/** Every event the agent reads (the coordinator's and the committee registry's); each needs an entry in `#handlers`
 *  (the type checker insists). */
const EVENTS = [...RESET_EVENTS, ...COMMITTEE_EVENTS] as const;
type EventName = (typeof EVENTS)[number]["name"];
const MAX_LOG_RANGE = 2_000n;

/** How the agent handles one kind of chain event. */
interface EventHandler {
  /** Names the event in the store, logs and metrics, e.g. `{ requestId: "7" }`. */
  subject(args: any): Record<string, string>;
  run(args: any, blockNumber: bigint): Promise<void>;
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
  /** Sleepers that new outbox work wakes (the outbox loops; the chain loop keeps its pace). */
  readonly #workSleepers = new Set<() => void>();
  /** Counts the wakes for new outbox work: a loop that was busy when one came runs again instead of sleeping. */
  #workWakes = 0;
  #loops: Promise<void>[] = [];
  #head = 0n;
  /** The newest block a poll read: its number, time and base fee (what the outbox needs of the chain's head). */
  #tip?: ChainTip;
  /** The head the last complete poll handled; a poll that finds it unchanged has nothing to do. */
  #polledHead?: bigint;
  #metricsAt = 0;
  #firstPass = true;
  #chainErrorStreak = 0;
  /** Why the agent is not (yet) healthy, for `/healthz`: set while it waits for the RPC node, and by failing polls. */
  #degraded?: string;
  #stopping = false;
  #committees?: CommitteeWork;
  #resets?: ResetWork;
  #peer?: PeerApi;
  #handlers!: Record<EventName, EventHandler>;
  /** The writes the running poll defers to its cursor's transaction. */
  #pollBatch?: WriteBatch;

  constructor(deps: AgentDeps) {
    this.#d = deps;
  }

  get address(): Address {
    return this.#d.operator.address;
  }

  async start(): Promise<{ httpPort: number; peerPort: number }> {
    const { config, log } = this.#d;
    requirePeer(config);
    // /healthz answers from the first moment, so a supervisor sees "degraded: the RPC node does not answer" rather
    // than a dead port while the node is down at startup.
    this.#degraded = `starting: waiting for the RPC node ${rpcOrigin(config.rpcUrl)}`;
    const httpPort = await this.#startHttp();
    const probe = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0 }) });
    let chainId: number;
    try {
      chainId = await this.#retry("eth_chainId", () => probe.getChainId());
    } catch (e) {
      await this.#closeHttp();
      throw e;
    }
    if (config.chainId !== undefined && config.chainId !== chainId) {
      await this.#closeHttp();
      throw new CGError("INVALID_CONFIG", `the RPC serves chain ${chainId}, the deployment file is for chain ${config.chainId}`);
    }
    this.#degraded = undefined;
    this.#chain = chainFor(chainId, config.rpcUrl);
    this.#public = createPublicClient({ chain: this.#chain, transport: http(config.rpcUrl, { retryCount: 2 }), pollingInterval: config.pollIntervalMs }) as PublicClient;
    this.#wallet = createWalletClient({ chain: this.#chain, account: this.#d.operator, transport: http(config.rpcUrl, { retryCount: 2 }) });
    this.#committees = new CommitteeWork({
      ...this.#d,
      publicClient: this.#public,
      wallet: this.#wallet,
      chain: this.#chain,
      wake: () => this.#wakeWork(),
    });
    this.#peer = new PeerApi({ ...this.#d, publicClient: this.#public, chain: this.#chain });
    this.#resets = new ResetWork({
      ...this.#d,
      publicClient: this.#public,
      wallet: this.#wallet,
      chain: this.#chain,
      peer: this.#peer,
      wake: () => this.#wakeWork(),
      fail: (job, e, permanent) => this.#fail(job, e, permanent),
      tip: () => this.#tip,
    });
    const committees = this.#committees.handlers();
    const resets = this.#resets;
    this.#handlers = {
      ...committees,
      ...resets.handlers(),
      // After a handover's activation (share stored, old one erased), the new epoch's members serve pending requests.
      CommitteeActivated: {
        subject: committees.CommitteeActivated.subject,
        run: async (a, block) => {
          // The requests this poll read so far are stored before the new epoch's members look for the open ones.
          this.#flushPoll();
          await committees.CommitteeActivated.run(a, block);
          await resets.onEpochActivated(BigInt(a.committeeId), BigInt(a.epoch));
        },
      },
    };
    precomputeGenerators(); // every posting multiplies P1 twice and P2 once
    const peerPort = await this.#peer.listen();
    this.#running = true;
    // Deliveries never wait behind a transaction receipt: they have their own loop.
    this.#loops = [this.#chainLoop(), this.#outboxLoop("deliveries", () => resets.drainDeliveries()), this.#outboxLoop("transactions", () => this.#drainTransactions())];
    log.info({ guardian: this.address, chainId, httpPort, peerPort }, "guardian started");
    return { httpPort, peerPort };
  }

  /** Stops the loops after their current step (in-flight work finishes or stays parked in the outbox). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeAll();
    if (!this.#running) return;
    this.#running = false;
    this.#resets?.stop(); // receipts in flight are no longer waited for: their postings stay pending
    this.#wakeAll();
    await Promise.race([Promise.allSettled([...this.#loops, this.#resets?.settled()]), new Promise((r) => setTimeout(r, 15_000))]);
    await this.#closeHttp();
    await this.#peer?.close();
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
        this.#collect(undefined); // what the failed poll deferred is forgotten: the range is read again

        this.#chainErrorStreak++;
        this.#degraded = `chain poll failed ${this.#chainErrorStreak} times in a row: ${rpcFailure(e, this.#d.config.rpcUrl)}`;
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
    const head = await client.getBlockNumber();
    this.#head = head;
    // No new block: no new event, no time passed on-chain (deadlines move with block time), no reorg to look for
    // yet (one at the same height shows at the next block, when the cursor's hash is checked).
    if (head === this.#polledHead) return;
    // The new head, read once: its time and base fee serve the outbox (no block read per job), and with one
    // confirmation it is also the block whose hash the cursor takes and whose parent hash vouches for the cursor.
    const headBlock = await client.getBlock({ blockNumber: head });
    this.#tip = { number: head, time: headBlock.timestamp, baseFee: headBlock.baseFeePerGas ?? undefined };
    const blockAt = (n: bigint) => (n === head ? Promise.resolve(headBlock) : client.getBlock({ blockNumber: n }));
    const safe = head - BigInt(config.confirmations - 1);
    let cursor = store.cursor()?.block ?? config.startBlock - 1n;
    const stored = store.cursor();
    if (stored?.hash) {
      // The processed block is still the chain's: the head's parent hash says so when the head comes right after it.
      // A failed read is not a reorg: it fails the poll, which looks again later (core/cursor.ts).
      const intact = await cursorIntact({ block: stored.block, hash: stored.hash }, { number: head, parentHash: headBlock.parentHash }, blockAt);
      if (!intact) {
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
      // The requests read in this range are written in one transaction with the cursor that covers them (one fsync
      // a poll, not two a request); a poll that fails writes none of them, and the range is read again.
      const batch = store.batch();
      this.#collect(batch);
      // The hash the cursor will take is read before the logs: a reorg after this read shows at the next poll as a
      // changed hash, and the range is read again.
      const block = await blockAt(to);
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
      this.#collect(undefined);
      if (batch.flush(() => store.setCursor(to, block.hash!)) > 0) this.#wakeWork();
      cursor = to;
    }
    await this.#committees!.tick();
    this.#polledHead = head;
    metrics.cursorBlock.set(Number(cursor));
    metrics.cursorLag.set(Number(head - cursor));
  }

  /**
   * Runs one event's handler in isolation. An event recorded as ignored is skipped. A failure caused by the event's
   * content records it as ignored (store, metric, warn log with the reason; the cursor moves on); a failure of the
   * chain or the store is rethrown, so the poll reads the block range again.
   */
  async #handle(event: EventName, subject: Record<string, string>, blockNumber: bigint, run: () => Promise<void>): Promise<void> {
    if (this.#d.store.isIgnored(event, subjectKey(subject))) return;
    const mark = this.#pollBatch?.size ?? 0;
    try {
      await run();
    } catch (e) {
      // The event's own deferred writes go (it is ignored, or the poll fails and reads it again).
      this.#pollBatch?.discardFrom(mark);
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

  /** Sets (or, with undefined, drops) the batch the poll's handlers defer their writes to. */
  #collect(batch: WriteBatch | undefined): void {
    this.#pollBatch = batch;
    this.#resets?.collectInto(batch);
  }

  /** Writes what the running poll has deferred so far (without its cursor) and goes on collecting. */
  #flushPoll(): void {
    if ((this.#pollBatch?.flush() ?? 0) > 0) this.#wakeWork();
  }

  // ───────────────────────────── outbox ─────────────────────────────

  async #outboxLoop(name: string, step: () => Promise<void>): Promise<void> {
    while (this.#running) {
      const wakes = this.#workWakes;
      try {
        await step();
        if (Date.now() - this.#metricsAt >= 1_000) this.#updateOutboxMetrics();
      } catch (e) {
        if (name === "transactions") this.#d.metrics.chainErrors.inc();
        this.#d.log.warn({ loop: name, err: errorText(e) }, "outbox step failed; retrying");
      }
      // Work that arrived during the step woke no sleeper: it is taken at once, not after a whole interval.
      if (this.#workWakes !== wakes) continue;
      await this.#sleep(Math.min(500, this.#d.config.pollIntervalMs), true);
    }
  }

  async #drainTransactions(): Promise<void> {
    await this.#resets!.drainPostings();
    await this.#committees!.drain(() => this.#running, (job, e, permanent) => this.#fail(job, e, permanent));
  }

  #backoff(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.#d.config;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** attempts);
    return Date.now() + Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  #fail(job: OutboxJob, e: unknown, permanent = false): void {
    const { store, config, log } = this.#d;
    if (this.#resets?.dropIfExpired(job)) return;
    const status = store.markFailed(job.id, errorText(e), this.#backoff(job.attempts), permanent ? 0 : config.maxAttempts);
    const line = { job: job.id, attempts: job.attempts + 1, err: errorText(e) };
    if (status === "dead") log.error(line, "job failed too often: dead letter");
    else log.warn(line, "job failed; will retry");
  }

  #updateOutboxMetrics(): void {
    this.#metricsAt = Date.now();
    const { pending, dead } = this.#d.store.counts();
    for (const kind of ["post", "deliver", "committee"]) this.#d.metrics.outboxPending.set({ kind }, pending[kind] ?? 0);
    this.#d.metrics.deadLetters.set(dead);
  }

  // ───────────────────────────── http ─────────────────────────────

  async #startHttp(): Promise<number> {
    const { config, metrics, store } = this.#d;
    this.#http = createMonitorServer({
      log: this.#d.log,
      health: () => {
        const cursor = store.cursor()?.block ?? config.startBlock - 1n;
        const starting = this.#chain === undefined;
        const healthy = !starting && this.#chainErrorStreak < 5;
        return {
          status: healthy ? 200 : 503,
          body: {
            status: healthy ? "ok" : "degraded",
            ...(healthy ? {} : { reason: this.#degraded ?? "the RPC node does not answer" }),
            guardian: this.address,
            cursor: cursor.toString(),
            head: this.#head.toString(),
            ...store.counts(),
            ignoredEvents: store.ignoredEvents(0).total,
          },
        };
      },
      metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
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

  async #closeHttp(): Promise<void> {
    const server = this.#http;
    this.#http = undefined;
    await new Promise<void>((r) => {
      if (!server) return r();
      server.close(() => r());
      server.closeAllConnections();
    });
  }

  /** Retries `fn` until it answers; only `stop()` ends the wait (with a `STOPPED` error). */
  async #retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.#stopping) throw new CGError("STOPPED", `stopped while waiting for ${what}`);
      try {
        return await fn();
      } catch (e) {
        // Never fatal: an agent started before its RPC keeps trying (and says so) until it answers.
        const reason = rpcFailure(e, this.#d.config.rpcUrl);
        this.#degraded = `the RPC node ${rpcOrigin(this.#d.config.rpcUrl)} does not answer ${what} (attempt ${attempt + 1}): ${reason}`;
        this.#d.metrics.chainErrors.inc();
        this.#d.log.warn({ what, attempt: attempt + 1, err: reason }, "RPC call failed; retrying");
        await this.#sleep(Math.min(30_000, 200 * 2 ** Math.min(attempt, 8)));
      }
    }
  }

  /** Sleeps `ms`, or less if the agent stops or, for a sleeper `onWork`, new outbox work arrives. */
  #sleep(ms: number, onWork = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        this.#workSleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
      if (onWork) this.#workSleepers.add(done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  #wakeWork(): void {
    this.#workWakes++;
    for (const wake of [...this.#workSleepers]) wake();
  }
}

/** The store key of an event's subject: `requestId=7`. */
function subjectKey(subject: Record<string, string>): string {
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** An error's message without secrets: our errors never carry them; foreign ones are cut short. */
/** A failed RPC call in one line, without the URL's path or query. */
export function rpcFailure(e: unknown, rpcUrl: string): string {
  let text: string;
  if (e instanceof BaseError) {
    const details = e.details && e.details !== e.shortMessage ? ` (${e.details})` : "";
    text = `${e.shortMessage}${details}`;
  } else text = errorText(e);
  return text.split(rpcUrl).join(rpcOrigin(rpcUrl)).split("\n")[0].slice(0, 300);
}

export function errorText(e: unknown): string {
  if (e instanceof CGError) return `${e.code}: ${e.message}`;
  // A contract's refusal is named (its first line alone reads the same for every custom error and for a node's
  // internal error); the arguments are left out.
  const revert = e instanceof BaseError ? (e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
  if (revert) return `${(e as BaseError).shortMessage} ${revert.data?.errorName ? `(${revert.data.errorName})` : `(no reason: ${revert.reason ?? (e as BaseError).details ?? "none"})`}`.split("\n")[0].slice(0, 300);
  if (e instanceof Error) return e.message.split("\n")[0].slice(0, 300);
  return String(e).slice(0, 300);
}
