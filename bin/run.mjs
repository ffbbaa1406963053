/**
 * Runs one of the project's TypeScript entry points under the project's Node 24 (the `node` devDependency), whatever
 * Node started this shim (20 works): the caller's folder, arguments, standard streams and exit code are kept.
 * Plain JavaScript on purpose, so any Node ≥ 18 can run it.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function runEntry(entry) {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, "..");
  let node;
  try {
    node = join(dirname(createRequire(join(here, "package.json")).resolve("node/package.json")), "bin", "node");
  } catch {
    process.stderr.write(`${entry}: the project's Node 24 (npm package "node") is not installed: run npm install in ${root}\n`);
    process.exit(1);
  }
  const child = spawn(node, ["--no-warnings", join(root, entry), ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (e) => {
    process.stderr.write(`${entry}: could not start ${node}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 1) : 1)));
}
