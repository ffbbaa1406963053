import { expect } from "chai";
import { createServer } from "node:http";
import { privateKeyToAccount } from "viem/accounts";

import { AppChannel } from "../../guardian/channels/app.ts";
import { channelKind } from "../../guardian/channels/channel.ts";
import { EmailChannel } from "../../guardian/channels/email.ts";
import { SmsChannel } from "../../guardian/channels/sms.ts";
import { type CodeDelivery, fitsOneSmsSegment, smsText } from "../../guardian/core/messages.ts";
import { CGError } from "../../sdk/index.ts";
import { freePort } from "../../scripts/lib/localNode.ts";
import { Inbox, startAppEndpoint, startSmsProvider, startSmtp } from "../helpers/localServices.ts";

const operator = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const code = "cg2.12.3.7Q2M9XKDE4RTV1N0H8JPWZ3BAC";
const delivery: CodeDelivery = {
  requestId: 12n,
  slot: 3,
  code,
  drill: false,
  chainId: 31337n,
  coordinator: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  guardian: operator.address,
  idempotencyKey: "cg2-31337-12-3-1",
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "delivered";
  } catch (e) {
    return e instanceof CGError ? e.code : String(e);
  }
}

describe("guardian channels against local servers", function () {
  it("email: a plain-text message with the code, the request id and the cancel line", async function () {
    const inbox = new Inbox();
    const smtp = await startSmtp(inbox);
    const email = new EmailChannel({ host: "127.0.0.1", port: smtp.port, secure: false, requireTls: false, from: "g3@guardians.example", rejectUnauthorized: true });
    try {
      await email.deliver("mailto:alice@example.org", delivery);
      const m = await inbox.waitFor((x) => x.channel === "email", 5_000);
      expect(m.to).to.equal("alice@example.org");
      expect(m.text).to.include(code);
      expect(m.text).to.include("request 12");
      expect(m.text).to.match(/If you did not ask for a reset, cancel it now/);
      expect(m.key).to.equal("<cg2-31337-12-3-1@credential-guardians>");
      expect(await codeOf(email.deliver("mailto:not-an-address", delivery))).to.equal("CHANNEL_REJECTED");
    } finally {
      await email.close();
      await smtp.stop();
    }
  });

  it("email: a server that is down is a retryable failure", async function () {
    const email = new EmailChannel({ host: "127.0.0.1", port: await freePort(), secure: false, requireTls: false, from: "g@x.example", rejectUnauthorized: true });
    expect(await codeOf(email.deliver("mailto:alice@example.org", delivery))).to.equal("CHANNEL_RETRY");
    await email.close();
  });

  it("sms: one 160-character GSM-7 segment with the code and the notice, through the Twilio-shaped endpoint, with basic auth", async function () {
    const inbox = new Inbox();
    const provider = await startSmsProvider(inbox, { sid: "AC123", token: "secret-token" });
    try {
      const sms = new SmsChannel({ baseUrl: provider.url, accountSid: "AC123", authToken: "secret-token", from: "+15550001111" });
      await sms.deliver("sms:+15557654321", delivery);
      const m = await inbox.waitFor((x) => x.channel === "sms", 5_000);
      expect(m.to).to.equal("+15557654321");
      expect(m.text).to.include(code);
      expect(m.text).to.match(/under way.*Cancel it in your wallet/);
      expect(fitsOneSmsSegment(m.text)).to.equal(true);
      expect(smsText(delivery)).to.equal(m.text);
      const wrong = new SmsChannel({ baseUrl: provider.url, accountSid: "AC123", authToken: "wrong", from: "+15550001111" });
      expect(await codeOf(wrong.deliver("sms:+15557654321", delivery))).to.equal("CHANNEL_REJECTED");
      expect(await codeOf(sms.deliver("sms:555", delivery))).to.equal("CHANNEL_REJECTED");
    } finally {
      await provider.stop();
    }
  });

  it("app: a signed JSON POST the endpoint attributes to the guardian's operator address; loopback refused unless allowed", async function () {
    const inbox = new Inbox();
    const endpoint = await startAppEndpoint(inbox);
    try {
      const app = new AppChannel(operator, { timeoutMs: 5_000, allowPrivate: true });
      await app.deliver(`${endpoint.url}/alice`, delivery);
      const m = await inbox.waitFor((x) => x.channel === "app", 5_000);
      expect(m.guardian).to.equal(operator.address);
      expect(m.text).to.include(code).and.to.include("Cancel it in your wallet");
      const impostor = new AppChannel(privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"), { timeoutMs: 5_000, allowPrivate: true });
      // The impostor signs correctly for itself, so the endpoint accepts it as *that* guardian, not as ours.
      await impostor.deliver(`${endpoint.url}/alice`, delivery);
      expect(inbox.messages[1].guardian).to.not.equal(operator.address);
      const strict = new AppChannel(operator, { timeoutMs: 5_000, allowPrivate: false });
      expect(await codeOf(strict.deliver(`${endpoint.url}/alice`, delivery))).to.equal("CHANNEL_REJECTED");
    } finally {
      await endpoint.stop();
    }
  });

  it("app: never follows a redirect, and refuses private, link-local and loopback targets by address or by name", async function () {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? "");
      if (req.url === "/redirect") return res.writeHead(302, { location: "/landing" }).end();
      res.writeHead(200).end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const allowed = new AppChannel(operator, { timeoutMs: 5_000, allowPrivate: true });
      const refusal = await codeOf(allowed.deliver(`http://127.0.0.1:${port}/redirect`, delivery));
      expect(refusal).to.equal("CHANNEL_REJECTED");
      expect(hits).to.deep.equal(["/redirect"]); // the target of the redirect was never asked
      const strict = new AppChannel(operator, { timeoutMs: 5_000, allowPrivate: false });
      for (const target of ["https://127.0.0.1/x", "https://10.1.2.3/x", "https://192.168.1.1/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://[fe80::1]/x", "https://[::ffff:10.0.0.1]/x", `https://localhost:${port}/x`]) {
        expect(await codeOf(strict.deliver(target, delivery)), target).to.equal("CHANNEL_REJECTED");
      }
      expect(hits).to.have.length(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("a re-send with the same key (Message-ID, Idempotency-Key) is accepted by each stand-in and shown once, counted as a repeat", async function () {
    const inbox = new Inbox();
    const smtp = await startSmtp(inbox);
    const provider = await startSmsProvider(inbox, { sid: "AC123", token: "secret-token" });
    const endpoint = await startAppEndpoint(inbox);
    try {
      const email = new EmailChannel({ host: "127.0.0.1", port: smtp.port, secure: false, requireTls: false, from: "g3@guardians.example", rejectUnauthorized: true });
      const sms = new SmsChannel({ baseUrl: provider.url, accountSid: "AC123", authToken: "secret-token", from: "+15550001111" });
      const app = new AppChannel(operator, { timeoutMs: 5_000, allowPrivate: true });
      const send = () => Promise.all([email.deliver("mailto:alice@example.org", delivery), sms.deliver("sms:+15557654321", delivery), app.deliver(`${endpoint.url}/alice`, delivery)]);
      await send();
      await send(); // the agent's re-send after a crash: same message, same key, and each send succeeds
      expect(inbox.messages.map((m) => m.channel).sort()).to.deep.equal(["app", "email", "sms"]);
      expect(inbox.repeats.map((m) => m.channel).sort()).to.deep.equal(["app", "email", "sms"]);
      // Another key is another message.
      await sms.deliver("sms:+15557654321", { ...delivery, idempotencyKey: "cg2-31337-13-3-1" });
      expect(inbox.messages.filter((m) => m.channel === "sms")).to.have.length(2);
      await email.close();
    } finally {
      await Promise.all([smtp.stop(), provider.stop(), endpoint.stop()]);
    }
  });

  it("routes channel URIs by scheme and refuses unknown ones", function () {
    expect(channelKind("mailto:a@b.c")).to.equal("email");
    expect(channelKind("sms:+15550001111")).to.equal("sms");
    expect(channelKind("https://app.example/x")).to.equal("app");
    expect(() => channelKind("ftp://x")).to.throw(CGError, /unsupported channel scheme "ftp"/);
  });
});
