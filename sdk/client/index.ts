/**
 * Client flows over viem clients, for dApps and wallets (a browser wallet through EIP-1193 works as well as a
 * local key), the CLI and the demo: committee selection, linking, requesting, assembling, completing,
 * cancelling, finalizing, fraud proofs, auditing, and operator actions. Guardians (listing, selection) are in
 * `guardians.ts`, committees (propose, hand over, inspect, follow a round) in `committees.ts`, both re-exported here;
 * sending a transaction is `transactions.ts`.
 */
import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  decodeEventLog,
  defineChain,
  getAddress,
  keccak256,
  toHex,
} from "viem";

import { committeeRegistryAbi, guardianRegistryAbi, resetCoordinatorAbi } from "../abi/index.ts";
import { g1ToEip2537 } from "../crypto/bls.ts";
import { type HpkeKeyPair, generateHpkeKeyPair } from "../crypto/hpke.ts";
import { CGError } from "../errors.ts";
import { shareCommit } from "../encoding/messages.ts";
import { type AuditedEvent, checkAudit, locateDivergence, replayAudit } from "../protocol/audit.ts";
import { type AssembledToken, assembleToken } from "../protocol/reset.ts";
import { type CommitteeMember, computeAccountId, decodeCommitments, prepareShardMap } from "../protocol/shardMap.ts";
import type { GuardianInfo } from "./guardians.ts";
import { send, wallet } from "./transactions.ts";

export * from "./guardians.ts";
export * from "./committees.ts";

export interface Deployment {
  chainId: number;
  deploymentBlock: number;
  contracts: { GuardianRegistry: Address; ResetCoordinator: Address; CommitteeRegistry: Address };
}

export interface Clients {
  public: PublicClient;
  wallet?: WalletClient<Transport, Chain | undefined, Account | undefined>;
  deployment: Deployment;
}

export type Progress = (step: string, detail?: Record<string, unknown>) => void;

const ZERO: Address = "0x0000000000000000000000000000000000000000";

function coordinator(c: Clients): Address {
  return c.deployment.contracts.ResetCoordinator;
}

// ───────────────────────────── accounts ─────────────────────────────

export function saltFromText(text: string): Hex {
  return keccak256(new TextEncoder().encode(text));
}

/** A viem chain for an RPC endpoint whose chain id is known (local devnets, private deployments). */
export function chainFor(id: number, rpcUrl: string): Chain {
  return defineChain({ id, name: `chain-${id}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
}

/** EIP-712 domain and types of `GuardianRegistry.attest` (the registry's `ATTESTATION_TYPEHASH`). */
export function attestationDomain(chainId: number, registry: Address) {
  return { name: "CredentialGuardians", version: "1", chainId, verifyingContract: registry } as const;
}

export const ATTESTATION_TYPES = {
  GuardianAttestation: [
    { name: "operator", type: "address" },
    { name: "encryptionKey", type: "bytes32" },
    { name: "measurement", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

export interface LinkResult {
  accountId: Hex;
  mapId: bigint;
  epoch: bigint;
  committee: Address[];
  gasUsed: bigint;
  commitmentsHash: Hex;
}

/** Deals, seals and links (or rotates, with `accountId`); waits for every acknowledgement unless told not to. */
export async function linkAccount(
  c: Clients,
  o: {
    salt?: Hex;
    rotate?: Hex;
    members: (GuardianInfo & { channelUri: string })[];
    threshold: number;
    securityPeriod: number;
    consumer?: Address;
    insecure?: boolean;
    waitForAcknowledgements?: boolean;
    timeoutMs?: number;
    onProgress?: Progress;
  },
): Promise<LinkResult> {
  const w = wallet(c);
  const chainId = BigInt(c.deployment.chainId);
  const progress = o.onProgress ?? (() => {});
  if (o.threshold === 1 && !(o.insecure && o.members.length === 1)) {
    throw new CGError("INVALID_INPUT", "a threshold of 1 lets any single guardian reset the account; only a 1-of-1 map behind --insecure is allowed");
  }
  let accountId: Hex;
  let epoch = 1n;
  if (o.rotate) {
    accountId = o.rotate;
    const view = await c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "account", args: [accountId] });
    if (view.controller === ZERO) throw new CGError("UNKNOWN_ACCOUNT", `account ${accountId} is not linked`);
    const latest = view.pendingMapId !== 0 ? view.pendingMapId : view.activeMapId;
    epoch = (await c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "shardMap", args: [BigInt(latest)] })).epoch + 1n;
  } else {
    if (!o.salt) throw new CGError("INVALID_INPUT", "linkAccount: a salt is needed for a new account");
    accountId = computeAccountId(chainId, w.account.address, o.salt);
  }
  progress("dealing", { n: o.members.length, t: o.threshold, epoch: epoch.toString() });
  const prepared = await prepareShardMap({
    chainId,
    shardMapRegistry: coordinator(c),
    accountId,
    epoch,
    threshold: o.threshold,
    securityPeriod: o.securityPeriod,
    members: o.members.map((m): CommitteeMember => ({ operator: m.operator, encryptionKey: m.encryptionKey, channelUri: m.channelUri })),
    allowSingle: o.insecure,
  });
  progress("sending");
  const receipt = o.rotate
    ? await send(c, { address: coordinator(c), abi: resetCoordinatorAbi, functionName: "rotate", args: [accountId, prepared.params] })
    : await send(c, { address: coordinator(c), abi: resetCoordinatorAbi, functionName: "link", args: [o.salt!, o.consumer ?? ZERO, prepared.params] });
  const linked = receipt.logs
    .map((l) => {
      try {
        return decodeEventLog({ abi: resetCoordinatorAbi, data: l.data, topics: l.topics });
      } catch {
        return undefined;
      }
    })
    .find((e) => e?.eventName === "ShardMapLinked");
  const mapId = (linked!.args as { mapId: bigint }).mapId;
  progress("linked", { accountId, mapId: mapId.toString(), gasUsed: receipt.gasUsed.toString() });
  if (o.waitForAcknowledgements !== false) {
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    let last = -1;
    for (;;) {
      const map = await c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "shardMap", args: [mapId] });
      const acked = popcount(map.acknowledged);
      if (acked !== last) progress("acknowledgements", { acknowledged: acked, of: o.members.length });
      last = acked;
      if (map.status === 2) break;
      if (Date.now() > deadline) throw new CGError("TIMEOUT", `${acked} of ${o.members.length} guardians acknowledged map ${mapId} in time; the map stays pending until all do`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return { accountId, mapId, epoch, committee: prepared.params.committee, gasUsed: receipt.gasUsed, commitmentsHash: prepared.commitmentsHash };
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

/** The map's data as linked (commitments, committee), from its `ShardMapLinked` event. */
export async function shardMapData(c: Clients, mapId: bigint) {
  const logs = await c.public.getContractEvents({ address: coordinator(c), abi: resetCoordinatorAbi, eventName: "ShardMapLinked", args: { mapId }, fromBlock: BigInt(c.deployment.deploymentBlock) });
  if (logs.length === 0) throw new CGError("UNKNOWN_MAP", `no shard map ${mapId} on this deployment`);
  const a = logs[0].args as { accountId: Hex; epoch: bigint; committee: Address[]; commitments: Hex; threshold: number };
  return { accountId: a.accountId, epoch: a.epoch, committee: a.committee, commitments: a.commitments, commitmentsHash: keccak256(a.commitments), threshold: a.threshold };
}

// ───────────────────────────── resets ─────────────────────────────

export interface RequestState {
  version: 1;
  chainId: number;
  coordinator: Address;
  requestId: string;
  accountId: Hex;
  mapId: string;
  newController: Address;
  ephemeralPublicKey: Hex;
}

/** Sends `requestReset` with a fresh ephemeral key; returns the state to keep (the caller seals the secret). */
export async function requestReset(c: Clients, o: { accountId: Hex; newController: Address }): Promise<{ state: RequestState; ephemeral: HpkeKeyPair; gasUsed: bigint }> {
  const ephemeral = await generateHpkeKeyPair();
  const view = await c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "account", args: [o.accountId] });
  if (view.controller === ZERO) throw new CGError("UNKNOWN_ACCOUNT", `account ${o.accountId} is not linked on this deployment`);
  const fee = (await c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "parameters" })).requestFee;
  const receipt = await send(c, {
    address: coordinator(c),
    abi: resetCoordinatorAbi,
    functionName: "requestReset",
    args: [o.accountId, o.newController, toHex(ephemeral.publicKey)],
    value: fee,
  });
  const event = receipt.logs.map((l) => {
    try {
      return decodeEventLog({ abi: resetCoordinatorAbi, data: l.data, topics: l.topics });
    } catch {
      return undefined;
    }
  }).find((e) => e?.eventName === "ResetRequested");
  const args = event!.args as { requestId: bigint; mapId: bigint };
  return {
    state: {
      version: 1,
      chainId: c.deployment.chainId,
      coordinator: coordinator(c),
      requestId: args.requestId.toString(),
      accountId: o.accountId,
      mapId: args.mapId.toString(),
      newController: getAddress(o.newController),
      ephemeralPublicKey: toHex(ephemeral.publicKey),
    },
    ephemeral,
    gasUsed: receipt.gasUsed,
  };
}

/** h_i by index from the request's `ShareCommitted` events (a member committed at most once). */
export async function onChainCommits(c: Clients, requestId: bigint): Promise<{ commits: Map<number, Hex>; history: { index: number; commitment: Hex }[] }> {
  const logs = await c.public.getContractEvents({ address: coordinator(c), abi: resetCoordinatorAbi, eventName: "ShareCommitted", args: { requestId }, fromBlock: BigInt(c.deployment.deploymentBlock) });
  const history = logs.map((l) => ({ index: Number((l.args as { index: number }).index), commitment: (l.args as { commitment: Hex }).commitment }));
  return { commits: new Map(history.map((h) => [h.index, h.commitment])), history };
}

/** Opens and checks fragments for a request whose state and ephemeral secret the caller holds. */
export async function assembleFragments(c: Clients, state: RequestState, ephemeralPrivateKey: Uint8Array, fragments: readonly string[]): Promise<AssembledToken & { groupKey: Hex }> {
  const map = await shardMapData(c, BigInt(state.mapId));
  const message = await c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "resetMessage", args: [BigInt(state.requestId), state.ephemeralPublicKey] });
  const { commits } = await onChainCommits(c, BigInt(state.requestId));
  const assembled = await assembleToken({
    fragments,
    ephemeralPrivateKey,
    chainId: BigInt(state.chainId),
    coordinator: state.coordinator,
    requestId: BigInt(state.requestId),
    message,
    commitments: decodeCommitments(map.commitments),
    committee: map.committee,
    onChainCommits: commits,
  });
  return { ...assembled, groupKey: `0x${map.commitments.slice(2, 2 + 512)}` as Hex };
}

export async function completeReset(c: Clients, state: RequestState, tokenHex: Hex, groupKey: Hex) {
  return send(c, { address: coordinator(c), abi: resetCoordinatorAbi, functionName: "completeReset", args: [BigInt(state.requestId), state.accountId, state.ephemeralPublicKey, tokenHex, groupKey] });
}

export async function cancelReset(c: Clients, requestId: bigint) {
  return send(c, { address: coordinator(c), abi: resetCoordinatorAbi, functionName: "cancelReset", args: [requestId] });
}

export async function finalizeReset(c: Clients, requestId: bigint) {
  return send(c, { address: coordinator(c), abi: resetCoordinatorAbi, functionName: "finalizeReset", args: [requestId] });
}

/** Proves that member `index` committed an invalid partial (opened from its fragment by `assembleFragments`). */
export async function proveInvalidFragment(c: Clients, state: RequestState, index: number, assembled: AssembledToken) {
  const sigma = assembled.partials.get(index);
  if (!sigma) throw new CGError("INVALID_INPUT", `no opened fragment of member #${index} for request ${state.requestId}`);
  const sigmaHex = toHex(g1ToEip2537(sigma));
  const { history, commits } = await onChainCommits(c, BigInt(state.requestId));
  if (commits.get(index)?.toLowerCase() !== shareCommit(BigInt(state.requestId), index, g1ToEip2537(sigma)).toLowerCase()) {
    throw new CGError("NOT_PROVABLE", `member #${index}'s fragment does not match its on-chain commit: treat it as missing, it cannot be proven on-chain`);
  }
  const map = await shardMapData(c, BigInt(state.mapId));
  return send(c, {
    address: coordinator(c),
    abi: resetCoordinatorAbi,
    functionName: "proveInvalidShare",
    args: [BigInt(state.requestId), index, sigmaHex, state.ephemeralPublicKey, map.commitments, map.committee, history],
  });
}

// ───────────────────────────── audit ─────────────────────────────

/** Every event of the audited contracts since deployment, decoded, in log order. */
export async function auditedEvents(c: Clients): Promise<AuditedEvent[]> {
  const sources = [
    { address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi },
    { address: coordinator(c), abi: resetCoordinatorAbi },
    { address: c.deployment.contracts.CommitteeRegistry, abi: committeeRegistryAbi },
  ] as const;
  const logs = await c.public.getLogs({ address: sources.map((s) => s.address), fromBlock: BigInt(c.deployment.deploymentBlock), toBlock: "latest" });
  const events: AuditedEvent[] = [];
  for (const log of logs) {
    const source = sources.find((s) => s.address.toLowerCase() === log.address.toLowerCase())!;
    let decoded;
    try {
      decoded = decodeEventLog({ abi: source.abi, data: log.data, topics: log.topics });
    } catch {
      continue;
    }
    const item = (source.abi as readonly any[]).find((x) => x.type === "event" && x.name === decoded.eventName);
    const args = decoded.args as Record<string, unknown>;
    events.push({
      eventName: decoded.eventName as string,
      inputs: item.inputs,
      values: item.inputs.map((i: { name: string }) => args[i.name]),
      where: `block ${log.blockNumber}, log ${log.logIndex}`,
      blockNumber: log.blockNumber ?? undefined,
    });
  }
  return events;
}

/**
 * Replays the whole audit chain. Ends in "matches the on-chain head", or throws `AUDIT_MISMATCH` naming the first
 * event after which the chain's head differs (found by reading `auditHead()` at past blocks).
 * `tamper` lets a test alter the fetched events, as a dishonest indexer would.
 */
export async function replayAuditLog(c: Clients, tamper?: (events: AuditedEvent[]) => AuditedEvent[]): Promise<{ message: string; length: bigint; head: Hex }> {
  const fetched = await auditedEvents(c);
  const events = tamper ? tamper(fetched) : fetched;
  const replay = replayAudit(events);
  const [head, length] = await Promise.all([
    c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "auditHead" }),
    c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "auditLength" }),
  ]);
  try {
    return { message: checkAudit(replay, { head, length }), length: replay.length, head: replay.head };
  } catch (e) {
    const first = await locateDivergence(events, replay, (blockNumber) =>
      c.public.readContract({ address: coordinator(c), abi: resetCoordinatorAbi, functionName: "auditHead", blockNumber }),
    ).catch(() => undefined);
    if (!first || !(e instanceof CGError)) throw e;
    throw new CGError("AUDIT_MISMATCH", `${e.message}; first divergence at entry ${first.index + 1}: ${first.event.eventName} (${first.event.where})`, {
      details: { ...e.details, entry: first.index + 1, event: first.event.eventName, where: first.event.where },
    });
  }
}

/** The audited events that concern one account (by account id) or one guardian (by operator address). */
export function historyOf(events: readonly AuditedEvent[], subject: Hex | Address): { event: string; where?: string; fields: Record<string, unknown> }[] {
  const needle = subject.toLowerCase();
  const requests = new Set<string>();
  const out = [];
  for (const e of events) {
    const fields = Object.fromEntries(e.inputs.map((inp, k) => [inp.name ?? String(k), e.values[k]]));
    const flat = JSON.stringify(e.values, (_, v) => (typeof v === "bigint" ? v.toString() : v)).toLowerCase();
    const requestId = fields.requestId !== undefined ? String(fields.requestId) : undefined;
    if (flat.includes(needle)) {
      if (e.eventName === "ResetRequested" && requestId) requests.add(requestId);
      out.push({ event: e.eventName, where: e.where, fields });
    } else if (requestId && requests.has(requestId)) {
      out.push({ event: e.eventName, where: e.where, fields });
    }
  }
  return out;
}

// ───────────────────────────── operators ─────────────────────────────

export async function registerGuardian(c: Clients, o: { encryptionKey: Hex; metadataURI: string; region: string; provider: string; channelKinds: number; stake: bigint }) {
  const tag = (s: string) => toHex(new TextEncoder().encode(s.slice(0, 32)), { size: 32 });
  return send(c, { address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "register", args: [o.encryptionKey, o.metadataURI, tag(o.region), tag(o.provider), o.channelKinds], value: o.stake });
}

export async function stake(c: Clients, amount: bigint) {
  return send(c, { address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "stake", value: amount });
}

export async function startUnbonding(c: Clients, amount: bigint) {
  return send(c, { address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "startUnbonding", args: [amount] });
}

export async function withdrawStake(c: Clients) {
  return send(c, { address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "withdraw" });
}

/**
 * An attester (ATTESTER_ROLE) signs the EIP-712 `GuardianAttestation` of `operator`'s registered key and submits it.
 */
export async function attestGuardian(c: Clients, o: { operator: Address; measurement: Hex; validForSeconds: number }) {
  const w = wallet(c);
  const registry = c.deployment.contracts.GuardianRegistry;
  const view = await guardianStatus(c, o.operator);
  if (!view.registered) throw new CGError("UNKNOWN_GUARDIAN", `${o.operator} is not a registered guardian`);
  const latest = await c.public.getBlock({ blockTag: "latest" });
  const attestation = {
    operator: getAddress(o.operator),
    encryptionKey: view.encryptionKey,
    measurement: o.measurement,
    expiresAt: latest.timestamp + BigInt(o.validForSeconds),
    nonce: view.attestationNonce,
  };
  const signature = await w.signTypedData({
    account: w.account,
    domain: attestationDomain(c.deployment.chainId, registry),
    types: ATTESTATION_TYPES,
    primaryType: "GuardianAttestation",
    message: attestation,
  });
  return send(c, { address: registry, abi: guardianRegistryAbi, functionName: "attest", args: [attestation, signature] });
}

export async function guardianStatus(c: Clients, operator: Address) {
  return c.public.readContract({ address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "guardian", args: [operator] });
}
