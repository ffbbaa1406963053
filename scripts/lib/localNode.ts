/**
 * Starts `hardhat node` on 127.0.0.1 as a child process and waits until it answers JSON-RPC. Used by the deploy
 * test, the guardian integration test and the demo. Everything stays on loopback.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

import { CGError } from "../../sdk/errors.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const HARDHAT_CLI = fileURLToPath(new URL("../../node_modules/hardhat/dist/src/cli.js", import.meta.url));

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new CGError("RPC_ERROR", `${method}: ${body.error.message}`);
  return body.result as T;
}

export interface LocalNode {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Runs a Hardhat CLI command with the project's Node (the one running this code). */
export function hardhat(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(process.execPath, [HARDHAT_CLI, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

export async function startHardhatNode(options: { port?: number; timeoutMs?: number } = {}): Promise<LocalNode> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = hardhat(["node", "--hostname", "127.0.0.1", "--port", String(port)]);
  let output = "";
  child.stdout!.on("data", (d) => (output = (output + d).slice(-4000)));
  child.stderr!.on("data", (d) => (output = (output + d).slice(-4000)));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new CGError("NODE_FAILED", `hardhat node exited with ${child.exitCode}: ${output.slice(-500)}`);
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new CGError("NODE_FAILED", `hardhat node did not answer on ${url} within ${options.timeoutMs ?? 60_000} ms`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    url,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** Collects a child's output and resolves with its exit code. */
export function completion(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}
