/**
 * The agent's shell around its committee rounds (PROTOCOL.md §3–§4): turns chain events into transitions of the pure
 * state machine in `core/committee.ts`, persists each state with the outbox jobs it caused in one database
 * transaction, and sends those jobs (deal, complain, answer, prove, finalize, acknowledge, expire) as transactions,
 * each checked against the chain first so that a job sent before a crash is not sent twice.
 *
 * Secrets: the round state (dealt and received sub-shares) and the shares are sealed at rest by the store; nothing
 * secret reaches a log line (sub-shares, shares and proofs are never logged).
 */
import type { Logger } from "pino";
import { type Address, type Chain, type Hex, type LocalAccount, type PublicClient, type WalletClient, getAbiItem, hexToBytes, keccak256 } from "viem";

import { committeeRegistryAbi, guardianRegistryAbi } from "../sdk/abi/index.ts";
import { Fr } from "../sdk/crypto/bls.ts";
import { committeePossessionProof, committeePublicShare, dealDkg, dealReshare, decodeDealing, encodeDealing, verifyCommitteePossession } from "../sdk/crypto/dkg.ts";
import { decodeCommitments } from "../sdk/crypto/dkg.ts";
import { SEALED_SUBSHARE_LENGTH } from "../sdk/crypto/constants.ts";
import { openSubShare, sealSubShare } from "../sdk/crypto/hpke.ts";
import { CGError } from "../sdk/errors.ts";
import type { GuardianConfig } from "./config.ts";
import { type RoundState, type Step, dealt, finalizeDealings, onAcknowledged, onActivated, onRetired, onAnswer, onComplaint, onDealing, onDisqualified, onFailed, onFinalized, open } from "./core/committee.ts";
import { failpoint, isFailpoint } from "./failpoints.ts";
import type { Metrics } from "./metrics.ts";
import type { OutboxJob, Store } from "./store.ts";

export const COMMITTEE_EVENTS = [
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeProposed" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeHandoverStarted" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeDealingPosted" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeComplaintFiled" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeComplaintAnswered" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeFaultProven" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeRoundFinalized" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeAcknowledged" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeActivated" }),
  getAbiItem({ abi: committeeRegistryAbi, name: "CommitteeRoundFailed" }),
] as const;

/** Round phases as the contract numbers them. */
const PHASE = { Dealing: 1, Acknowledging: 2, Active: 3, Retired: 4, Failed: 5 } as const;
/** Seconds of chain time between the participants' turns to finalize or expire a round (slot 1 first). */
const FINALIZE_STAGGER = 2;
/** Dealer faults (they disqualify the dealer) as the contract numbers them. */
const DEALER_FAULTS = new Set([0, 1, 2]);

export interface CommitteeJob {
  action: "deal" | "complain" | "answer" | "prove" | "prove-possession" | "finalize" | "acknowledge" | "expire";
  committeeId: string;
  epoch: number;
  dealer?: number;
  recipient?: number;
  value?: string;
  commitments?: Hex;
  sealedShares?: Hex;
  proof?: Hex;
}

export interface CommitteeDeps {
  config: GuardianConfig;
  store: Store;
  operator: LocalAccount;
  hpkeSecret: Uint8Array;
  log: Logger;
  metrics: Metrics;
  publicClient: PublicClient;
  wallet: WalletClient;
  chain: Chain;
  wake: () => void;
}

type Args = Record<string, any>;

export class CommitteeWork {
  readonly #d: CommitteeDeps;

  constructor(deps: CommitteeDeps) {
    this.#d = deps;
  }

  get #me(): Address {
    return this.#d.operator.address;
  }

  get #chainId(): bigint {
    return BigInt(this.#d.chain.id);
  }

  /** Handlers for `GuardianAgent`'s event table (each runs in the agent's isolation wrapper). */
  handlers() {
    const subject = (a: Args) => ({ committeeId: String(a.committeeId), epoch: String(a.epoch ?? 1) });
    return {
      CommitteeProposed: { subject, run: (a: Args, b: bigint) => this.#onOpened(a.committeeId, 1n, Number(a.threshold), 0n, [...a.members], [...a.members], b) },
      CommitteeHandoverStarted: {
        subject,
        run: async (a: Args, b: bigint) => {
          // The dealers are the source epoch's members, known from this guardian's own round of that epoch; a
          // guardian that was not in it has no share to deal and only receives (no chain read needed).
          const source = this.#d.store.getRound<RoundState>(String(a.committeeId), Number(a.sourceEpoch));
          const dealers = source?.recipients ?? [];
          return this.#onOpened(a.committeeId, a.epoch, Number(a.threshold), a.sourceEpoch, dealers, [...a.members], b);
        },
      },
      CommitteeDealingPosted: { subject: (a: Args) => ({ ...subject(a), dealer: String(a.dealer) }), run: (a: Args, b: bigint) => this.#onDealing(a, b) },
      CommitteeComplaintFiled: {
        subject: (a: Args) => ({ ...subject(a), dealer: String(a.dealer), recipient: String(a.recipient) }),
        run: (a: Args, b: bigint) => this.#transition(a.committeeId, a.epoch, b, (s) => onComplaint(s, Number(a.dealer), Number(a.recipient))),
      },
      CommitteeComplaintAnswered: {
        subject: (a: Args) => ({ ...subject(a), dealer: String(a.dealer), recipient: String(a.recipient) }),
        run: (a: Args, b: bigint) => this.#transition(a.committeeId, a.epoch, b, (s) => onAnswer(s, Number(a.dealer), Number(a.recipient), a.subShare, a.valid)),
      },
      CommitteeFaultProven: {
        subject: (a: Args) => ({ ...subject(a), slot: String(a.slot), fault: String(a.fault) }),
        run: (a: Args, b: bigint) =>
          DEALER_FAULTS.has(Number(a.fault)) ? this.#transition(a.committeeId, a.epoch, b, (s) => onDisqualified(s, Number(a.slot))) : Promise.resolve(),
      },
      CommitteeRoundFinalized: {
        subject,
        run: (a: Args, b: bigint) => this.#transition(a.committeeId, a.epoch, b, (s) => onFinalized(s, bits(Number(a.qualified)), a.commitments)),
      },
      CommitteeAcknowledged: {
        subject: (a: Args) => ({ ...subject(a), slot: String(a.slot) }),
        run: (a: Args, b: bigint) =>
          this.#transition(a.committeeId, a.epoch, b, (s) => onAcknowledged(s, Number(a.slot), a.operator, a.proof, keccak256(a.proof), (proof, slot, commitments) => this.#possessionHolds(s, proof, slot, commitments))),
      },
      CommitteeActivated: { subject, run: (a: Args, b: bigint) => this.#transition(a.committeeId, a.epoch, b, (s) => onActivated(s)) },
      CommitteeRoundFailed: { subject, run: (a: Args, b: bigint) => this.#transition(a.committeeId, a.epoch, b, (s) => onFailed(s)) },
    };
  }

  // ───────────────────────────── transitions ─────────────────────────────

  async #onOpened(committeeId: bigint, epoch: bigint, threshold: number, sourceEpoch: bigint, dealers: string[], recipients: string[], block: bigint) {
    const { store, log } = this.#d;
    if (store.getRound(committeeId.toString(), Number(epoch)) !== undefined) return;
    const step = open({ me: this.#me, committeeId, epoch, threshold, sourceEpoch, dealers, recipients });
    if (step === undefined) return;
    log.info({ committeeId: committeeId.toString(), epoch: Number(epoch), dealer: step.state.dealerSlot, recipient: step.state.recipientSlot }, "committee round opened");
    await this.#apply(step, block);
  }

  async #onDealing(a: Args, block: bigint) {
    const state = this.#d.store.getRound<RoundState>(String(a.committeeId), Number(a.epoch));
    if (state === undefined || state.phase !== "dealing" || state.received[Number(a.dealer)] !== undefined) return;
    const dealer = Number(a.dealer);
    let opened: { value: bigint } | { error: string } | undefined;
    if (state.recipientSlot > 0) {
      try {
        const decoded = decodeDealing(a.commitments, a.sealedShares, state.threshold, state.n);
        const value = await openSubShare(this.#d.hpkeSecret, this.#subShareContext(state, dealer, state.recipientSlot), decoded.sealedSubShares[state.recipientSlot - 1]);
        opened = { value };
      } catch (e) {
        opened = { error: e instanceof CGError ? `${e.code}: ${e.message}` : "the sub-share does not open" };
      }
    }
    // E_{i,0} = PK_i is checked by the members of the source epoch (they hold its commitments); a newcomer relies on
    // them and on the contract's C'_0 = K check.
    const source = state.sourceEpoch === 0 ? undefined : this.#d.store.getRound<RoundState>(state.committeeId, state.sourceEpoch)?.finalized?.commitments;
    await this.#apply(onDealing(state, dealer, a.commitments, opened, source), block);
  }

  async #transition(committeeId: bigint, epoch: bigint, block: bigint, fn: (s: RoundState) => Step) {
    const state = this.#d.store.getRound<RoundState>(committeeId.toString(), Number(epoch));
    if (state === undefined) return;
    await this.#apply(fn(state), block);
  }

  /** Persists the next state with the jobs its actions cause, in one transaction; then fires crash failpoints. */
  async #apply(step: Step, block: bigint): Promise<void> {
    const { store, log } = this.#d;
    let state = step.state;
    const jobs: [string, CommitteeJob][] = [];
    const local: (() => void)[] = [];
    const base = { committeeId: state.committeeId, epoch: state.epoch };
    const id = (...parts: (string | number)[]) => ["committee", state.committeeId, state.epoch, ...parts].join(":");
    for (const action of step.actions) {
      switch (action.kind) {
        case "deal": {
          const made = await this.#deal(state);
          if (made === undefined) break;
          state = dealt(state, made.commitments, made.sent).state;
          jobs.push([id("deal"), { action: "deal", ...base, dealer: state.dealerSlot, commitments: made.commitments, sealedShares: made.sealedShares }]);
          break;
        }
        case "complain":
          log.warn({ ...base, dealer: action.dealer, reason: action.reason }, "sub-share refused: complaint queued");
          jobs.push([id("complain", action.dealer), { action: "complain", ...base, dealer: action.dealer, recipient: state.recipientSlot }]);
          break;
        case "prove-mismatch":
          log.warn({ ...base, dealer: action.dealer }, "reshare dealing with E_0 ≠ PK_i: proof queued");
          jobs.push([id("prove", action.dealer), { action: "prove", ...base, dealer: action.dealer }]);
          break;
        case "prove-possession":
          log.warn({ ...base, slot: action.slot }, "invalid proof of possession: proof queued");
          jobs.push([id("prove-possession", action.slot), { action: "prove-possession", ...base, recipient: action.slot, proof: action.proof }]);
          break;
        case "answer":
          jobs.push([id("answer", action.recipient), { action: "answer", ...base, dealer: state.dealerSlot, recipient: action.recipient, value: action.value }]);
          break;
        case "acknowledge": {
          const proof = committeePossessionProof({ index: state.recipientSlot, value: BigInt(action.share) }, this.#chainId, this.#d.config.committees, BigInt(state.committeeId), BigInt(state.epoch));
          jobs.push([id("acknowledge"), { action: "acknowledge", ...base, recipient: state.recipientSlot, proof }]);
          break;
        }
        case "refuse":
          log.error({ ...base, reason: action.reason }, "no verified share for this round: not acknowledging");
          break;
        case "activate":
          local.push(() => store.putCommitteeShare(state.committeeId, state.epoch, state.recipientSlot, BigInt(action.share), state.finalized?.commitments ?? "0x"));
          break;
        case "erase": {
          const retired = store.getRound<RoundState>(state.committeeId, action.epoch);
          local.push(() => {
            store.deleteCommitteeShare(state.committeeId, action.epoch);
            if (retired !== undefined) store.putRound(onRetired(retired).state, block);
          });
          break;
        }
      }
    }
    store.transaction(() => {
      store.putRound(state, block);
      for (const [jobId, job] of jobs) store.enqueue(jobId, "committee", job);
      for (const f of local) f();
    });
    if (state.phase === "active" && step.actions.length > 0) log.info(base, "committee epoch active: share stored");
    for (const [, job] of jobs) failpoint(`committee.after-${job.action}`);
    if (jobs.length > 0) this.#d.wake();
  }

  /** Draws this guardian's dealing (a fresh polynomial, or g(0) = its share of the source epoch) and seals it. */
  async #deal(state: RoundState): Promise<{ commitments: Hex; sealedShares: Hex; sent: bigint[] } | undefined> {
    const { store, log } = this.#d;
    let dealing;
    if (state.sourceEpoch === 0) dealing = dealDkg(state.n, state.threshold);
    else {
      const mine = store.getCommitteeShare(state.committeeId, state.sourceEpoch);
      if (mine === undefined) {
        log.error({ committeeId: state.committeeId, epoch: state.epoch }, "no share of the source epoch: cannot reshare");
        return undefined;
      }
      dealing = dealReshare({ index: mine.slot, value: mine.share }, state.n, state.threshold);
    }
    const recipients = state.recipients;
    const sent = [...dealing.subShares];
    // Failpoint for the malicious-dealer test: one recipient gets a sub-share that does not match the commitments.
    if (isFailpoint("committee.bad-subshare")) {
      const victim = (state.dealerSlot % state.n) + 1;
      sent[victim - 1] = Fr.add(sent[victim - 1], 1n);
    }
    const sealed: Uint8Array[] = [];
    for (let j = 1; j <= state.n; j++) {
      const key = await this.#encryptionKey(recipients[j - 1] as Address);
      try {
        sealed.push(await sealSubShare(key, this.#subShareContext(state, state.dealerSlot, j), sent[j - 1]));
      } catch (e) {
        // A recipient whose registered key cannot be sealed to (e.g. a low-order point) gets random bytes: it will
        // complain and receive the value in the answer; the others' round goes on.
        if (!(e instanceof CGError)) throw e;
        log.warn({ committeeId: state.committeeId, epoch: state.epoch, recipient: j, reason: e.code }, "cannot seal to this recipient's key: it will have to complain");
        sealed.push(crypto.getRandomValues(new Uint8Array(SEALED_SUBSHARE_LENGTH)));
      }
    }
    const encoded = encodeDealing({ commitments: dealing.commitments, sealedSubShares: sealed });
    dealing.wipe();
    return { commitments: encoded.commitments, sealedShares: encoded.sealedShares, sent };
  }

  #subShareContext(state: RoundState, dealer: number, recipient: number) {
    return { chainId: this.#chainId, registry: this.#d.config.committees, committeeId: BigInt(state.committeeId), committeeEpoch: BigInt(state.epoch), dealer, recipient };
  }

  // ───────────────────────────── timers ─────────────────────────────

  /**
   * Called after each chain poll: for every open round, queues `finalize` once the complaint (or answer) window is
   * over and `expire` once a deadline passed. Any participant may do both; the job checks the chain before sending.
   */
  async tick(): Promise<void> {
    const { store, config } = this.#d;
    const rounds = store.openRounds();
    if (rounds.length === 0) return;
    const now = (await this.#d.publicClient.getBlock({ blockTag: "latest" })).timestamp;
    for (const { committeeId, epoch } of rounds) {
      const view = await this.#d.publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "round", args: [BigInt(committeeId), BigInt(epoch)] });
      const state = store.getRound<RoundState>(committeeId, epoch)!;
      // Participants take turns by slot (FINALIZE_STAGGER seconds apart) so that one finalization is usually sent.
      const turn = BigInt(FINALIZE_STAGGER * (Math.max(state.recipientSlot, state.dealerSlot) - 1));
      const base = { committeeId, epoch };
      if (view.phase === PHASE.Dealing) {
        const due = view.complained === 0 ? view.complaintDeadline : view.answerDeadline;
        if (now > due + turn && store.enqueue(`committee:${committeeId}:${epoch}:finalize`, "committee", { ...base, action: "finalize" } satisfies CommitteeJob)) {
          this.#d.wake();
          failpoint("committee.after-finalize");
        }
      }
      if (view.expiresAt !== 0n && now > view.expiresAt + turn) {
        store.enqueue(`committee:${committeeId}:${epoch}:expire`, "committee", { ...base, action: "expire" } satisfies CommitteeJob);
      }
    }
  }

  // ───────────────────────────── outbox ─────────────────────────────

  /** Sends due committee jobs, one transaction each, skipping what the chain already shows as done. */
  async drain(running: () => boolean, fail: (job: OutboxJob, e: unknown, permanent?: boolean) => void): Promise<void> {
    const { store, log, metrics } = this.#d;
    // Answers go first: an accused dealer has a deadline, and a late answer is slashed as no answer.
    const jobs = store.due("committee").sort((a, b) => Number((b.payload as CommitteeJob).action === "answer") - Number((a.payload as CommitteeJob).action === "answer"));
    for (const job of jobs) {
      if (!running()) return;
      const p = job.payload as CommitteeJob;
      const ctx = { committeeId: p.committeeId, epoch: p.epoch, action: p.action };
      try {
        const args = await this.#transactionFor(p);
        if (args === undefined) {
          store.markDone(job.id);
          log.info(ctx, "committee job already done on-chain or no longer due");
          continue;
        }
        const hash = await this.#d.wallet.writeContract({ address: this.#d.config.committees, abi: committeeRegistryAbi, ...args, account: this.#d.operator, chain: this.#d.chain } as never);
        const receipt = await this.#d.publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 });
        if (receipt.status !== "success") throw new CGError("TX_REVERTED", `${p.action} for committee ${p.committeeId} epoch ${p.epoch} reverted`);
        store.markDone(job.id);
        metrics.committeeTransactions.inc({ action: p.action, outcome: "ok" });
        log.info({ ...ctx, gasUsed: receipt.gasUsed.toString() }, `committee ${p.action} sent`);
      } catch (e) {
        metrics.committeeTransactions.inc({ action: p.action, outcome: "error" });
        fail(job, e);
      }
    }
  }

  /** The transaction a job still needs, or undefined when the chain shows it done or moot. */
  async #transactionFor(p: CommitteeJob): Promise<{ functionName: string; args: unknown[] } | undefined> {
    const { publicClient, config } = this.#d;
    const id = BigInt(p.committeeId);
    const epoch = BigInt(p.epoch);
    const view = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "round", args: [id, epoch] });
    const bit = (slot: number) => 1 << (slot - 1);
    switch (p.action) {
      case "deal":
        if (view.phase !== PHASE.Dealing || view.dealt & bit(p.dealer!)) return undefined;
        return { functionName: "deal", args: [id, epoch, p.dealer, p.commitments, p.sealedShares] };
      case "complain": {
        if (view.phase !== PHASE.Dealing || view.disqualified & bit(p.dealer!)) return undefined;
        const open = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "complaints", args: [id, epoch, BigInt(p.dealer!)] });
        if (open & bit(p.recipient!)) return undefined;
        return { functionName: "complain", args: [id, epoch, p.dealer, p.recipient] };
      }
      case "answer": {
        if (view.phase !== PHASE.Dealing) return undefined;
        const open = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "complaints", args: [id, epoch, BigInt(p.dealer!)] });
        if (!(open & bit(p.recipient!))) return undefined;
        const state = this.#d.store.getRound<RoundState>(p.committeeId, p.epoch);
        return { functionName: "answer", args: [id, epoch, p.dealer, p.recipient, BigInt(p.value!), state?.dealt?.commitments] };
      }
      case "prove": {
        // Provable until a later epoch takes over (the contract says when it is too late).
        if (view.phase === PHASE.Retired || view.disqualified & bit(p.dealer!)) return undefined;
        const state = this.#d.store.getRound<RoundState>(p.committeeId, p.epoch)!;
        const source = this.#d.store.getRound<RoundState>(p.committeeId, state.sourceEpoch)?.finalized?.commitments;
        return { functionName: "proveReshareKeyMismatch", args: [id, epoch, p.dealer, state.received[p.dealer!].commitments, source] };
      }
      case "prove-possession": {
        if (view.possessionProven & bit(p.recipient!)) return undefined;
        const state = this.#d.store.getRound<RoundState>(p.committeeId, p.epoch)!;
        return { functionName: "proveInvalidPossession", args: [id, epoch, p.recipient, p.proof, state.finalized!.commitments, state.acks ?? []] };
      }
      case "finalize": {
        if (view.phase !== PHASE.Dealing) return undefined;
        const state = this.#d.store.getRound<RoundState>(p.committeeId, p.epoch);
        return { functionName: "finalize", args: [id, epoch, finalizeDealings(state!, view.dealt, view.disqualified, view.complained)] };
      }
      case "acknowledge":
        if (view.phase !== PHASE.Acknowledging || view.acknowledged & bit(p.recipient!)) return undefined;
        return { functionName: "acknowledge", args: [id, epoch, p.recipient, p.proof] };
      case "expire":
        if (view.phase !== PHASE.Dealing && view.phase !== PHASE.Acknowledging) return undefined;
        return { functionName: "expire", args: [id, epoch] };
    }
  }

  // ───────────────────────────── chain reads ─────────────────────────────

  /** The SDK's check of member `slot`'s proof of possession against its public share of `commitments`. */
  #possessionHolds(state: RoundState, proof: Hex, slot: number, commitments: Hex): boolean {
    const publicShare = committeePublicShare(decodeCommitments(commitments), slot);
    return verifyCommitteePossession(proof, publicShare, this.#chainId, this.#d.config.committees, BigInt(state.committeeId), BigInt(state.epoch), slot);
  }

  async #encryptionKey(operator: Address): Promise<Uint8Array> {
    const view = await this.#d.publicClient.readContract({ address: this.#d.config.registry, abi: guardianRegistryAbi, functionName: "guardian", args: [operator] });
    return hexToBytes(view.encryptionKey);
  }
}

function bits(mask: number): number[] {
  const out: number[] = [];
  for (let s = 1; s <= 32; s++) if (mask & (1 << (s - 1))) out.push(s);
  return out;
}

