/**
 * What every client action takes: the deployment (chain id, contract addresses, first block), the viem clients
 * (a public client to read, optionally a wallet client to send; a browser wallet through EIP-1193 works as well as a
 * local key), and a progress callback. Like viem's actions, every action is a function of `Clients` and its options.
 */
import { type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient, defineChain } from "viem";

export interface Deployment {
  chainId: number;
  deploymentBlock: number;
  contracts: { GuardianRegistry: Address; ResetCoordinator: Address; CommitteeRegistry: Address };
}

export interface Clients {
  public: PublicClient;
  wallet?: WalletClient<Transport, Chain | undefined, Account | undefined>;
  deployment: Deployment;
}

/** Reports a step of a long action, in words, with optional non-secret details. */
export type Progress = (step: string, detail?: Record<string, unknown>) => void;

export const ZERO_ADDRESS: Address = "0x0000000000000000000000000000000000000000";
export const ZERO_HASH: Hex = `0x${"00".repeat(32)}`;

/** A viem chain for an RPC endpoint whose chain id is known (local devnets, private deployments). */
export function chainFor(id: number, rpcUrl: string): Chain {
  return defineChain({ id, name: `chain-${id}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
}

/** The coordinator: the contract that holds accounts and resets (the "registry" of PROTOCOL.md §11 for accounts). */
export function coordinatorOf(c: Clients): Address {
  return c.deployment.contracts.ResetCoordinator;
}

export function fromBlock(c: Clients): bigint {
  return BigInt(c.deployment.deploymentBlock);
}
