/**
 * Failpoints for crash tests and the demo, off unless `CG_FAILPOINTS` names them:
 * - `serve.after-commit`: the process kills itself with SIGKILL right after a partial is computed and its
 *   delivery and commit are recorded, exactly as a power cut would;
 * - `serve.invalid-partial`: the agent serves and commits a wrong partial (a misbehaving guardian, for the demo
 *   and the fraud-proof tests).
 */
let active = new Set<string>();

export function setFailpoints(names: readonly string[]): void {
  active = new Set(names);
}

export function failpoint(name: string): void {
  if (!active.has(name)) return;
  active.delete(name); // fire once per process
  process.kill(process.pid, "SIGKILL");
}

/** True while a behavioural failpoint is active (it stays active). */
export function isFailpoint(name: string): boolean {
  return active.has(name);
}
