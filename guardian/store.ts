/**
 * The guardian's local database (SQLite through `node:sqlite`): the chain cursor, committee rounds and shares, the
 * channel URIs of the slots it serves, reset requests, its servings (channel code and posting per request, slot and
 * committee epoch), chain events ignored because of their content (with the reason), and an outbox of side effects.
 * Secrets (shares, channel URIs, channel codes, round state) are sealed at rest with a key derived from the
 * guardian's HPKE secret. Every multi-row change happens in one transaction, so a crash leaves
 * either all of it or none of it.
 *
 * Commits are grouped: each one is a synchronous fsync (synchronous = FULL) on the agent's only thread, so the work
 * of one pass goes in one transaction (the requests of one poll with the cursor that covers them, the postings of
 * one batch confirmed together, the deliveries of a pass answered at the same moment). A `WriteBatch` collects the
 * writes of a pass, to be written by its `flush` in one transaction with whatever must commit with them; a crash
 * before then loses only work that nothing outside the process has seen, or that is safe to repeat (a delivery is
 * sent again under its idempotency key), and that is done again. `commits` counts the commits made.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";

import type { Address, Hex } from "viem";

import { CGError } from "../sdk/errors.ts";

const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE maps (
     map_id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, epoch INTEGER NOT NULL, idx INTEGER NOT NULL,
     committee TEXT NOT NULL, commitments TEXT NOT NULL, commitments_hash TEXT NOT NULL,
     share_sealed BLOB, channel_sealed BLOB, status TEXT NOT NULL, reason TEXT, block_number INTEGER NOT NULL);
   CREATE TABLE requests (
     request_id INTEGER PRIMARY KEY, map_id INTEGER NOT NULL, account_id TEXT NOT NULL, state TEXT NOT NULL,
     reason TEXT, block_number INTEGER NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE outbox (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, payload_sealed BLOB NOT NULL, status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX outbox_due ON outbox (status, next_attempt_at);`,
  // Events whose content a handler could not process: never handled again (a reorg that removes their block
  // forgets them, like ignored requests).
  `CREATE TABLE ignored_events (
     event TEXT NOT NULL, key TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT,
     block_number INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (event, key));`,
  // Committee rounds this guardian takes part in (their state machine, sealed: it holds dealt and received
  // sub-shares), and its shares of active committee epochs (sealed).
  `CREATE TABLE committee_rounds (
     committee_id TEXT NOT NULL, epoch INTEGER NOT NULL, phase TEXT NOT NULL, state_sealed BLOB NOT NULL,
     block_number INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (committee_id, epoch));
   CREATE TABLE committee_shares (
     committee_id TEXT NOT NULL, epoch INTEGER NOT NULL, slot INTEGER NOT NULL, share_sealed BLOB NOT NULL,
     commitments TEXT NOT NULL, PRIMARY KEY (committee_id, epoch));`,
  // Protocol v2 accounts and resets: per-account shard maps, acknowledgements, fragments and share commits are gone.
  // Channels are kept per (account, account epoch, slot), sealed; requests as announced; one serving per
  // (request, slot, committee epoch) holding the channel code (sealed) and the posting it was made for.
  `DROP TABLE maps;
   DROP TABLE requests;
   DELETE FROM outbox WHERE kind IN ('acknowledge', 'deliver', 'commit');
   CREATE TABLE channels (
     account_id TEXT NOT NULL, account_epoch INTEGER NOT NULL, slot INTEGER NOT NULL, uri_sealed BLOB NOT NULL,
     source TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (account_id, account_epoch, slot));
   CREATE TABLE requests (
     request_id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, committee_id TEXT NOT NULL, account_epoch INTEGER NOT NULL,
     new_controller TEXT NOT NULL, drill INTEGER NOT NULL, requester_key TEXT NOT NULL, expires_at INTEGER NOT NULL,
     block_number INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL);
   CREATE INDEX requests_open ON requests (committee_id, state);
   CREATE TABLE servings (
     request_id INTEGER NOT NULL, slot INTEGER NOT NULL, committee_epoch INTEGER NOT NULL, code_sealed BLOB NOT NULL,
     message TEXT NOT NULL, posting TEXT NOT NULL, created_at INTEGER NOT NULL,
     PRIMARY KEY (request_id, slot, committee_epoch));`,
];

export type OutboxKind = "post" | "deliver" | "committee";
export type OutboxStatus = "pending" | "done" | "dead" | "dropped";

/** A reset or drill request as its `ResetRequested` event announced it (public data). */
export interface RequestRow {
  requestId: bigint;
  accountId: Hex;
  committeeId: bigint;
  accountEpoch: bigint;
  newController: Address;
  drill: boolean;
  requesterKey: Hex;
  expiresAt: bigint;
  blockNumber: bigint;
}

/** A chain event recorded as ignored: `key` names it within its kind (e.g. `requestId=7`). */
export interface IgnoredEvent {
  event: string;
  key: string;
  reason: string;
  detail?: string;
  blockNumber: bigint;
  createdAt: number;
}

export interface OutboxJob<T = unknown> {
  id: string;
  kind: OutboxKind;
  payload: T;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
}

export class Store {
  readonly db: DatabaseSync;
  readonly #key: Uint8Array;
  /** Commits made (explicit transactions and autocommitted writes), for measuring how they are grouped. */
  commits = 0;

  constructor(path: string, hpkeSecret: Uint8Array) {
    try {
      this.db = new DatabaseSync(path);
    } catch (cause) {
      throw new CGError("STORE_FAILED", `cannot open the database at ${path}`, { cause });
    }
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    this.#key = hkdf(sha256, hpkeSecret, new Uint8Array(0), new TextEncoder().encode("CGUARD-V01/guardian-store"), 32);
    this.#migrate();
  }

  #migrate(): void {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = this.db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (row === undefined) this.#run("INSERT INTO schema_version (version) VALUES (0)");
    while (version < MIGRATIONS.length) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[version]);
        this.#run("UPDATE schema_version SET version = ?", version + 1);
      });
      version++;
    }
  }

  close(): void {
    this.#key.fill(0);
    this.db.close();
  }

  transaction<T>(fn: () => T): T {
    // Nested: part of the transaction already open (a write of a batch being flushed).
    if (this.db.isTransaction) return fn();
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      this.commits++;
      return result;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Runs `sql` with `params`; a write outside a transaction is a commit of its own, and is counted. */
  #run(sql: string, ...params: any[]) {
    const result = this.db.prepare(sql).run(...params);
    if (!this.db.isTransaction) this.commits++;
    return result;
  }

  /** A new batch of deferred writes, committed together by its `flush`. */
  batch(): WriteBatch {
    return new WriteBatch(this);
  }

  seal(plaintext: Uint8Array | string): Uint8Array {
    const pt = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
    const nonce = new Uint8Array(randomBytes(24));
    const ct = xchacha20poly1305(this.#key, nonce).encrypt(pt);
    const out = new Uint8Array(24 + ct.length);
    out.set(nonce, 0);
    out.set(ct, 24);
    return out;
  }

  open(sealed: Uint8Array): Uint8Array {
    try {
      return xchacha20poly1305(this.#key, sealed.subarray(0, 24)).decrypt(sealed.subarray(24));
    } catch (cause) {
      throw new CGError("STORE_FAILED", "a sealed database value does not open with this guardian's key", { cause });
    }
  }

  // ── meta ──

  getMeta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.#run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  cursor(): { block: bigint; hash?: string } | undefined {
    const block = this.getMeta("cursor.block");
    return block === undefined ? undefined : { block: BigInt(block), hash: this.getMeta("cursor.hash") };
  }

  setCursor(block: bigint, hash: string): void {
    this.transaction(() => {
      this.setMeta("cursor.block", block.toString());
      this.setMeta("cursor.hash", hash);
    });
  }

  // ── channels ──

  /** Keeps slot `slot`'s channel URI of an account epoch (sealed); the first one learned stays. */
  putChannel(accountId: Hex, accountEpoch: bigint, slot: number, uri: string, source: "envelope" | "peers"): void {
    this.#run("INSERT INTO channels (account_id, account_epoch, slot, uri_sealed, source, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", accountId.toLowerCase(), accountEpoch, slot, this.seal(uri), source, Date.now());
  }

  getChannel(accountId: Hex, accountEpoch: bigint, slot: number): string | undefined {
    const row = this.db.prepare("SELECT uri_sealed FROM channels WHERE account_id = ? AND account_epoch = ? AND slot = ?").get(accountId.toLowerCase(), accountEpoch, slot) as
      | { uri_sealed: Uint8Array }
      | undefined;
    return row ? new TextDecoder().decode(this.open(row.uri_sealed)) : undefined;
  }

  // ── requests ──

  /** Records a request as announced; false if it is known already. */
  putRequest(r: RequestRow): boolean {
    const result = this.#run(`INSERT INTO requests (request_id, account_id, committee_id, account_epoch, new_controller, drill, requester_key, expires_at, block_number, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT(request_id) DO NOTHING`, r.requestId, r.accountId, r.committeeId.toString(), r.accountEpoch, r.newController, r.drill ? 1 : 0, r.requesterKey, r.expiresAt, r.blockNumber, Date.now());
    return result.changes > 0;
  }

  getRequest(requestId: bigint): (RequestRow & { state: string }) | undefined {
    const row = this.db.prepare("SELECT * FROM requests WHERE request_id = ?").get(requestId) as Record<string, any> | undefined;
    return row ? requestFrom(row) : undefined;
  }

  /** Requests of `committeeId` still open here, oldest first. */
  openRequests(committeeId: bigint): RequestRow[] {
    return (this.db.prepare("SELECT * FROM requests WHERE committee_id = ? AND state = 'open' ORDER BY request_id").all(committeeId.toString()) as Record<string, any>[]).map(requestFrom);
  }

  /** Marks a request closed here (expired, completed, cancelled, voided): nothing more is done for it. */
  closeRequest(requestId: bigint, reason: string): void {
    this.#run("UPDATE requests SET state = 'closed', reason = ? WHERE request_id = ?", reason, requestId);
  }

  // ── servings ──

  /** One serving per (request, slot, committee epoch): the code (sealed) and the posting it belongs to. */
  putServing(s: { requestId: bigint; slot: number; committeeEpoch: number; code: Uint8Array; message: Hex; posting: Hex }): void {
    this.#run("INSERT INTO servings (request_id, slot, committee_epoch, code_sealed, message, posting, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", s.requestId, s.slot, s.committeeEpoch, this.seal(s.code), s.message, s.posting, Date.now());
  }

  /** The channel code of a serving (secret). */
  servingCode(requestId: bigint, slot: number, committeeEpoch: number): Uint8Array | undefined {
    const row = this.db.prepare("SELECT code_sealed FROM servings WHERE request_id = ? AND slot = ? AND committee_epoch = ?").get(requestId, slot, committeeEpoch) as
      | { code_sealed: Uint8Array }
      | undefined;
    return row ? this.open(row.code_sealed) : undefined;
  }

  /** A serving: its channel code (secret), the message and the posting it was made for. */
  getServing(requestId: bigint, slot: number, committeeEpoch: number): { code: Uint8Array; message: Hex; posting: Hex } | undefined {
    const row = this.db.prepare("SELECT code_sealed, message, posting FROM servings WHERE request_id = ? AND slot = ? AND committee_epoch = ?").get(requestId, slot, committeeEpoch) as
      | { code_sealed: Uint8Array; message: Hex; posting: Hex }
      | undefined;
    return row ? { code: this.open(row.code_sealed), message: row.message, posting: row.posting } : undefined;
  }

  /** Forgets a serving made for a request that a reorg replaced by another under the same id, with the work not done
   *  for it. */
  deleteServing(requestId: bigint, slot: number, committeeEpoch: number): void {
    this.transaction(() => {
      this.#run("DELETE FROM servings WHERE request_id = ? AND slot = ? AND committee_epoch = ?", requestId, slot, committeeEpoch);
      this.#run("DELETE FROM outbox WHERE status <> 'done' AND id IN (?, ?)", `post:${requestId}:${slot}:${committeeEpoch}`, `deliver:${requestId}:${slot}:${committeeEpoch}`);
    });
  }

  /**
   * Forgets what was learned from blocks above `block` (after a reorg deeper than the confirmations): requests
   * announced there and the work not done for them (pending, dropped or dead: a request the reorg puts back, or one
   * that takes its id, is served afresh), and ignored events. Servings stay: a request put back with the same message
   * is served with the same code and posting (a posting of it may already be on-chain), never with a second code.
   */
  rollbackAbove(block: bigint): void {
    this.transaction(() => {
      const gone = (this.db.prepare("SELECT request_id FROM requests WHERE block_number > ?").all(block) as { request_id: number | bigint }[]).map((r) => BigInt(r.request_id));
      for (const id of gone) {
        this.#run("DELETE FROM outbox WHERE status <> 'done' AND (id LIKE ? OR id LIKE ?)", `post:${id}:%`, `deliver:${id}:%`);
      }
      this.#run("DELETE FROM requests WHERE block_number > ?", block);
      this.#run("DELETE FROM ignored_events WHERE block_number > ?", block);
    });
  }

  // ── committees ──

  getRound<T>(committeeId: string, epoch: number): T | undefined {
    const row = this.db.prepare("SELECT state_sealed FROM committee_rounds WHERE committee_id = ? AND epoch = ?").get(committeeId, epoch) as
      | { state_sealed: Uint8Array }
      | undefined;
    return row ? (JSON.parse(new TextDecoder().decode(this.open(row.state_sealed))) as T) : undefined;
  }

  putRound(state: { committeeId: string; epoch: number; phase: string }, blockNumber: bigint): void {
    this.#run(`INSERT INTO committee_rounds (committee_id, epoch, phase, state_sealed, block_number, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(committee_id, epoch) DO UPDATE SET phase = excluded.phase, state_sealed = excluded.state_sealed, updated_at = excluded.updated_at`, state.committeeId, state.epoch, state.phase, this.seal(JSON.stringify(state)), blockNumber, Date.now());
  }

  /** Rounds still running (dealing or acknowledging), oldest first. */
  openRounds(): { committeeId: string; epoch: number }[] {
    const rows = this.db
      .prepare("SELECT committee_id, epoch FROM committee_rounds WHERE phase IN ('dealing', 'acknowledging') ORDER BY block_number")
      .all() as { committee_id: string; epoch: number }[];
    return rows.map((r) => ({ committeeId: r.committee_id, epoch: Number(r.epoch) }));
  }

  putCommitteeShare(committeeId: string, epoch: number, slot: number, share: bigint, commitments: string): void {
    this.#run("INSERT INTO committee_shares (committee_id, epoch, slot, share_sealed, commitments) VALUES (?, ?, ?, ?, ?) ON CONFLICT(committee_id, epoch) DO NOTHING", committeeId, epoch, slot, this.seal(share.toString()), commitments);
  }

  getCommitteeShare(committeeId: string, epoch: number): { slot: number; share: bigint; commitments: string } | undefined {
    const row = this.db.prepare("SELECT * FROM committee_shares WHERE committee_id = ? AND epoch = ?").get(committeeId, epoch) as Record<string, any> | undefined;
    if (!row) return undefined;
    return { slot: Number(row.slot), share: BigInt(new TextDecoder().decode(this.open(row.share_sealed))), commitments: row.commitments };
  }

  /** Erases the share of a retired epoch (PROTOCOL.md §4.4). */
  deleteCommitteeShare(committeeId: string, epoch: number): void {
    this.#run("DELETE FROM committee_shares WHERE committee_id = ? AND epoch = ?", committeeId, epoch);
  }

  // ── ignored events ──

  isIgnored(event: string, key: string): boolean {
    return this.db.prepare("SELECT 1 FROM ignored_events WHERE event = ? AND key = ?").get(event, key) !== undefined;
  }

  /** Records that `event` `key` is ignored and why; `detail` must hold no secret (it is shown by `status`). */
  putIgnored(row: { event: string; key: string; reason: string; detail?: string; blockNumber: bigint }): void {
    this.#run("INSERT INTO ignored_events (event, key, reason, detail, block_number, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(event, key) DO NOTHING", row.event, row.key, row.reason, row.detail?.slice(0, 500) ?? null, row.blockNumber, Date.now());
  }

  /** The most recently ignored events first, and how many there are in all. */
  ignoredEvents(limit = 50): { total: number; recent: IgnoredEvent[] } {
    const total = Number((this.db.prepare("SELECT COUNT(*) AS n FROM ignored_events").get() as { n: number }).n);
    const rows = this.db.prepare("SELECT * FROM ignored_events ORDER BY block_number DESC, created_at DESC LIMIT ?").all(limit) as Record<string, any>[];
    return {
      total,
      recent: rows.map((r) => ({
        event: r.event,
        key: r.key,
        reason: r.reason,
        detail: r.detail ?? undefined,
        blockNumber: BigInt(r.block_number),
        createdAt: Number(r.created_at),
      })),
    };
  }

  // ── outbox ──

  enqueue(id: string, kind: OutboxKind, payload: unknown, now = Date.now()): boolean {
    const result = this.#run("INSERT INTO outbox (id, kind, payload_sealed, status, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT(id) DO NOTHING", id, kind, this.seal(JSON.stringify(payload)), now, now, now);
    return result.changes > 0;
  }

  due(kind: OutboxKind, now = Date.now(), limit = 50): OutboxJob[] {
    const rows = this.db
      .prepare("SELECT * FROM outbox WHERE status = 'pending' AND kind = ? AND next_attempt_at <= ? ORDER BY created_at LIMIT ?")
      .all(kind, now, limit) as Record<string, any>[];
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      payload: JSON.parse(new TextDecoder().decode(this.open(r.payload_sealed))),
      attempts: Number(r.attempts),
      nextAttemptAt: Number(r.next_attempt_at),
      lastError: r.last_error ?? undefined,
    }));
  }

  markDone(id: string): void {
    this.#run("UPDATE outbox SET status = 'done', updated_at = ? WHERE id = ?", Date.now(), id);
  }

  /** Gives a job up for a reason that no retry can change (its request expired or closed, its epoch retired). */
  markDropped(id: string, reason: string): void {
    this.#run("UPDATE outbox SET status = 'dropped', last_error = ?, updated_at = ? WHERE id = ?", reason.slice(0, 500), Date.now(), id);
  }

  /** A job's status, or undefined if there is none with this id. */
  jobStatus(id: string): OutboxStatus | undefined {
    return (this.db.prepare("SELECT status FROM outbox WHERE id = ?").get(id) as { status: OutboxStatus } | undefined)?.status;
  }

  /** Records a failed attempt; the job becomes a dead letter after `maxAttempts`. Returns the new status. */
  markFailed(id: string, error: string, nextAttemptAt: number, maxAttempts: number): OutboxStatus {
    const row = this.db.prepare("SELECT attempts FROM outbox WHERE id = ?").get(id) as { attempts: number } | undefined;
    const attempts = (row?.attempts ?? 0) + 1;
    const status: OutboxStatus = attempts >= maxAttempts ? "dead" : "pending";
    this.#run("UPDATE outbox SET attempts = ?, status = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?", attempts, status, error.slice(0, 500), nextAttemptAt, Date.now(), id);
    return status;
  }

  counts(): { pending: Record<string, number>; dead: number; done: number; dropped: number } {
    const rows = this.db.prepare("SELECT kind, status, COUNT(*) AS n FROM outbox GROUP BY kind, status").all() as { kind: string; status: string; n: number }[];
    const pending: Record<string, number> = {};
    let dead = 0;
    let done = 0;
    let dropped = 0;
    for (const r of rows) {
      if (r.status === "pending") pending[r.kind] = Number(r.n);
      if (r.status === "dead") dead += Number(r.n);
      if (r.status === "done") done += Number(r.n);
      if (r.status === "dropped") dropped += Number(r.n);
    }
    return { pending, dead, done, dropped };
  }

  deadLetters(): { id: string; kind: string; attempts: number; lastError?: string }[] {
    return (this.db.prepare("SELECT id, kind, attempts, last_error FROM outbox WHERE status = 'dead' ORDER BY updated_at").all() as Record<string, any>[]).map((r) => ({
      id: r.id,
      kind: r.kind,
      attempts: Number(r.attempts),
      lastError: r.last_error ?? undefined,
    }));
  }
}

/**
 * Writes deferred to one transaction: each pass of the agent (one loop's work) has its own, so a pass that fails
 * forgets its own writes only.
 */
export class WriteBatch {
  readonly #store: Store;
  #writes: (() => void)[] = [];

  constructor(store: Store) {
    this.#store = store;
  }

  /** How many writes are deferred (a mark for `discardFrom`). */
  get size(): number {
    return this.#writes.length;
  }

  /** Defers `write` (store calls, run inside the batch's transaction) to `flush`. */
  later(write: () => void): void {
    this.#writes.push(write);
  }

  /** Forgets the writes deferred after `mark` (an event whose handling failed). */
  discardFrom(mark: number): void {
    this.#writes.splice(mark);
  }

  /** Writes the deferred writes and `also` in one transaction (none if there is nothing); returns how many were
   *  deferred and empties the batch. */
  flush(also?: () => void): number {
    const writes = this.#writes;
    this.#writes = [];
    if (writes.length === 0 && also === undefined) return 0;
    this.#store.transaction(() => {
      for (const write of writes) write();
      also?.();
    });
    return writes.length;
  }
}

function requestFrom(r: Record<string, any>): RequestRow & { state: string } {
  return {
    requestId: BigInt(r.request_id),
    accountId: r.account_id,
    committeeId: BigInt(r.committee_id),
    accountEpoch: BigInt(r.account_epoch),
    newController: r.new_controller,
    drill: Number(r.drill) === 1,
    requesterKey: r.requester_key,
    expiresAt: BigInt(r.expires_at),
    blockNumber: BigInt(r.block_number),
    state: r.state,
  };
}
