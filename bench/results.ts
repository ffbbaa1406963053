/**
 * bench/results.json, the one record of measured figures. `npm run bench` rewrites its own `gas.*` and `offchain.*`
 * figures; `npm run scale` and `npm run soak` merge theirs in. Whatever a script does not write is kept, so running
 * one never erases what another measured.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const FILE = new URL("./results.json", import.meta.url);

export interface ResultsUpdate {
  /** Figures to set, by key. */
  figures: Record<string, number>;
  /** Figures of the previous record that this script owns and no longer measures are dropped. */
  owns?: (key: string) => boolean;
  /** Entries to set in `environment`. */
  environment?: Record<string, unknown>;
  /** Top-level entries to set (e.g. `generated`, or a script's own parameters). */
  top?: Record<string, unknown>;
}

export function mergeResults(update: ResultsUpdate): void {
  const previous = existsSync(FILE) ? JSON.parse(readFileSync(FILE, "utf8")) : {};
  const kept = Object.entries(previous.figures ?? {}).filter(([key]) => !update.owns?.(key));
  const results = {
    ...previous,
    ...update.top,
    environment: { ...previous.environment, ...update.environment },
    figures: { ...Object.fromEntries(kept), ...update.figures },
  };
  writeFileSync(FILE, JSON.stringify(results, null, 2) + "\n");
}
