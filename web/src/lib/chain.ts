/**
 * The page's viem clients: reads through an http transport to the configured RPC, transactions through the browser
 * wallet (EIP-1193, `window.ethereum`). The SDK's actions take these as `Clients`.
 */
import { type Address, createPublicClient, createWalletClient, custom, getAddress, http, numberToHex } from "viem";

import { type Clients, chainFor } from "../../../sdk/client/deployment.ts";
import type { WebConfig } from "./config.ts";

export function publicClients(config: WebConfig): Clients {
  const chain = chainFor(config.deployment.chainId, config.rpcUrl);
  return { public: createPublicClient({ chain, transport: http(config.rpcUrl), pollingInterval: 500 }) as never, deployment: config.deployment };
}

/**
 * Asks the wallet for its account and puts it on the deployment's chain: a wallet on another chain is asked to switch
 * (EIP-3326), and to add the chain with the page's RPC URL if it does not know it (EIP-3085).
 */
export async function connectWallet(config: WebConfig): Promise<Address> {
  const eth = window.ethereum;
  if (!eth) throw new Error("no wallet found in this browser: install or unlock an Ethereum wallet (EIP-1193), then reload the page");
  const accounts = (await eth.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new Error("the wallet gave no account: unlock it and allow this page");
  const want = config.deployment.chainId;
  if (Number(await eth.request({ method: "eth_chainId" })) !== want) {
    const chainId = numberToHex(want);
    try {
      await eth.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (e) {
      if ((e as { code?: unknown }).code === 4001) throw e;
      // 4902: the wallet does not know the chain. Some wallets say so in other words: try adding it all the same.
      await eth
        .request({ method: "wallet_addEthereumChain", params: [{ chainId, chainName: `Credential Guardians (chain ${want})`, rpcUrls: [config.rpcUrl], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }] })
        .catch((added: { code?: unknown }) => {
          if (added?.code === 4001) throw added;
        });
    }
    const now = Number(await eth.request({ method: "eth_chainId" }));
    if (now !== want) throw new Error(`the wallet is on chain ${now}, but this deployment is on chain ${want}: add a network with chain id ${want} and RPC URL ${new URL(config.rpcUrl).origin} to the wallet and switch to it`);
  }
  return getAddress(accounts[0]);
}

/** Clients that send from the connected wallet. */
export function walletClients(config: WebConfig, base: Clients, account: Address): Clients {
  const chain = chainFor(config.deployment.chainId, config.rpcUrl);
  return { ...base, wallet: createWalletClient({ account, chain, transport: custom(window.ethereum!) }) as never };
}
