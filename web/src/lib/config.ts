/**
 * What the page runs against, served by `npm run web` as `config.json` beside the page: the RPC URL reads go to, the
 * deployment (chain id, contract addresses, first block) and, on a local network, the inbox endpoint of the stand-in
 * email, SMS and app servers.
 */
import type { Deployment } from "../../../sdk/client/deployment.ts";

export interface WebConfig {
  rpcUrl: string;
  deployment: Deployment;
  /** `GET <inboxUrl>/messages` lists what the local stand-in servers received (a local network only). */
  inboxUrl?: string;
}

export async function loadConfig(): Promise<WebConfig> {
  const res = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
  if (!res.ok) throw new Error(`the page's configuration (config.json) could not be read: HTTP ${res.status}`);
  const raw = (await res.json()) as WebConfig;
  if (!raw?.rpcUrl || !raw?.deployment?.contracts?.ResetCoordinator) throw new Error("the page's configuration (config.json) names no RPC URL or no deployment");
  // The worker resolves nothing against the page: hand it absolute URLs.
  return { ...raw, rpcUrl: new URL(raw.rpcUrl, document.baseURI).toString(), inboxUrl: raw.inboxUrl ? new URL(raw.inboxUrl, document.baseURI).toString() : undefined };
}
