/** The guardian's commands: each loads the configuration, does one thing, and returns an exit code. */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

import { pino } from "pino";
import { type Hex, createPublicClient, createWalletClient, getAddress, http, parseEther, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { chainFor, registerGuardian } from "../sdk/client/index.ts";
import { generateHpkeKeyPair, hpkePublicKey } from "../sdk/crypto/hpke.ts";
import { CGError } from "../sdk/errors.ts";
import { GuardianAgent } from "./agent.ts";
import { AppChannel } from "./channels/app.ts";
import type { Channel, ChannelKind } from "./channels/channel.ts";
import { EmailChannel } from "./channels/email.ts";
import { SmsChannel } from "./channels/sms.ts";
import { type GuardianConfig, describeConfig, effectiveConfig, loadConfig } from "./config.ts";
import { METADATA_PATH } from "./core/peerWire.ts";
import { setFailpoints } from "./failpoints.ts";
import { openKeystore, readKeystore, sealKeystore, writeKeystore } from "./keystore.ts";
import { acquireLock } from "./lock.ts";
import { createMetrics } from "./metrics.ts";
import { Store } from "./store.ts";

export function paths(config: GuardianConfig) {
  return { operator: join(config.dataDir, "operator.json"), hpke: join(config.dataDir, "hpke.json"), db: join(config.dataDir, "guardian.db") };
}

export function loadKeys(config: GuardianConfig) {
  const p = paths(config);
  const operatorKey = openKeystore(readKeystore(p.operator), config.passphrase, p.operator);
  const hpkeSecret = openKeystore(readKeystore(p.hpke), config.passphrase, p.hpke);
  const operator = privateKeyToAccount(toHex(operatorKey));
  operatorKey.fill(0);
  return { operator, hpkeSecret };
}

export async function keysInit(configFile: string | undefined, force: boolean): Promise<number> {
  const config = loadConfig(configFile);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const p = paths(config);
  if (!force && (existsSync(p.operator) || existsSync(p.hpke))) {
    throw new CGError("KEYSTORE_EXISTS", `keys already exist in ${config.dataDir}; refusing to replace them (use --force only if you mean it)`);
  }
  const operatorKey = generatePrivateKey();
  const operator = privateKeyToAccount(operatorKey);
  const hpke = await generateHpkeKeyPair();
  writeKeystore(p.operator, sealKeystore("operator", Buffer.from(operatorKey.slice(2), "hex"), operator.address, config.passphrase, config.scryptN), force);
  writeKeystore(p.hpke, sealKeystore("hpke", hpke.privateKey, toHex(hpke.publicKey), config.passphrase, config.scryptN), force);
  hpke.privateKey.fill(0);
  process.stdout.write(JSON.stringify({ operator: operator.address, encryptionKey: toHex(hpke.publicKey), dataDir: config.dataDir }, null, 2) + "\n");
  return 0;
}

export async function keysShow(configFile: string | undefined): Promise<number> {
  const config = loadConfig(configFile);
  const p = paths(config);
  process.stdout.write(JSON.stringify({ operator: readKeystore(p.operator).public, encryptionKey: readKeystore(p.hpke).public }, null, 2) + "\n");
  return 0;
}

export async function register(
  configFile: string | undefined,
  o: { stake?: string; metadata?: string; region?: string; provider?: string; channels?: string },
): Promise<number> {
  const config = loadConfig(configFile);
  const { operator, hpkeSecret } = loadKeys(config);
  const encryptionKey = toHex(hpkePublicKey(hpkeSecret));
  hpkeSecret.fill(0);
  // The metadata document names the peer API (PROTOCOL.md §4.6, §9); the agent serves it at its public URL.
  const metadata = o.metadata ?? (config.peer ? `${config.peer.publicUrl}${METADATA_PATH}` : undefined);
  if (!metadata) throw new CGError("USAGE", "guardian register: --metadata <uri> is required (or set CG_PEER_PUBLIC_URL: the agent serves its metadata there)");
  let stake: bigint;
  try {
    stake = parseEther(o.stake ?? "0");
  } catch {
    throw new CGError("USAGE", `guardian register: --stake expects an amount of ETH such as 1.5, got ${JSON.stringify(o.stake)}`);
  }
  const bits: Record<string, number> = { email: 1, sms: 2, app: 4 };
  let kinds = 0;
  for (const k of (o.channels ?? "email,sms,app").split(",").map((s) => s.trim())) {
    if (!(k in bits)) throw new CGError("USAGE", `guardian register: --channels expects email, sms and/or app, got ${JSON.stringify(k)}`);
    kinds |= bits[k];
  }
  const probe = createPublicClient({ transport: http(config.rpcUrl) });
  const chainId = await probe.getChainId();
  const chain = chainFor(chainId, config.rpcUrl);
  const receipt = await registerGuardian(
    {
      public: createPublicClient({ chain, transport: http(config.rpcUrl) }) as never,
      wallet: createWalletClient({ chain, account: operator, transport: http(config.rpcUrl) }) as never,
      deployment: { chainId, deploymentBlock: Number(config.startBlock), contracts: { GuardianRegistry: config.registry, ResetCoordinator: config.coordinator, CommitteeRegistry: config.committees } },
    },
    { encryptionKey: encryptionKey as Hex, metadataURI: metadata, region: o.region ?? "", provider: o.provider ?? "", channelKinds: kinds, stake },
  );
  const hash = receipt.transactionHash;
  process.stdout.write(JSON.stringify({ operator: getAddress(operator.address), encryptionKey, tx: hash, status: receipt.status }, null, 2) + "\n");
  return receipt.status === "success" ? 0 : 1;
}

export function buildChannels(config: GuardianConfig, operator: ReturnType<typeof privateKeyToAccount>): Partial<Record<ChannelKind, Channel>> {
  const channels: Partial<Record<ChannelKind, Channel>> = {
    app: new AppChannel(operator, { timeoutMs: config.appTimeoutMs, allowPrivate: config.appAllowPrivate }),
  };
  if (config.smtp) channels.email = new EmailChannel(config.smtp);
  if (config.sms) channels.sms = new SmsChannel({ ...config.sms, timeoutMs: config.appTimeoutMs });
  return channels;
}

/** The effective configuration as text: one line per setting, its value (never a secret) and where it came from. */
export function formatEffectiveConfig(config: GuardianConfig): string {
  const rows = effectiveConfig(config);
  const width = Math.max(...rows.map((r) => r.name.length));
  const valueWidth = Math.min(60, Math.max(...rows.map((r) => r.value.length)));
  return (
    `effective configuration (precedence: environment > --config file > default):\n` +
    rows.map((r) => `  ${r.name.padEnd(width)}  ${r.value.padEnd(valueWidth)}  ${r.from}`).join("\n") +
    "\n"
  );
}

export async function showConfig(configFile: string | undefined, json: boolean): Promise<number> {
  const config = loadConfig(configFile);
  if (json) process.stdout.write(JSON.stringify(effectiveConfig(config), null, 2) + "\n");
  else process.stdout.write(formatEffectiveConfig(config));
  return 0;
}

export async function start(configFile: string | undefined): Promise<number> {
  const config = loadConfig(configFile);
  setFailpoints(config.failpoints);
  // Synchronous writes: every line is out before a crash or an exit.
  const log = pino({ level: config.logLevel, base: { service: "cg-guardian" } }, pino.destination({ dest: 1, sync: true }));
  // The effective configuration, for the operator (stderr, readable) and the logs (stdout, JSON): no secrets.
  process.stderr.write(formatEffectiveConfig(config));
  log.info({ settings: Object.fromEntries(effectiveConfig(config).map((r) => [r.name, { value: r.value, from: r.from }])) }, "effective configuration");
  const { operator, hpkeSecret } = loadKeys(config);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // One agent per data directory: a second one would serve every request twice.
  const lock = acquireLock(config.dataDir);
  if (lock.tookOver) log.warn({ previous: lock.tookOver }, "took over the lock of an agent that no longer runs");
  const store = new Store(paths(config).db, hpkeSecret);
  const agent = new GuardianAgent({ config, store, operator, hpkeSecret, channels: buildChannels(config, operator), log, metrics: createMetrics() });
  let signalled = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      signalled = true;
      log.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  try {
    log.info({ config: describeConfig(config) }, "starting");
    // A signal while the agent still waits for its RPC node ends the wait.
    const stopping = stopped.then(() => agent.stop());
    try {
      await agent.start();
    } catch (e) {
      if (signalled && e instanceof CGError && e.code === "STOPPED") return 0;
      throw e;
    }
    await stopping;
    return 0;
  } finally {
    store.close();
    hpkeSecret.fill(0);
    lock.release();
  }
}

export async function status(configFile: string | undefined, json: boolean): Promise<number> {
  const config = loadConfig(configFile);
  const { hpkeSecret } = loadKeys(config);
  const store = new Store(paths(config).db, hpkeSecret);
  try {
    const cursor = store.cursor();
    const counts = store.counts();
    const dead = store.deadLetters();
    const ignored = store.ignoredEvents(20);
    const report = {
      cursor: cursor?.block.toString() ?? "none",
      pending: counts.pending,
      done: counts.done,
      deadLetters: dead,
      ignoredEvents: { total: ignored.total, recent: ignored.recent.map((i) => ({ ...i, blockNumber: i.blockNumber.toString() })) },
    };
    if (json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else {
      process.stdout.write(`cursor: block ${report.cursor}\n`);
      process.stdout.write(`pending: ${Object.entries(counts.pending).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}\n`);
      process.stdout.write(`done: ${counts.done}\n`);
      process.stdout.write(`dead letters: ${dead.length}\n`);
      for (const d of dead) process.stdout.write(`  ${d.id} (${d.kind}, ${d.attempts} attempts): ${d.lastError ?? ""}\n`);
      process.stdout.write(`ignored events: ${ignored.total}${ignored.total > ignored.recent.length ? ` (latest ${ignored.recent.length})` : ""}\n`);
      for (const i of ignored.recent) process.stdout.write(`  ${i.event} ${i.key} (block ${i.blockNumber}): ${i.reason}${i.detail ? ` (${i.detail})` : ""}\n`);
    }
    return 0;
  } finally {
    store.close();
    hpkeSecret.fill(0);
  }
}
