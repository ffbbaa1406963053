/**
 * Contract refusals in words for `cg`: the catalogue is docs/ERRORS.md itself, read when a refusal is shown (one
 * source: the tables people read are the explanations the command line prints), with every time an error carries
 * given in UTC and relative to the chain's clock ("the security period ends at 14:02 UTC, in 23 h 58 m").
 */
import { readFileSync } from "node:fs";

export const ERRORS_MD = new URL("../docs/ERRORS.md", import.meta.url);

export interface CatalogueEntry {
  /** The error's name, e.g. `ResetSecurityPeriodActive`. */
  name: string;
  /** Its parameter names in order, e.g. `["requestId", "executableAt"]`. */
  params: string[];
  /** Why it happens and what to do, as docs/ERRORS.md says it (code marks removed). */
  why: string;
  fix: string;
}

let cached: Map<string, CatalogueEntry> | undefined;

/** Every row `| \`Name(params)\` | why | fix |` of docs/ERRORS.md, by error name. */
export function parseCatalogue(markdown: string): Map<string, CatalogueEntry> {
  const out = new Map<string, CatalogueEntry>();
  for (const line of markdown.split(/\r?\n/)) {
    const m = /^\|\s*`([A-Za-z0-9_]+)\(([^)]*)\)`\s*\|(.*)\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const plain = (s: string) => s.trim().replaceAll("`", "");
    const params = m[2].split(",").map((p) => p.trim()).filter(Boolean);
    out.set(m[1], { name: m[1], params, why: plain(m[3]), fix: plain(m[4]) });
  }
  return out;
}

export function catalogue(): Map<string, CatalogueEntry> {
  cached ??= parseCatalogue(readFileSync(ERRORS_MD, "utf8"));
  return cached;
}

/** What each time-valued parameter means, for the sentence that gives it. */
const TIME_WORDS: Record<string, string> = {
  executableAt: "the security period ends",
  readyAt: "the unbonding delay ends",
  expiredAt: "the request expired",
  expiresAt: "the attestation expires",
  settleableAt: "settling opens",
  lockedUntil: "the stake is locked until",
  dueAt: "it is due",
};

/** "23 h 58 m", "4 d 2 h", "42 s". */
export function span(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} m`;
  if (m) return `${m} m ${s % 60} s`;
  return `${s} s`;
}

/** "14:02 UTC, in 23 h 58 m" (same day) or "2026-03-01 14:02 UTC, 3 d 2 h ago", against `now` (unix seconds). */
export function when(at: number, now: number): string {
  const date = new Date(at * 1000).toISOString();
  const sameDay = date.slice(0, 10) === new Date(now * 1000).toISOString().slice(0, 10);
  const clock = `${sameDay ? "" : `${date.slice(0, 10)} `}${date.slice(11, 16)} UTC`;
  const rel = at >= now ? `in ${span(at - now)}` : `${span(now - at)} ago`;
  return `${clock}, ${rel}`;
}

export interface Explanation {
  error: string;
  why: string;
  fix: string;
  /** One sentence per time the error carries, e.g. "the security period ends at 14:02 UTC, in 23 h 58 m". */
  times: string[];
}

/** The catalogue's words for a refusal `error(args)`, with its times against the chain's `now`; undefined if unknown. */
export function explainRevert(error: string, args: readonly unknown[], now: number): Explanation | undefined {
  const entry = catalogue().get(error);
  if (!entry) return undefined;
  const times: string[] = [];
  entry.params.forEach((param, k) => {
    const v = args[k];
    const n = typeof v === "bigint" ? v : typeof v === "number" ? BigInt(v) : undefined;
    if (n === undefined || !/(At|Until)$/.test(param)) return;
    const words = TIME_WORDS[param] ?? param;
    if (n >= 2n ** 40n) {
      times.push(`${words}: no end set yet`);
      return;
    }
    times.push(`${words}${words.endsWith("until") ? "" : " at"} ${when(Number(n), now)}`);
  });
  return { error, why: entry.why, fix: entry.fix, times };
}
