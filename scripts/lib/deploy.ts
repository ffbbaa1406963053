/**
 * Deploys and wires the contracts: GuardianRegistry, then ResetCoordinator (which is also the shard map registry
 * and the audit log), then CommitteeRegistry with its linked libraries; then the wiring (registry → coordinator,
 * the committee registry as audit writer, slasher and stake lock), the unbonding floor and the attester roles.
 * Used by scripts/deploy.ts, the benchmark and the tests, so all three exercise the same deployment.
 */
import type { Signer } from "ethers";
import { parseEther } from "ethers";

import { CGError } from "../../sdk/errors.ts";

export interface DeployParameters {
  minStake: bigint;
  unbondingDelay: bigint;
  requestFee: bigint;
  requestLifetime: number;
  maxOpenRequests: number;
  minSecurityPeriod: number;
  maxSecurityPeriod: number;
  slashAmount: bigint;
  proverRewardBps: number;
  hookGasLimit: number;
  /** Committee rounds (CommitteeRegistry): phase windows in seconds, epoch age before a periodic handover, and how
   *  long members who left stay bonded. Faults found in rounds are slashed by `slashAmount` / `proverRewardBps`. */
  dealWindow: number;
  complaintWindow: number;
  answerWindow: number;
  ackWindow: number;
  maxEpochAge: number;
  releaseDelay: number;
}

export const DEFAULT_PARAMETERS: DeployParameters = {
  minStake: parseEther("1"),
  unbondingDelay: 14n * 24n * 3600n,
  requestFee: parseEther("0.001"),
  requestLifetime: 24 * 3600,
  maxOpenRequests: 3,
  minSecurityPeriod: 3600,
  maxSecurityPeriod: 7 * 24 * 3600,
  slashAmount: parseEther("0.5"),
  proverRewardBps: 2_000,
  hookGasLimit: 200_000,
  dealWindow: 600,
  complaintWindow: 300,
  answerWindow: 3600,
  ackWindow: 600,
  maxEpochAge: 90 * 24 * 3600,
  releaseDelay: 8 * 24 * 3600,
};

export interface Deployment {
  network: string;
  chainId: number;
  deployedAt: string;
  deploymentBlock: number;
  admin: string;
  attesters: string[];
  contracts: { GuardianRegistry: string; ResetCoordinator: string; ShardMapRegistry: string; CommitteeRegistry: string; CommitteeCrypto: string; CommitteeSelection: string };
  parameters: Record<string, string | number>;
}

/** Minimal shape of the hardhat-ethers object this needs. */
export interface EthersLike {
  getContractFactory(
    name: string,
    options?: Signer | { signer?: Signer; libraries?: Record<string, string> },
  ): Promise<{ deploy(...args: unknown[]): Promise<any> }>;
  provider: { getNetwork(): Promise<{ chainId: bigint }>; getBlockNumber(): Promise<number> };
}

export async function deployCredentialGuardians(
  ethers: EthersLike,
  deployer: Signer,
  options: { network: string; admin?: string; attesters?: string[]; parameters?: Partial<DeployParameters>; log?: (line: string) => void },
) {
  const p = { ...DEFAULT_PARAMETERS, ...options.parameters };
  if (p.unbondingDelay <= BigInt(p.requestLifetime + p.maxSecurityPeriod)) {
    throw new CGError(
      "INVALID_INPUT",
      `deploy: unbondingDelay (${p.unbondingDelay}s) must exceed requestLifetime + maxSecurityPeriod (${p.requestLifetime + p.maxSecurityPeriod}s)`,
    );
  }
  const log = options.log ?? (() => {});
  const deployerAddress = await deployer.getAddress();
  const admin = options.admin ?? deployerAddress;
  const firstBlock = await ethers.provider.getBlockNumber();

  log("deploying GuardianRegistry");
  // The deployer holds the admin role while it wires the contracts; the treasury belongs to governance from the start.
  const registry = await (await ethers.getContractFactory("GuardianRegistry", deployer)).deploy(deployerAddress, admin, p.minStake, p.unbondingDelay);
  await registry.waitForDeployment();
  log("deploying ResetCoordinator");
  const coordinator = await (await ethers.getContractFactory("ResetCoordinator", deployer)).deploy(deployerAddress, await registry.getAddress(), {
    requestFee: p.requestFee,
    requestLifetime: p.requestLifetime,
    maxOpenRequests: p.maxOpenRequests,
    minSecurityPeriod: p.minSecurityPeriod,
    maxSecurityPeriod: p.maxSecurityPeriod,
    slashAmount: p.slashAmount,
    proverRewardBps: p.proverRewardBps,
    hookGasLimit: p.hookGasLimit,
  });
  await coordinator.waitForDeployment();
  log("deploying CommitteeCrypto, CommitteeSelection and CommitteeRegistry");
  const committeeCrypto = await (await ethers.getContractFactory("CommitteeCrypto", deployer)).deploy();
  await committeeCrypto.waitForDeployment();
  const committeeSelection = await (await ethers.getContractFactory("CommitteeSelection", deployer)).deploy();
  await committeeSelection.waitForDeployment();
  const libraries = { CommitteeCrypto: await committeeCrypto.getAddress(), CommitteeSelection: await committeeSelection.getAddress() };
  const committees = await (await ethers.getContractFactory("CommitteeRegistry", { signer: deployer, libraries })).deploy(deployerAddress, await registry.getAddress(), await coordinator.getAddress(), {
    dealWindow: p.dealWindow,
    complaintWindow: p.complaintWindow,
    answerWindow: p.answerWindow,
    ackWindow: p.ackWindow,
    maxEpochAge: p.maxEpochAge,
    releaseDelay: p.releaseDelay,
    slashAmount: p.slashAmount,
    proverRewardBps: p.proverRewardBps,
  });
  await committees.waitForDeployment();

  log("wiring roles");
  await (await registry.setCoordinator(await coordinator.getAddress())).wait();
  await (await coordinator.setCommitteeRegistry(await committees.getAddress())).wait();
  await (await registry.grantRole(await registry.SLASHER_ROLE(), await committees.getAddress())).wait();
  await (await registry.setStakeLock(await committees.getAddress())).wait();
  await (await coordinator.syncUnbondingFloor()).wait();
  const attesterRole = await registry.ATTESTER_ROLE();
  const attesters = options.attesters ?? [admin];
  for (const a of attesters) await (await registry.grantRole(attesterRole, a)).wait();
  if (admin.toLowerCase() !== deployerAddress.toLowerCase()) {
    const adminRole = await registry.DEFAULT_ADMIN_ROLE();
    for (const c of [registry, coordinator, committees]) {
      await (await c.grantRole(adminRole, admin)).wait();
      await (await c.renounceRole(adminRole, deployerAddress)).wait();
    }
  }

  const deployment: Deployment = {
    network: options.network,
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    deployedAt: new Date().toISOString(),
    deploymentBlock: firstBlock + 1,
    admin,
    attesters,
    contracts: {
      GuardianRegistry: await registry.getAddress(),
      ResetCoordinator: await coordinator.getAddress(),
      ShardMapRegistry: await coordinator.getAddress(),
      CommitteeRegistry: await committees.getAddress(),
      CommitteeCrypto: libraries.CommitteeCrypto,
      CommitteeSelection: libraries.CommitteeSelection,
    },
    parameters: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
  };
  return { registry, coordinator, committees, deployment };
}
