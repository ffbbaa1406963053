/**
 * Resets, the owner's client side.
 *
 * `assembleFromCodes` (PROTOCOL §6.6) turns the channel codes the owner received and the postings the
 * committee put on-chain into the token for `completeReset`, naming the guardian and the check for every
 * failure, and blaming a guardian only when its posting fails the public check anyone can run.
 */
import { type Address, type Hex, hexToBytes, isAddress, isHex, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import { type G1Point, type G2Point, G1, G2, R, g1FromCompressed, g1ToEip2537, hashToG1, verifySignature } from "../crypto/bls.ts";
import { COMMITTEE_MAX_SIZE } from "../crypto/constants.ts";
import { type Posting, channelCodeScalar, decompressPosting, openPosting, verifyPosting } from "../crypto/posting.ts";
import { type Partial, combine, verifyToken } from "../crypto/threshold.ts";
import type { CodeMessage } from "../encoding/channelCode.ts";

// ───────────────────────────── assembly from channel codes (§6.6) ─────────────────────────────

/** One posting as the chain shows it (`PartialPosted`). */
export interface OnChainPosting {
  slot: number;
  committeeEpoch: number;
  /** The operator that posted it. */
  guardian: Address;
  /** The message m the guardian posted for; a posting for another message is never judged against this one. */
  message?: Hex;
  /** C ‖ U ‖ V ‖ W compressed, 240 bytes. */
  posting: Hex | Uint8Array;
}

export interface AssembleFromCodesInput {
  chainId: bigint;
  coordinator: Address;
  requestId: bigint;
  /** m of the request (`resetMessage`). */
  message: Hex;
  /** A = a·G1, as requested. */
  requesterKey: G1Point;
  /** a, kept by the requesting client. Never shown in any error. */
  requesterSecret: bigint;
  /** The committee's threshold t. */
  t: number;
  /** The committee's group key K. */
  groupKey: G2Point;
  /** Every posting of the request read from the chain, of any committee epoch. */
  postings: readonly OnChainPosting[];
  /** The codes the owner has (`parseCodeMessage`): any number per slot, any of them possibly mistyped or forged. */
  codes: readonly CodeMessage[];
  /** committee epoch → [PK_1, …, PK_n] of that epoch (`publicShare(commitments, i)`). */
  publicShares: ReadonlyMap<number, readonly G2Point[]>;
}

/**
 * What went wrong for one slot. Only check "posting" blames the guardian (`blamed`): its posting fails the
 * public check of §6.4, which anyone can prove on-chain. A code that does not match is the code's problem (a
 * typo, or a message that did not come from the guardian), never the guardian's.
 */
export interface AssemblyProblem {
  slot: number;
  /** The operator of the slot's posting, when there is one. */
  guardian?: Address;
  committeeEpoch?: number;
  check: "request" | "no-posting" | "code" | "posting" | "public-share" | "other-message";
  blamed: boolean;
  message: string;
}

export interface AssembledFromCodes {
  token: G1Point;
  /** σ in EIP-2537 form, for `completeReset`. */
  tokenHex: Hex;
  /** The committee epoch whose t partials were combined. */
  epoch: number;
  slotsUsed: number[];
  /** Problems met on the way that did not prevent the token (e.g. a posting to prove invalid). */
  problems: AssemblyProblem[];
}

interface Candidate {
  record: OnChainPosting;
  /** C, U and W: what matching a code and opening need. V is decoded only for the public check that blames. */
  decoded?: Pick<Posting, "C" | "U" | "W">;
  /** Why the bytes are not a posting (decompressPosting's message), if they are not. */
  undecodable?: string;
}

const toPostingBytes = (posting: Hex | Uint8Array): Uint8Array => (typeof posting === "string" ? hexToBytes(posting) : posting);

/** The three G1 points of a compressed posting (C ‖ U ‖ V ‖ W), each fully checked; on a bad one, decompressPosting
 *  names it and why. */
function openingPoints(bytes: Uint8Array): Pick<Posting, "C" | "U" | "W"> {
  try {
    return { C: g1FromCompressed(bytes.subarray(0, 48)), U: g1FromCompressed(bytes.subarray(48, 96)), W: g1FromCompressed(bytes.subarray(192, 240)) };
  } catch {
    const { C, U, W } = decompressPosting(bytes);
    return { C, U, W };
  }
}

function assertAssembleInput(input: AssembleFromCodesInput): Uint8Array {
  const where = "assembleFromCodes";
  if (typeof input !== "object" || input === null) throw new CGError("INVALID_INPUT", `${where}: expected the request, postings and codes, got ${describe(input)}`);
  const { message, requesterKey, requesterSecret, t, groupKey, postings, codes, publicShares } = input;
  if (typeof message !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(message)) {
    throw new CGError("INVALID_INPUT", `${where}: expected the message m as 32 bytes of 0x-hex, got ${describe(message)}`);
  }
  if (!(requesterKey instanceof G1) || requesterKey.is0()) throw new CGError("INVALID_INPUT", `${where}: expected the requester key A as a G1 point other than infinity`);
  if (typeof requesterSecret !== "bigint" || requesterSecret <= 0n || requesterSecret >= R || !G1.BASE.multiply(requesterSecret).equals(requesterKey)) {
    throw new CGError("INVALID_INPUT", `${where}: the requester secret a does not belong to the requester key A`);
  }
  if (!Number.isInteger(t) || t < 1 || t > COMMITTEE_MAX_SIZE) throw new CGError("INVALID_INPUT", `${where}: expected a threshold t in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(t)}`);
  if (!(groupKey instanceof G2) || groupKey.is0()) throw new CGError("INVALID_INPUT", `${where}: expected the group key K as a G2 point other than infinity`);
  if (!Array.isArray(postings) || !Array.isArray(codes) || !(publicShares instanceof Map)) {
    throw new CGError("INVALID_INPUT", `${where}: expected postings and codes as lists and publicShares as a Map of committee epoch to public shares`);
  }
  postings.forEach((p, k) => {
    const ok =
      typeof p === "object" && p !== null && Number.isInteger(p.slot) && p.slot >= 1 && p.slot <= COMMITTEE_MAX_SIZE &&
      Number.isInteger(p.committeeEpoch) && p.committeeEpoch >= 1 && typeof p.guardian === "string" && isAddress(p.guardian, { strict: false }) &&
      (p.message === undefined || (typeof p.message === "string" && isHex(p.message)));
    if (!ok) throw new CGError("INVALID_INPUT", `${where}: posting ${k + 1} is not {slot, committeeEpoch, guardian, message?, posting} as PartialPosted carries it`);
  });
  return hexToBytes(message);
}

/** Labels a problem for the summary: "posting of slot 4 fails the public check (guardian 0x…, epoch 1)". */
function named(p: AssemblyProblem): string {
  const who = [p.guardian && `guardian ${p.guardian}`, p.committeeEpoch !== undefined && `epoch ${p.committeeEpoch}`].filter(Boolean).join(", ");
  return who ? `${p.message} (${who})` : p.message;
}

/**
 * §6.6: for each slot, tries every code the owner has for it: derives c_i, checks c_i·G1 == C_i of the slot's
 * postings (a mismatch is the code's fault), decrypts σ_i = W_i − (a + c_i)·U_i and checks
 * e(σ_i, P2) == e(H(m), PK_i). When a matching code does not give a valid partial, runs the public check of
 * §6.4 on the posting and blames the guardian only if it fails (or if its bytes are not points). A posting
 * whose partial opens and verifies is not put through the public check as well (three more pairings per
 * slot on the owner's path): a fault that does not reach the owner's partial, such as a wrong V alone, is
 * left to watchers, who prove it on-chain. Combines t
 * partials of one committee epoch (the latest epoch that has t) with Lagrange at 0 and checks the token
 * under K.
 *
 * Throws `NOT_ENOUGH_CODES` when no epoch has t valid partials, with `details.problems` (AssemblyProblem[])
 * and a message listing them; `TOKEN_INVALID` when t verified partials do not make a token under K (the
 * public shares given are not K's). No message or detail contains a code, c_i, a or a partial.
 */
export function assembleFromCodes(input: AssembleFromCodesInput): AssembledFromCodes {
  const m = assertAssembleInput(input);
  const { chainId, coordinator, requestId, requesterSecret, t, groupKey, publicShares } = input;
  const hm = hashToG1(m);
  const problems: AssemblyProblem[] = [];

  // Postings by slot; one made for another message is set aside, not judged.
  const bySlot = new Map<number, Candidate[]>();
  for (const record of input.postings) {
    if (record.message !== undefined && record.message.toLowerCase() !== input.message.toLowerCase()) {
      problems.push({
        slot: record.slot,
        guardian: record.guardian,
        committeeEpoch: record.committeeEpoch,
        check: "other-message",
        blamed: false,
        message: `posting of slot ${record.slot} was made for another message and is not used`,
      });
      continue;
    }
    bySlot.set(record.slot, [...(bySlot.get(record.slot) ?? []), { record }]);
  }

  // Codes by slot, each distinct code once; a code for another request is set aside.
  const codesBySlot = new Map<number, Uint8Array[]>();
  for (const code of input.codes) {
    if (typeof code !== "object" || code === null || !(code.code instanceof Uint8Array) || !Number.isInteger(code.slot)) {
      throw new CGError("INVALID_INPUT", "assembleFromCodes: expected codes as parseCodeMessage gives them ({requestId, slot, code})");
    }
    if (code.requestId !== requestId) {
      problems.push({ slot: code.slot, check: "request", blamed: false, message: `a code for slot ${code.slot} is for request ${code.requestId}, not ${requestId}` });
      continue;
    }
    const list = codesBySlot.get(code.slot) ?? [];
    if (!list.some((c) => toHex(c) === toHex(code.code))) list.push(code.code);
    codesBySlot.set(code.slot, list);
  }

  const valid = new Map<number, Partial[]>(); // committee epoch → verified partials
  const slots = [...codesBySlot.keys()].sort((x, y) => x - y);
  for (const slot of slots) {
    const candidates = bySlot.get(slot) ?? [];
    if (candidates.length === 0) {
      problems.push({ slot, check: "no-posting", blamed: false, message: `code for slot ${slot} has no posting on-chain` });
      continue;
    }
    for (const cand of candidates) {
      try {
        cand.decoded = openingPoints(toPostingBytes(cand.record.posting));
      } catch (cause) {
        cand.undecodable = cause instanceof CGError ? cause.message.replace(/^decompressPosting: /, "") : "its bytes are not a posting";
        problems.push({
          slot,
          guardian: cand.record.guardian,
          committeeEpoch: cand.record.committeeEpoch,
          check: "posting",
          blamed: true,
          message: `posting of slot ${slot} fails the public check: ${cand.undecodable}`,
        });
      }
    }
    const decodable = candidates.filter((c) => c.decoded !== undefined);
    const served = new Set<Candidate>();
    for (const code of codesBySlot.get(slot)!) {
      let c: bigint;
      try {
        c = channelCodeScalar(chainId, coordinator, requestId, slot, code);
      } catch (cause) {
        if (cause instanceof CGError && cause.code === "ZERO_SCALAR") continue; // no guardian posts for such a code
        throw cause;
      }
      const C = G1.BASE.multiply(c);
      const cand = decodable.find((x) => x.decoded!.C.equals(C));
      if (cand === undefined) {
        if (decodable.length > 0) {
          problems.push({
            slot,
            guardian: decodable.length === 1 ? decodable[0].record.guardian : undefined,
            check: "code",
            blamed: false,
            message: `code for slot ${slot} does not match its posting (mistyped, or not sent by its guardian)`,
          });
        }
        continue;
      }
      if (served.has(cand)) continue;
      const { record } = cand;
      const at = { slot, guardian: record.guardian, committeeEpoch: record.committeeEpoch };
      const PK = publicShares.get(record.committeeEpoch)?.[slot - 1];
      if (!(PK instanceof G2)) {
        problems.push({ ...at, check: "public-share", blamed: false, message: `no public share of slot ${slot} was given for committee epoch ${record.committeeEpoch}` });
        continue;
      }
      served.add(cand);
      const sigma = openPosting({ posting: cand.decoded!, requesterSecret, c });
      if (verifySignature(sigma, PK, hm)) {
        valid.set(record.committeeEpoch, [...(valid.get(record.committeeEpoch) ?? []), { index: slot, sigma }]);
        continue;
      }
      // The code matches C_i and a matches A, so a valid posting would have opened to a valid partial.
      let full: Posting;
      try {
        full = decompressPosting(cand.record.posting);
      } catch (cause) {
        const why = cause instanceof CGError ? cause.message.replace(/^decompressPosting: /, "") : "its bytes are not a posting";
        problems.push({ ...at, check: "posting", blamed: true, message: `posting of slot ${slot} fails the public check: ${why}` });
        continue;
      }
      if (verifyPosting({ posting: full, hashedMessage: hm, publicShare: PK, requesterKey: input.requesterKey })) {
        throw new CGError("INTERNAL", `assembleFromCodes: the posting of slot ${slot} passes the public check but does not open to its partial`, { details: at });
      }
      problems.push({ ...at, check: "posting", blamed: true, message: `posting of slot ${slot} fails the public check` });
    }
  }

  const ready = [...valid.entries()].filter(([, partials]) => partials.length >= t).sort(([x], [y]) => y - x);
  if (ready.length === 0) {
    const have = [...valid.entries()].map(([e, ps]) => `epoch ${e}: slot${ps.length === 1 ? "" : "s"} ${ps.map((p) => p.index).join(", ")}`).join("; ");
    const best = Math.max(0, ...[...valid.values()].map((ps) => ps.length));
    throw new CGError(
      "NOT_ENOUGH_CODES",
      `assembleFromCodes: ${best} verified partial${best === 1 ? "" : "s"} of one committee epoch, ${t} needed${have ? ` (${have})` : ""}${problems.length ? ` — ${problems.map(named).join("; ")}` : ""}`,
      { details: { need: t, valid: Object.fromEntries([...valid].map(([e, ps]) => [e, ps.map((p) => p.index)])), problems } },
    );
  }
  const [epoch, partials] = ready[0];
  const chosen = [...partials].sort((x, y) => x.index - y.index).slice(0, t);
  const token = combine(chosen, t);
  if (!verifyToken(token, groupKey, m)) {
    throw new CGError("TOKEN_INVALID", `assembleFromCodes: ${t} verified partials of committee epoch ${epoch} do not combine into a token under K: the public shares given for that epoch are not K's`, {
      details: { epoch, slots: chosen.map((p) => p.index) },
    });
  }
  return { token, tokenHex: toHex(g1ToEip2537(token)), epoch, slotsUsed: chosen.map((p) => p.index), problems };
}
