/**
 * Fixtures for contract tests: the deployed system, guardians g1…g5 registered, staked and attested with real
 * HPKE keys, and owners alice, bob, carol. Everything cryptographic goes through the SDK (never mocked).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { type Address, type Hex, toHex } from "viem";

import { type HpkeKeyPair, generateHpkeKeyPair } from "../../sdk/index.ts";
import { ATTESTATION_TYPES, attestationDomain } from "../../sdk/client/index.ts";
import { deployCredentialGuardians } from "../../scripts/lib/deploy.ts";

export type Connection = Awaited<ReturnType<(typeof import("hardhat"))["network"]["create"]>>;

export interface GuardianFixture {
  name: string;
  signer: HardhatEthersSigner;
  address: Address;
  hpke: HpkeKeyPair;
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
    const g: GuardianFixture = { name: `g${k + 1}`, signer, address: signer.address as Address, hpke: await generateHpkeKeyPair() };
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
