import type { Address } from "viem";

import type { Clients } from "../../../sdk/client/deployment.ts";
import type { WebConfig } from "./config.ts";

/** Codes opened from links (`#cg2.…`), by request id, until that request's screen takes them (memory only). */
export const linkedCodes = new Map<string, string[]>();

/** What every screen gets: the configuration, the read clients, the connected wallet's account. */
export interface AppContext {
  config: WebConfig;
  clients: Clients;
  account?: Address;
  connect(): Promise<void>;
}
