/**
 * What every client flow shares to change the chain: the wallet that signs, a simulation before each transaction,
 * and a refusal reported by the custom error of whichever contract reverted (name and arguments), optionally
 * explained in words by the flow that sent it.
 */
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type Log,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
  BaseError,
  ContractFunctionRevertedError,
  decodeEventLog,
  formatEther,
  formatGwei,
} from "viem";

import { committeeRegistryAbi, guardianRegistryAbi, resetCoordinatorAbi } from "../abi/index.ts";
import { CGError } from "../errors.ts";
import type { Clients } from "./deployment.ts";

export function wallet(c: Clients): WalletClient<Transport, Chain | undefined, Account> {
  if (!c.wallet?.account) throw new CGError("NO_WALLET", "this action sends a transaction: give a key (--key or CG_PRIVATE_KEY) or connect a wallet");
  return c.wallet as WalletClient<Transport, Chain | undefined, Account>;
}

/** Every custom error of the deployed contracts, so a revert from any of them (a call may cross contracts) decodes. */
const ALL_ERRORS = [...resetCoordinatorAbi, ...guardianRegistryAbi, ...committeeRegistryAbi].filter(
  (item, k, all) => item.type === "error" && all.findIndex((x) => x.type === "error" && x.name === item.name) === k,
);

/** A revert as the chain gave it: the custom error's name and arguments when it decodes, else viem's short message. */
export interface Revert {
  error?: string;
  args: readonly unknown[];
  reason: string;
}

export function revertOf(cause: unknown): Revert {
  if (cause instanceof BaseError) {
    const revert = cause.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (revert?.data?.errorName) {
      const args = revert.data.args ?? [];
      const shown = args.map((a) => (typeof a === "bigint" ? a.toString() : String(a)));
      return { error: revert.data.errorName, args, reason: `${revert.data.errorName}(${shown.join(", ")})` };
    }
    return { args: [], reason: cause.shortMessage };
  }
  return { args: [], reason: cause instanceof Error ? cause.message.split("\n")[0] : String(cause) };
}

/** Says in words why a call was refused, given the custom error; `undefined` keeps `Name(args)`. */
export type Explain = (error: string, args: readonly unknown[]) => string | undefined;

/**
 * Simulates, then sends and waits for the receipt. A refusal throws `TX_REFUSED` whose message is
 * `<function>: <Error>(<args>)`, or `<function>: <Error> — <words>` when `explain` knows the error; its details carry
 * the error's name and arguments.
 */
export async function send(
  c: Clients,
  request: { address: Address; abi: Abi | readonly unknown[]; functionName: string; args?: readonly unknown[]; value?: bigint },
  options: { explain?: Explain } = {},
): Promise<TransactionReceipt> {
  const w = wallet(c);
  const abi = [...(request.abi as readonly { type: string }[]).filter((x) => x.type !== "error"), ...ALL_ERRORS];
  const balance = await c.public.getBalance({ address: w.account.address });
  const value = request.value ?? 0n;
  if (balance < value) throw await unfunded(c, request, abi, w.account.address, balance);
  let hash: Hex;
  try {
    const { request: simulated } = await c.public.simulateContract({ ...request, abi, account: w.account } as never);
    const cost = await costOf(c, request, abi, w.account.address).catch(() => undefined);
    if (cost && balance < value + cost.wei) throw await unfunded(c, request, abi, w.account.address, balance, cost);
    hash = await w.writeContract(simulated as never);
  } catch (cause) {
    if (cause instanceof CGError) throw cause;
    const revert = revertOf(cause);
    if (!revert.error && /insufficient funds|exceeds the balance|Missing or invalid parameters/i.test(String((cause as Error)?.message))) {
      throw await unfunded(c, request, abi, w.account.address, balance);
    }
    const words = revert.error ? options.explain?.(revert.error, revert.args) : undefined;
    const message = `${request.functionName}: ${words ? `${revert.error} — ${words}` : revert.reason}`;
    throw new CGError("TX_REFUSED", message, { cause, details: { function: request.functionName, error: revert.error, args: revert.args } });
  }
  const receipt = await c.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new CGError("TX_REVERTED", `${request.functionName} reverted in transaction ${hash}`);
  return receipt;
}

/** What a call costs in gas at the current fee: its estimate (with a funded sender if it must be) times the max fee. */
async function costOf(c: Clients, request: { address: Address; functionName: string; args?: readonly unknown[]; value?: bigint }, abi: readonly unknown[], from: Address, funded = false) {
  const [gas, fees] = await Promise.all([
    c.public.estimateContractGas({
      ...request,
      abi,
      account: from,
      ...(funded ? { stateOverride: [{ address: from, balance: (request.value ?? 0n) + 10n ** 24n }] } : {}),
    } as never),
    c.public.estimateFeesPerGas().catch(async () => ({ maxFeePerGas: await c.public.getGasPrice() })),
  ]);
  const perGas = (fees as { maxFeePerGas?: bigint; gasPrice?: bigint }).maxFeePerGas ?? (fees as { gasPrice?: bigint }).gasPrice ?? 0n;
  return { gas, perGas, wei: gas * perGas };
}

/** Gas allowed for a call that cannot be estimated for an unfunded sender: above every client flow's single transaction. */
const GAS_ALLOWANCE = 500_000n;

/** `UNFUNDED`: the key cannot pay; says how much the call needs (its value, then gas at the current fee). */
async function unfunded(
  c: Clients,
  request: { address: Address; functionName: string; args?: readonly unknown[]; value?: bigint },
  abi: readonly unknown[],
  from: Address,
  balance: bigint,
  known?: { gas: bigint; perGas: bigint; wei: bigint },
): Promise<CGError> {
  const value = request.value ?? 0n;
  // The estimate needs a funded sender; a node without state overrides gets a generous allowance at the current fee.
  const cost =
    known ??
    (await costOf(c, request, abi, from, true).catch(async () => {
      const perGas = await c.public.getGasPrice().catch(() => 0n);
      return perGas ? { gas: GAS_ALLOWANCE, perGas, wei: GAS_ALLOWANCE * perGas } : undefined;
    }));
  const gas = cost ? `gas (about ${cost.gas} gas at ${formatGwei(cost.perGas)} gwei = ${formatEther(cost.wei)} ETH)` : "gas";
  const needs = value > 0n ? `${formatEther(value)} ETH (the value it pays) plus ${gas}` : gas;
  const total = cost ? `; about ${formatEther(value + cost.wei)} ETH in all` : "";
  return new CGError("UNFUNDED", `${request.functionName}: the key ${from} holds ${formatEther(balance)} ETH, not enough: it needs ${needs}${total}; fund it and try again`, {
    details: { function: request.functionName, address: from, balance, value, gas: cost?.gas, maxFeePerGas: cost?.perGas },
  });
}

/** The events of `abi` among `logs` (a receipt's), decoded; other contracts' logs are skipped. */
export function eventsOf<const TAbi extends Abi>(abi: TAbi, logs: readonly Log[]) {
  const out = [];
  for (const l of logs) {
    try {
      out.push(decodeEventLog({ abi, data: l.data, topics: l.topics }));
    } catch {
      // another contract's log
    }
  }
  return out;
}
