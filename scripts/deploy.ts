/**
 * Deploys Credential Guardians and writes deployments/<network>.json.
 *
 *   npx hardhat run scripts/deploy.ts --network localhost     # a `hardhat node` on 127.0.0.1:8545
 *   npx hardhat run scripts/deploy.ts --network remote        # CG_RPC_URL and CG_DEPLOYER_KEY from .env
 *
 * Optional settings (see .env.example): CG_ADMIN, CG_ATTESTERS, the CG_* protocol parameters, CG_LOCALHOST_URL
 * (another local node URL) and CG_DEPLOYMENTS_DIR (where to write the JSON file).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { parseEther } from "ethers";

import { CGError } from "../sdk/errors.ts";
import { type DeployParameters, deployCredentialGuardians } from "./lib/deploy.ts";

function envParameters(): Partial<DeployParameters> {
  const out: Partial<DeployParameters> = {};
  const num = (name: string): number | undefined => {
    const v = process.env[name];
    if (v === undefined || v === "") return undefined;
    if (!/^[0-9]+$/.test(v)) throw new CGError("INVALID_CONFIG", `${name}: expected a whole number, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const eth = (name: string): bigint | undefined => {
    const v = process.env[name];
    if (v === undefined || v === "") return undefined;
    try {
      return parseEther(v);
    } catch (cause) {
      throw new CGError("INVALID_CONFIG", `${name}: expected an amount of ETH such as 0.5, got ${JSON.stringify(v)}`, { cause });
    }
  };
  const set = <K extends keyof DeployParameters>(k: K, v: DeployParameters[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("minStake", eth("CG_MIN_STAKE_ETH"));
  const unbonding = num("CG_UNBONDING_DELAY");
  set("unbondingDelay", unbonding === undefined ? undefined : BigInt(unbonding));
  set("requestFee", eth("CG_REQUEST_FEE_ETH"));
  set("requestLifetime", num("CG_REQUEST_LIFETIME"));
  set("disputeWindow", num("CG_DISPUTE_WINDOW"));
  set("minSecurityPeriod", num("CG_MIN_SECURITY_PERIOD"));
  set("maxSecurityPeriod", num("CG_MAX_SECURITY_PERIOD"));
  set("slashAmount", eth("CG_SLASH_AMOUNT_ETH"));
  set("proverRewardBps", num("CG_PROVER_REWARD_BPS"));
  set("hookGasLimit", num("CG_HOOK_GAS_LIMIT"));
  set("dealWindow", num("CG_DEAL_WINDOW"));
  set("complaintWindow", num("CG_COMPLAINT_WINDOW"));
  set("answerWindow", num("CG_ANSWER_WINDOW"));
  set("ackWindow", num("CG_ACK_WINDOW"));
  set("maxEpochAge", num("CG_MAX_EPOCH_AGE"));
  set("releaseDelay", num("CG_RELEASE_DELAY"));
  return out;
}

const connection = await network.create();
const { ethers } = connection;
const [deployer] = await ethers.getSigners();
if (deployer === undefined) throw new CGError("INVALID_CONFIG", `deploy: network ${connection.networkName} has no account to deploy from`);
const attesters = process.env.CG_ATTESTERS ? process.env.CG_ATTESTERS.split(",").map((a) => a.trim()).filter(Boolean) : undefined;
const { deployment } = await deployCredentialGuardians(ethers, deployer, {
  network: connection.networkName,
  admin: process.env.CG_ADMIN || undefined,
  attesters,
  parameters: envParameters(),
  log: (line) => console.log(`deploy: ${line}`),
});
const dir = process.env.CG_DEPLOYMENTS_DIR ? resolve(process.env.CG_DEPLOYMENTS_DIR) : fileURLToPath(new URL("../deployments/", import.meta.url));
mkdirSync(dir, { recursive: true });
const file = join(dir, `${connection.networkName}.json`);
writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n");
console.log(`deploy: GuardianRegistry ${deployment.contracts.GuardianRegistry}`);
console.log(`deploy: CommitteeRegistry ${deployment.contracts.CommitteeRegistry} (libraries CommitteeCrypto ${deployment.contracts.CommitteeCrypto}, CommitteeSelection ${deployment.contracts.CommitteeSelection})`);
console.log(`deploy: ResetCoordinator ${deployment.contracts.ResetCoordinator} (also the shard map registry and audit log)`);
console.log(`deploy: wrote ${file}`);
await connection.close();
