/**
 * Local stand-ins for the owner's inbox, phone and authenticator app, on 127.0.0.1: a real SMTP server
 * (smtp-server), an HTTP server implementing Twilio's Messages endpoint, and an app endpoint that checks the
 * guardian's EIP-191 signature (over HTTPS with a throw-away certificate for 127.0.0.1, or plain HTTP). Used by the
 * tests, the benchmark and the demo.
 *
 * Repeats are honoured as real receivers do: the SMS provider and the app endpoint answer a request whose
 * `Idempotency-Key` they have seen with the first answer and deliver nothing again (a provider that supports
 * idempotent requests); the mailbox shows a message whose Message-ID it holds already once (as mail clients that
 * thread by Message-ID do). `Inbox.messages` is what the owner sees; `Inbox.repeats` the suppressed repeats.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { type IncomingMessage, type RequestListener, type Server, createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join } from "node:path";

import { SMTPServer } from "smtp-server";
import { type Address, recoverMessageAddress } from "viem";

import { freePort } from "../../scripts/lib/localNode.ts";

export interface Received {
  channel: "email" | "sms" | "app";
  to: string;
  text: string;
  /** Message-ID or Idempotency-Key. */
  key: string;
  at: number;
  guardian?: Address;
}

export class Inbox {
  /** What the owner's channels show: one message per idempotency key and recipient. */
  readonly messages: Received[] = [];
  /** Repeats of a key already received (a sender's re-send after a crash): taken, answered, not shown again. */
  readonly repeats: Received[] = [];
  readonly #seen = new Set<string>();
  #waiters: { predicate: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  /** Takes a message; a repeat of a key this recipient's channel has had is kept aside (`repeats`): false. */
  push(m: Received): boolean {
    if (m.key !== "") {
      const id = `${m.channel} ${m.to} ${m.guardian ?? ""} ${m.key}`; // a key is the sender's: scoped to who signed it
      if (this.#seen.has(id)) {
        this.repeats.push(m);
        return false;
      }
      this.#seen.add(id);
    }
    this.messages.push(m);
    this.#waiters = this.#waiters.filter((w) => (w.predicate(m) ? (w.resolve(m), false) : true));
    return true;
  }

  /** Resolves with the first message (already received or future) that matches, or rejects after `timeoutMs`. */
  waitFor(predicate: (m: Received) => boolean, timeoutMs: number, what = "a message"): Promise<Received> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.#waiters.push({ predicate, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** The `cg2.<requestId>.<slot>.<code>` texts received for a request, in arrival order. */
  codes(requestId: bigint): string[] {
    const re = new RegExp(`cg2\\.${requestId}\\.[0-9]+\\.[0-9A-Za-z-]+`);
    return this.messages.map((m) => re.exec(m.text)?.[0]).filter((f): f is string => f !== undefined);
  }
}

export interface SmtpStandIn {
  port: number;
  stop(): Promise<void>;
}

export async function startSmtp(inbox: Inbox, port?: number): Promise<SmtpStandIn> {
  const p = port ?? (await freePort());
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (d: Buffer) => (raw += d.toString("utf8")));
      stream.on("end", () => {
        const key = /^Message-ID:\s*(.+)$/im.exec(raw)?.[1]?.trim() ?? "";
        const body = raw.split(/\r?\n\r?\n/).slice(1).join("\n\n").replace(/=\r?\n/g, "");
        // Accepted either way; a Message-ID the mailbox holds already is shown once (`Inbox.push`).
        inbox.push({ channel: "email", to: session.envelope.rcptTo.map((r) => r.address).join(","), text: body, key, at: Date.now() });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p, "127.0.0.1", () => resolve());
  });
  // A sender that goes away mid-message (an agent SIGKILLed while it sends) resets its connection: that is the
  // sender's failure, not the server's, and must not bring down the process that hosts the stand-in.
  server.on("error", () => {});
  return { port: p, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface HttpStandIn {
  port: number;
  url: string;
  stop(): Promise<void>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => resolve(body));
  });
}

/** Twilio-shaped: POST /2010-04-01/Accounts/{sid}/Messages.json, form body To/From/Body, HTTP basic auth. */
export async function startSmsProvider(inbox: Inbox, credentials: { sid: string; token: string }): Promise<HttpStandIn> {
  const port = await freePort();
  const answers = new Map<string, string>(); // Idempotency-Key → the answer given
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const expectedAuth = "Basic " + Buffer.from(`${credentials.sid}:${credentials.token}`).toString("base64");
    if (req.method !== "POST" || req.url !== `/2010-04-01/Accounts/${credentials.sid}/Messages.json`) return res.writeHead(404).end();
    if (req.headers.authorization !== expectedAuth) return res.writeHead(401).end();
    const form = new URLSearchParams(body);
    const text = form.get("Body") ?? "";
    const key = String(req.headers["idempotency-key"] ?? "");
    // A request with a key seen before is answered with the first answer, and nothing is sent again.
    const earlier = key !== "" ? answers.get(key) : undefined;
    if (earlier !== undefined) {
      inbox.repeats.push({ channel: "sms", to: form.get("To") ?? "", text, key, at: Date.now() });
      return res.writeHead(201, { "content-type": "application/json" }).end(earlier);
    }
    inbox.push({ channel: "sms", to: form.get("To") ?? "", text, key, at: Date.now() });
    const answer = JSON.stringify({ sid: `SM${inbox.messages.length}`, status: "queued", body: text, num_segments: text.length <= 160 ? "1" : "2" });
    if (key !== "") answers.set(key, answer);
    res.writeHead(201, { "content-type": "application/json" }).end(answer);
  });
  await listen(server, port);
  return { port, url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A self-signed certificate for 127.0.0.1 (PEM files in `dir`), valid for two days; trusted by whoever is given it. */
export function localCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "localhost-cert.pem");
  const key = join(dir, "localhost-key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { stdio: "ignore" },
  );
  return { cert, key };
}

/**
 * An app endpoint that accepts a code only with a valid EIP-191 signature of the guardian it names: over HTTPS with
 * `tls` (owners' app channels are https: URIs), over plain HTTP without (the app channel's own tests).
 */
export async function startAppEndpoint(inbox: Inbox, tls?: { cert: string; key: string }): Promise<HttpStandIn & { rejected: number }> {
  const port = await freePort();
  const state = { rejected: 0 };
  const handler: RequestListener = async (req, res) => {
    const body = await readBody(req);
    const guardian = String(req.headers["x-cg-guardian"] ?? "") as Address;
    const signature = String(req.headers["x-cg-signature"] ?? "") as `0x${string}`;
    let signer: Address | undefined;
    try {
      signer = await recoverMessageAddress({ message: { raw: new TextEncoder().encode(body) }, signature });
    } catch {
      signer = undefined;
    }
    if (!signer || signer.toLowerCase() !== guardian.toLowerCase()) {
      state.rejected++;
      return res.writeHead(401).end();
    }
    const parsed = JSON.parse(body);
    // A repeated Idempotency-Key is answered as the first request was, and not shown again (`Inbox.push`).
    inbox.push({ channel: "app", to: req.url ?? "/", text: `${parsed.notice} ${parsed.code}`, key: String(req.headers["idempotency-key"] ?? ""), at: Date.now(), guardian: signer });
    res.writeHead(200).end("{}");
  };
  const server: Server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler) : createServer(handler);
  await listen(server, port);
  return Object.assign(state, { port, url: `${tls ? "https" : "http"}://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => server.close(() => r())) });
}

/**
 * What the stand-ins received, per recipient, as JSON on loopback (`GET /messages`), for the reset page's inbox panel
 * (served through the page's own server, so this endpoint sends no CORS headers and no other web page can read it).
 */
export async function startInboxEndpoint(inbox: Inbox, port?: number): Promise<HttpStandIn> {
  const p = port ?? (await freePort());
  const server = createServer((req, res) => {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://x").pathname !== "/messages") return res.writeHead(404).end();
    const recipients = new Map<string, { to: string; channel: Received["channel"]; messages: Omit<Received, "key">[] }>();
    for (const m of inbox.messages) {
      const key = `${m.channel} ${m.to}`;
      const r = recipients.get(key) ?? { to: m.to, channel: m.channel, messages: [] };
      r.messages.push({ channel: m.channel, to: m.to, text: m.text, at: m.at, guardian: m.guardian });
      recipients.set(key, r);
    }
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ recipients: [...recipients.values()] }));
  });
  await listen(server, p);
  return { port: p, url: `http://127.0.0.1:${p}/`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
