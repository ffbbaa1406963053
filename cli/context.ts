/** What every `cg` command shares: configuration from flags, environment and `.env`; clients; output. */
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";

import { config as loadDotenv } from "dotenv";
import { type Hex, BaseError, createPublicClient, createWalletClient, getAddress, http, isAddress, isHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { type Clients, type Deployment, chainFor } from "../sdk/client/index.ts";
import { CGError } from "../sdk/errors.ts";

export interface Flags {
  [name: string]: string | boolean | string[] | undefined;
}

export class Usage extends CGError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

export interface Context {
  flags: Flags;
  json: boolean;
  clients(): Promise<Clients>;
  print(human: string, json: unknown): void;
  /** Raw text on standard output (CSV and other formats made by the command). */
  write(text: string): void;
  progress(line: string): void;
}

/**
 * The folder the user ran `cg` from: `npm run cg` runs in the project root but keeps the caller's folder in INIT_CWD;
 * the `cg` bin shim and `node cli/main.ts` run where they were started.
 */
export function callerDir(): string {
  return process.env.npm_lifecycle_event === "cg" && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
}

/** A path the user gave, resolved from the folder they ran `cg` in. */
export function userPath(path: string): string {
  return resolve(callerDir(), path);
}

/** An RPC URL as it may be shown: scheme, host and port; a path or query (often an API key) is elided. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname !== "/" || u.search ? "/…" : ""}`;
  } catch {
    return "(an invalid URL)";
  }
}

/** The innermost reason a request failed ("connect ECONNREFUSED 127.0.0.1:1", "HTTP 404"), never a stack. */
function failureOf(e: unknown): string {
  let reason = e instanceof BaseError ? e.shortMessage : e instanceof Error ? e.message : String(e);
  let c: unknown = (e as { cause?: unknown })?.cause;
  for (let depth = 0; c && depth < 8; depth++) {
    const x = c as { code?: string; message?: string; status?: number; errors?: unknown[]; cause?: unknown };
    if (Array.isArray(x.errors) && x.errors.length) {
      c = x.errors[0];
      continue;
    }
    if (typeof x.status === "number") reason = `HTTP ${x.status}`;
    else if (typeof x.message === "string" && x.message) reason = x.message;
    c = x.cause;
  }
  return reason.split("\n")[0];
}

/** Reads and checks a deployment file: refuses a missing, empty or malformed one by name (exit 2). */
export function readDeployment(path: string): Deployment {
  if (!existsSync(path)) throw new Usage(`no deployment file at ${path}: pass --deployment <file> (written by scripts/deploy.ts) or set CG_DEPLOYMENT`);
  const text = readFileSync(path, "utf8");
  if (text.trim() === "") throw new Usage(`the deployment file ${path} is empty: expected the JSON written by scripts/deploy.ts`);
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Usage(`the deployment file ${path} is not JSON (${(e as Error).message}): expected the file written by scripts/deploy.ts`);
  }
  const names = ["GuardianRegistry", "ResetCoordinator", "CommitteeRegistry"] as const;
  const missing = [
    ...(Number.isSafeInteger(raw?.chainId) && raw.chainId > 0 ? [] : ["chainId"]),
    ...(Number.isSafeInteger(raw?.deploymentBlock) && raw.deploymentBlock >= 0 ? [] : ["deploymentBlock"]),
    ...names.filter((n) => !isAddress(String(raw?.contracts?.[n]))).map((n) => `contracts.${n}`),
  ];
  if (missing.length) throw new Usage(`the deployment file ${path} is malformed: expected ${missing.join(", ")} (as scripts/deploy.ts writes them)`);
  return { chainId: raw.chainId, deploymentBlock: raw.deploymentBlock, contracts: Object.fromEntries(names.map((n) => [n, getAddress(raw.contracts[n])])) as Deployment["contracts"] };
}

export function makeContext(flags: Flags, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Context {
  loadDotenv({ quiet: true, path: resolve(callerDir(), ".env") } as never);
  const json = flags.json === true;
  let clients: Clients | undefined;
  return {
    flags,
    json,
    async clients() {
      if (clients) return clients;
      const rpc = str(flags, "rpc") ?? process.env.CG_RPC_URL ?? "http://127.0.0.1:8545";
      const deploymentPath = userPath(str(flags, "deployment") ?? process.env.CG_DEPLOYMENT ?? "deployments/localhost.json");
      const deployment = readDeployment(deploymentPath);
      const key = str(flags, "key") ?? process.env.CG_PRIVATE_KEY;
      if (key !== undefined && (!isHex(key) || key.length !== 66)) throw new Usage("--key (or CG_PRIVATE_KEY) expects a 0x-prefixed 32-byte private key");
      let url: URL;
      try {
        url = new URL(rpc);
        if (!/^(https?|wss?):$/.test(url.protocol)) throw new Error();
      } catch {
        throw new Usage(`--rpc (or CG_RPC_URL) expects an http(s) URL, got ${shownUrl(rpc)}`);
      }
      const chain = chainFor(deployment.chainId, rpc);
      const publicClient = createPublicClient({ chain, transport: http(rpc, { retryCount: 0, timeout: 15_000 }), pollingInterval: 200 });
      let chainId: number;
      try {
        chainId = await publicClient.getChainId();
      } catch (cause) {
        throw new CGError("RPC_UNREACHABLE", `cannot reach the RPC at ${shownUrl(rpc)}: ${failureOf(cause)}; check --rpc (or CG_RPC_URL) and that the node is running`, { cause });
      }
      if (chainId !== deployment.chainId) {
        throw new Usage(`${deploymentPath} is a deployment on chain ${deployment.chainId}, but the RPC at ${shownUrl(rpc)} serves chain ${chainId}: give the deployment file of this chain (or the RPC of that one)`);
      }
      const code = await publicClient.getCode({ address: deployment.contracts.ResetCoordinator }).catch(() => undefined);
      if (code === undefined || code === "0x") {
        throw new CGError("NO_DEPLOYMENT", `no contract at ResetCoordinator ${deployment.contracts.ResetCoordinator} on chain ${chainId} (RPC ${shownUrl(rpc)}): ${deploymentPath} is for another network, or the local node was restarted without its state`);
      }
      const wallet = key === undefined ? undefined : createWalletClient({ chain, account: privateKeyToAccount(key as Hex), transport: http(rpc) });
      clients = { public: publicClient as never, wallet: wallet as never, deployment };
      return clients;
    },
    print(human, value) {
      out.write(json ? JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n" : human.endsWith("\n") ? human : human + "\n");
    },
    write(text) {
      out.write(text);
    },
    progress(line) {
      if (!json) err.write(`… ${line}\n`);
    },
  };
}

export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined || typeof v === "boolean") return undefined;
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function required(flags: Flags, name: string, what: string): string {
  const v = str(flags, name);
  if (v === undefined || v === "") throw new Usage(`--${name} is required: ${what}`);
  return v;
}

export function list(flags: Flags, name: string): string[] {
  const v = flags[name];
  if (v === undefined || typeof v === "boolean") return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
}

export function bytes32(value: string, name: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new Usage(`--${name} expects 32 bytes as 0x-hex, got ${JSON.stringify(value.slice(0, 20))}`);
  return value as Hex;
}

export function address(value: string, name: string): Hex {
  if (!isAddress(value)) throw new Usage(`--${name} expects an address, got ${JSON.stringify(value.slice(0, 20))}`);
  return value as Hex;
}

export function integer(value: string, name: string): bigint {
  if (!/^[0-9]+$/.test(value)) throw new Usage(`--${name} expects a whole number, got ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** The passphrase of a request state file: --passphrase-file or CG_PASSPHRASE. */
export function passphrase(flags: Flags): string {
  const file = str(flags, "passphrase-file");
  if (file) {
    const path = userPath(file);
    if (!existsSync(path)) throw new Usage(`--passphrase-file ${path} does not exist`);
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  }
  const env = process.env.CG_PASSPHRASE;
  if (!env) throw new Usage("a passphrase seals the request's one-time requester secret: set CG_PASSPHRASE or pass --passphrase-file <file>");
  return env;
}

export const MIN_PASSPHRASE_LENGTH = 12;

/** A passphrase strong enough to seal a new secret: at least 12 characters, not one character repeated. */
export function newPassphrase(flags: Flags): string {
  const pass = passphrase(flags);
  if ([...pass].length < MIN_PASSPHRASE_LENGTH || new Set(pass).size < 4) {
    throw new Usage(`the passphrase (CG_PASSPHRASE or --passphrase-file) is too weak to seal the requester secret: use at least ${MIN_PASSPHRASE_LENGTH} characters, not one or two repeated (a few words work well)`);
  }
  return pass;
}

/** A new file the command will write: absolute, not there yet, in an existing folder it may write to. */
export function newFilePath(flags: Flags, name: string, what: string): string {
  const path = userPath(required(flags, name, what));
  if (existsSync(path)) throw new Usage(`--${name} ${path} exists; choose another file (it may hold an open request)`);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Usage(`--${name} ${path}: the folder ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
    closeSync(openSync(path, "wx", 0o600)); // a real write: read-only file systems refuse it even to root
    unlinkSync(path);
  } catch (e) {
    throw new Usage(`--${name} ${path}: cannot write a file in ${dir} (${(e as NodeJS.ErrnoException).code ?? "not writable"})`);
  }
  return path;
}
