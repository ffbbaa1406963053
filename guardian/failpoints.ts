/**
 * Failpoints for crash tests and the demo, off unless `CG_FAILPOINTS` names them:
 * - `serve.after-post`: the process kills itself with SIGKILL right after its postings are on-chain, before that is
 *   recorded and before the codes are delivered, exactly as a power cut would;
 * - `serve.invalid-posting`: the agent posts postings whose W is off by the generator (a misbehaving guardian, for
 *   the demo and the fraud-proof tests);
 * - `serve.none`: the agent serves no request (a member that stays silent; it still answers peers);
 * - `committee.*`: see guardian/committees.ts.
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
