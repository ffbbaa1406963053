/**
 * The operator's own transactions, signed with the operator key from the keystore: `stake`, `unbond`, `withdraw`,
 * `claim` (prover rewards and fees the registry holds for the operator) and `withdrawal-address` (where withdrawals,
 * claims and fees are paid instead of the operator address). Each checks what it can before it
 * sends (the amount, the registration, the unbonding delay, the stake lock, something to claim) and reports a
 * refusal by name and in words.
 */
import { type Address, getAddress, isAddress, parseEther } from "viem";

import { CGError } from "../sdk/errors.ts";
import { ZERO_ADDRESS, connect, eth, readGuardian, sendRegistry, when } from "./chain.ts";
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

/** What every operator command starts from: the config, the operator key (the HPKE secret is not needed and is
 *  wiped), a connection, the guardian's registry record and the chain's time. */
async function operatorSession(configFile: string | undefined) {
  const config = loadConfig(configFile);
  const { operator, hpkeSecret } = loadKeys(config);
  hpkeSecret.fill(0);
  const c = await connect(config, operator);
  const address = getAddress(operator.address) as Address;
  const before = await readGuardian(c, config, address);
  const now = (await c.public.getBlock({ blockTag: "latest" })).timestamp;
  return { config, c, address, before, now };
}

export async function operatorAction(action: OperatorAction, configFile: string | undefined, o: { amount?: string; all?: boolean; json?: boolean }): Promise<number> {
  const amount = action === "stake" || (action === "unbond" && !o.all) ? parseAmount(action === "stake" ? "guardian stake <eth>" : "guardian unbond <eth>", o.amount) : undefined;
  const { config, c, address, before, now } = await operatorSession(configFile);
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
    ...(action === "withdraw" ? { withdrawn: before.view.unbonding.toString(), to: before.payee } : {}),
    ...(action === "claim" ? { claimed: before.claimable.toString(), to: before.payee } : {}),
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
            ? `withdrew ${eth(before.view.unbonding)} to ${before.payee}`
            : `claimed ${eth(before.claimable)} to ${before.payee}`;
    process.stdout.write(`${line}\n  stake ${eth(after.view.stake)} (minimum ${eth(after.minStake)}), ${after.view.eligible ? "eligible" : "not eligible"}\n  tx ${receipt.transactionHash}\n`);
  }
  return 0;
}

/**
 * `withdrawal-address [address] [--clear]`: names where withdrawals, claims and fees are paid (`--clear`: the
 * operator address again), or with neither shows it. With none named the registry applies it at once; a change of a
 * named one takes effect after the unbonding delay, and the address in effect can cancel it meanwhile.
 */
export async function withdrawalAddressAction(configFile: string | undefined, o: { address?: string; clear?: boolean; json?: boolean }): Promise<number> {
  if (o.address !== undefined && o.clear) throw new CGError("USAGE", "guardian withdrawal-address: give an address or --clear (not both)");
  if (o.address !== undefined && !isAddress(o.address.trim(), { strict: false })) {
    throw new CGError("USAGE", `guardian withdrawal-address expects an address such as 0x70997970C51812dc3A010C7d01b50e0d17dc79C8, got ${JSON.stringify(o.address)}`);
  }
  const wanted = o.clear ? ZERO_ADDRESS : o.address === undefined ? undefined : (getAddress(o.address.trim()) as Address);
  const { config, c, address, before, now } = await operatorSession(configFile);
  const current = before.view.withdrawalAddress;
  const describe = (g: typeof before) => ({
    operator: address,
    withdrawalAddress: g.view.withdrawalAddress,
    payee: g.payee,
    ...(g.nextWithdrawal.from > 0n ? { next: g.nextWithdrawal.address, nextFrom: Number(g.nextWithdrawal.from) } : {}),
  });
  const pendingLine = (g: typeof before) =>
    g.nextWithdrawal.from > 0n
      ? `\n  changing to ${g.nextWithdrawal.address === ZERO_ADDRESS ? "the operator address" : g.nextWithdrawal.address} from ${when(g.nextWithdrawal.from, now)}; until then ${g.payee} can cancel it (cancelWithdrawalAddressChange(${address}))`
      : "";
  if (wanted === undefined) {
    if (o.json) process.stdout.write(JSON.stringify(describe(before), null, 2) + "\n");
    else process.stdout.write(`withdrawals, claims and fees are paid to ${before.payee}${current === ZERO_ADDRESS ? " (the operator address)" : ""}${pendingLine(before)}\n`);
    return 0;
  }
  const refuse = (message: string): never => {
    throw new CGError("REFUSED", `guardian withdrawal-address: ${message}`);
  };
  if (!before.view.registered) refuse(`${address} is not a registered guardian; run \`cg-guardian register\` first`);
  if (wanted === address) refuse("that is the operator address, which is paid when no withdrawal address is named; use --clear");
  if (wanted === current && before.nextWithdrawal.from === 0n) {
    refuse(wanted === ZERO_ADDRESS ? "no withdrawal address is named; payouts already go to the operator address" : `payouts already go to ${wanted}`);
  }
  const receipt = await sendRegistry(c, config, { functionName: "setWithdrawalAddress", args: [wanted] });
  const after = await readGuardian(c, config, address);
  if (o.json) process.stdout.write(JSON.stringify({ action: "withdrawal-address", tx: receipt.transactionHash, ...describe(after) }, null, 2) + "\n");
  else {
    const target = wanted === ZERO_ADDRESS ? "the operator address" : wanted;
    const line =
      after.nextWithdrawal.from > 0n
        ? `withdrawals, claims and fees are paid to ${after.payee} until ${when(after.nextWithdrawal.from, now)}, then to ${target} (a change of a named address waits the unbonding delay; ${after.payee} can cancel it meanwhile)`
        : `withdrawals, claims and fees are paid to ${target} from now on`;
    process.stdout.write(`${line}\n  tx ${receipt.transactionHash}\n`);
  }
  return 0;
}
