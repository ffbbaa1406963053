/**
 * A guardian's part in one committee round (PROTOCOL.md §3 DKG, §4 handover) as a state machine of pure functions:
 * each transition takes the round's state and what was observed (a chain event, or the result of opening a sealed
 * sub-share) and returns the next state and the actions to take. No I/O, no randomness, no clock: the agent's shell
 * (guardian/committees.ts) persists the state, draws dealings, opens HPKE envelopes, reads the round's deadlines and
 * carries out actions through its outbox.
 *
 * Rules kept here:
 * - a guardian deals once per round it deals in, and answers only complaints against itself, with the value it
 *   dealt (it never reveals a sub-share it received);
 * - a recipient complains against a dealing whose sub-share does not open or does not match the commitments
 *   (and, in a handover, proves a dealing whose E_{i,0} ≠ PK_i instead);
 * - it acknowledges only a share that matches its public share (drand #714: no verified share, no activation);
 * - the state is JSON (scalars as decimal strings); it holds secrets and is stored sealed.
 */
import type { Hex } from "viem";

import { type G2Point, G2 } from "../../sdk/crypto/bls.ts";
import {
  checkReshareDealing,
  combineDkgShares,
  combineReshareShares,
  committeePublicShare,
  verifySubShare,
} from "../../sdk/crypto/dkg.ts";
import { decodeCommitments } from "../../sdk/crypto/dkg.ts";
import { CGError } from "../../sdk/errors.ts";

export type RoundPhase = "dealing" | "acknowledging" | "active" | "failed" | "retired";

export interface Received {
  commitments: Hex;
  /** The sub-share addressed to this guardian, once it opened and verified (or was revealed by a right answer). */
  subShare?: string;
  verdict: "ok" | "complained" | "mismatch" | "revealed";
  reason?: string;
}

export interface RoundState {
  committeeId: string;
  epoch: number;
  threshold: number;
  /** 0 for a DKG; the epoch whose members deal, for a handover. */
  sourceEpoch: number;
  n: number;
  /** The round's recipients (operators in slot order): the sub-shares are sealed to their registered keys. */
  recipients: string[];
  /** This guardian's slot among the dealers (0 if it does not deal) and among the recipients (0 if it receives nothing). */
  dealerSlot: number;
  recipientSlot: number;
  phase: RoundPhase;
  /** The sub-shares this guardian dealt (index j − 1 for recipient j), kept to answer complaints against it. */
  dealt?: { commitments: Hex; subShares: string[] };
  /** Dealings seen on-chain, by dealer slot (every dealer's, this guardian's included). */
  received: Record<string, Received>;
  disqualified: number[];
  /** Open complaints against this guardian (recipient slots) that it has answered. */
  answered: number[];
  finalized?: { qualified: number[]; commitments: Hex };
  /** Every acknowledgement of the round in log order (public): the history `proveInvalidPossession` replays. */
  acks?: { slot: number; operator: string; proofHash: Hex }[];
  /** This guardian's share of the round, once computed and verified. */
  share?: string;
}

/** What the shell must do. Every action is idempotent on-chain (the shell checks the chain before sending). */
export type Action =
  | { kind: "deal" }
  | { kind: "complain"; dealer: number; reason: string }
  | { kind: "prove-mismatch"; dealer: number }
  | { kind: "answer"; recipient: number; value: string }
  | { kind: "prove-possession"; slot: number; proof: Hex }
  | { kind: "acknowledge"; share: string }
  | { kind: "activate"; share: string }
  | { kind: "erase"; epoch: number }
  | { kind: "refuse"; reason: string };

export interface Step {
  state: RoundState;
  actions: Action[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A round opens (`CommitteeProposed` or `CommitteeHandoverStarted`); undefined if this guardian has no part in it. */
export function open(o: {
  me: string;
  committeeId: bigint;
  epoch: bigint;
  threshold: number;
  sourceEpoch: bigint;
  dealers: readonly string[];
  recipients: readonly string[];
}): Step | undefined {
  // The registry refuses a proposal naming a member twice; a round that does so anyway is not one to take part in
  // (one member would hold two slots, and slots are found by operator).
  for (const list of [o.dealers, o.recipients]) {
    const seen = new Set(list.map((a) => String(a).toLowerCase()));
    if (seen.size !== list.length) throw new CGError("DUPLICATE_MEMBER", `committee ${o.committeeId} epoch ${o.epoch} names a member twice`);
  }
  const dealerSlot = o.dealers.findIndex((a) => same(a, o.me)) + 1;
  const recipientSlot = o.recipients.findIndex((a) => same(a, o.me)) + 1;
  if (dealerSlot === 0 && recipientSlot === 0) return undefined;
  const state: RoundState = {
    committeeId: o.committeeId.toString(),
    epoch: Number(o.epoch),
    threshold: o.threshold,
    sourceEpoch: Number(o.sourceEpoch),
    n: o.recipients.length,
    recipients: [...o.recipients],
    dealerSlot,
    recipientSlot,
    phase: "dealing",
    received: {},
    disqualified: [],
    answered: [],
  };
  return { state, actions: dealerSlot > 0 ? [{ kind: "deal" }] : [] };
}

/** The shell drew this guardian's dealing (and queued it): keep its sub-shares to answer complaints. */
export function dealt(state: RoundState, commitments: Hex, subShares: readonly bigint[]): Step {
  return { state: { ...state, dealt: { commitments, subShares: subShares.map(String) } }, actions: [] };
}

/**
 * A dealing was posted. `opened` is this guardian's sub-share as the shell decrypted it (or why it could not);
 * `sourceCommitments` are the source epoch's commitments in a handover (for E_{i,0} = PK_i).
 */
export function onDealing(
  state: RoundState,
  dealer: number,
  commitments: Hex,
  opened: { value: bigint } | { error: string } | undefined,
  sourceCommitments?: Hex,
): Step {
  if (state.phase !== "dealing" || state.received[dealer] !== undefined) return { state, actions: [] };
  const actions: Action[] = [];
  let entry: Received = { commitments, verdict: "ok" };
  let points: G2Point[] | undefined;
  try {
    points = decodeCommitments(commitments);
  } catch (e) {
    entry = { commitments, verdict: "complained", reason: `commitments: ${(e as Error).message}` };
  }
  if (points && state.sourceEpoch !== 0 && sourceCommitments !== undefined) {
    if (!checkReshareDealing(dealer, points, decodeCommitments(sourceCommitments))) {
      entry = { commitments, verdict: "mismatch", reason: "E_0 is not the dealer's public share" };
      actions.push({ kind: "prove-mismatch", dealer });
    }
  }
  if (state.recipientSlot > 0 && entry.verdict === "ok" && opened !== undefined) {
    if ("error" in opened) entry = { commitments, verdict: "complained", reason: opened.error };
    else if (!verifySubShare(state.recipientSlot, opened.value, points!)) {
      entry = { commitments, verdict: "complained", reason: "the sub-share does not match the dealer's commitments" };
    } else entry = { commitments, verdict: "ok", subShare: opened.value.toString() };
  }
  if (entry.verdict === "complained" && state.recipientSlot > 0 && dealer !== state.dealerSlot) {
    actions.push({ kind: "complain", dealer, reason: entry.reason! });
  }
  return { state: { ...state, received: { ...state.received, [dealer]: entry } }, actions };
}

/** A complaint was filed: a dealer answers those against itself, with the value it sent to that recipient. */
export function onComplaint(state: RoundState, dealer: number, recipient: number): Step {
  if (state.phase !== "dealing" || dealer !== state.dealerSlot || state.dealt === undefined || state.answered.includes(recipient)) {
    return { state, actions: [] };
  }
  const value = state.dealt.subShares[recipient - 1];
  return { state: { ...state, answered: [...state.answered, recipient] }, actions: [{ kind: "answer", recipient, value }] };
}

/** An answer was posted: a right answer to this guardian's complaint gives it the (now public) sub-share. */
export function onAnswer(state: RoundState, dealer: number, recipient: number, value: bigint, valid: boolean): Step {
  if (!valid) return onDisqualified(state, dealer);
  if (recipient !== state.recipientSlot) return { state, actions: [] };
  const entry = state.received[dealer];
  if (entry === undefined) return { state, actions: [] };
  return { state: { ...state, received: { ...state.received, [dealer]: { ...entry, verdict: "revealed", subShare: value.toString() } } }, actions: [] };
}

export function onDisqualified(state: RoundState, dealer: number): Step {
  if (state.disqualified.includes(dealer)) return { state, actions: [] };
  return { state: { ...state, disqualified: [...state.disqualified, dealer] }, actions: [] };
}

/**
 * The round was finalized with qualified dealers `qualified` (Q for a DKG, Q' for a handover) and commitments C:
 * a recipient combines its share, checks s_j·P2 == PK_j, and acknowledges only if it holds.
 */
export function onFinalized(state: RoundState, qualified: readonly number[], commitments: Hex): Step {
  if (state.phase !== "dealing") return { state, actions: [] };
  const next: RoundState = { ...state, phase: "acknowledging", finalized: { qualified: [...qualified], commitments } };
  if (state.recipientSlot === 0) return { state: next, actions: [] };
  const missing = qualified.filter((i) => state.received[i]?.subShare === undefined);
  if (missing.length > 0) {
    return { state: next, actions: [{ kind: "refuse", reason: `no verified sub-share from qualified dealer(s) ${missing.join(", ")}` }] };
  }
  const subShares = qualified.map((i) => BigInt(state.received[i].subShare!));
  // A handover's Q' is chosen by the contract (the source epoch's t lowest qualified dealers): Lagrange over it.
  const share = state.sourceEpoch === 0 ? combineDkgShares(subShares) : combineReshareShares(qualified, subShares);
  const publicShare = committeePublicShare(decodeCommitments(commitments), state.recipientSlot);
  if (!G2.BASE.multiply(share).equals(publicShare)) {
    return { state: next, actions: [{ kind: "refuse", reason: "the combined share does not match its public share" }] };
  }
  return { state: { ...next, share: share.toString() }, actions: [{ kind: "acknowledge", share: share.toString() }] };
}

/** A later epoch became active: this round's share never serves again and is erased (§4.4). */
export function onRetired(state: RoundState): Step {
  return { state: { ...forget(state), phase: "retired", share: undefined }, actions: [] };
}

/**
 * A member acknowledged: the acknowledgement joins the round's history, and another member's proof of possession
 * that does not verify under its public share is proven (§8; `verify` checks it, the shell passes the SDK's check).
 */
export function onAcknowledged(
  state: RoundState,
  slot: number,
  operator: string,
  proof: Hex,
  proofHash: Hex,
  verify: (proof: Hex, slot: number, commitments: Hex) => boolean,
): Step {
  const acks = state.acks ?? [];
  if (acks.some((a) => a.slot === slot)) return { state, actions: [] };
  const next: RoundState = { ...state, acks: [...acks, { slot, operator, proofHash }] };
  if (slot === state.recipientSlot || state.finalized === undefined) return { state: next, actions: [] };
  let valid: boolean;
  try {
    valid = verify(proof, slot, state.finalized.commitments);
  } catch {
    valid = false; // a proof that does not even decode is invalid
  }
  return { state: next, actions: valid ? [] : [{ kind: "prove-possession", slot, proof }] };
}

/** The round's epoch became active: its share serves; a handover's source epoch share is erased (§4.4). */
export function onActivated(state: RoundState): Step {
  if (state.phase === "active") return { state, actions: [] };
  const actions: Action[] = [];
  if (state.share !== undefined) actions.push({ kind: "activate", share: state.share });
  if (state.sourceEpoch !== 0) actions.push({ kind: "erase", epoch: state.sourceEpoch });
  return { state: { ...forget(state), phase: "active" }, actions };
}

/** The round failed: nothing of it is kept. */
export function onFailed(state: RoundState): Step {
  return { state: { ...forget(state), phase: "failed", share: undefined }, actions: [] };
}

/** A round's secrets other than the share: what was dealt and received. */
function forget(state: RoundState): RoundState {
  const received: Record<string, Received> = {};
  for (const [k, v] of Object.entries(state.received)) received[k] = { commitments: v.commitments, verdict: v.verdict, reason: v.reason };
  return { ...state, dealt: undefined, received };
}

/**
 * The dealings `finalize` needs: every qualified dealer's (the contract keeps, for a handover, the source epoch's t
 * lowest of them: §4.3), each at its dealer's slot.
 */
export function finalizeDealings(state: RoundState, dealt: number, disqualified: number, complained: number): Hex[] {
  const needed: number[] = [];
  for (let s = 1; s <= state.n; s++) {
    const bit = 1 << (s - 1);
    if (dealt & bit && !(disqualified & bit) && !(complained & bit)) needed.push(s);
  }
  const width = Math.max(0, ...needed);
  return Array.from({ length: width }, (_, k) => (needed.includes(k + 1) ? state.received[k + 1]?.commitments : undefined) ?? "0x");
}

