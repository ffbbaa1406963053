/** cg committee: propose a committee, start a handover, follow their rounds; list and show committees. */
import { formatEther } from "viem";

import {
  type CommitteeInfo,
  type RoundInfo,
  type RoundOutcome,
  checkCommitteeProposal,
  defaultThreshold,
  committeeInfo,
  listCommittees,
  proposeCommittee,
  startHandover,
  watchRound,
} from "../../sdk/client/index.ts";
import { CGError } from "../../sdk/errors.ts";
import { type Context, Usage, address, integer, list, str } from "../context.ts";
import type { Group } from "./types.ts";

const DEFAULT_SIZE = 5;
const DEFAULT_TIMEOUT_SECONDS = 1800;
const POLL_MS = 1000;

function committeeId(args: string[], command: string): bigint {
  const raw = args[0];
  if (raw === undefined) throw new Usage(`cg committee ${command}: expected a committee id (a whole number ≥ 1), got nothing`);
  if (!/^[1-9][0-9]*$/.test(raw)) throw new Usage(`cg committee ${command}: expected a committee id (a whole number ≥ 1), got ${JSON.stringify(raw.slice(0, 20))}`);
  return BigInt(raw);
}

function timeoutMs(ctx: Context): number {
  const raw = str(ctx.flags, "timeout");
  if (raw === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(integer(raw, "timeout"));
  if (seconds < 1) throw new Usage(`--timeout expects a number of seconds ≥ 1, got ${JSON.stringify(raw)}`);
  return seconds * 1000;
}

function iso(d: Date | undefined): string {
  return d ? d.toISOString() : "—";
}

/** Follows round `epoch` to its end: 0 once active; a failed round or a timeout is refused (exit 1) in words. */
async function follow(ctx: Context, id: bigint, epoch: bigint, what: string): Promise<RoundOutcome> {
  const c = await ctx.clients();
  let outcome: RoundOutcome;
  try {
    outcome = await watchRound(c, id, epoch, (line) => ctx.progress(line), { timeoutMs: timeoutMs(ctx), pollMs: POLL_MS });
  } catch (e) {
    if (e instanceof CGError && e.code === "TIMEOUT") {
      throw new CGError("TIMEOUT", `${e.message}: follow it with cg committee show ${id}`, { cause: e, details: e.details });
    }
    throw e;
  }
  if (outcome.phase === "failed") {
    const next = epoch === 1n
      ? "a failed formation is never resumed: propose again (without the members that stayed silent)"
      : `the active epoch stays in charge; a new handover may be started (cg committee handover ${id})`;
    throw new CGError("ROUND_FAILED", `${what} of committee ${id} (epoch ${epoch}) failed: ${outcome.failure}; ${next}`, { details: { committeeId: id, epoch } });
  }
  return outcome;
}

function slotLine(r: RoundInfo, s: RoundInfo["slots"][number]): string {
  const who = r.kind === "handover" && s.replaced ? `${s.dealer} → ${s.member} (replaced)` : s.member;
  const did: string[] = [s.dealt ? "dealt" : "not dealt"];
  if (s.complained) did.push("complaint open against it");
  if (s.disqualified) did.push("disqualified");
  if (s.complainedAgainst.length) did.push(`complained against dealer ${s.complainedAgainst.join(", ")}`);
  if (s.acknowledged) did.push("acknowledged");
  else if (r.phase === "acknowledging") did.push("not acknowledged yet");
  return `  slot ${s.slot}  ${who}  ${did.join(", ")}`;
}

function showText(info: CommitteeInfo): string {
  const r = info.round;
  const lines = [
    `committee ${info.committeeId}: ${info.status}, ${info.threshold} of ${info.size}, active epoch ${info.activeEpoch || "none"}${info.activatedAt ? ` (since ${iso(info.activatedAt)})` : ""}`,
    `K hash: ${info.groupKeyHash ?? "not fixed yet (the DKG is not finalized)"}`,
    `members${info.activeEpoch ? ` (epoch ${info.activeEpoch})` : info.status === "forming" ? " (forming)" : " (as proposed)"}:`,
    ...info.members.map((m) => `  slot ${m.slot}  ${m.operator}  joined epoch ${m.since}`),
    `round ${r.epoch} (${r.kind === "formation" ? "formation" : `handover from epoch ${r.sourceEpoch}`}): ${r.phase}, ${r.threshold} of ${r.size}, ${r.dealt} of ${r.size} dealt, ${r.acknowledged} of ${r.size} acknowledged`,
    `  dealing until ${iso(r.deadlines.dealing)} (closes early once every dealer has dealt)`,
    `  complaints until ${iso(r.deadlines.complaints)}, answers until ${iso(r.deadlines.answers)}`,
  ];
  if (r.deadlines.finalizeBy) lines.push(`  finalize by ${iso(r.deadlines.finalizeBy)} or the round fails`);
  if (r.deadlines.finalizedAt) lines.push(`  finalized at ${iso(r.deadlines.finalizedAt)}, acknowledgements until ${iso(r.deadlines.acknowledgements)}`);
  if (r.qualified) lines.push(`  qualified dealers: ${r.qualified.join(", ")}`);
  if (r.failure) lines.push(`  failed: ${r.failure}`);
  lines.push(...r.slots.map((s) => slotLine(r, s)));
  for (const x of r.complaints) lines.push(`  complaint: slot ${x.recipient} against dealer ${x.dealer}: ${x.status}`);
  for (const f of r.faults) lines.push(`  fault: slot ${f.slot} (${f.operator}) ${f.fault}, ${formatEther(f.slashed)} ETH slashed, proven by ${f.prover}`);
  lines.push("history:");
  for (const h of info.history) lines.push(`  epoch ${h.epoch} ${h.event} at block ${h.block} (${iso(h.time)}): ${h.detail}`);
  return lines.join("\n");
}

export const committee: Group = {
  propose: {
    summary: "propose a committee (anyone) and follow its DKG until it is active or failed",
    usage:
      "cg committee propose [--guardians <addr,…> | --size <n>] [--threshold <t>] [--no-wait] [--timeout <seconds>]\n" +
      `  --size picks n eligible guardians spread over operators, regions and providers (default ${DEFAULT_SIZE});\n` +
      "  --threshold defaults to the smallest majority (3 of 5, 4 of 7); 2 ≤ t ≤ n ≤ 32 and t > n/2.\n" +
      `  Waits until the committee is active (exit 0) or its formation failed (exit 1), at most --timeout (default ${DEFAULT_TIMEOUT_SECONDS}).`,
    example: "cg committee propose --size 5 --threshold 3 --key $PROPOSER_KEY",
    async run(ctx) {
      const named = list(ctx.flags, "guardians").map((a) => address(a, "guardians"));
      const sizeFlag = str(ctx.flags, "size");
      const size = sizeFlag !== undefined ? Number(integer(sizeFlag, "size")) : named.length ? undefined : DEFAULT_SIZE;
      const thresholdFlag = str(ctx.flags, "threshold");
      const threshold = thresholdFlag !== undefined ? Number(integer(thresholdFlag, "threshold")) : undefined;
      const wait = ctx.flags["no-wait"] !== true;
      if (wait) timeoutMs(ctx);
      try {
        checkCommitteeProposal({ members: named.length ? named : undefined, size, threshold });
      } catch (e) {
        if (e instanceof CGError && e.code === "INVALID_INPUT") throw new Usage(e.message.replace(/^proposeCommittee: /, ""));
        throw e;
      }
      let checked;
      try {
        checked = checkCommitteeProposal({ members: named.length ? named : undefined, size, threshold });
      } catch {
        checked = undefined;
      }
      if (checked && checked.t === checked.n) {
        ctx.progress(`warning: t = n = ${checked.n}: a single member offline stops every reset of this committee's accounts until a handover; --threshold ${defaultThreshold(checked.n)} tolerates ${checked.n - defaultThreshold(checked.n)} failures`);
      }
      const c = await ctx.clients();
      const p = await proposeCommittee(c, { members: named.length ? named : undefined, size, threshold }, (line) => ctx.progress(line));
      const summary = `proposed committee ${p.committeeId}: ${p.threshold} of ${p.members.length}\nmembers: ${p.members.join(", ")}\ndealing until ${iso(p.dealDeadline)}\ngas ${p.gasUsed}`;
      if (!wait) {
        ctx.print(`${summary}\nfollow it with cg committee show ${p.committeeId}`, p);
        return 0;
      }
      ctx.progress(`committee ${p.committeeId} proposed; dealing until ${iso(p.dealDeadline)}`);
      const outcome = await follow(ctx, p.committeeId, 1n, "the formation");
      ctx.print(`${summary}\ncommittee ${p.committeeId} is active (qualified dealers ${outcome.qualified?.join(", ") ?? "—"})`, { ...p, outcome });
      return 0;
    },
  },
  list: {
    summary: "every committee with its status, t of n, active epoch and members",
    usage: "cg committee list",
    example: "cg committee list --json",
    async run(ctx) {
      const all = await listCommittees(await ctx.clients());
      const text = all.map((k) => {
        const round = k.lastEpoch !== k.activeEpoch && k.status !== "failed" ? ` (round ${k.lastEpoch} ${k.roundPhase})` : "";
        return `committee ${k.committeeId}: ${k.status}${round}, ${k.threshold} of ${k.size}, active epoch ${k.activeEpoch || "none"}: ${k.members.join(", ")}`;
      });
      ctx.print(text.join("\n") || "no committees", all);
      return 0;
    },
  },
  show: {
    summary: "a committee's members by slot, status, K hash, its round in progress slot by slot, and its epoch history",
    usage: "cg committee show <id>",
    example: "cg committee show 1",
    async run(ctx, args) {
      const info = await committeeInfo(await ctx.clients(), committeeId(args, "show"));
      ctx.print(showText(info), info);
      return 0;
    },
  },
  handover: {
    summary: "start a handover of an active committee (anyone) and follow it until the new epoch is active or failed",
    usage:
      "cg committee handover <id> [--no-wait] [--timeout <seconds>]\n" +
      "  Due when a member is no longer eligible, or when the active epoch is older than maxEpochAge (the\n" +
      "  longest-serving member leaves); the contract draws the replacements.\n" +
      `  Waits until the new epoch is active (exit 0) or the handover failed (exit 1), at most --timeout (default ${DEFAULT_TIMEOUT_SECONDS}).`,
    example: "cg committee handover 1 --key $ANY_KEY",
    async run(ctx, args) {
      const id = committeeId(args, "handover");
      const wait = ctx.flags["no-wait"] !== true;
      if (wait) timeoutMs(ctx);
      const h = await startHandover(await ctx.clients(), id, (line) => ctx.progress(line), POLL_MS);
      const changes = h.incoming.map((x) => `slot ${x.slot}: ${x.replaces ?? "?"} → ${x.operator}`);
      const summary = `handover of committee ${id} to epoch ${h.epoch} started (${h.threshold} of ${h.members.length})\n${changes.join("\n") || "no slot replaced"}\ndealing until ${iso(h.dealDeadline)}\ngas ${h.gasUsed}`;
      if (!wait) {
        ctx.print(`${summary}\nfollow it with cg committee show ${id}`, h);
        return 0;
      }
      ctx.progress(`handover to epoch ${h.epoch} started; dealing until ${iso(h.dealDeadline)}`);
      const outcome = await follow(ctx, id, h.epoch, "the handover");
      ctx.print(`${summary}\nepoch ${h.epoch} is active; epoch ${h.sourceEpoch} is retired`, { ...h, outcome });
      return 0;
    },
  },
};
