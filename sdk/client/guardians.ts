/**
 * Guardians (PROTOCOL.md §9): every registered guardian with its tags and current eligibility, the committee builder
 * that spreads members over operators, regions and providers (§3.1), and an operator's and an attester's actions
 * (register with stake, stake, unbond, withdraw, attest).
 */
import { type Address, type Hex, getAddress, hexToBytes, toHex } from "viem";

import { guardianRegistryAbi } from "../abi/index.ts";
import { CGError } from "../errors.ts";
import type { Clients } from "./deployment.ts";
import { send, wallet } from "./transactions.ts";

export interface GuardianInfo {
  operator: Address;
  encryptionKey: Hex;
  metadataURI: string;
  region: string;
  provider: string;
  channelKinds: number;
  eligible: boolean;
  stake: bigint;
  served: bigint;
  missed: bigint;
}

function tagText(tag: Hex): string {
  return new TextDecoder().decode(hexToBytes(tag)).replace(/\0+$/, "");
}

/** Every registered guardian with its tags (from `GuardianRegistered`) and current eligibility. */
export async function listGuardians(c: Clients): Promise<GuardianInfo[]> {
  const logs = await c.public.getContractEvents({
    address: c.deployment.contracts.GuardianRegistry,
    abi: guardianRegistryAbi,
    eventName: "GuardianRegistered",
    fromBlock: BigInt(c.deployment.deploymentBlock),
  });
  const out: GuardianInfo[] = [];
  for (const log of logs) {
    const a = log.args as { operator: Address; encryptionKey: Hex; metadataURI: string; region: Hex; provider: Hex; channelKinds: number };
    const v = await c.public.readContract({ address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "guardian", args: [a.operator] });
    out.push({
      operator: getAddress(a.operator),
      encryptionKey: v.encryptionKey,
      metadataURI: a.metadataURI,
      region: tagText(a.region),
      provider: tagText(a.provider),
      channelKinds: a.channelKinds,
      eligible: v.eligible,
      stake: v.stake,
      served: BigInt(v.served),
      missed: BigInt(v.missed),
    });
  }
  return out;
}

/**
 * Picks n eligible guardians spread over distinct operators, then over distinct regions and providers (greedy:
 * each pick maximizes new regions and providers, then prefers fewer missed requests). Says why when it cannot.
 */
export function selectCommittee(guardians: readonly GuardianInfo[], n: number): GuardianInfo[] {
  const eligible = guardians.filter((g) => g.eligible);
  if (eligible.length < n) {
    throw new CGError("COMMITTEE_UNAVAILABLE", `${eligible.length} eligible guardians, ${n} needed (${guardians.length - eligible.length} registered ones are not eligible: stake, attestation, jail or unbonding)`);
  }
  const chosen: GuardianInfo[] = [];
  const regions = new Set<string>();
  const providers = new Set<string>();
  const pool = [...eligible];
  while (chosen.length < n) {
    pool.sort((a, b) => {
      const score = (g: GuardianInfo) => (regions.has(g.region) ? 0 : 2) + (providers.has(g.provider) ? 0 : 1);
      return score(b) - score(a) || Number(a.missed - b.missed) || a.operator.localeCompare(b.operator);
    });
    const pick = pool.shift()!;
    chosen.push(pick);
    regions.add(pick.region);
    providers.add(pick.provider);
  }
  return chosen;
}

// ───────────────────────────── operators and attesters ─────────────────────────────

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

export async function guardianStatus(c: Clients, operator: Address) {
  return c.public.readContract({ address: c.deployment.contracts.GuardianRegistry, abi: guardianRegistryAbi, functionName: "guardian", args: [operator] });
}

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

/** An attester (ATTESTER_ROLE) signs the EIP-712 `GuardianAttestation` of `operator`'s registered key and submits it. */
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
