/**
 * Failpoints for crash tests: `CG_FAILPOINTS=serve.after-commit` makes the process kill itself with SIGKILL at
 * that point, exactly as a power cut would. Unset in production; nothing else reads them.
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
