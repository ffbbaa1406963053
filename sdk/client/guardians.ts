/**
 * Guardians as a client sees them: every registered guardian with its tags and current eligibility, and the
 * committee builder that spreads members over operators, regions and providers (PROTOCOL.md §3.1).
 */
import { type Address, type Hex, getAddress, hexToBytes } from "viem";

import { guardianRegistryAbi } from "../abi/index.ts";
import { CGError } from "../errors.ts";
import type { Clients } from "./index.ts";

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
