/** What every `cg` command shares: configuration from flags, environment and `.env`; clients; output. */
import { existsSync, readFileSync } from "node:fs";

import { config as loadDotenv } from "dotenv";
import { type Hex, createPublicClient, createWalletClient, http, isAddress, isHex } from "viem";
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
  progress(line: string): void;
}

export function makeContext(flags: Flags, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Context {
  loadDotenv({ quiet: true } as never);
  const json = flags.json === true;
  let clients: Clients | undefined;
  return {
    flags,
    json,
    async clients() {
      if (clients) return clients;
      const rpc = str(flags, "rpc") ?? process.env.CG_RPC_URL ?? "http://127.0.0.1:8545";
      const deploymentPath = str(flags, "deployment") ?? process.env.CG_DEPLOYMENT ?? "deployments/localhost.json";
      if (!existsSync(deploymentPath)) throw new Usage(`no deployment file at ${deploymentPath}: pass --deployment <file> (written by scripts/deploy.ts)`);
      const deployment = JSON.parse(readFileSync(deploymentPath, "utf8")) as Deployment;
      const chain = chainFor(deployment.chainId, rpc);
      const publicClient = createPublicClient({ chain, transport: http(rpc), pollingInterval: 200 });
      const key = str(flags, "key") ?? process.env.CG_PRIVATE_KEY;
      let wallet;
      if (key !== undefined) {
        if (!isHex(key) || key.length !== 66) throw new Usage("--key (or CG_PRIVATE_KEY) expects a 0x-prefixed 32-byte private key");
        wallet = createWalletClient({ chain, account: privateKeyToAccount(key as Hex), transport: http(rpc) });
      }
      clients = { public: publicClient as never, wallet: wallet as never, deployment };
      return clients;
    },
    print(human, value) {
      out.write(json ? JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n" : human.endsWith("\n") ? human : human + "\n");
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
    if (!existsSync(file)) throw new Usage(`--passphrase-file ${file} does not exist`);
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  }
  const env = process.env.CG_PASSPHRASE;
  if (!env) throw new Usage("a passphrase seals the request's one-time requester secret: set CG_PASSPHRASE or pass --passphrase-file <file>");
  return env;
}
