/**
 * App or webhook endpoint: an HTTPS POST of a JSON body, signed with the guardian's operator key (EIP-191 personal
 * message over the exact body bytes) in `X-CG-Signature`, so the app can check which registered guardian sent it.
 */
import type { LocalAccount } from "viem";

import { appBody } from "../core/messages.ts";
import { type Channel, type Delivery, rejected, retryable } from "./channel.ts";

export class AppChannel implements Channel {
  readonly kind = "app" as const;
  readonly #operator: LocalAccount;
  readonly #options: { timeoutMs: number; allowHttpLoopback: boolean };

  constructor(operator: LocalAccount, options: { timeoutMs: number; allowHttpLoopback: boolean }) {
    this.#operator = operator;
    this.#options = options;
  }

  async deliver(uri: string, d: Delivery): Promise<void> {
    const url = new URL(uri);
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback && this.#options.allowHttpLoopback)) {
      throw rejected("app", "only https:// endpoints are accepted");
    }
    const body = appBody(d);
    const signature = await this.#operator.signMessage({ message: { raw: new TextEncoder().encode(body) } });
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-cg-guardian": this.#operator.address,
          "x-cg-signature": signature,
          "idempotency-key": d.idempotencyKey,
        },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (cause) {
      throw retryable("app", "the endpoint could not be reached", cause);
    }
    if (res.ok) return;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw retryable("app", `the endpoint answered ${res.status}`);
    throw rejected("app", `the endpoint answered ${res.status}`);
  }
}
