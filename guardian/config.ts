/**
 * Guardian configuration: a `.env`-style file (`--config`) overlaid by environment variables, validated at start
 * with errors that name the field. Secrets (passphrase, SMTP and SMS credentials, RPC URLs with tokens) are kept
 * out of anything that is logged: `describeConfig` prints a redacted view.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";

import { parse } from "dotenv";
import { type Address, getAddress, isAddress } from "viem";

import { CGError } from "../sdk/errors.ts";

export interface GuardianConfig {
  rpcUrl: string;
  chainId?: number;
  coordinator: Address;
  registry: Address;
  committees: Address;
  startBlock: bigint;
  confirmations: number;
  pollIntervalMs: number;
  reorgWindow: number;
  dataDir: string;
  passphrase: string;
  scryptN: number;
  httpHost: string;
  httpPort: number;
  logLevel: string;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  smtp?: { host: string; port: number; secure: boolean; requireTls: boolean; user?: string; pass?: string; from: string; rejectUnauthorized: boolean };
  sms?: { baseUrl: string; accountSid: string; authToken: string; from: string };
  appTimeoutMs: number;
  /** The app channel may post to loopback, private and link-local addresses and over plain http:// (tests only). */
  appAllowPrivate: boolean;
  /** The reset page the code messages link to, the code in the link's fragment (`<url>#cg2.…`); none if unset. */
  resetPageUrl?: string;
  /** The guardian peer API (PROTOCOL.md §4.6): where it listens, its public URL (published in the metadata
   *  document), its TLS certificate and key, or plain HTTP when `allowHttp` (tests on 127.0.0.1). */
  peer?: { host: string; port: number; publicUrl: string; tlsCert?: string; tlsKey?: string; allowHttp: boolean };
  /** Test-only failpoint names (see guardian/failpoints.ts). */
  failpoints: string[];
  /** Where each CG_* value that was set came from: "environment" or "file <path>"; unset ones are defaults. */
  origins?: Record<string, string>;
}

type Source = Record<string, string | undefined>;

function fail(field: string, expected: string, got: string | undefined): never {
  const shown = got === undefined ? "nothing" : JSON.stringify(got.length > 40 ? `${got.slice(0, 37)}...` : got);
  throw new CGError("INVALID_CONFIG", `config ${field}: expected ${expected}, got ${shown}`, { details: { field } });
}

function str(src: Source, field: string, fallback?: string): string {
  const v = src[field]?.trim();
  if (v === undefined || v === "") {
    if (fallback !== undefined) return fallback;
    fail(field, "a value", undefined);
  }
  return v;
}

function int(src: Source, field: string, fallback: number, min: number, max: number): number {
  const v = src[field]?.trim();
  if (v === undefined || v === "") return fallback;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) fail(field, `a whole number in [${min}, ${max}]`, v);
  return Number(v);
}

function bool(src: Source, field: string, fallback: boolean): boolean {
  const v = src[field]?.trim().toLowerCase();
  if (v === undefined || v === "") return fallback;
  if (["1", "true", "yes"].includes(v)) return true;
  if (["0", "false", "no"].includes(v)) return false;
  fail(field, "true or false", v);
}

function address(src: Source, field: string): Address {
  const v = str(src, field);
  if (!isAddress(v)) fail(field, "a 0x-prefixed 20-byte address", v);
  return getAddress(v);
}

/** Reads `file` (if given), overlays `env`, and validates. Relative paths are resolved against the file's folder. */
export function loadConfig(file: string | undefined, env: Source = process.env): GuardianConfig {
  let src: Source = {};
  let base = process.cwd();
  const origins: Record<string, string> = {};
  if (file !== undefined) {
    if (!existsSync(file)) throw new CGError("INVALID_CONFIG", `config file ${file} does not exist`);
    src = parse(readFileSync(file));
    base = dirname(resolve(file));
    for (const k of Object.keys(src)) origins[k] = `file ${resolve(file)}`;
  }
  // The precedence (operator guide §1): the environment wins over the --config file, which wins over the defaults.
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith("CG_") && v !== undefined) {
      src[k] = v;
      origins[k] = "environment";
    }
  }
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));

  // Deployment: either a deployments/<network>.json file or explicit addresses.
  let coordinator: Address;
  let registry: Address;
  let committees: Address;
  let startBlock: bigint;
  let chainId: number | undefined;
  if (src.CG_DEPLOYMENT) {
    const deploymentPath = path(src.CG_DEPLOYMENT);
    if (!existsSync(deploymentPath)) fail("CG_DEPLOYMENT", "the path of a deployments/<network>.json file", src.CG_DEPLOYMENT);
    let d: { contracts?: Record<string, string>; deploymentBlock?: number; chainId?: number };
    try {
      d = JSON.parse(readFileSync(deploymentPath, "utf8"));
    } catch {
      fail("CG_DEPLOYMENT", "a deployments JSON file (it is empty or not JSON)", src.CG_DEPLOYMENT);
    }
    if (d === null || typeof d !== "object" || typeof d.contracts !== "object") fail("CG_DEPLOYMENT", "a deployments JSON file with contracts", src.CG_DEPLOYMENT);
    coordinator = address({ c: d?.contracts?.ResetCoordinator }, "c");
    registry = address({ r: d?.contracts?.GuardianRegistry }, "r");
    committees = address({ m: d?.contracts?.CommitteeRegistry }, "m");
    startBlock = BigInt(d.deploymentBlock ?? 0);
    chainId = d.chainId;
  } else {
    coordinator = address(src, "CG_COORDINATOR");
    registry = address(src, "CG_REGISTRY");
    committees = address(src, "CG_COMMITTEES");
    startBlock = BigInt(int(src, "CG_START_BLOCK", 0, 0, Number.MAX_SAFE_INTEGER));
  }

  const rpcUrl = str(src, "CG_RPC_URL");
  if (!/^https?:\/\//.test(rpcUrl)) fail("CG_RPC_URL", "an http(s) URL", "a value without http(s)://");

  let passphrase = src.CG_KEYSTORE_PASSPHRASE;
  if ((passphrase === undefined || passphrase === "") && src.CG_KEYSTORE_PASSPHRASE_FILE) {
    const p = path(src.CG_KEYSTORE_PASSPHRASE_FILE);
    if (!existsSync(p)) fail("CG_KEYSTORE_PASSPHRASE_FILE", "a readable file", src.CG_KEYSTORE_PASSPHRASE_FILE);
    passphrase = readFileSync(p, "utf8").replace(/\r?\n$/, "");
  }
  if (passphrase === undefined || passphrase === "") {
    throw new CGError("INVALID_CONFIG", "config CG_KEYSTORE_PASSPHRASE (or CG_KEYSTORE_PASSPHRASE_FILE): expected the keystore passphrase, got nothing", {
      details: { field: "CG_KEYSTORE_PASSPHRASE" },
    });
  }

  const smtp = src.CG_SMTP_HOST
    ? {
        host: str(src, "CG_SMTP_HOST"),
        port: int(src, "CG_SMTP_PORT", 587, 1, 65535),
        secure: bool(src, "CG_SMTP_SECURE", false),
        requireTls: bool(src, "CG_SMTP_STARTTLS", false),
        user: src.CG_SMTP_USER || undefined,
        pass: src.CG_SMTP_PASS || undefined,
        from: str(src, "CG_SMTP_FROM"),
        rejectUnauthorized: bool(src, "CG_SMTP_TLS_VERIFY", true),
      }
    : undefined;
  const sms = src.CG_SMS_BASE_URL
    ? {
        baseUrl: str(src, "CG_SMS_BASE_URL").replace(/\/$/, ""),
        accountSid: str(src, "CG_SMS_ACCOUNT_SID"),
        authToken: str(src, "CG_SMS_AUTH_TOKEN"),
        from: str(src, "CG_SMS_FROM"),
      }
    : undefined;

  return {
    rpcUrl,
    chainId,
    coordinator,
    registry,
    committees,
    startBlock,
    confirmations: int(src, "CG_CONFIRMATIONS", 2, 1, 1000),
    pollIntervalMs: int(src, "CG_POLL_INTERVAL_MS", 1000, 50, 600_000),
    reorgWindow: int(src, "CG_REORG_WINDOW", 16, 0, 10_000),
    dataDir: path(str(src, "CG_DATA_DIR", "./guardian-data")),
    passphrase,
    scryptN: int(src, "CG_SCRYPT_N", 2 ** 16, 2 ** 10, 2 ** 20),
    httpHost: str(src, "CG_HTTP_HOST", "127.0.0.1"),
    httpPort: int(src, "CG_HTTP_PORT", 9464, 0, 65535),
    logLevel: str(src, "CG_LOG_LEVEL", "info"),
    maxAttempts: int(src, "CG_MAX_ATTEMPTS", 8, 1, 1000),
    retryBaseMs: int(src, "CG_RETRY_BASE_MS", 1000, 10, 3_600_000),
    retryMaxMs: int(src, "CG_RETRY_MAX_MS", 300_000, 10, 86_400_000),
    smtp,
    sms,
    appTimeoutMs: int(src, "CG_APP_TIMEOUT_MS", 10_000, 100, 120_000),
    appAllowPrivate: bool(src, "CG_APP_ALLOW_PRIVATE", false),
    resetPageUrl: resetPageUrl(src),
    peer: peerConfig(src, path),
    failpoints: (src.CG_FAILPOINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    origins,
  };
}

/**
 * The reset page's URL: http(s), without a fragment (the code becomes the fragment) and, so the SMS link stays one
 * GSM-7 segment, without characters outside it.
 */
function resetPageUrl(src: Source): string | undefined {
  const v = src.CG_RESET_PAGE_URL?.trim();
  if (v === undefined || v === "") return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    fail("CG_RESET_PAGE_URL", "an http(s) URL of the reset page", v);
  }
  if (!/^https?:$/.test(u.protocol) || v.includes("#") || !/^[A-Za-z0-9:/?&=._%+-]+$/.test(v)) fail("CG_RESET_PAGE_URL", "an http(s) URL without a fragment (#) or spaces", v);
  return v;
}

/** The peer API settings; `guardian start` requires them (`requirePeer`), the key and status commands do not. */
function peerConfig(src: Source, path: (p: string) => string): GuardianConfig["peer"] {
  if (!src.CG_PEER_PUBLIC_URL?.trim()) return undefined;
  const allowHttp = bool(src, "CG_PEER_ALLOW_HTTP", false);
  const port = int(src, "CG_PEER_PORT", 9465, 0, 65535);
  const tlsCert = src.CG_PEER_TLS_CERT ? path(src.CG_PEER_TLS_CERT) : undefined;
  const tlsKey = src.CG_PEER_TLS_KEY ? path(src.CG_PEER_TLS_KEY) : undefined;
  if (!allowHttp && (tlsCert === undefined || tlsKey === undefined)) {
    fail(tlsCert === undefined ? "CG_PEER_TLS_CERT" : "CG_PEER_TLS_KEY", "a PEM file for the peer API (or CG_PEER_ALLOW_HTTP=true for a local test set-up)", undefined);
  }
  for (const [field, file] of [["CG_PEER_TLS_CERT", tlsCert], ["CG_PEER_TLS_KEY", tlsKey]] as const) {
    if (file !== undefined && !existsSync(file)) fail(field, "a readable PEM file", file);
  }
  const publicUrl = str(src, "CG_PEER_PUBLIC_URL").replace(/\/$/, "");
  if (!(publicUrl.startsWith("https://") || (allowHttp && publicUrl.startsWith("http://")))) {
    fail("CG_PEER_PUBLIC_URL", allowHttp ? "an http(s) URL" : "an https:// URL", publicUrl);
  }
  return { host: str(src, "CG_PEER_HOST", "0.0.0.0"), port, publicUrl, tlsCert, tlsKey, allowHttp };
}

/** The peer API settings of a configuration that is about to run an agent. */
export function requirePeer(c: GuardianConfig): NonNullable<GuardianConfig["peer"]> {
  if (c.peer === undefined) fail("CG_PEER_PUBLIC_URL", "the public URL of this guardian's peer API (PROTOCOL.md §4.6)", undefined);
  return c.peer;
}

/** The scheme and host of an RPC URL: what may be shown of it (its path and query often carry an API key). */
export function rpcOrigin(rpcUrl: string): string {
  try {
    const u = new URL(rpcUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparseable URL)";
  }
}

/** One line of the effective configuration: the variable, its value as it may be shown, and where it came from. */
export interface EffectiveSetting {
  name: string;
  value: string;
  from: string;
}

const SECRET = "(set, not shown)";
const off = (v: unknown) => (v === undefined ? "(not set)" : String(v));

/** Every setting the agent reads, with how its effective value is shown (secrets never are). */
const SETTINGS: [name: string, show: (c: GuardianConfig) => string][] = [
  ["CG_RPC_URL", (c) => rpcOrigin(c.rpcUrl) + (new URL(c.rpcUrl).pathname.length > 1 || new URL(c.rpcUrl).search ? "/… (path hidden)" : "")],
  ["CG_DEPLOYMENT", () => ""],
  ["CG_COORDINATOR", (c) => c.coordinator],
  ["CG_REGISTRY", (c) => c.registry],
  ["CG_COMMITTEES", (c) => c.committees],
  ["CG_START_BLOCK", (c) => c.startBlock.toString()],
  ["CG_DATA_DIR", (c) => c.dataDir],
  ["CG_KEYSTORE_PASSPHRASE", () => SECRET],
  ["CG_KEYSTORE_PASSPHRASE_FILE", () => ""],
  ["CG_SCRYPT_N", (c) => String(c.scryptN)],
  ["CG_CONFIRMATIONS", (c) => String(c.confirmations)],
  ["CG_POLL_INTERVAL_MS", (c) => String(c.pollIntervalMs)],
  ["CG_REORG_WINDOW", (c) => String(c.reorgWindow)],
  ["CG_HTTP_HOST", (c) => c.httpHost],
  ["CG_HTTP_PORT", (c) => String(c.httpPort)],
  ["CG_LOG_LEVEL", (c) => c.logLevel],
  ["CG_MAX_ATTEMPTS", (c) => String(c.maxAttempts)],
  ["CG_RETRY_BASE_MS", (c) => String(c.retryBaseMs)],
  ["CG_RETRY_MAX_MS", (c) => String(c.retryMaxMs)],
  ["CG_PEER_PUBLIC_URL", (c) => off(c.peer?.publicUrl)],
  ["CG_PEER_HOST", (c) => off(c.peer?.host)],
  ["CG_PEER_PORT", (c) => off(c.peer?.port)],
  ["CG_PEER_TLS_CERT", (c) => off(c.peer?.tlsCert)],
  ["CG_PEER_TLS_KEY", (c) => off(c.peer?.tlsKey)],
  ["CG_PEER_ALLOW_HTTP", (c) => String(c.peer?.allowHttp ?? false)],
  ["CG_SMTP_HOST", (c) => off(c.smtp?.host)],
  ["CG_SMTP_PORT", (c) => off(c.smtp?.port)],
  ["CG_SMTP_SECURE", (c) => off(c.smtp?.secure)],
  ["CG_SMTP_STARTTLS", (c) => off(c.smtp?.requireTls)],
  ["CG_SMTP_TLS_VERIFY", (c) => off(c.smtp?.rejectUnauthorized)],
  ["CG_SMTP_USER", (c) => off(c.smtp?.user)],
  ["CG_SMTP_PASS", (c) => (c.smtp?.pass ? SECRET : "(not set)")],
  ["CG_SMTP_FROM", (c) => off(c.smtp?.from)],
  ["CG_SMS_BASE_URL", (c) => off(c.sms?.baseUrl)],
  ["CG_SMS_ACCOUNT_SID", (c) => off(c.sms?.accountSid)],
  ["CG_SMS_AUTH_TOKEN", (c) => (c.sms ? SECRET : "(not set)")],
  ["CG_SMS_FROM", (c) => off(c.sms?.from)],
  ["CG_APP_TIMEOUT_MS", (c) => String(c.appTimeoutMs)],
  ["CG_APP_ALLOW_PRIVATE", (c) => String(c.appAllowPrivate)],
  ["CG_RESET_PAGE_URL", (c) => off(c.resetPageUrl)],
];

/** The names of every setting the agent reads (an example `.env` must use only these). */
export const SETTING_NAMES: readonly string[] = [...SETTINGS.map(([n]) => n), "CG_FAILPOINTS"];

/**
 * The effective configuration, one line per setting, without secrets: its value and where it came from
 * ("environment", "file <path>" or "default"). Settings that only select another source (CG_DEPLOYMENT,
 * CG_KEYSTORE_PASSPHRASE_FILE) are listed when set.
 */
export function effectiveConfig(c: GuardianConfig): EffectiveSetting[] {
  const origins = c.origins ?? {};
  const rows: EffectiveSetting[] = [];
  for (const [name, show] of SETTINGS) {
    const from = origins[name] ?? "default";
    if (name === "CG_DEPLOYMENT" || name === "CG_KEYSTORE_PASSPHRASE_FILE") {
      if (from !== "default") rows.push({ name, value: name === "CG_DEPLOYMENT" ? `(file; chain ${c.chainId ?? "?"})` : "(set)", from });
      continue;
    }
    if (name === "CG_KEYSTORE_PASSPHRASE" && from === "default") {
      rows.push({ name, value: SECRET, from: origins.CG_KEYSTORE_PASSPHRASE_FILE ? "CG_KEYSTORE_PASSPHRASE_FILE" : "default" });
      continue;
    }
    // Addresses read from the deployment file come from it, not from a default.
    const fromDeployment = ["CG_COORDINATOR", "CG_REGISTRY", "CG_COMMITTEES", "CG_START_BLOCK"].includes(name) && origins.CG_DEPLOYMENT;
    rows.push({ name, value: show(c), from: fromDeployment ? "CG_DEPLOYMENT" : from });
  }
  return rows;
}

/** A loggable view of the configuration: no passphrase, no credentials, no RPC URL path or query. */
export function describeConfig(c: GuardianConfig): Record<string, unknown> {
  const rpc = new URL(c.rpcUrl);
  return {
    rpc: `${rpc.protocol}//${rpc.host}`,
    coordinator: c.coordinator,
    registry: c.registry,
    committees: c.committees,
    confirmations: c.confirmations,
    dataDir: c.dataDir,
    http: `${c.httpHost}:${c.httpPort}`,
    peerApi: c.peer && { listen: `${c.peer.host}:${c.peer.port}`, publicUrl: c.peer.publicUrl, tls: !c.peer.allowHttp },
    channels: { email: Boolean(c.smtp), sms: Boolean(c.sms), app: true },
  };
}
