/**
 * Fixtures for contract tests: the deployed system, guardians g1…g5 registered, staked and attested with real
 * HPKE keys, and owners alice, bob, carol. Everything cryptographic goes through the SDK (never mocked).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { type Address, type Hex, toHex } from "viem";

import {
  type Assignment,
  type CommitteeMember,
  type G1Point,
  type HpkeKeyPair,
  type PreparedShardMap,
  type ServedPartial,
  assembleToken,
  computeAccountId,
  generateHpkeKeyPair,
  openAssignment,
  possessionProof,
  prepareShardMap,
  replayAudit,
  servePartial,
} from "../../sdk/index.ts";
import { ATTESTATION_TYPES, attestationDomain } from "../../sdk/client/index.ts";
import { deployCredentialGuardians } from "../../scripts/lib/deploy.ts";

export type Connection = Awaited<ReturnType<(typeof import("hardhat"))["network"]["create"]>>;

export interface GuardianFixture {
  name: string;
  signer: HardhatEthersSigner;
  address: Address;
  hpke: HpkeKeyPair;
  /** Shares this guardian holds, by mapId. */
  assignments: Map<bigint, Assignment>;
}

export interface LinkedAccount {
  accountId: Hex;
  mapId: bigint;
  epoch: bigint;
  prepared: PreparedShardMap;
  committee: GuardianFixture[];
  channels: string[];
}

export const ONE_ETH = 10n ** 18n;

export async function deploySystem(connection: Connection, options: { guardians?: number; metadata?: (index: number) => string } = {}) {
  const { ethers, networkHelpers } = connection;
  const signers = await ethers.getSigners();
  const [admin, attester, alice, bob, carol, prover, ...rest] = signers;
  const { registry, coordinator, committees, deployment } = await deployCredentialGuardians(ethers, admin, {
    network: connection.networkName,
    attesters: [attester.address],
  });
  const chainId = BigInt(deployment.chainId);
  const guardians: GuardianFixture[] = [];
  const count = options.guardians ?? 5;
  for (let k = 0; k < count; k++) {
    const signer = rest[k];
    const g: GuardianFixture = { name: `g${k + 1}`, signer, address: signer.address as Address, hpke: await generateHpkeKeyPair(), assignments: new Map() };
    guardians.push(g);
    await registerGuardian({ registry, attester, chainId }, g, { metadata: options.metadata?.(k + 1) });
  }
  return { connection, ethers, networkHelpers, registry, coordinator, committees, deployment, chainId, admin, attester, alice, bob, carol, prover, guardians, spare: rest.slice(count) };
}

export type System = Awaited<ReturnType<typeof deploySystem>>;

export async function registerGuardian(
  sys: { registry: any; attester: HardhatEthersSigner; chainId: bigint },
  g: GuardianFixture,
  options: { stake?: bigint; region?: string; provider?: string; expiresIn?: number; metadata?: string } = {},
) {
  const key = toHex(g.hpke.publicKey);
  await (
    await sys.registry.connect(g.signer).register(key, options.metadata ?? `https://${g.name}.guardians.example/meta.json`, toBytes32(options.region ?? "eu"), toBytes32(options.provider ?? g.name), 7, {
      value: options.stake ?? ONE_ETH,
    })
  ).wait();
  await attest(sys, g, options.expiresIn);
}

export async function attest(sys: { registry: any; attester: HardhatEthersSigner; chainId: bigint }, g: GuardianFixture, expiresIn = 365 * 24 * 3600) {
  const { attestation, signature } = await signAttestation(sys, g, expiresIn);
  await (await sys.registry.attest(attestation, signature)).wait();
  return { attestation, signature };
}

/** The attester signs `g`'s attestation with its current nonce, without submitting it. */
export async function signAttestation(sys: { registry: any; attester: HardhatEthersSigner; chainId: bigint }, g: GuardianFixture, expiresIn = 365 * 24 * 3600) {
  const view = await sys.registry.guardian(g.address);
  const block = await sys.attester.provider!.getBlock("latest");
  const attestation = {
    operator: g.address,
    encryptionKey: view.encryptionKey,
    measurement: toBytes32("guardian-agent v0.1.0"),
    expiresAt: BigInt(block!.timestamp + expiresIn),
    nonce: view.attestationNonce,
  };
  const types = { GuardianAttestation: [...ATTESTATION_TYPES.GuardianAttestation] };
  const signature = await sys.attester.signTypedData(attestationDomain(Number(sys.chainId), (await sys.registry.getAddress()) as Address), types, attestation);
  return { attestation, signature };
}

export function toBytes32(text: string): Hex {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(32);
  out.set(bytes.subarray(0, 32));
  return toHex(out);
}

export function channelsFor(owner: string, n: number): string[] {
  const kinds = [`mailto:${owner}@example.org`, `sms:+1555000${owner.length}${n}01`, `https://app.example/${owner}/cg`];
  return Array.from({ length: n }, (_, k) => (k < kinds.length ? kinds[k] : `mailto:${owner}+${k}@example.org`));
}

/** Links an account for `owner` with the given committee, and has every member open its share and acknowledge. */
export async function linkAccount(
  sys: System,
  owner: HardhatEthersSigner,
  options: { salt?: Hex; committee?: GuardianFixture[]; threshold?: number; securityPeriod?: number; consumer?: Address; acknowledge?: boolean } = {},
): Promise<LinkedAccount> {
  const committee = options.committee ?? sys.guardians.slice(0, 5);
  const t = options.threshold ?? 3;
  const salt = options.salt ?? toBytes32(`salt-${owner.address}`);
  const accountId = computeAccountId(sys.chainId, owner.address as Address, salt);
  const channels = channelsFor("alice", committee.length);
  const registryAddress = (await sys.coordinator.getAddress()) as Address;
  const prepared = await prepareShardMap({
    chainId: sys.chainId,
    shardMapRegistry: registryAddress,
    accountId,
    epoch: 1n,
    threshold: t,
    securityPeriod: options.securityPeriod ?? 3600,
    members: committee.map((g, k): CommitteeMember => ({ operator: g.address, encryptionKey: toHex(g.hpke.publicKey), channelUri: channels[k] })),
  });
  const receipt = await (await sys.coordinator.connect(owner).link(salt, options.consumer ?? "0x0000000000000000000000000000000000000000", prepared.params)).wait();
  const linked = findEvent(sys.coordinator, receipt, "ShardMapLinked");
  const linkedAccount: LinkedAccount = { accountId, mapId: linked.args.mapId, epoch: linked.args.epoch, prepared, committee, channels };
  if (options.acknowledge !== false) await acknowledgeAll(sys, linkedAccount);
  return linkedAccount;
}

/** Rotates `account` to a new committee at the next epoch (prepared by its controller), with acknowledgements. */
export async function rotateAccount(sys: System, controller: HardhatEthersSigner, account: LinkedAccount, committee: GuardianFixture[], threshold: number, acknowledge = true): Promise<LinkedAccount> {
  const view = await sys.coordinator.account(account.accountId);
  const latest = view.pendingMapId !== 0n ? view.pendingMapId : view.activeMapId;
  const epoch = (await sys.coordinator.shardMap(latest)).epoch + 1n;
  const channels = channelsFor("alice", committee.length);
  const prepared = await prepareShardMap({
    chainId: sys.chainId,
    shardMapRegistry: (await sys.coordinator.getAddress()) as Address,
    accountId: account.accountId,
    epoch,
    threshold,
    securityPeriod: 3600,
    members: committee.map((g, k) => ({ operator: g.address, encryptionKey: toHex(g.hpke.publicKey), channelUri: channels[k] })),
  });
  const receipt = await (await sys.coordinator.connect(controller).rotate(account.accountId, prepared.params)).wait();
  const linked = findEvent(sys.coordinator, receipt, "ShardMapLinked");
  const rotated: LinkedAccount = { accountId: account.accountId, mapId: linked.args.mapId, epoch, prepared, committee, channels };
  if (acknowledge) await acknowledgeAll(sys, rotated);
  return rotated;
}

export async function acknowledgeAll(sys: System, account: LinkedAccount) {
  for (let k = 0; k < account.committee.length; k++) await acknowledgeOne(sys, account, k + 1);
}

export async function acknowledgeOne(sys: System, account: LinkedAccount, index: number) {
  const g = account.committee[index - 1];
  const registryAddress = (await sys.coordinator.getAddress()) as Address;
  const assignment = await openAssignment({
    privateKey: g.hpke.privateKey,
    chainId: sys.chainId,
    shardMapRegistry: registryAddress,
    accountId: account.accountId,
    epoch: account.epoch,
    index,
    envelope: account.prepared.envelopes[index - 1],
    commitments: account.prepared.commitments,
  });
  g.assignments.set(account.mapId, assignment);
  const pop = possessionProof(assignment.share, sys.chainId, registryAddress, account.accountId, account.epoch);
  return (await sys.coordinator.connect(g.signer).acknowledge(account.mapId, index, account.prepared.params.committee, account.prepared.commitmentsHash, pop)).wait();
}

export interface OpenRequest {
  requestId: bigint;
  message: Hex;
  ephemeral: HpkeKeyPair;
  ephemeralKey: Hex;
  newController: Address;
}

export async function requestReset(sys: System, account: LinkedAccount, sender: HardhatEthersSigner, newController: Address): Promise<OpenRequest> {
  const ephemeral = await generateHpkeKeyPair();
  const ephemeralKey = toHex(ephemeral.publicKey);
  const fee = (await sys.coordinator.parameters()).requestFee;
  const receipt = await (await sys.coordinator.connect(sender).requestReset(account.accountId, newController, ephemeralKey, { value: fee })).wait();
  const ev = findEvent(sys.coordinator, receipt, "ResetRequested");
  const requestId: bigint = ev.args.requestId;
  const message = (await sys.coordinator.resetMessage(requestId, ephemeralKey)) as Hex;
  return { requestId, message, ephemeral, ephemeralKey, newController };
}

/** Member `index` of `account` serves `request`: partial, commit hash and sealed fragment. */
export async function serve(sys: System, account: LinkedAccount, request: OpenRequest, index: number, override?: G1Point): Promise<ServedPartial> {
  const g = account.committee[index - 1];
  const assignment = g.assignments.get(account.mapId);
  if (!assignment) throw new Error(`${g.name} holds no share of map ${account.mapId}`);
  return servePartial({
    share: assignment.share,
    chainId: sys.chainId,
    coordinator: (await sys.coordinator.getAddress()) as Address,
    requestId: request.requestId,
    message: request.message,
    ephemeralKey: request.ephemeralKey,
    override,
  });
}

/** The owner's client assembling `request`'s token from fragments (optionally checked against on-chain commits). */
export async function assemble(sys: System, account: LinkedAccount, request: OpenRequest, fragments: string[], onChainCommits?: Map<number, Hex>) {
  return assembleToken({
    fragments,
    ephemeralPrivateKey: request.ephemeral.privateKey,
    chainId: sys.chainId,
    coordinator: (await sys.coordinator.getAddress()) as Address,
    requestId: request.requestId,
    message: request.message,
    commitments: account.prepared.commitments,
    committee: account.prepared.params.committee,
    onChainCommits,
  });
}

export function committeeArg(account: LinkedAccount) {
  return { members: account.prepared.params.committee, commitmentsHash: account.prepared.commitmentsHash };
}

export async function commit(sys: System, account: LinkedAccount, request: OpenRequest, index: number, served: ServedPartial) {
  const g = account.committee[index - 1];
  return (await sys.coordinator.connect(g.signer).commitShare({ requestId: request.requestId, index, commitment: served.commitment }, committeeArg(account))).wait();
}

export function findEvent(contract: any, receipt: any, name: string): any {
  for (const log of receipt.logs) {
    try {
      const parsed = contract.interface.parseLog(log);
      if (parsed?.name === name) return parsed;
    } catch {
      // another contract's log
    }
  }
  throw new Error(`no ${name} event in the receipt`);
}

/** Replays every audited event of both contracts since deployment, in log order, and returns the replay. */
export async function replayFromChain(sys: System) {
  return replayAudit(await collectAuditedEvents(sys));
}

/** Every event of the audited contracts since deployment, decoded, in log order. */
export async function collectAuditedEvents(sys: System) {
  const provider = sys.ethers.provider;
  const contracts = [sys.registry, sys.coordinator, sys.committees];
  const addresses = await Promise.all(contracts.map(async (c) => ((await c.getAddress()) as string).toLowerCase()));
  const logs = await provider.getLogs({ fromBlock: 0, toBlock: "latest" });
  const events = [];
  for (const log of logs) {
    const idx = addresses.indexOf(log.address.toLowerCase());
    if (idx < 0) continue;
    const contract = contracts[idx];
    const parsed = contract.interface.parseLog(log);
    if (!parsed) continue;
    const inputs = JSON.parse(parsed.fragment.format("json")).inputs;
    events.push({ eventName: parsed.name as string, inputs, values: normalize(parsed.args.toArray(true)), where: `block ${log.blockNumber}, log ${log.index}` });
  }
  return events;
}

function normalize(values: unknown[]): unknown[] {
  return values.map((v) => (Array.isArray(v) ? normalize(v) : typeof v === "string" && v.startsWith("0x") ? v : v));
}

