/**
 * A whole local guardian network: a local node on loopback (`hardhat node`, or anvil for a second EVM with real reorgs), the deployed contracts, local SMTP / SMS / app
 * stand-ins, and guardian agents running as separate processes (`node guardian/main.ts start`), each with its own
 * encrypted keystores, database and config file. Used by the integration test, the benchmark and the demo.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { HDNodeWallet } from "ethers";
import { network } from "hardhat";
import { type Hex, toHex } from "viem";

import { METADATA_PATH } from "../../guardian/core/peerWire.ts";
import { sealKeystore } from "../../guardian/keystore.ts";
import { PROJECT_ROOT, type LocalNode, type NodeKind, startLocalNode } from "../../scripts/lib/localNode.ts";
import { type Inbox, localCertificate, startAppEndpoint, startSmsProvider, startSmtp } from "./localServices.ts";
import { type GuardianFixture, type System, deploySystem, findEvent } from "./system.ts";

const MNEMONIC = "test test test test test test test test test test test junk";
const PASSPHRASE = "correct horse battery staple";
export const SMS_CREDENTIALS = { sid: "AC0000000000000000000000000000test", token: "local-sms-token" };

/** Hardhat node's default account i (the fixtures hand signers 6… to guardians). */
export function defaultAccountKey(i: number): Hex {
  return HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey as Hex;
}

/**
 * Ports that agents (separate processes) bind seconds after they are chosen, or that are bound again later (SMTP after
 * an outage): drawn below Linux's ephemeral range (32768…), so no outgoing connection of the node or an agent can take
 * one in between, each checked free once and never handed out twice.
 */
const handedOut = new Set<number>();
async function listenPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port below the ephemeral range after 100 tries");
}

export interface AgentProcess {
  guardian: GuardianFixture;
  index: number;
  dataDir: string;
  configFile: string;
  httpPort: number;
  peerPort: number;
  /** A CA file the agent trusts besides the system's (the local app endpoint's certificate). */
  extraCaFile: string;
  process?: ChildProcess;
  logs: string[];
  exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface GuardianNetwork {
  node: LocalNode;
  sys: System;
  inbox: Inbox;
  smtpPort: number;
  stopSmtp(): Promise<void>;
  startSmtp(): Promise<void>;
  appUrl: string;
  agents: AgentProcess[];
  close(): Promise<void>;
}

export async function startGuardianNetwork(
  inbox: Inbox,
  options: {
    /** The node the agents run against (hardhat node unless said). */
    node?: NodeKind;
    guardians?: number;
    confirmations?: number;
    intervalMiningMs?: number;
    log?: (line: string) => void;
    /** Extra environment for agent i (1-based), e.g. a failpoint for a misbehaving guardian. */
    agentEnv?: (index: number) => Record<string, string>;
    /** The RPC URL the agents are given, from the node's (e.g. a fault-injecting proxy in front of it); the node's own
     *  unless said. Deployment and everything else the caller does go to the node directly. */
    agentRpcUrl?: (nodeUrl: string) => Promise<string>;
  } = {},
): Promise<GuardianNetwork> {
  const node = await startLocalNode(options.node ?? "hardhat");
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  // Each agent serves its peer API on loopback; its registration names the metadata document there (§4.6, §9).
  const count = options.guardians ?? 5;
  const peerPorts: number[] = [];
  let sys: System;
  let agentRpcUrl = node.url;
  try {
    for (let k = 0; k < count; k++) peerPorts.push(await listenPort());
    sys = await deploySystem(connection as never, { guardians: count, metadata: (i) => `http://127.0.0.1:${peerPorts[i - 1]}${METADATA_PATH}` });
    await node.setIntervalMining(options.intervalMiningMs ?? 250);
    if (options.agentRpcUrl) agentRpcUrl = await options.agentRpcUrl(node.url);
  } catch (e) {
    await connection.close().catch(() => {});
    await node.stop();
    throw e;
  }

  let smtp = await startSmtp(inbox, await listenPort());
  const smtpPort = smtp.port;
  const sms = await startSmsProvider(inbox, SMS_CREDENTIALS);
  const root = mkdtempSync(join(tmpdir(), "cg-guardians-"));
  const tls = localCertificate(root);
  const app = await startAppEndpoint(inbox, tls);
  const deploymentFile = join(root, "deployment.json");
  writeFileSync(deploymentFile, JSON.stringify(sys.deployment, null, 2));

  const agents: AgentProcess[] = [];
  for (const [k, g] of sys.guardians.entries()) {
    const dataDir = join(root, g.name);
    mkdirSync(dataDir, { recursive: true });
    const signerIndex = 6 + k; // see deploySystem: admin, attester, alice, bob, carol, prover, then guardians
    const key = defaultAccountKey(signerIndex);
    writeFileSync(join(dataDir, "operator.json"), JSON.stringify(sealKeystore("operator", Buffer.from(key.slice(2), "hex"), g.address, PASSPHRASE, 2 ** 10)));
    writeFileSync(join(dataDir, "hpke.json"), JSON.stringify(sealKeystore("hpke", g.hpke.privateKey, toHex(g.hpke.publicKey), PASSPHRASE, 2 ** 10)));
    const httpPort = await listenPort();
    const configFile = join(dataDir, "guardian.env");
    writeFileSync(
      configFile,
      [
        `CG_RPC_URL=${agentRpcUrl}`,
        `CG_DEPLOYMENT=${deploymentFile}`,
        `CG_DATA_DIR=${dataDir}`,
        `CG_KEYSTORE_PASSPHRASE=${PASSPHRASE}`,
        `CG_CONFIRMATIONS=${options.confirmations ?? 2}`,
        `CG_POLL_INTERVAL_MS=100`,
        `CG_HTTP_PORT=${httpPort}`,
        `CG_PEER_HOST=127.0.0.1`,
        `CG_PEER_PORT=${peerPorts[k]}`,
        `CG_PEER_PUBLIC_URL=http://127.0.0.1:${peerPorts[k]}`,
        `CG_PEER_ALLOW_HTTP=true`,
        `CG_APP_ALLOW_PRIVATE=true`,
        `CG_RETRY_BASE_MS=200`,
        `CG_RETRY_MAX_MS=1000`,
        `CG_MAX_ATTEMPTS=100`,
        `CG_SMTP_HOST=127.0.0.1`,
        `CG_SMTP_PORT=${smtpPort}`,
        `CG_SMTP_FROM=${g.name}@guardians.example`,
        `CG_SMS_BASE_URL=${sms.url}`,
        `CG_SMS_ACCOUNT_SID=${SMS_CREDENTIALS.sid}`,
        `CG_SMS_AUTH_TOKEN=${SMS_CREDENTIALS.token}`,
        `CG_SMS_FROM=+15550009999`,
        `CG_LOG_LEVEL=info`,
        "",
      ].join("\n"),
    );
    agents.push({ guardian: g, index: k + 1, dataDir, configFile, httpPort, peerPort: peerPorts[k], extraCaFile: tls.cert, logs: [] });
  }

  const net: GuardianNetwork = {
    node,
    sys,
    inbox,
    smtpPort,
    stopSmtp: () => smtp.stop(),
    startSmtp: async () => {
      smtp = await startSmtp(inbox, smtpPort);
    },
    appUrl: app.url,
    agents,
    close: async () => {
      await Promise.all(agents.map((a) => stopAgent(a)));
      await Promise.allSettled([smtp.stop(), sms.stop(), app.stop()]);
      await connection.close();
      await node.stop();
    },
  };
  for (const a of agents) startAgent(a, options.agentEnv?.(a.index) ?? {}, options.log);
  try {
    await Promise.all(agents.map((a) => waitForLog(a, "guardian started", 90_000)));
  } catch (e) {
    // Leave nothing running behind a failed start.
    await net.close().catch(() => {});
    throw e;
  }
  return net;
}

export function startAgent(agent: AgentProcess, env: Record<string, string> = {}, log?: (line: string) => void): void {
  // The agent reads CG_* from the environment over its file: pass only what this agent is meant to get.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CG_")));
  const child = spawn(process.execPath, ["--no-warnings", join(PROJECT_ROOT, "guardian/main.ts"), "start", "--config", agent.configFile], {
    cwd: PROJECT_ROOT,
    env: { ...inherited, NODE_EXTRA_CA_CERTS: agent.extraCaFile, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  agent.process = child;
  let buffer = "";
  const onData = (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      agent.logs.push(line);
      log?.(`${agent.guardian.name}: ${line}`);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  agent.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

export async function stopAgent(agent: AgentProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  const child = agent.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  child.kill(signal);
  const result = await agent.exited!;
  clearTimeout(timer);
  return result;
}

/** Resolves when the agent logs a line containing `text` (searching lines already logged too). */
export async function waitForLog(agent: AgentProcess, text: string | RegExp, timeoutMs: number, from = 0): Promise<string> {
  const matches = (l: string) => (typeof text === "string" ? l.includes(text) : text.test(l));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = agent.logs.slice(from).find(matches);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`${agent.guardian.name}: no log line matching ${text} within ${timeoutMs} ms; last lines:\n${agent.logs.slice(-5).join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


/** Polls `probe` every 100 ms until it returns something truthy, or throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Moves the node's clock past `deadline` (seconds) and mines a block. */
export async function passDeadline(sys: System, deadline: bigint): Promise<void> {
  const provider = sys.ethers.provider;
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  if (now <= deadline) await provider.send("evm_increaseTime", [Number(deadline - now) + 1]);
  await provider.send("evm_mine", []);
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

/**
 * Follows a committee round the agents run by themselves (deal, complain, finalize, acknowledge) to activation: waits
 * for `dealers` dealings, moves the clock past the complaint window; returns the round's commitments.
 */
export async function driveAgentRound(sys: System, committeeId: bigint, epoch: bigint, dealers: number): Promise<Hex> {
  const c = sys.committees;
  await until(`${dealers} dealings`, async () => {
    const round = await c.round(committeeId, epoch);
    return round.phase === 1n && popcount(Number(round.dealt)) >= dealers;
  });
  await new Promise((r) => setTimeout(r, 1000)); // late dealings still count
  await passDeadline(sys, (await c.round(committeeId, epoch)).complaintDeadline);
  await until("activation", async () => (await c.round(committeeId, epoch)).phase === 3n, 60_000);
  const finalized = (await c.queryFilter(c.filters.CommitteeRoundFinalized(committeeId, epoch)))[0] as any;
  return finalized.args.commitments as Hex;
}

/** `members` (guardians run as agents) form a t-of-n committee: proposed by alice, dealt by all of them. */
export async function agentsFormCommittee(sys: System, members: GuardianFixture[], t: number): Promise<{ committeeId: bigint; commitments: Hex }> {
  const receipt = await (await sys.committees.connect(sys.alice).propose(members.map((g) => g.address), t)).wait();
  const committeeId: bigint = findEvent(sys.committees, receipt, "CommitteeProposed").args.committeeId;
  return { committeeId, commitments: await driveAgentRound(sys, committeeId, 1n, members.length) };
}
