/**
 * Starts a local EVM node on 127.0.0.1 as a child process and waits until it answers JSON-RPC: `hardhat node`, or
 * anvil (the npm package `@foundry-rs/anvil`, osaka hardfork), a second implementation with real reorgs
 * (`anvil_reorg`). Used by the deploy test, the guardian integration tests and the demo. Everything stays on loopback.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
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

export type NodeKind = "hardhat" | "anvil";

export interface LocalNode {
  kind: NodeKind;
  url: string;
  port: number;
  process: ChildProcess;
  /** Mines a block every `ms` milliseconds besides on every transaction (hardhat node's default), or stops it (0). */
  setIntervalMining(ms: number): Promise<void>;
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
  await answering("hardhat node", child, url, options.timeoutMs ?? 60_000);
  return {
    kind: "hardhat",
    url,
    port,
    process: child,
    setIntervalMining: async (ms) => void (await rpc(url, "evm_setIntervalMining", [ms])),
    stop: () => stopChild(child),
  };
}

/** The anvil binary of the installed `@foundry-rs/anvil` (its platform package, as the package's own launcher finds it). */
export function anvilBinary(): string {
  const arch = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch];
  const binary = process.platform === "win32" ? "anvil.exe" : "anvil";
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const path = createRequire(import.meta.url).resolve(`${platformPackage}/bin/${binary}`);
    if (existsSync(path)) return path;
  } catch {
    // reported below
  }
  throw new CGError("NODE_FAILED", `anvil: ${platformPackage} is not installed (npm installs it with @foundry-rs/anvil on ${process.platform}/${process.arch})`);
}

/**
 * anvil on 127.0.0.1 with hardhat node's accounts (same mnemonic and chain id, 20 accounts) and the osaka hardfork
 * (EIP-2537 precompiles). It mines on every transaction; `setIntervalMining` adds a block every `ms`, mined from here
 * with `evm_mine` (anvil's own interval takes whole seconds, and turning it off also turns off mining on transactions).
 */
export async function startAnvil(options: { port?: number; timeoutMs?: number; hardfork?: string } = {}): Promise<LocalNode> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", String(port), "--hardfork", options.hardfork ?? "osaka", "--accounts", "20", "--chain-id", "31337"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await answering("anvil", child, url, options.timeoutMs ?? 30_000);
  let ticker: NodeJS.Timeout | undefined;
  let mining = false;
  const stopTicker = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };
  return {
    kind: "anvil",
    url,
    port,
    process: child,
    setIntervalMining: async (ms) => {
      stopTicker();
      await rpc(url, "evm_setIntervalMining", [0]);
      await rpc(url, "evm_setAutomine", [true]);
      if (ms > 0) {
        ticker = setInterval(() => {
          if (mining || child.exitCode !== null) return;
          mining = true;
          rpc(url, "evm_mine")
            .catch(() => {})
            .finally(() => (mining = false));
        }, ms);
        ticker.unref();
      }
    },
    stop: () => {
      stopTicker();
      return stopChild(child);
    },
  };
}

export function startLocalNode(kind: NodeKind, options: { timeoutMs?: number } = {}): Promise<LocalNode> {
  return kind === "anvil" ? startAnvil(options) : startHardhatNode(options);
}

/** Waits until `url` answers `eth_chainId`; kills the child and throws if it exits or `timeoutMs` passes first. */
async function answering(name: string, child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  let output = "";
  child.stdout!.on("data", (d) => (output = (output + d).slice(-4000)));
  child.stderr!.on("data", (d) => (output = (output + d).slice(-4000)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new CGError("NODE_FAILED", `${name} exited with ${child.exitCode}: ${output.slice(-500)}`);
    try {
      await rpc(url, "eth_chainId");
      return;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new CGError("NODE_FAILED", `${name} did not answer on ${url} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Collects a child's output and resolves with its exit code. */
export function completion(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}
