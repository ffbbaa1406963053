import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";

import { AppChannel } from "../../guardian/channels/app.ts";
import { type Delivery, channelKind } from "../../guardian/channels/channel.ts";
import { EmailChannel } from "../../guardian/channels/email.ts";
import { SmsChannel } from "../../guardian/channels/sms.ts";
import { smsText } from "../../guardian/core/messages.ts";
import { CGError } from "../../sdk/index.ts";
import { freePort } from "../../scripts/lib/localNode.ts";
import { Inbox, startAppEndpoint, startSmsProvider, startSmtp } from "../helpers/localServices.ts";

const operator = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const fragment = "cg1.12.3." + "A".repeat(128);
const delivery: Delivery = {
  requestId: 12n,
  index: 3,
  fragment,
  link: `https://reset.example/#${fragment}`,
  chainId: 31337n,
  coordinator: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  guardian: operator.address,
  idempotencyKey: "cg1-31337-12-3",
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
  it("email: a plain-text message with the fragment, its link, the request id and the cancel line", async function () {
    const inbox = new Inbox();
    const smtp = await startSmtp(inbox);
    const email = new EmailChannel({ host: "127.0.0.1", port: smtp.port, secure: false, requireTls: false, from: "g3@guardians.example", rejectUnauthorized: true });
    try {
      await email.deliver("mailto:alice@example.org", delivery);
      const m = await inbox.waitFor((x) => x.channel === "email", 5_000);
      expect(m.to).to.equal("alice@example.org");
      expect(m.text).to.include(fragment);
      expect(m.text).to.include(`#${fragment}`);
      expect(m.text).to.include("request 12");
      expect(m.text).to.match(/If you did not ask for a reset, cancel it now/);
      expect(m.key).to.equal("<cg1-31337-12-3@credential-guardians>");
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

  it("sms: one message within 160 characters through the Twilio-shaped endpoint, with basic auth", async function () {
    const inbox = new Inbox();
    const provider = await startSmsProvider(inbox, { sid: "AC123", token: "secret-token" });
    try {
      const sms = new SmsChannel({ baseUrl: provider.url, accountSid: "AC123", authToken: "secret-token", from: "+15550001111" });
      await sms.deliver("sms:+15557654321", delivery);
      const m = await inbox.waitFor((x) => x.channel === "sms", 5_000);
      expect(m.to).to.equal("+15557654321");
      expect(m.text).to.include(fragment);
      expect(m.text.length).to.be.at.most(160);
      expect(smsText(delivery)).to.equal(m.text);
      const wrong = new SmsChannel({ baseUrl: provider.url, accountSid: "AC123", authToken: "wrong", from: "+15550001111" });
      expect(await codeOf(wrong.deliver("sms:+15557654321", delivery))).to.equal("CHANNEL_REJECTED");
      expect(await codeOf(sms.deliver("sms:555", delivery))).to.equal("CHANNEL_REJECTED");
    } finally {
      await provider.stop();
    }
  });

  it("app: a signed JSON POST the endpoint attributes to the guardian's operator address", async function () {
    const inbox = new Inbox();
    const endpoint = await startAppEndpoint(inbox);
    try {
      const app = new AppChannel(operator, { timeoutMs: 5_000, allowHttpLoopback: true });
      await app.deliver(`${endpoint.url}/alice`, delivery);
      const m = await inbox.waitFor((x) => x.channel === "app", 5_000);
      expect(m.guardian).to.equal(operator.address);
      expect(m.text).to.equal(fragment);
      const impostor = new AppChannel(privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"), { timeoutMs: 5_000, allowHttpLoopback: true });
      // The impostor signs correctly for itself, so the endpoint accepts it as *that* guardian, not as ours.
      await impostor.deliver(`${endpoint.url}/alice`, delivery);
      expect(inbox.messages[1].guardian).to.not.equal(operator.address);
      const strict = new AppChannel(operator, { timeoutMs: 5_000, allowHttpLoopback: false });
      expect(await codeOf(strict.deliver(`${endpoint.url}/alice`, delivery))).to.equal("CHANNEL_REJECTED");
    } finally {
      await endpoint.stop();
    }
  });

  it("routes channel URIs by scheme and refuses unknown ones", function () {
    expect(channelKind("mailto:a@b.c")).to.equal("email");
    expect(channelKind("sms:+15550001111")).to.equal("sms");
    expect(channelKind("https://app.example/x")).to.equal("app");
    expect(() => channelKind("ftp://x")).to.throw(CGError, /unsupported channel scheme "ftp"/);
  });
});
