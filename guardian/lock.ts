/**
 * One agent per data directory: `guardian.lock` holds the PID, host and start time of the agent that owns it. Two
 * agents on one database would both serve every request (double postings, double codes), so a second one refuses
 * to start and names the first; a lock left by a process that no longer runs (a crash, a kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

import { CGError } from "../sdk/errors.ts";

export const LOCK_FILE = "guardian.lock";

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

export interface DataDirLock {
  path: string;
  /** The owner of a stale lock this one replaced, if any. */
  tookOver?: LockOwner;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as Partial<LockOwner>;
    if (typeof o.pid === "number" && Number.isInteger(o.pid) && o.pid > 0) return { pid: o.pid, host: String(o.host ?? ""), startedAt: String(o.startedAt ?? "") };
  } catch {
    // unreadable or half-written: treated as stale below
  }
  return undefined;
}

/** Takes the lock of `dataDir`, or throws `AGENT_RUNNING` naming the agent that holds it. */
export function acquireLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  let tookOver: LockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new CGError("LOCK_FAILED", `cannot create ${path}: ${(e as Error).message}`, { cause: e });
      const owner = readOwner(path);
      // A lock of another host (a data directory on shared storage) cannot be checked: it is never taken over.
      if (owner && (owner.host !== me.host || alive(owner.pid))) {
        throw new CGError(
          "AGENT_RUNNING",
          `another guardian agent is running on ${dataDir}: pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}; stop it first ` +
            `(if that process is not a guardian agent, delete ${path})`,
          { details: { ...owner } },
        );
      }
      tookOver = owner ?? tookOver;
      try {
        unlinkSync(path);
      } catch {
        // another starter removed it first; try again
      }
      continue;
    }
    writeSync(fd, JSON.stringify(me) + "\n");
    closeSync(fd);
    return {
      path,
      tookOver,
      release() {
        if (readOwner(path)?.pid === me.pid) unlinkSync(path);
      },
    };
  }
  throw new CGError("LOCK_FAILED", `could not take ${path}: other agents are starting on ${dataDir} at the same time`);
}
