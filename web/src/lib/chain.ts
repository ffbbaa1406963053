/**
 * The page's viem clients: reads through an http transport to the configured RPC, transactions through the browser
 * wallet (EIP-1193, `window.ethereum`). The SDK's actions take these as `Clients`.
 */
import { type Address, createPublicClient, createWalletClient, custom, getAddress, http } from "viem";

import { type Clients, chainFor } from "../../../sdk/client/deployment.ts";
import type { WebConfig } from "./config.ts";

export function publicClients(config: WebConfig): Clients {
  const chain = chainFor(config.deployment.chainId, config.rpcUrl);
  return { public: createPublicClient({ chain, transport: http(config.rpcUrl), pollingInterval: 500 }) as never, deployment: config.deployment };
}

/** Asks the wallet for its account and checks it is on the deployment's chain. */
export async function connectWallet(config: WebConfig): Promise<Address> {
  const eth = window.ethereum;
  if (!eth) throw new Error("no wallet found in this browser: install or unlock an Ethereum wallet (EIP-1193), then reload the page");
  const accounts = (await eth.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new Error("the wallet gave no account: unlock it and allow this page");
  const chainId = Number(await eth.request({ method: "eth_chainId" }));
  if (chainId !== config.deployment.chainId) throw new Error(`the wallet is on chain ${chainId}, but this deployment is on chain ${config.deployment.chainId}: switch the wallet's network`);
  return getAddress(accounts[0]);
}

/** Clients that send from the connected wallet. */
export function walletClients(config: WebConfig, base: Clients, account: Address): Clients {
  const chain = chainFor(config.deployment.chainId, config.rpcUrl);
  return { ...base, wallet: createWalletClient({ account, chain, transport: custom(window.ethereum!) }) as never };
}
