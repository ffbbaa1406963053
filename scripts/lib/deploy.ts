/**
 * Deploys and wires the contracts: GuardianRegistry, the linked libraries, then CommitteeRegistry (told the
 * coordinator's address in advance: the deployer's next nonce) and ResetCoordinator (which also holds the accounts
 * and the audit log, and knows the committee registry as an immutable); then the wiring (registry → coordinator,
 * the committee registry as slasher and stake lock), the unbonding floor and the attester roles.
 * Used by scripts/deploy.ts, the benchmark and the tests, so all three exercise the same deployment.
 */
import type { Signer } from "ethers";
import { getCreateAddress, parseEther } from "ethers";

import { CGError } from "../../sdk/errors.ts";

export interface DeployParameters {
  minStake: bigint;
  unbondingDelay: bigint;
  requestFee: bigint;
  requestLifetime: number;
  /** After a request's deadline, how long its postings stay open to fraud proofs before its fees are settled. */
  disputeWindow: number;
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
  disputeWindow: 24 * 3600,
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
  // at least requestLifetime + maxSecurityPeriod + disputeWindow (9 days with these defaults)
  releaseDelay: 10 * 24 * 3600,
};

export interface Deployment {
  network: string;
  chainId: number;
  deployedAt: string;
  deploymentBlock: number;
  admin: string;
  attesters: string[];
  contracts: { GuardianRegistry: string; ResetCoordinator: string; CommitteeRegistry: string; CommitteeCrypto: string; CommitteeSelection: string; CompressedPoints: string };
  parameters: Record<string, string | number>;
}

/** Minimal shape of the hardhat-ethers object this needs. */
export interface EthersLike {
  getContractFactory(
    name: string,
    options?: Signer | { signer?: Signer; libraries?: Record<string, string> },
  ): Promise<{ deploy(...args: unknown[]): Promise<any> }>;
  provider: { getNetwork(): Promise<{ chainId: bigint }>; getBlockNumber(): Promise<number>; getTransactionCount(address: string, blockTag?: string): Promise<number> };
}

export async function deployCredentialGuardians(
  ethers: EthersLike,
  deployer: Signer,
  options: { network: string; admin?: string; attesters?: string[]; parameters?: Partial<DeployParameters>; log?: (line: string) => void },
) {
  const p = { ...DEFAULT_PARAMETERS, ...options.parameters };
  const floor = p.requestLifetime + p.maxSecurityPeriod + p.disputeWindow;
  if (p.unbondingDelay <= BigInt(floor)) {
    throw new CGError(
      "INVALID_INPUT",
      `deploy: unbondingDelay (${p.unbondingDelay}s) must exceed requestLifetime + maxSecurityPeriod + disputeWindow (${floor}s)`,
    );
  }
  if (p.releaseDelay < floor) {
    throw new CGError(
      "INVALID_INPUT",
      `deploy: releaseDelay (${p.releaseDelay}s) must be at least requestLifetime + maxSecurityPeriod + disputeWindow (${floor}s)`,
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
  log("deploying CommitteeCrypto, CommitteeSelection and CompressedPoints");
  const deployLibrary = async (name: string) => {
    const library = await (await ethers.getContractFactory(name, deployer)).deploy();
    await library.waitForDeployment();
    return (await library.getAddress()) as string;
  };
  const libraries = { CommitteeCrypto: await deployLibrary("CommitteeCrypto"), CommitteeSelection: await deployLibrary("CommitteeSelection") };
  const compressedPoints = await deployLibrary("CompressedPoints");

  // The committee registry folds its events into the coordinator's audit log, and the coordinator reads the committee
  // registry on every posting: each knows the other as an immutable. The coordinator is the deployer's next creation.
  const nonce = await ethers.provider.getTransactionCount(deployerAddress, "pending");
  const coordinatorAddress = getCreateAddress({ from: deployerAddress, nonce: nonce + 1 });
  log("deploying CommitteeRegistry and ResetCoordinator");
  const committees = await (await ethers.getContractFactory("CommitteeRegistry", { signer: deployer, libraries })).deploy(deployerAddress, await registry.getAddress(), coordinatorAddress, {
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
  const coordinator = await (await ethers.getContractFactory("ResetCoordinator", { signer: deployer, libraries: { CompressedPoints: compressedPoints } })).deploy(
    deployerAddress,
    await registry.getAddress(),
    await committees.getAddress(),
    {
      requestFee: p.requestFee,
      requestLifetime: p.requestLifetime,
      disputeWindow: p.disputeWindow,
      minSecurityPeriod: p.minSecurityPeriod,
      maxSecurityPeriod: p.maxSecurityPeriod,
      slashAmount: p.slashAmount,
      proverRewardBps: p.proverRewardBps,
      hookGasLimit: p.hookGasLimit,
    },
  );
  await coordinator.waitForDeployment();
  if ((await coordinator.getAddress()).toLowerCase() !== coordinatorAddress.toLowerCase()) {
    throw new CGError("DEPLOY_FAILED", `deploy: the coordinator landed at ${await coordinator.getAddress()}, not at ${coordinatorAddress} as the committee registry was told`);
  }

  log("wiring roles");
  await (await registry.setCoordinator(await coordinator.getAddress())).wait();
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
      CommitteeRegistry: await committees.getAddress(),
      CommitteeCrypto: libraries.CommitteeCrypto,
      CommitteeSelection: libraries.CommitteeSelection,
      CompressedPoints: compressedPoints,
    },
    parameters: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
  };
  return { registry, coordinator, committees, deployment };
}
