/**
 * App or webhook endpoint: an HTTPS POST of a JSON body, signed with the guardian's operator key (EIP-191 personal
 * message over the exact body bytes) in `X-CG-Signature`, so the app can check which registered guardian sent it.
 *
 * The URI comes from whoever linked the account, so the channel guards the guardian's own network: every address it
 * connects to (an IP literal, or each address a name resolves to, checked in the socket's own lookup so a second
 * resolution cannot swap it) must be public unless the operator allows private targets (`CG_APP_ALLOW_PRIVATE`), and
 * redirects are never followed (a 3xx is a refusal). Plain http:// is refused unless the operator allows private
 * targets too (local test set-ups).
 */
import { lookup as dnsLookup } from "node:dns";
import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";

import type { LocalAccount } from "viem";

import { appBody, type CodeDelivery } from "../core/messages.ts";
import { addressCategory, mayConnect } from "../core/targets.ts";
import { type Channel, rejected, retryable } from "./channel.ts";

export interface AppOptions {
  timeoutMs: number;
  /** Allows loopback, private and link-local targets and plain http:// (tests, private deployments). */
  allowPrivate: boolean;
}

export class AppChannel implements Channel {
  readonly kind = "app" as const;
  readonly #operator: LocalAccount;
  readonly #options: AppOptions;

  constructor(operator: LocalAccount, options: AppOptions) {
    this.#operator = operator;
    this.#options = options;
  }

  async deliver(uri: string, d: CodeDelivery): Promise<void> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw rejected("app", "the URI does not parse");
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && this.#options.allowPrivate)) throw rejected("app", "only https:// endpoints are accepted");
    if (url.username || url.password) throw rejected("app", "credentials in the URI are not accepted");
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) && !mayConnect(host, this.#options.allowPrivate)) throw rejected("app", `the endpoint is a ${addressCategory(host)} address`);
    const body = appBody(d);
    const signature = await this.#operator.signMessage({ message: { raw: new TextEncoder().encode(body) } });
    const status = await this.#post(url, body, {
      "content-type": "application/json",
      "x-cg-guardian": this.#operator.address,
      "x-cg-signature": signature,
      "idempotency-key": d.idempotencyKey,
    });
    if (status >= 200 && status < 300) return;
    if (status >= 300 && status < 400) throw rejected("app", `the endpoint answered ${status} (redirects are not followed)`);
    if (status === 408 || status === 429 || status >= 500) throw retryable("app", `the endpoint answered ${status}`);
    throw rejected("app", `the endpoint answered ${status}`);
  }

  /** One POST, no redirect handling, every connected address checked; resolves with the status code. */
  #post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
    const allowPrivate = this.#options.allowPrivate;
    let refusedAddress: string | undefined;
    const lookup: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, "", 0);
        const list = addresses as { address: string; family: number }[];
        const bad = list.find((a) => !mayConnect(a.address, allowPrivate));
        if (bad) {
          refusedAddress = addressCategory(bad.address);
          return callback(Object.assign(new Error("refused address"), { code: "CG_REFUSED_ADDRESS" }), "", 0);
        }
        if ((options as { all?: boolean }).all) return (callback as any)(null, list);
        callback(null, list[0].address, list[0].family);
      });
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body).toString() }, lookup, timeout: this.#options.timeoutMs }, (res: IncomingMessage) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (cause) => {
        if (refusedAddress !== undefined) reject(rejected("app", `the endpoint resolves to a ${refusedAddress} address`));
        else reject(retryable("app", "the endpoint could not be reached", cause));
      });
      req.end(body);
    });
  }
}
