/**
 * Accounts and resets (PROTOCOL.md §5, §6, §7): the agent keeps the channel URI of every account slot it serves,
 * and for each reset or drill request of a committee it is a member of (active epoch) it computes the message m,
 * draws a channel code, makes its verifiably encrypted partial, posts it on-chain, then delivers the code.
 *
 * Exactly once across crashes: a serving (request, slot, committee epoch) is written with its code (sealed), its
 * posting and the `post:<requestId>:<slot>:<epoch>` job in one database transaction, before anything leaves the
 * process. The post job checks the chain first (a posting already there is not repeated); it is marked done once
 * the posting is `confirmations` deep, and the transaction that marks it done enqueues
 * `deliver:<requestId>:<slot>:<epoch>`, whose key travels as Message-ID / Idempotency-Key. A reorg that drops the
 * posting's block before that leaves the job pending: the same posting is sent again, the code delivered once. Work for a request that expired, closed or whose epoch retired is dropped with its reason.
 * Postings due at the same moment go in one `postPartials` transaction; its receipt is waited for apart (up to
 * MAX_IN_FLIGHT transactions at once), so the postings made meanwhile go out in the next pass instead of waiting
 * behind it, and a posting in flight is not sent again until its receipt answers.
 *
 * After a handover activates, the members of the new epoch serve the requests still pending unless the retired
 * epoch already posted t (K is unchanged, so those complete the reset); the client combines t of one epoch.
 */
import {
  type Address,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type WalletClient,
  getAbiItem,
  hexToBytes,
  toHex,
} from "viem";

import { committeeRegistryAbi, resetCoordinatorAbi } from "../sdk/abi/index.ts";
import { type G1Point, G1, g1FromEip2537, hashToG1 } from "../sdk/crypto/bls.ts";
import { channelCodeScalar, compressPosting, makePosting, requesterKeyHash } from "../sdk/crypto/posting.ts";
import { formatCodeMessage, generateChannelCode } from "../sdk/encoding/channelCode.ts";
import { resetMessage } from "../sdk/encoding/messages.ts";
import { COMMITTEE_MAX_SIZE } from "../sdk/crypto/constants.ts";
import { CGError } from "../sdk/errors.ts";
import { openEnvelope, unpackEntries } from "../sdk/protocol/account.ts";
import type { AgentDeps } from "./agent.ts";
import { type ChannelKind, channelKind } from "./channels/channel.ts";
import type { CodeDelivery } from "./core/messages.ts";
import { failpoint, isFailpoint } from "./failpoints.ts";
import type { PeerApi } from "./peer.ts";
import type { OutboxJob, RequestRow, WriteBatch } from "./store.ts";

export const RESET_EVENTS = [
  getAbiItem({ abi: resetCoordinatorAbi, name: "AccountLinked" }),
  getAbiItem({ abi: resetCoordinatorAbi, name: "AccountRotated" }),
  getAbiItem({ abi: resetCoordinatorAbi, name: "ResetRequested" }),
] as const;

const PENDING = 1;
/**
 * Bytes of an `AccountLinked` / `AccountRotated` envelope list the agent reads: one envelope (HPKE enc, a channel
 * URI, tag) is a few hundred bytes, so 32 of them fit many times over. A longer list, one that does not unpack, or
 * one with more entries than a committee has slots makes the event ignored (INVALID_ENVELOPES).
 */
export const ENVELOPE_LIST_LIMIT = 65_536;

interface PostPayload {
  requestId: string;
  slot: number;
  committeeEpoch: number;
  message: Hex;
  posting: Hex;
  expiresAt: string;
}

interface DeliverPayload {
  requestId: string;
  slot: number;
  committeeEpoch: number;
  accountId: Hex;
  accountEpoch: string;
  committeeId: string;
  drill: boolean;
  code: Hex;
  expiresAt: string;
}

export interface ResetDeps extends AgentDeps {
  publicClient: PublicClient;
  wallet: WalletClient;
  chain: Chain;
  peer: PeerApi;
  wake: () => void;
  fail: (job: OutboxJob, e: unknown, permanent?: boolean) => void;
  /** The newest block the chain loop read, if any yet. */
  tip: () => ChainTip | undefined;
}

/** What the outbox needs of the chain's head, read once per new block by the chain loop. */
export interface ChainTip {
  number: bigint;
  /** Seconds. */
  time: bigint;
  /** Undefined on a chain without EIP-1559. */
  baseFee?: bigint;
}

/** Posting transactions waiting for their receipts at once, at most; and postings a pass takes. */
const MAX_IN_FLIGHT = 4;
const POSTINGS_PER_PASS = 50;

/** How long a priority-fee estimate is used before it is asked again. */
const PRIORITY_FEE_TTL_MS = 30_000;

type Args = Record<string, any>;

export class ResetWork {
  readonly #d: ResetDeps;
  /** Receipt waits of the posting transactions in flight, and the jobs they carry. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #sending = new Set<string>();
  #stopped = false;
  /** The head read at the start of the running postings pass, for its confirmation checks. */
  #passHead?: bigint;
  /** The chain loop's batch while it handles a range of blocks: the requests of one poll are written with the cursor
   *  that covers them (guardian/agent.ts). Only the chain loop's handlers use it. */
  #pollBatch?: WriteBatch;

  constructor(deps: ResetDeps) {
    this.#d = deps;
  }

  /** Writes of the requests handled from now on go to `batch` (undefined: each is written at once). */
  collectInto(batch: WriteBatch | undefined): void {
    this.#pollBatch = batch;
  }

  /** Runs `write` in the poll's batch, or at once in a transaction of its own. */
  #write(write: () => void): void {
    if (this.#pollBatch !== undefined) this.#pollBatch.later(write);
    else this.#d.store.transaction(write);
  }

  get #chainId(): bigint {
    return BigInt(this.#d.chain.id);
  }

  handlers() {
    return {
      AccountLinked: { subject: (a: Args) => ({ accountId: String(a.accountId), epoch: String(a.epoch) }), run: (a: Args) => this.#onAccount(a) },
      AccountRotated: { subject: (a: Args) => ({ accountId: String(a.accountId), epoch: String(a.epoch) }), run: (a: Args) => this.#onAccount(a) },
      ResetRequested: { subject: (a: Args) => ({ requestId: String(a.requestId) }), run: (a: Args, b: bigint) => this.#onRequested(a, b) },
    };
  }

  // ───────────────────────────── accounts ─────────────────────────────

  /** The slot this guardian holds in `committeeId` at its active epoch, with the share, or undefined. */
  async #membership(committeeId: bigint) {
    const view = await this.#d.publicClient.readContract({ address: this.#d.config.committees, abi: committeeRegistryAbi, functionName: "committee", args: [committeeId] });
    const share = this.#d.store.getCommitteeShare(committeeId.toString(), Number(view.activeEpoch));
    return share && { epoch: Number(view.activeEpoch), threshold: Number(view.threshold), ...share };
  }

  async #onAccount(a: Args): Promise<void> {
    const { store, log } = this.#d;
    const committeeId = BigInt(a.committeeId);
    const accountEpoch = BigInt(a.epoch);
    const envelopes = envelopeList(a.envelopes);
    const member = await this.#membership(committeeId);
    if (member === undefined) return;
    if (store.getChannel(a.accountId, accountEpoch, member.slot) !== undefined) return;
    const context = { accountId: a.accountId as string, accountEpoch: accountEpoch.toString(), slot: member.slot };
    let uri: string;
    try {
      const envelope = envelopes[member.slot - 1] ?? "0x";
      uri = await openEnvelope(this.#d.hpkeSecret, { chainId: this.#chainId, coordinator: this.#d.config.coordinator, accountId: a.accountId, accountEpoch, slot: member.slot }, envelope);
      channelKind(uri);
    } catch (e) {
      // Sealed to whoever held the slot when the link was prepared, or unusable: the channel is learned from the
      // other members (peer API) when a request needs it.
      log.warn({ ...context, reason: e instanceof CGError ? e.code : "INVALID_ENVELOPE" }, "envelope does not open: the channel will be learned from peers");
      return;
    }
    store.putChannel(a.accountId, accountEpoch, member.slot, uri, "envelope");
    log.info({ ...context, channel: channelKind(uri) }, "account slot served: channel stored");
  }

  // ───────────────────────────── requests ─────────────────────────────

  async #onRequested(a: Args, blockNumber: bigint): Promise<void> {
    const row: RequestRow = {
      requestId: BigInt(a.requestId),
      accountId: a.accountId,
      committeeId: BigInt(a.committeeId),
      accountEpoch: BigInt(a.accountEpoch),
      newController: a.newController,
      drill: Boolean(a.drill),
      requesterKey: a.requesterKey,
      expiresAt: BigInt(a.expiresAt),
      blockNumber,
    };
    const A = g1FromEip2537(hexToBytes(row.requesterKey), "requester key A"); // a key that is no point makes the event ignored
    this.#write(() => this.#d.store.putRequest(row));
    const member = await this.#membership(row.committeeId);
    if (member === undefined) {
      this.#d.log.debug({ requestId: row.requestId.toString() }, "request of a committee this guardian does not serve at its active epoch");
      return;
    }
    await this.#serveIfOpen(row, member, false, A);
  }

  /** A handover activated `epoch` of `committeeId`: its members serve the requests still pending. */
  async onEpochActivated(committeeId: bigint, epoch: bigint): Promise<void> {
    const member = await this.#membership(committeeId);
    if (member === undefined || member.epoch !== Number(epoch)) return;
    for (const row of this.#d.store.openRequests(committeeId)) await this.#serveIfOpen(row, member, true);
  }

  /** `A` is the requester key decoded from `row.requesterKey`, when the caller has it already. */
  async #serveIfOpen(row: RequestRow, member: { epoch: number; slot: number; share: bigint; threshold: number }, afterHandover: boolean, decodedA?: G1Point): Promise<void> {
    const { store, log, config, publicClient } = this.#d;
    const context = { requestId: row.requestId.toString(), slot: member.slot, committeeEpoch: member.epoch };
    const A = decodedA ?? g1FromEip2537(hexToBytes(row.requesterKey), "requester key A");
    const message = resetMessage({
      chainId: this.#chainId,
      coordinator: config.coordinator,
      requestId: row.requestId,
      accountId: row.accountId,
      accountEpoch: row.accountEpoch,
      committeeId: row.committeeId,
      newController: row.newController,
      requesterKeyHash: requesterKeyHash(A),
    });
    const key = `${row.requestId}:${member.slot}:${member.epoch}`;
    const existing = store.getServing(row.requestId, member.slot, member.epoch);
    if (existing !== undefined) {
      if (existing.message === message) {
        // Served already (an event read again, or a request a reorg put back): the same posting, queued again if a
        // rollback forgot its job (a no-op while the job is pending or done).
        if (store.enqueue(`post:${key}`, "post", { requestId: row.requestId.toString(), slot: member.slot, committeeEpoch: member.epoch, message, posting: existing.posting, expiresAt: row.expiresAt.toString() } satisfies PostPayload)) {
          log.info(context, "request put back by a reorg: the same posting queued again");
          this.#d.wake();
        }
        return;
      }
      // A reorg replaced the request this serving was made for by another under the same id.
      store.deleteServing(row.requestId, member.slot, member.epoch);
      log.info(context, "request id taken by another request after a reorg: serving it afresh");
    }
    if (isFailpoint("serve.none")) return; // a member that never serves (tests of handovers mid-request)
    const view = await publicClient.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "reset", args: [row.requestId] });
    const closed = view.expired ? "expired" : view.voided ? "voided" : view.status !== PENDING ? "closed" : undefined;
    if (closed !== undefined) {
      this.#write(() => store.closeRequest(row.requestId, closed));
      log.info({ ...context, reason: closed }, "request not served: no longer pending");
      return;
    }
    if (afterHandover && Number(view.postingEpoch) < member.epoch && popcount(Number(view.posted)) >= member.threshold) {
      log.info(context, "request not served again: the retired epoch posted t partials");
      return;
    }
    const hashed = hashToG1(hexToBytes(message));
    let code: Uint8Array;
    let posting;
    for (;;) {
      code = generateChannelCode();
      try {
        posting = makePosting({ share: { index: member.slot, value: member.share }, hashedMessage: hashed, requesterKey: A, c: channelCodeScalar(this.#chainId, config.coordinator, row.requestId, member.slot, code) });
        break;
      } catch (e) {
        if (!(e instanceof CGError && (e.code === "REQUESTER_KEY_CANCELS" || e.code === "ZERO_SCALAR"))) throw e;
      }
    }
    // A misbehaving guardian for the demo and the fraud-proof tests: W off by the generator.
    if (isFailpoint("serve.invalid-posting")) posting = { ...posting, W: posting.W.add(G1.BASE) };
    const compressed = toHex(compressPosting(posting));
    // Written with the request (and, in the chain loop, with the cursor of the poll that read it): nothing of it leaves
    // the process before this commits.
    this.#write(() => {
      store.putServing({ requestId: row.requestId, slot: member.slot, committeeEpoch: member.epoch, code, message, posting: compressed });
      store.enqueue(`post:${key}`, "post", { requestId: row.requestId.toString(), slot: member.slot, committeeEpoch: member.epoch, message, posting: compressed, expiresAt: row.expiresAt.toString() } satisfies PostPayload);
    });
    this.#d.metrics.requestsServed.inc();
    log.info({ ...context, drill: row.drill }, "posting made: queued for the chain");
    // The outbox is woken once the job is written: in a poll's batch, by the poll's flush (woken now, it would find
    // nothing and then sleep through that flush's wake).
    if (this.#pollBatch === undefined) this.#d.wake();
  }

  // ───────────────────────────── outbox: postings ─────────────────────────────

  /** Sends due postings: those the chain already has are marked done, those that can no longer land are dropped,
   *  the rest go in one transaction (`postPartials`, or `postPartial` for one). */
  async drainPostings(): Promise<void> {
    const { store, config, publicClient } = this.#d;
    // At most MAX_IN_FLIGHT posting transactions wait for their receipts at once; their postings are not sent again
    // meanwhile.
    while (this.#inFlight.size >= MAX_IN_FLIGHT && !this.#stopped) await Promise.race(this.#inFlight);
    if (this.#stopped) return;
    const jobs = store.due("post", Date.now(), POSTINGS_PER_PASS + this.#sending.size).filter((j) => !this.#sending.has(j.id)).slice(0, POSTINGS_PER_PASS);
    if (jobs.length === 0) return;
    await this.#now();
    // The head for the confirmation checks of this pass, read now: the chain loop's may be seconds old while it handles
    // a burst of requests, and a posting's delivery would wait for it.
    this.#passHead = undefined;
    if (config.confirmations > 1) this.#passHead = await publicClient.getBlockNumber().catch(() => undefined);
    // The postings of this pass that are confirmed (done, their deliveries queued) or dropped are written together.
    const batch = store.batch();
    try {
      await this.#sendPostings(jobs, batch);
    } finally {
      if (batch.flush() > 0) this.#d.wake();
    }
  }

  async #sendPostings(jobs: OutboxJob[], batch: WriteBatch): Promise<void> {
    const { config, log, metrics } = this.#d;
    let pending = jobs;
    for (let round = 1; ; round++) {
      const send = await this.#checkPostings(pending, batch);
      if (send.length === 0) return;
      const inputs = send.map((j) => {
        const p = j.payload as PostPayload;
        return { requestId: BigInt(p.requestId), slot: p.slot, committeeEpoch: p.committeeEpoch, message: p.message, posting: p.posting };
      });
      try {
        const fees = await this.#fees();
        // Sent one after the other from this loop, so the wallet's nonce (the account's pending transaction count)
        // counts every earlier one, also those still waiting for their receipts.
        const hash =
          inputs.length === 1
            ? await this.#d.wallet.writeContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "postPartial", args: [inputs[0]], account: this.#d.operator, chain: this.#d.chain, ...fees })
            : await this.#d.wallet.writeContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "postPartials", args: [inputs], account: this.#d.operator, chain: this.#d.chain, ...fees });
        // The receipt is waited for apart: the next passes send the postings made meanwhile instead of waiting behind
        // it. Its postings are not sent again while it is in flight; afterwards they are checked against the chain.
        for (const j of send) this.#sending.add(j.id);
        const watch = this.#watch(hash, send, inputs).finally(() => {
          for (const j of send) this.#sending.delete(j.id);
          this.#inFlight.delete(watch);
        });
        this.#inFlight.add(watch);
        return;
      } catch (e) {
        metrics.postings.inc({ outcome: "error" }, send.length);
        // One posting whose request closed (completed, expired, voided), whose slot posted or whose epoch retired since
        // the checks makes the contract refuse the whole batch at its estimate. Checked again at once, those are dropped
        // (or marked posted) and the rest go out, up to 3 rounds; they would otherwise all wait out a backoff and meet
        // the next request that closed in their next batch.
        if (send.length > 1 && round < 3 && refusedForRequestState(e)) {
          log.info({ postings: send.length, round }, "batch refused for a request that changed: checking again");
          pending = send;
          continue;
        }
        // Any other failure: each is checked against the chain again and sent next time.
        for (const j of send) this.#d.fail(j, e);
        return;
      }
    }
  }

  /** Waits for a posting transaction's receipt: counts it, and with one confirmation marks its postings done. */
  async #watch(hash: Hex, send: OutboxJob[], inputs: { requestId: bigint }[]): Promise<void> {
    const { config, log, metrics, store } = this.#d;
    try {
      const receipt = await this.#receipt(hash);
      if (receipt.status !== "success") throw new CGError("TX_REVERTED", `posting of ${inputs.length} partial(s) reverted`);
      failpoint("serve.after-post");
      metrics.postings.inc({ outcome: "ok" }, send.length);
      log.info(
        { requests: inputs.map((i) => i.requestId.toString()), block: receipt.blockNumber.toString(), gasUsed: receipt.gasUsed.toString() },
        inputs.length === 1 ? "partial posted" : "partials posted in one transaction",
      );
      // Delivered only once confirmed (next passes), like the requests the chain loop acts on.
      if (config.confirmations <= 1) {
        const batch = store.batch();
        for (const j of send) this.#posted(j, "posted", batch);
        batch.flush();
      }
      this.#d.wake();
    } catch (e) {
      if (this.#stopped) return; // stopping: the jobs stay pending, checked against the chain at the next start
      metrics.postings.inc({ outcome: "error" }, send.length);
      for (const j of send) this.#d.fail(j, e);
    }
  }

  /** Waits for the posting transactions in flight (their receipts, or the stop). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops waiting for receipts: the postings in flight stay pending (checked against the chain at the next start). */
  stop(): void {
    this.#stopped = true;
  }

  /** The due posting jobs that should be sent now; the others are marked posted, dropped or failed. */
  async #checkPostings(jobs: OutboxJob[], batch: WriteBatch): Promise<OutboxJob[]> {
    const { store, config, publicClient } = this.#d;
    // Every job is checked at once (concurrent reads), so the chain's state is read right before the transaction: read
    // one after the other, a batch's checks took as many round trips as it has jobs, and a request completed meanwhile
    // made the contract refuse the whole batch.
    const active = new Map<string, Promise<bigint>>();
    const checked = await Promise.all(
      jobs.map(async (job): Promise<OutboxJob | undefined> => {
        const p = job.payload as PostPayload;
        const requestId = BigInt(p.requestId);
        try {
          const view = await publicClient.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "reset", args: [requestId] });
          if (postedIn(view, p)) {
            // On-chain: delivered once `confirmations` deep; until then left pending (not sent again). A reorg that
            // drops the posting's block before that shows here as "not posted", and the same posting is sent again.
            if (await this.#confirmed(p)) this.#posted(job, "confirmed on-chain", batch);
            return undefined;
          }
          const request = store.getRequest(requestId);
          const committeeId = request?.committeeId;
          let activeEpoch: bigint | undefined;
          if (committeeId !== undefined) {
            const key = committeeId.toString();
            if (!active.has(key)) {
              active.set(key, publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "committee", args: [committeeId] }).then((c) => c.activeEpoch));
            }
            activeEpoch = await active.get(key)!;
          }
          const drop = view.expired ? "expired" : view.voided ? "voided" : view.status !== PENDING ? "closed" : activeEpoch !== BigInt(p.committeeEpoch) ? "epoch-retired" : undefined;
          if (drop !== undefined) {
            this.#drop(job, drop, batch);
            return undefined;
          }
          // Postings are not checked on-chain when posted: never send one for a request a reorg removed (its id may be
          // taken by another request before the chain loop sees the reorg).
          if (request === undefined || !(await this.#announced(request))) {
            this.#d.fail(job, new CGError("REQUEST_NOT_CANONICAL", `request ${p.requestId} is not announced on the chain as this guardian saw it (reorg)`));
            return undefined;
          }
          return job;
        } catch (e) {
          this.#d.fail(job, e);
          return undefined;
        }
      }),
    );
    return checked.filter((j): j is OutboxJob => j !== undefined);
  }

  /**
   * The receipt of a posting transaction, waited for at most 60 s; a transaction the node no longer knows (neither
   * mined nor pooled: a reorg dropped its block) fails at once, so the job is checked against the chain and sent
   * again rather than waited for.
   */
  async #receipt(hash: Hex): Promise<TransactionReceipt> {
    const { publicClient, config } = this.#d;
    const deadline = Date.now() + 60_000;
    let unknown = 0;
    for (;;) {
      const receipt = await publicClient.getTransactionReceipt({ hash }).catch((e) => {
        if (e instanceof TransactionReceiptNotFoundError) return undefined;
        throw e;
      });
      if (receipt !== undefined) return receipt;
      const known = await publicClient.getTransaction({ hash }).then(
        () => true,
        (e) => {
          if (e instanceof TransactionNotFoundError) return false;
          throw e;
        },
      );
      unknown = known ? 0 : unknown + 1;
      if (unknown >= 3) throw new CGError("TX_DROPPED", `posting transaction ${hash} is neither mined nor pending (reorg)`);
      if (this.#stopped) throw new CGError("STOPPED", `stopped while waiting for posting transaction ${hash}`);
      if (Date.now() > deadline) throw new CGError("TX_TIMEOUT", `no receipt for posting transaction ${hash} within 60 s`);
      await new Promise((r) => setTimeout(r, Math.min(Math.max(config.pollIntervalMs, 50), 1_000)));
    }
  }

  /** Whether the chain as it is now announces `request` (its `ResetRequested`, with the same requester key). */
  async #announced(request: RequestRow): Promise<boolean> {
    const { config, publicClient } = this.#d;
    const logs = await publicClient.getLogs({
      address: config.coordinator,
      event: getAbiItem({ abi: resetCoordinatorAbi, name: "ResetRequested" }),
      args: { requestId: request.requestId },
      fromBlock: request.blockNumber > BigInt(config.reorgWindow) ? request.blockNumber - BigInt(config.reorgWindow) : 0n,
      toBlock: "latest",
    });
    return logs.some((l) => !l.removed && String(l.args.requesterKey).toLowerCase() === request.requesterKey.toLowerCase());
  }

  /**
   * Whether the posting is in the chain `confirmations` deep: read at the head the chain loop last saw, less
   * `confirmations − 1` (by number, on the chain as it is now).
   */
  async #confirmed(p: PostPayload): Promise<boolean> {
    const { config, publicClient } = this.#d;
    if (config.confirmations <= 1) return true;
    const tip = this.#d.tip()?.number;
    const head = this.#passHead !== undefined && (tip === undefined || this.#passHead > tip) ? this.#passHead : (tip ?? (await publicClient.getBlockNumber()));
    const safe = head - BigInt(config.confirmations - 1);
    if (safe < 0n) return false;
    const view = await publicClient.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "reset", args: [BigInt(p.requestId)], blockNumber: safe });
    return postedIn(view, p);
  }

  /** The posting is on-chain (and confirmed): mark it done and queue its delivery, in one transaction (the pass's). */
  #posted(job: OutboxJob, how: string, batch: WriteBatch): void {
    const { store, log } = this.#d;
    const p = job.payload as PostPayload;
    const key = `${p.requestId}:${p.slot}:${p.committeeEpoch}`;
    const requestId = BigInt(p.requestId);
    const code = store.servingCode(requestId, p.slot, p.committeeEpoch);
    const request = store.getRequest(requestId);
    batch.later(() => {
      store.markDone(job.id);
      if (code === undefined || request === undefined) return; // forgotten by a deep reorg
      store.enqueue(`deliver:${key}`, "deliver", {
        requestId: p.requestId,
        slot: p.slot,
        committeeEpoch: p.committeeEpoch,
        accountId: request.accountId,
        accountEpoch: request.accountEpoch.toString(),
        committeeId: request.committeeId.toString(),
        drill: request.drill,
        code: toHex(code),
        expiresAt: request.expiresAt.toString(),
      } satisfies DeliverPayload);
    });
    log.info({ requestId: p.requestId, slot: p.slot, committeeEpoch: p.committeeEpoch, how }, "posting on-chain: delivery queued");
  }

  /** The chain time last seen (seconds), for judging expiry without a read. */
  #chainTime = 0n;

  /** The head's time as the chain loop last read it (at most a poll interval old); read here only before its first poll. */
  async #now(): Promise<bigint> {
    const tip = this.#d.tip();
    this.#chainTime = tip !== undefined ? tip.time : (await this.#d.publicClient.getBlock({ blockTag: "latest" })).timestamp;
    return this.#chainTime;
  }

  #priorityFee?: { value: bigint; at: number };

  /**
   * EIP-1559 fees for a posting, so that the wallet does not read a block and the priority fee per transaction:
   * twice the base fee of the head the chain loop read (room for six full blocks of +12.5 %) plus the priority fee,
   * asked at most every 30 s. Nothing on a chain without a base fee (the wallet then prices the transaction).
   */
  async #fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | Record<string, never>> {
    const baseFee = this.#d.tip()?.baseFee;
    if (baseFee === undefined) return {};
    if (this.#priorityFee === undefined || Date.now() - this.#priorityFee.at > PRIORITY_FEE_TTL_MS) {
      this.#priorityFee = { value: await this.#d.publicClient.estimateMaxPriorityFeePerGas({ chain: this.#d.chain }), at: Date.now() };
    }
    const tip = this.#priorityFee.value;
    return { maxFeePerGas: baseFee * 2n + tip, maxPriorityFeePerGas: tip };
  }

  /** A failed post or delivery whose request has expired is dropped instead of retried. */
  dropIfExpired(job: OutboxJob): boolean {
    const expiresAt = (job.payload as { expiresAt?: string }).expiresAt;
    if (expiresAt === undefined || this.#chainTime <= BigInt(expiresAt)) return false;
    this.#drop(job, "expired");
    return true;
  }

  /** Drops a job: with the pass's `batch` if given, else at once. */
  #drop(job: OutboxJob, reason: string, batch?: Pick<WriteBatch, "later">): void {
    const { store, log, metrics } = this.#d;
    const p = job.payload as { requestId: string; slot: number; committeeEpoch: number };
    const write = (w: () => void) => (batch !== undefined ? batch.later(w) : store.transaction(w));
    write(() => {
      store.markDropped(job.id, reason);
      if (reason !== "epoch-retired") store.closeRequest(BigInt(p.requestId), reason);
    });
    metrics.jobsDropped.inc({ kind: job.kind, reason });
    log.info({ job: job.id, reason }, "job dropped: it can no longer take effect");
  }

  // ───────────────────────────── outbox: deliveries ─────────────────────────────

  async drainDeliveries(): Promise<void> {
    const { store } = this.#d;
    const jobs = store.due("deliver");
    if (jobs.length === 0) return;
    const now = await this.#now();
    // The deliveries of this pass that are answered at the same moment are recorded done in one transaction, right
    // after (not when the whole pass has answered: that would widen the window in which a crash makes the agent
    // send a message again, with the same idempotency key, that the receiver already took).
    const batch = store.batch();
    let scheduled = false;
    const record = (write: () => void) => {
      batch.later(write);
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        try {
          batch.flush();
        } catch (e) {
          this.#d.log.warn({ err: e instanceof Error ? e.message.split("\n")[0] : String(e) }, "recording deliveries failed: they will be sent again");
        }
      });
    };
    try {
      await Promise.all(jobs.map((job) => this.#deliver(job, now, record)));
    } finally {
      batch.flush();
    }
  }

  async #deliver(job: OutboxJob, now: bigint, record: (write: () => void) => void): Promise<void> {
    const { store, config, metrics, log } = this.#d;
    const p = job.payload as DeliverPayload;
    if (now > BigInt(p.expiresAt)) return this.#drop(job, "expired", { later: record });
    let kind: ChannelKind | undefined;
    try {
      const uri = store.getChannel(p.accountId, BigInt(p.accountEpoch), p.slot) ?? (await this.#d.peer.learnChannel(p.accountId, BigInt(p.accountEpoch), BigInt(p.committeeId), p.slot));
      kind = channelKind(uri);
      const channel = this.#d.channels[kind];
      if (channel === undefined) throw new CGError("CHANNEL_REJECTED", `no ${kind} channel is configured`);
      const code = formatCodeMessage({ requestId: BigInt(p.requestId), slot: p.slot, code: hexToBytes(p.code) });
      const delivery: CodeDelivery = {
        requestId: BigInt(p.requestId),
        slot: p.slot,
        code,
        link: config.resetPageUrl ? `${config.resetPageUrl}#${code}` : undefined,
        drill: p.drill,
        chainId: this.#chainId,
        coordinator: config.coordinator,
        guardian: this.#d.operator.address as Address,
        idempotencyKey: `cg2-${this.#chainId}-${config.coordinator.toLowerCase()}-${p.requestId}-${p.slot}-${p.committeeEpoch}`,
      };
      await channel.deliver(uri, delivery);
      record(() => store.markDone(job.id));
      metrics.deliveries.inc({ channel: kind, outcome: "ok" });
      log.info({ requestId: p.requestId, slot: p.slot, committeeEpoch: p.committeeEpoch, channel: kind, drill: p.drill }, "code delivered");
    } catch (e) {
      const permanent = e instanceof CGError && e.code === "CHANNEL_REJECTED";
      metrics.deliveries.inc({ channel: kind ?? "unknown", outcome: permanent ? "rejected" : "retry" });
      this.#d.fail(job, e, permanent);
    }
  }
}

/** The contract's refusals of a posting that a change of its request since the checks explains. */
const REQUEST_STATE_REFUSALS = new Set(["ResetNotPending", "ResetExpired", "ResetVoided", "ResetEpochNotActive", "ResetAlreadyPosted"]);

function refusedForRequestState(e: unknown): boolean {
  if (!(e instanceof BaseError)) return false;
  const revert = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  return revert?.data?.errorName !== undefined && REQUEST_STATE_REFUSALS.has(revert.data.errorName);
}

/** Whether a request's view shows the posting of `p`'s slot by `p`'s committee epoch. */
function postedIn(view: { postingEpoch: bigint | number; posted: bigint | number }, p: { slot: number; committeeEpoch: number }): boolean {
  return Number(view.postingEpoch) === p.committeeEpoch && (Number(view.posted) & (1 << (p.slot - 1))) !== 0;
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

/** The envelopes of a link or rotation event, or `INVALID_ENVELOPES` (the event is then ignored). */
function envelopeList(packed: unknown): Hex[] {
  if (typeof packed !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(packed)) throw new CGError("INVALID_ENVELOPES", "the envelope list is not bytes");
  const bytes = (packed.length - 2) / 2;
  if (bytes > ENVELOPE_LIST_LIMIT) throw new CGError("INVALID_ENVELOPES", `the envelope list has ${bytes} bytes, over the ${ENVELOPE_LIST_LIMIT}-byte limit`);
  let entries: Hex[];
  try {
    entries = unpackEntries(packed as Hex);
  } catch (cause) {
    throw new CGError("INVALID_ENVELOPES", "the envelope list does not unpack", { cause });
  }
  if (entries.length > COMMITTEE_MAX_SIZE) throw new CGError("INVALID_ENVELOPES", `the envelope list has ${entries.length} entries, more than a committee's ${COMMITTEE_MAX_SIZE} slots`);
  return entries;
}
