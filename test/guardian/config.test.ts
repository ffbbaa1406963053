import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describeConfig, effectiveConfig, loadConfig, requirePeer } from "../../guardian/config.ts";
import { openKeystore, sealKeystore } from "../../guardian/keystore.ts";
import { Store } from "../../guardian/store.ts";
import { CGError } from "../../sdk/index.ts";

const base = {
  CG_RPC_URL: "http://127.0.0.1:8545/secret-token",
  CG_COORDINATOR: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  CG_REGISTRY: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  CG_COMMITTEES: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  CG_KEYSTORE_PASSPHRASE: "a long passphrase",
};

describe("guardian configuration, keystores and store", function () {
  it("reads a .env file overlaid by the environment and names the bad field", function () {
    const dir = mkdtempSync(join(tmpdir(), "cg-config-"));
    const file = join(dir, "guardian.env");
    writeFileSync(file, "CG_RPC_URL=http://127.0.0.1:1\nCG_CONFIRMATIONS=3\nCG_DATA_DIR=data\n");
    const c = loadConfig(file, { ...base, CG_RPC_URL: "http://127.0.0.1:2" });
    expect(c.rpcUrl).to.equal("http://127.0.0.1:2");
    expect(c.confirmations).to.equal(3);
    expect(c.dataDir).to.equal(join(dir, "data"));
    expect(() => loadConfig(undefined, { ...base, CG_CONFIRMATIONS: "two" })).to.throw(CGError, 'config CG_CONFIRMATIONS: expected a whole number in [1, 1000], got "two"');
    expect(() => loadConfig(undefined, { ...base, CG_COORDINATOR: "0x1234" })).to.throw(CGError, "config CG_COORDINATOR: expected a 0x-prefixed 20-byte address");
    expect(() => loadConfig(undefined, { ...base, CG_KEYSTORE_PASSPHRASE: "" })).to.throw(CGError, /CG_KEYSTORE_PASSPHRASE/);
    expect(() => loadConfig(undefined, { ...base, CG_SMTP_HOST: "smtp.example" })).to.throw(CGError, "config CG_SMTP_FROM: expected a value, got nothing");
    expect(() => loadConfig(join(dir, "missing.env"), base)).to.throw(CGError, /does not exist/);
    writeFileSync(join(dir, "empty.json"), "");
    expect(() => loadConfig(undefined, { ...base, CG_DEPLOYMENT: join(dir, "empty.json") })).to.throw(CGError, "config CG_DEPLOYMENT: expected a deployments JSON file (it is empty or not JSON)");
  });

  it("records where each value came from: the environment over the file, the rest defaults", function () {
    const dir = mkdtempSync(join(tmpdir(), "cg-config-"));
    const file = join(dir, "guardian.env");
    writeFileSync(file, "CG_CONFIRMATIONS=3\nCG_LOG_LEVEL=debug\n");
    const rows = Object.fromEntries(effectiveConfig(loadConfig(file, { ...base, CG_LOG_LEVEL: "warn" })).map((r) => [r.name, [r.value, r.from]]));
    expect(rows.CG_CONFIRMATIONS).to.deep.equal(["3", `file ${file}`]);
    expect(rows.CG_LOG_LEVEL).to.deep.equal(["warn", "environment"]);
    expect(rows.CG_REORG_WINDOW).to.deep.equal(["16", "default"]);
    expect(rows.CG_RPC_URL).to.deep.equal(["http://127.0.0.1:8545/… (path hidden)", "environment"]);
  });

  it("redacts the RPC path and every credential from the loggable view", function () {
    const c = loadConfig(undefined, { ...base, CG_SMTP_HOST: "h", CG_SMTP_FROM: "f@x", CG_SMTP_PASS: "smtp-secret", CG_SMS_BASE_URL: "http://s", CG_SMS_ACCOUNT_SID: "AC1", CG_SMS_AUTH_TOKEN: "sms-secret", CG_SMS_FROM: "+1" });
    const text = JSON.stringify(describeConfig(c));
    for (const secret of ["secret-token", "smtp-secret", "sms-secret", "a long passphrase"]) expect(text).to.not.include(secret);
  });

  it("keystores open with the right passphrase only", function () {
    const secret = new Uint8Array(32).fill(7);
    const file = sealKeystore("hpke", secret, "0xpublic", "right passphrase", 2 ** 10);
    expect(openKeystore(file, "right passphrase", "k")).to.deep.equal(secret);
    expect(() => openKeystore(file, "wrong passphrase", "k")).to.throw(CGError, "k: the passphrase does not open this keystore");
    expect(JSON.stringify(file)).to.not.include("0707070707");
  });

  it("requires the peer API settings: TLS files unless plain HTTP is allowed, and a public URL", function () {
    expect(loadConfig(undefined, base).peer).to.equal(undefined);
    expect(() => requirePeer(loadConfig(undefined, base))).to.throw(CGError, /CG_PEER_PUBLIC_URL/);
    expect(() => loadConfig(undefined, { ...base, CG_PEER_PUBLIC_URL: "https://g.example:9465" })).to.throw(CGError, /CG_PEER_TLS_CERT/);
    expect(() => loadConfig(undefined, { ...base, CG_PEER_PUBLIC_URL: "http://g.example:9465", CG_PEER_TLS_CERT: "/nonexistent.pem", CG_PEER_TLS_KEY: "/nonexistent.pem" })).to.throw(CGError, /CG_PEER_TLS_CERT: expected a readable PEM file/);
    const local = loadConfig(undefined, { ...base, CG_PEER_PUBLIC_URL: "http://127.0.0.1:9465/", CG_PEER_ALLOW_HTTP: "true", CG_PEER_HOST: "127.0.0.1", CG_APP_ALLOW_PRIVATE: "true" });
    expect(local.peer).to.deep.equal({ host: "127.0.0.1", port: 9465, publicUrl: "http://127.0.0.1:9465", tlsCert: undefined, tlsKey: undefined, allowHttp: true });
    expect(local.appAllowPrivate).to.equal(true);
    expect(loadConfig(undefined, base).appAllowPrivate).to.equal(false);
  });

  it("takes the reset page's URL for code links: http(s), without a fragment; unset by default", function () {
    expect(loadConfig(undefined, base).resetPageUrl).to.equal(undefined);
    expect(loadConfig(undefined, { ...base, CG_RESET_PAGE_URL: "https://reset.example/page/" }).resetPageUrl).to.equal("https://reset.example/page/");
    expect(() => loadConfig(undefined, { ...base, CG_RESET_PAGE_URL: "https://reset.example/#x" })).to.throw(CGError, /CG_RESET_PAGE_URL: expected an http\(s\) URL without a fragment/);
    expect(() => loadConfig(undefined, { ...base, CG_RESET_PAGE_URL: "ftp://reset.example/" })).to.throw(CGError, /CG_RESET_PAGE_URL/);
    expect(() => loadConfig(undefined, { ...base, CG_RESET_PAGE_URL: "reset page" })).to.throw(CGError, /CG_RESET_PAGE_URL/);
  });

  it("the store keeps channels and codes sealed at rest, one serving per (request, slot, epoch), and turns repeatedly failing jobs into dead letters", function () {
    const dir = mkdtempSync(join(tmpdir(), "cg-store-"));
    const key = new Uint8Array(32).fill(3);
    const store = new Store(join(dir, "g.db"), key);
    const accountId = `0x${"aa".repeat(32)}` as const;
    store.putChannel(accountId, 1n, 2, "mailto:alice@example.org", "envelope");
    store.putChannel(accountId, 1n, 2, "mailto:mallory@example.org", "peers"); // the first one stays
    expect(store.getChannel(accountId, 1n, 2)).to.equal("mailto:alice@example.org");
    expect(store.getChannel(accountId, 2n, 2)).to.equal(undefined);
    const raw = store.db.prepare("SELECT uri_sealed FROM channels").get() as { uri_sealed: Uint8Array };
    expect(Buffer.from(raw.uri_sealed).toString("latin1")).to.not.include("alice");
    const request = { requestId: 9n, accountId, committeeId: 1n, accountEpoch: 1n, newController: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const, drill: false, requesterKey: "0x01" as const, expiresAt: 1000n, blockNumber: 20n };
    expect(store.putRequest(request)).to.equal(true);
    expect(store.putRequest(request)).to.equal(false);
    const code = new Uint8Array(16).fill(0x5a);
    store.putServing({ requestId: 9n, slot: 2, committeeEpoch: 1, code, message: "0x11", posting: "0x22" });
    expect(() => store.putServing({ requestId: 9n, slot: 2, committeeEpoch: 1, code, message: "0x11", posting: "0x22" })).to.throw();
    expect(store.servingCode(9n, 2, 1)).to.deep.equal(code);
    expect(store.getServing(9n, 2, 2)).to.equal(undefined);
    expect(store.enqueue("post:9:2:1", "post", { x: 1 })).to.equal(true);
    expect(store.enqueue("post:9:2:1", "post", { x: 2 })).to.equal(false); // idempotency key
    expect(store.enqueue("deliver:9:2:1", "deliver", { x: 1 })).to.equal(true);
    expect(store.markFailed("deliver:9:2:1", "CHANNEL_RETRY: email delivery failed", 0, 2)).to.equal("pending");
    expect(store.markFailed("deliver:9:2:1", "CHANNEL_RETRY: email delivery failed", 0, 2)).to.equal("dead");
    expect(store.deadLetters()).to.deep.equal([{ id: "deliver:9:2:1", kind: "deliver", attempts: 2, lastError: "CHANNEL_RETRY: email delivery failed" }]);
    store.markDropped("post:9:2:1", "expired");
    expect(store.jobStatus("post:9:2:1")).to.equal("dropped");
    expect(store.counts().dropped).to.equal(1);
    store.close();
    // Reopening runs no migration twice and keeps the data.
    const again = new Store(join(dir, "g.db"), key);
    expect(again.counts().dead).to.equal(1);
    expect(() => new Store(join(dir, "g.db"), new Uint8Array(32).fill(4)).getChannel(accountId, 1n, 2)).to.throw(CGError, /does not open with this guardian's key/);
    // A deep reorg forgets the request and its work not done (pending, dropped, dead); its serving stays, for the
    // request put back with the same message, until another request takes the id.
    again.enqueue("post:9:2:2", "post", {});
    again.enqueue("deliver:9:2:2", "deliver", {});
    again.markDone("deliver:9:2:2");
    again.rollbackAbove(19n);
    expect(again.getRequest(9n)).to.equal(undefined);
    expect(again.getServing(9n, 2, 1)).to.deep.equal({ code, message: "0x11", posting: "0x22" });
    expect([again.jobStatus("post:9:2:2"), again.jobStatus("post:9:2:1"), again.jobStatus("deliver:9:2:1"), again.jobStatus("deliver:9:2:2")]).to.deep.equal([undefined, undefined, undefined, "done"]);
    again.deleteServing(9n, 2, 1);
    expect(again.getServing(9n, 2, 1)).to.equal(undefined);
    again.close();
  });

  it("the store records ignored events once, lists the latest first, and forgets those a deep reorg removed", function () {
    const store = new Store(join(mkdtempSync(join(tmpdir(), "cg-store-")), "g.db"), new Uint8Array(32).fill(5));
    store.putIgnored({ event: "AccountLinked", key: "accountId=0x01,epoch=1", reason: "INVALID_ENCODING", detail: "packed entries: an entry is cut short", blockNumber: 10n });
    store.putIgnored({ event: "ResetRequested", key: "requestId=7", reason: "INVALID_INPUT", detail: "seal: low-order point", blockNumber: 12n });
    store.putIgnored({ event: "ResetRequested", key: "requestId=7", reason: "OTHER", blockNumber: 12n }); // recorded once
    expect(store.isIgnored("ResetRequested", "requestId=7")).to.equal(true);
    expect(store.isIgnored("AccountLinked", "requestId=7")).to.equal(false);
    const { total, recent } = store.ignoredEvents();
    expect(total).to.equal(2);
    expect(recent.map((i) => [i.event, i.key, i.reason, i.blockNumber])).to.deep.equal([
      ["ResetRequested", "requestId=7", "INVALID_INPUT", 12n],
      ["AccountLinked", "accountId=0x01,epoch=1", "INVALID_ENCODING", 10n],
    ]);
    store.rollbackAbove(11n);
    expect(store.isIgnored("ResetRequested", "requestId=7")).to.equal(false);
    expect(store.ignoredEvents().total).to.equal(1);
    store.close();
  });
});
