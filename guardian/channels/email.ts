/** Email over SMTP (nodemailer): TLS or STARTTLS, credentials from the configuration. */
import nodemailer, { type Transporter } from "nodemailer";

import { emailSubject, emailText } from "../core/messages.ts";
import type { CodeDelivery } from "../core/messages.ts";
import { type Channel, rejected, retryable } from "./channel.ts";

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  user?: string;
  pass?: string;
  from: string;
  rejectUnauthorized: boolean;
}

export class EmailChannel implements Channel {
  readonly kind = "email" as const;
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(o: SmtpOptions) {
    this.#from = o.from;
    this.#transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.secure,
      requireTLS: o.requireTls,
      ignoreTLS: !o.secure && !o.requireTls,
      auth: o.user ? { user: o.user, pass: o.pass ?? "" } : undefined,
      tls: { rejectUnauthorized: o.rejectUnauthorized },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async deliver(uri: string, d: CodeDelivery): Promise<void> {
    const to = decodeURIComponent(uri.slice("mailto:".length).split("?")[0]);
    if (!/^[^@\s]+@[^@\s]+$/.test(to)) throw rejected("email", "the mailto: URI has no valid address");
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to,
        subject: emailSubject(d),
        text: emailText(d),
        messageId: `<${d.idempotencyKey}@credential-guardians>`,
        headers: { "X-CG-Request": d.requestId.toString(), "X-CG-Guardian-Slot": String(d.slot) },
      });
    } catch (cause) {
      const code = (cause as { responseCode?: number }).responseCode;
      // 5xx replies other than 'try later' are permanent; connection errors and 4xx are worth retrying.
      if (code !== undefined && code >= 500 && code !== 554) throw rejected("email", `the server answered ${code}`, cause);
      throw retryable("email", code === undefined ? "the server could not be reached" : `the server answered ${code}`, cause);
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
