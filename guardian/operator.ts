/**
 * The operator's own transactions, signed with the operator key from the keystore: `stake`, `unbond`, `withdraw`
 * and `claim` (prover rewards and fees the registry holds for the operator). Each checks what it can before it
 * sends (the amount, the registration, the unbonding delay, the stake lock, something to claim) and reports a
 * refusal by name and in words.
 */
import { type Address, getAddress, parseEther } from "viem";

import { CGError } from "../sdk/errors.ts";
import { connect, eth, readGuardian, sendRegistry, when } from "./chain.ts";
import { loadKeys } from "./commands.ts";
import { loadConfig } from "./config.ts";

export type OperatorAction = "stake" | "unbond" | "withdraw" | "claim";

/** An amount of ETH above 0, from the command line. */
export function parseAmount(flag: string, text: string | undefined): bigint {
  if (text === undefined || !/^(?:\d+(?:\.\d{0,18})?|\.\d{1,18})$/.test(text.trim())) {
    throw new CGError("USAGE", `${flag} expects an amount of ETH such as 1.5, got ${JSON.stringify(text ?? "nothing")}`);
  }
  const wei = parseEther(text.trim());
  if (wei === 0n) throw new CGError("USAGE", `${flag} must be more than 0`);
  return wei;
}

export async function operatorAction(action: OperatorAction, configFile: string | undefined, o: { amount?: string; all?: boolean; json?: boolean }): Promise<number> {
  const amount = action === "stake" || (action === "unbond" && !o.all) ? parseAmount(action === "stake" ? "guardian stake <eth>" : "guardian unbond <eth>", o.amount) : undefined;
  const config = loadConfig(configFile);
  const { operator, hpkeSecret } = loadKeys(config);
  hpkeSecret.fill(0);
  const c = await connect(config, operator);
  const address = getAddress(operator.address) as Address;
  const before = await readGuardian(c, config, address);
  const now = (await c.public.getBlock({ blockTag: "latest" })).timestamp;
  const refuse = (message: string): never => {
    throw new CGError("REFUSED", `guardian ${action}: ${message}`);
  };
  if (!before.view.registered && action !== "claim") refuse(`${address} is not a registered guardian; run \`cg-guardian register\` first`);

  let call: Parameters<typeof sendRegistry>[2];
  switch (action) {
    case "stake":
      call = { functionName: "stake", value: amount };
      break;
    case "unbond": {
      const wei = o.all ? before.view.stake : amount!;
      if (before.view.stake === 0n) refuse("nothing is staked");
      if (wei > before.view.stake) refuse(`only ${eth(before.view.stake)} is staked; unbond at most that (or --all)`);
      call = { functionName: "startUnbonding", args: [wei] };
      break;
    }
    case "withdraw":
      if (before.view.unbonding === 0n) refuse("nothing is unbonding; run `cg-guardian unbond <eth>` first");
      if (now < before.view.unbondingReadyAt) refuse(`${eth(before.view.unbonding)} is unbonding; the delay ends at ${when(before.view.unbondingReadyAt, now)}`);
      if (now < before.lockedUntil) {
        refuse(`the stake still backs a committee membership until ${when(before.lockedUntil, now)}; keep the agent running until the handover to your replacement completes`);
      }
      call = { functionName: "withdraw" };
      break;
    case "claim":
      if (before.claimable === 0n) refuse(`nothing to claim for ${address}`);
      call = { functionName: "claim" };
      break;
  }
  const receipt = await sendRegistry(c, config, call);
  const after = await readGuardian(c, config, address);
  const result = {
    action,
    operator: address,
    tx: receipt.transactionHash,
    ...(action === "stake" ? { staked: amount!.toString() } : {}),
    ...(action === "unbond" ? { unbonding: after.view.unbonding.toString(), readyAt: Number(after.view.unbondingReadyAt) } : {}),
    ...(action === "withdraw" ? { withdrawn: before.view.unbonding.toString() } : {}),
    ...(action === "claim" ? { claimed: before.claimable.toString() } : {}),
    stake: after.view.stake.toString(),
    minStake: after.minStake.toString(),
    eligible: after.view.eligible,
  };
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else {
    const line =
      action === "stake"
        ? `staked ${eth(amount!)}`
        : action === "unbond"
          ? `unbonding ${eth(after.view.unbonding)}; withdraw from ${when(after.view.unbondingReadyAt, now)} on (you are not eligible for new committees meanwhile)`
          : action === "withdraw"
            ? `withdrew ${eth(before.view.unbonding)} to ${address}`
            : `claimed ${eth(before.claimable)} to ${address}`;
    process.stdout.write(`${line}\n  stake ${eth(after.view.stake)} (minimum ${eth(after.minStake)}), ${after.view.eligible ? "eligible" : "not eligible"}\n  tx ${receipt.transactionHash}\n`);
  }
  return 0;
}
