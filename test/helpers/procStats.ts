/**
 * CPU time and peak memory of child processes from Linux's /proc, kept per agent across restarts: each process the
 * agent ran as is sampled (utime + stime from /proc/<pid>/stat, VmHWM from /proc/<pid>/status) until it exits, and
 * the figures add up its processes' last samples (CPU) or take their maximum (peak resident memory). Sample a process
 * right before killing it: what it used after its last sample is not counted.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** One reading of a live process, or undefined once it is gone (or on a system without /proc). */
export function readProc(pid: number): { cpuSeconds: number; peakRssBytes: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), starting at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / clockTicks(); // utime, stime (fields 14, 15)
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return { cpuSeconds, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return undefined;
  }
}

export interface ProcessTotals {
  processes: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

/** The processes one name (an agent) ran as, each with its last reading. */
export class ProcessMeter {
  readonly #byName = new Map<string, Map<number, { cpuSeconds: number; peakRssBytes: number }>>();

  /** Samples `pid` as one of `name`'s processes (a new pid is a restart). */
  sample(name: string, pid: number | undefined): void {
    if (pid === undefined) return;
    const reading = readProc(pid);
    const processes = this.#byName.get(name) ?? new Map();
    this.#byName.set(name, processes);
    if (reading) processes.set(pid, { cpuSeconds: reading.cpuSeconds, peakRssBytes: Math.max(reading.peakRssBytes, processes.get(pid)?.peakRssBytes ?? 0) });
  }

  totals(name: string): ProcessTotals {
    const processes = [...(this.#byName.get(name)?.values() ?? [])];
    return {
      processes: processes.length,
      cpuSeconds: processes.reduce((s, p) => s + p.cpuSeconds, 0),
      peakRssBytes: Math.max(0, ...processes.map((p) => p.peakRssBytes)),
    };
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }
}
