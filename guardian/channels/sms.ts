/** SMS through an HTTP provider API in the shape of Twilio's Messages endpoint. */
import { smsText } from "../core/messages.ts";
import type { CodeDelivery } from "../core/messages.ts";
import { type Channel, rejected, retryable } from "./channel.ts";

export interface SmsOptions {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  timeoutMs?: number;
}

export class SmsChannel implements Channel {
  readonly kind = "sms" as const;
  readonly #o: SmsOptions;
  constructor(o: SmsOptions) {
    this.#o = o;
  }

  async deliver(uri: string, d: CodeDelivery): Promise<void> {
    const to = decodeURIComponent(uri.slice("sms:".length).split("?")[0]);
    if (!/^\+[1-9][0-9]{6,14}$/.test(to)) throw rejected("sms", "the sms: URI has no E.164 number");
    const url = `${this.#o.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(this.#o.accountSid)}/Messages.json`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: "Basic " + Buffer.from(`${this.#o.accountSid}:${this.#o.authToken}`).toString("base64"),
          "content-type": "application/x-www-form-urlencoded",
          "idempotency-key": d.idempotencyKey,
        },
        body: new URLSearchParams({ To: to, From: this.#o.from, Body: smsText(d) }).toString(),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
      });
    } catch (cause) {
      throw retryable("sms", "the provider could not be reached", cause);
    }
    if (res.ok) return;
    if (res.status === 429 || res.status >= 500) throw retryable("sms", `the provider answered ${res.status}`);
    throw rejected("sms", `the provider answered ${res.status}`);
  }
}
