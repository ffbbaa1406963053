/**
 * The operator commands' view of the chain: viem clients for the configured RPC node, checked to serve the
 * deployment's chain, and refusals in words. The RPC URL is only ever shown as scheme and host.
 */
import {
  type Account,
  type Address,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  type PublicClient,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  formatEther,
  http,
} from "viem";

import { committeeRegistryAbi, guardianRegistryAbi } from "../sdk/abi/index.ts";
import { chainFor } from "../sdk/client/deployment.ts";
import { CGError } from "../sdk/errors.ts";
import { rpcFailure } from "./agent.ts";
import { type GuardianConfig, rpcOrigin } from "./config.ts";

export interface OperatorChain {
  chainId: number;
  chain: Chain;
  public: PublicClient;
  wallet?: WalletClient;
}

/** Connects to the RPC node, or throws `RPC_UNREACHABLE` naming it, or `WRONG_CHAIN` if it serves another chain. */
export async function connect(config: GuardianConfig, account?: Account): Promise<OperatorChain> {
  const probe = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new CGError("RPC_UNREACHABLE", `the RPC node ${rpcOrigin(config.rpcUrl)} does not answer: ${rpcFailure(e, config.rpcUrl)}`, { cause: e });
  }
  if (config.chainId !== undefined && config.chainId !== chainId) {
    throw new CGError("WRONG_CHAIN", `the RPC node ${rpcOrigin(config.rpcUrl)} serves chain ${chainId}, the deployment file is for chain ${config.chainId}`);
  }
  const chain = chainFor(chainId, config.rpcUrl);
  const pub = createPublicClient({ chain, transport: http(config.rpcUrl, { retryCount: 1 }) }) as PublicClient;
  const wallet = account ? createWalletClient({ chain, account, transport: http(config.rpcUrl, { retryCount: 1 }) }) : undefined;
  return { chainId, chain, public: pub, wallet };
}

export type GuardianOnChain = Awaited<ReturnType<typeof readGuardian>>;

export async function readGuardian(c: OperatorChain, config: GuardianConfig, operator: Address) {
  const registry = { address: config.registry, abi: guardianRegistryAbi } as const;
  const [view, minStake, claimable, stakeLock, [, nextWithdrawalAddress, nextWithdrawalFrom]] = await Promise.all([
    c.public.readContract({ ...registry, functionName: "guardian", args: [operator] }),
    c.public.readContract({ ...registry, functionName: "minStake" }),
    c.public.readContract({ ...registry, functionName: "claimable", args: [operator] }),
    c.public.readContract({ ...registry, functionName: "stakeLock" }),
    c.public.readContract({ ...registry, functionName: "withdrawalAddress", args: [operator] }),
  ]);
  const lockedUntil =
    stakeLock === "0x0000000000000000000000000000000000000000"
      ? 0n
      : BigInt(await c.public.readContract({ address: stakeLock, abi: committeeRegistryAbi, functionName: "stakeLockedUntil", args: [operator] }));
  /** Where withdrawals, claims and fees go now (the operator itself when it named none). */
  const payee = view.withdrawalAddress === ZERO_ADDRESS ? operator : view.withdrawalAddress;
  /** A change of the withdrawal address not yet in effect (`from` 0: none). */
  const nextWithdrawal = { address: nextWithdrawalAddress, from: BigInt(nextWithdrawalFrom) };
  return { view, minStake, claimable, lockedUntil, payee, nextWithdrawal };
}

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;

export const eth = (wei: bigint) => `${formatEther(wei)} ETH`;

/** A moment as UTC and as a distance from `now` (seconds). */
export function when(at: bigint, now: bigint): string {
  if (at >= 2n ** 63n) return "not before the committee's handover to your replacement completes";
  const iso = new Date(Number(at) * 1000).toISOString().replace(".000Z", " UTC").replace("T", " ");
  const d = Number(at - now);
  if (d <= 0) return `${iso} (passed)`;
  const h = Math.floor(d / 3600);
  const m = Math.floor((d % 3600) / 60);
  return `${iso}, in ${h >= 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${h} h ${m} m`}`;
}

/** Says in words why the registry refused, for the errors an operator's own commands can meet. */
function explain(name: string, args: readonly unknown[], now: bigint): string | undefined {
  switch (name) {
    case "GuardianNotRegistered":
      return "this operator is not registered; run `cg-guardian register` first";
    case "GuardianZeroAmount":
      return "the amount must be more than 0";
    case "GuardianInsufficientStake":
      return `only ${eth(args[1] as bigint)} is staked and not unbonding; unbond at most that`;
    case "GuardianUnbondingNotReady":
      return `the unbonding delay ends at ${when(BigInt(args[1] as bigint), now)}; withdraw then`;
    case "GuardianStakeLocked":
      return `the stake backs a committee membership until ${when(BigInt(args[1] as bigint), now)}; keep the agent running until the handover to your replacement completes, then withdraw`;
    case "GuardianNothingToWithdraw":
      return "there is nothing to pay out";
    case "GuardianTransferFailed":
      return "the payout was refused by the receiving address (the withdrawal address, if you named one)";
    default:
      return undefined;
  }
}

/** Simulates, sends and waits for the receipt; a revert throws `TX_REFUSED` with the error's name and words. */
export async function sendRegistry(
  c: OperatorChain,
  config: GuardianConfig,
  call: { functionName: "stake" | "startUnbonding" | "withdraw" | "claim" | "setWithdrawalAddress"; args?: readonly unknown[]; value?: bigint },
) {
  const wallet = c.wallet!;
  try {
    const { request } = await c.public.simulateContract({
      address: config.registry,
      abi: guardianRegistryAbi,
      functionName: call.functionName,
      args: call.args as never,
      value: call.value,
      account: wallet.account!,
    } as never);
    const hash = await wallet.writeContract(request as never);
    const receipt = await c.public.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new CGError("TX_REFUSED", `${call.functionName}: transaction ${hash} reverted`);
    return receipt;
  } catch (e) {
    if (e instanceof CGError) throw e;
    const revert = e instanceof BaseError ? (e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
    if (revert?.data?.errorName) {
      const args = revert.data.args ?? [];
      const now = (await c.public.getBlock({ blockTag: "latest" }).catch(() => undefined))?.timestamp ?? BigInt(Math.floor(Date.now() / 1000));
      const words = explain(revert.data.errorName, args, now);
      const shown = `${revert.data.errorName}(${args.map(String).join(", ")})`;
      throw new CGError("TX_REFUSED", `${call.functionName} refused: ${revert.data.errorName}${words ? ` — ${words}` : ` (${shown}); see docs/ERRORS.md`}`, {
        details: { error: revert.data.errorName },
      });
    }
    const text = rpcFailure(e, config.rpcUrl);
    if (/insufficient funds|exceeds the balance/i.test(text)) {
      const balance = await c.public.getBalance({ address: wallet.account!.address }).catch(() => undefined);
      throw new CGError("UNFUNDED", `${call.functionName}: the operator ${wallet.account!.address} cannot pay for it (balance ${balance === undefined ? "unknown" : eth(balance)}${call.value ? `, needs ${eth(call.value)} plus gas` : ", needs gas"}); fund it first`);
    }
    throw new CGError("TX_FAILED", `${call.functionName}: ${text}`, { cause: e });
  }
}
