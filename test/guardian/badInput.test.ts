import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { pino } from "pino";
import { type Address, type Chain, type Hex, type PublicClient, bytesToHex, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { CommitteeWork } from "../../guardian/committees.ts";
import type { GuardianConfig } from "../../guardian/config.ts";
import { classifyHandlerFailure } from "../../guardian/core/failures.ts";
import { PEER_BODY_LIMIT, PEER_PATH } from "../../guardian/core/peerWire.ts";
import { createMetrics } from "../../guardian/metrics.ts";
import { createMonitorServer } from "../../guardian/monitor.ts";
import { PeerApi } from "../../guardian/peer.ts";
import { ENVELOPE_LIST_LIMIT, ResetWork } from "../../guardian/resets.ts";
import { Store } from "../../guardian/store.ts";
import { G1, g1ToCompressed, g1ToEip2537, hashToG1 } from "../../sdk/crypto/bls.ts";
import { hpkePublicKey, seal } from "../../sdk/crypto/hpke.ts";
import { channelIdentity, envelopeInfo } from "../../sdk/encoding/messages.ts";
import { type PeerRequest, openPeerReply, peerRequestToJson, signPeerRequest } from "../../sdk/protocol/peer.ts";

/**
 * Bad input to the guardian: the peer API, /healthz and /metrics, and chain events with malformed content. The HTTP
 * servers run in-process on 127.0.0.1 with the agent's own handlers; the chain is a fake that answers the few reads
 * the handlers make. Every test ends by checking that no secret is in the logs or in any reply.
 */

const CHAIN_ID = 31337;
const chain = { id: CHAIN_ID } as Chain;
const coordinator = privateKeyToAccount(generatePrivateKey()).address;
const committees = privateKeyToAccount(generatePrivateKey()).address;
const registry = privateKeyToAccount(generatePrivateKey()).address;

/** What is secret in these tests: never in a log line or a reply. */
const secrets: string[] = [];
const logLines: string[] = [];
const replies: string[] = [];

function secret(...values: (string | Uint8Array | bigint)[]): void {
  for (const v of values) {
    const s = typeof v === "string" ? v : typeof v === "bigint" ? v.toString(16) : bytesToHex(v);
    secrets.push(s.toLowerCase().replace(/^0x/, ""));
    if (typeof v === "bigint") secrets.push(v.toString());
  }
}

function captureLog() {
  return pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
}

function assertNoSecret(): void {
  const all = [...logLines, ...replies].map((x) => x.toLowerCase());
  for (const s of secrets) for (const text of all) expect(text.includes(s), `a secret appears in: ${text.slice(0, 200)}`).to.equal(false);
}

function logged(reason: RegExp): boolean {
  return logLines.some((l) => reason.test((JSON.parse(l) as { reason?: string }).reason ?? ""));
}

/** Sends raw bytes and returns what came back before the server closed (or `waitMs` passed). */
function raw(port: number, chunks: (string | Buffer)[], waitMs = 3_000, gapMs = 0): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(got).toString("latin1");
      replies.push(text);
      resolve(text);
    };
    const timer = setTimeout(finish, waitMs);
    socket.on("data", (d) => got.push(d));
    socket.on("close", finish);
    socket.on("error", () => {});
    socket.on("connect", async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

function tempStore(hpkeSecret: Uint8Array): { store: Store; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "cg-badinput-"));
  return { store: new Store(join(dir, "guardian.db"), hpkeSecret), dir };
}

/** A chain that answers the reads of the handlers under test. */
function fakeChain(answers: Record<string, (args: readonly unknown[]) => unknown>): PublicClient {
  return {
    readContract: async ({ functionName, args }: { functionName: string; args: readonly unknown[] }) => {
      const answer = answers[functionName];
      if (!answer) throw new Error(`unexpected read ${functionName}`);
      return answer(args);
    },
  } as unknown as PublicClient;
}

describe("bad input to the guardian", function () {
  this.timeout(30_000);

  afterEach(function () {
    assertNoSecret();
  });

  describe("the peer API", function () {
    const serverKey = generatePrivateKey();
    const server = privateKeyToAccount(serverKey);
    const askerKeyPriv = generatePrivateKey();
    const asker = privateKeyToAccount(askerKeyPriv);
    const strangerKey = generatePrivateKey();
    const stranger = privateKeyToAccount(strangerKey);
    const serverHpke = randomBytes(32);
    const askerHpke = randomBytes(32);
    const askerPublic = toHex(hpkePublicKey(askerHpke));
    const share = 0x1234567890abcdef1234567890abcdef1234567890abcdefn;
    const accountId = toHex(randomBytes(32));
    let store: Store;
    let dir: string;
    let api: PeerApi;
    let port: number;
    let url: string;

    before(async function () {
      secret(serverKey, askerKeyPriv, strangerKey, serverHpke, askerHpke, share);
      // The partial the server answers with is secret too (it travels sealed only).
      secret(g1ToCompressed(hashToG1(Buffer.from(channelIdentity(BigInt(CHAIN_ID), coordinator, accountId, 1n, 1).slice(2), "hex")).multiply(share)));
      ({ store, dir } = tempStore(serverHpke));
      store.putCommitteeShare("1", 1, 2, share, "0x");
      const publicClient = fakeChain({
        account: () => ({ epoch: 1n, committeeId: 1n }),
        committee: () => ({ activeEpoch: 1n, threshold: 2 }),
        members: () => [{ operator: asker.address }, { operator: server.address }, { operator: privateKeyToAccount(generatePrivateKey()).address }],
        guardian: () => ({ encryptionKey: askerPublic }),
      });
      const config = { coordinator, committees, registry, peer: { host: "127.0.0.1", port: 0, allowHttp: true, publicUrl: "http://127.0.0.1" } } as unknown as GuardianConfig;
      api = new PeerApi({ config, store, operator: server, hpkeSecret: serverHpke, log: captureLog(), publicClient, chain, timeouts: { headersMs: 700, bodyMs: 700 } });
      port = await api.listen();
      url = `http://127.0.0.1:${port}${PEER_PATH}`;
    });

    after(async function () {
      await api?.close();
      store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const now = () => BigInt(Math.floor(Date.now() / 1000));
    const request = (over: Partial<PeerRequest> = {}): PeerRequest => ({
      chainId: BigInt(CHAIN_ID),
      coordinator,
      accountId,
      accountEpoch: 1n,
      slot: 1,
      committeeId: 1n,
      askerKey: askerPublic,
      issuedAt: now(),
      ...over,
    });
    const signed = async (over: Partial<PeerRequest> = {}, signer = asker) => peerRequestToJson(await signPeerRequest(signer, request(over)));

    async function post(body: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, ...init });
      const text = await res.text();
      replies.push(text);
      return { status: res.status, text };
    }

    async function refused(body: string, reason: RegExp): Promise<void> {
      const before = logLines.length;
      const { status, text } = await post(body);
      expect(status, body.slice(0, 80)).to.equal(403);
      expect(text).to.equal('{"error":"refused"}');
      const reasons = logLines.slice(before).map((l) => JSON.parse(l) as { reason?: string; msg: string });
      expect(reasons.some((r) => r.msg === "peer request refused" && reason.test(r.reason ?? "")), `logged ${reason}: ${JSON.stringify(reasons)}`).to.equal(true);
    }

    it("answers a member's signed request once; the same request again is a replay and refused, a new one is answered", async function () {
      const body = await signed({ issuedAt: now() - 2n });
      const first = await post(body);
      expect(first.status).to.equal(200);
      const reply = JSON.parse(first.text) as { signer: number; committeeEpoch: string; sealed: Hex };
      expect(reply.signer).to.equal(2);
      const partial = await openPeerReply(askerHpke, { chainId: BigInt(CHAIN_ID), coordinator, accountId, accountEpoch: 1n, slot: 1, signer: 2 }, reply.sealed);
      expect(partial.equals(hashToG1(Buffer.from(channelIdentity(BigInt(CHAIN_ID), coordinator, accountId, 1n, 1).slice(2), "hex")).multiply(share))).to.equal(true);
      await refused(body, /replay/);
      // A malleated signature (s → n − s) of the same request is the same request.
      const parsed = JSON.parse(body) as { request: unknown; signature: Hex };
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const s = BigInt(`0x${parsed.signature.slice(66, 130)}`);
      const v = parseInt(parsed.signature.slice(130), 16);
      const malleated = `${parsed.signature.slice(0, 66)}${(n - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
      await refused(JSON.stringify({ request: parsed.request, signature: malleated }), /replay|signature|slot/);
      expect((await post(await signed({ issuedAt: now() - 1n }))).status).to.equal(200);
    });

    it("refuses a body over the byte limit before parsing it, by its Content-Length or as it streams", async function () {
      await refused(JSON.stringify({ pad: "x".repeat(PEER_BODY_LIMIT) }), /over the 4096-byte limit/);
      // No Content-Length: chunks until the limit is crossed; the answer is 403 and the connection closes.
      const chunk = "x".repeat(1024);
      const chunked = [`POST ${PEER_PATH} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`, ...Array.from({ length: 6 }, () => `400\r\n${chunk}\r\n`)];
      const answer = await raw(port, chunked);
      expect(statusOf(answer)).to.equal(403);
      expect(answer).to.include('{"error":"refused"}');
      // An absurd Content-Length is refused the same way.
      expect(statusOf(await raw(port, [`POST ${PEER_PATH} HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999\r\n\r\n`]))).to.be.oneOf([400, 403]);
    });

    it("refuses text that is not JSON, and keys missing, extra or mistyped, with the same answer", async function () {
      const good = JSON.parse(await signed()) as { request: Record<string, unknown>; signature: string };
      await refused("{not json", /not JSON/);
      await refused("[]", /not a JSON object/);
      await refused("null", /not a JSON object/);
      await refused(JSON.stringify({ request: good.request }), /keys/);
      await refused(JSON.stringify({ ...good, extra: 1 }), /keys/);
      const { askerKey: _drop, ...missing } = good.request;
      await refused(JSON.stringify({ ...good, request: missing }), /lacks askerKey/);
      await refused(JSON.stringify({ ...good, request: { ...good.request, admin: true } }), /unknown key/);
      await refused(JSON.stringify({ ...good, request: { ...good.request, slot: "1" } }), /slot is not a number/);
      await refused(JSON.stringify({ ...good, request: { ...good.request, issuedAt: 5 } }), /issuedAt is not a string/);
      await refused(JSON.stringify({ ...good, request: { ...good.request, accountEpoch: "-1" } }), /accountEpoch/);
      await refused(JSON.stringify({ ...good, request: { ...good.request, slot: 1e9 } }), /slot/);
      await refused(JSON.stringify({ ...good, signature: "0x1234" }), /signature/);
      await refused(JSON.stringify({ ...good, signature: 7 }), /signature/);
    });

    it("refuses a bad signature, a non-member, another chain or coordinator, an unregistered key, a stale or future request", async function () {
      const good = JSON.parse(await signed()) as { request: Record<string, unknown>; signature: string };
      // Signed for one account epoch, sent for another: the signature recovers to someone else.
      await refused(JSON.stringify({ ...good, request: { ...good.request, slot: 3 } }), /does not hold the slot/);
      await refused(JSON.stringify({ ...good, signature: `0x${"11".repeat(65)}` }), /signature|slot/);
      await refused(await signed({}, stranger), /does not hold the slot/);
      await refused(await signed({ chainId: 1n }), /another deployment/);
      await refused(await signed({ coordinator: registry }), /another deployment/);
      await refused(await signed({ askerKey: toHex(randomBytes(32)) }), /registered key/);
      await refused(await signed({ issuedAt: now() - 1000n }), /issued \d+ s ago/);
      await refused(await signed({ issuedAt: now() + 1000n }), /in the future/);
      await refused(await signed({ slot: 2 }), /does not hold the slot|no other slot/);
    });

    it("cuts a slow sender: a body that does not arrive in time, headers that never end", async function () {
      const t0 = Date.now();
      const body = await raw(port, [`POST ${PEER_PATH} HTTP/1.1\r\nHost: a\r\nContent-Length: 200\r\n\r\n{"request":`], 5_000);
      expect(statusOf(body)).to.equal(403);
      expect(logged(/not received within/)).to.equal(true);
      const headers = await raw(port, [`POST ${PEER_PATH} HTTP/1.1\r\nHost: a\r\n`, "X-Slow: 1\r\n"], 5_000, 100);
      expect(statusOf(headers)).to.be.oneOf([408, 0]);
      expect(logged(/ERR_HTTP_REQUEST_TIMEOUT/)).to.equal(true);
      expect(Date.now() - t0).to.be.lessThan(8_000);
    });

    it("answers another method or path 404, oversized or garbled headers 431/400, and keeps serving", async function () {
      for (const [method, path] of [["GET", PEER_PATH], ["PUT", PEER_PATH], ["DELETE", PEER_PATH], ["POST", "/v2/other"], ["POST", `${PEER_PATH}?x=1`], ["POST", "/../../etc/passwd"]]) {
        const r = await raw(port, [`${method} ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}`]);
        expect(statusOf(r), `${method} ${path}`).to.equal(404);
        expect(r).to.include('{"error":"not found"}');
      }
      expect(logged(/wrong method or path/)).to.equal(true);
      expect(statusOf(await raw(port, [`POST ${PEER_PATH} HTTP/1.1\r\nHost: a\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`]))).to.equal(431);
      expect(statusOf(await raw(port, ["NOT HTTP AT ALL\r\n\r\n"]))).to.equal(400);
      expect(logged(/HPE_/)).to.equal(true);
      const last = await post(await signed({ issuedAt: now() - 100n }));
      expect(last.status, logLines.slice(-3).join("")).to.equal(200);
    });
  });

  describe("/healthz and /metrics", function () {
    let server: Server;
    let port: number;
    const token = `tok-${toHex(randomBytes(8))}`;

    before(async function () {
      secret(token);
      server = createMonitorServer({
        log: captureLog(),
        health: () => ({ status: 200, body: { status: "ok" } }),
        metrics: async () => ({ contentType: "text/plain", text: "cg_guardian_up 1\n" }),
        headersTimeoutMs: 700,
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      port = (server.address() as { port: number }).port;
    });

    after(async function () {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it("answers GET and HEAD; refuses other methods, paths, bodies, oversized and slow headers, with the reason logged", async function () {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(ok.status).to.equal(200);
      replies.push(await ok.text());
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: "HEAD" })).status).to.equal(200);
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        expect(statusOf(await raw(port, [`${method} /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n`])), method).to.equal(405);
      }
      expect(statusOf(await raw(port, ["GET /metrics/../secret HTTP/1.1\r\nHost: a\r\n\r\n"]))).to.equal(404);
      expect(statusOf(await raw(port, ["GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"]))).to.equal(404);
      expect(statusOf(await raw(port, [`GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n${token}`]))).to.equal(413);
      expect(statusOf(await raw(port, [`GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: ${token}\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`]))).to.equal(431);
      expect(statusOf(await raw(port, ["GET /healthz HTTP/1.1\r\nHost: a\r\n"], 5_000))).to.be.oneOf([408, 0]);
      for (const reason of [/method not allowed/, /unknown path/, /a request body/, /HPE_HEADER_OVERFLOW/, /ERR_HTTP_REQUEST_TIMEOUT/]) expect(logged(reason), String(reason)).to.equal(true);
      const still = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(still.status).to.equal(200);
      replies.push(await still.text());
    });
  });

  describe("chain events with bad content are ignored with their reason; others are still handled", function () {
    const operatorKey = generatePrivateKey();
    const operator = privateKeyToAccount(operatorKey);
    const hpkeSecret = randomBytes(32);
    const share = 0xabcdef0123456789abcdef0123456789n;
    const uri = `mailto:secret-${toHex(randomBytes(6)).slice(2)}@example.org`;
    let store: Store;
    let dir: string;

    before(function () {
      secret(operatorKey, hpkeSecret, share, uri);
      ({ store, dir } = tempStore(hpkeSecret));
      store.putCommitteeShare("1", 1, 2, share, "0x");
    });

    after(function () {
      store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const publicClient = fakeChain({
      committee: () => ({ activeEpoch: 1n, threshold: 2 }),
      guardian: () => ({ encryptionKey: toHex(hpkePublicKey(randomBytes(32))) }),
    });
    const config = { coordinator, committees, registry } as unknown as GuardianConfig;
    const deps = () => ({ config, store, operator, hpkeSecret, channels: {}, log: captureLog(), metrics: createMetrics(), publicClient, wallet: {} as never, chain, wake: () => {} });

    /** What the agent's isolation wrapper makes of a handler's failure. */
    async function outcome(run: () => Promise<void>): Promise<string> {
      try {
        await run();
        return "handled";
      } catch (e) {
        const f = classifyHandlerFailure(e);
        expect(f.retry, "content, not a boundary").to.equal(false);
        return f.retry ? "retry" : f.reason;
      }
    }

    it("AccountLinked with an envelope list too large, not unpacking or longer than a committee: INVALID_ENVELOPES; a good one stores its channel", async function () {
      const resets = new ResetWork({ ...deps(), peer: {} as never, fail: () => {}, tip: () => undefined }).handlers();
      const link = (envelopes: string, epoch = 1n) => ({ accountId: toHex(randomBytes(32)), committeeId: 1n, epoch, envelopes, sealedChannels: "0x" });
      expect(await outcome(() => resets.AccountLinked.run(link(`0x${"00".repeat(ENVELOPE_LIST_LIMIT + 1)}`)))).to.equal("INVALID_ENVELOPES");
      expect(await outcome(() => resets.AccountLinked.run(link("0x0005abcd")))).to.equal("INVALID_ENVELOPES");
      expect(await outcome(() => resets.AccountLinked.run(link("0x123")))).to.equal("INVALID_ENVELOPES");
      expect(await outcome(() => resets.AccountLinked.run(link(`0x${"0000".repeat(33)}`)))).to.equal("INVALID_ENVELOPES");
      expect(await outcome(() => resets.AccountLinked.run({ ...link("0x"), envelopes: 42 }))).to.equal("INVALID_ENVELOPES");
      // A huge entry in this guardian's slot: the list is fine, the envelope does not open; learned from peers later.
      expect(await outcome(() => resets.AccountLinked.run(link(`0x00004000${"11".repeat(0x4000)}`)))).to.equal("handled");
      expect(logLines.some((l) => l.includes("envelope does not open"))).to.equal(true);
      const good = link("0x");
      const sealed = await seal(hpkePublicKey(hpkeSecret), envelopeInfo(BigInt(CHAIN_ID), coordinator, good.accountId as Hex, 1n, 2), new TextEncoder().encode(uri));
      const entry = (b: Uint8Array) => `${b.length.toString(16).padStart(4, "0")}${Buffer.from(b).toString("hex")}`;
      good.envelopes = `0x${entry(randomBytes(80))}${entry(sealed)}${entry(randomBytes(80))}`;
      expect(await outcome(() => resets.AccountLinked.run(good))).to.equal("handled");
      expect(store.getChannel(good.accountId as Hex, 1n, 2)).to.equal(uri);
    });

    it("ResetRequested with a malformed requester key is ignored with its reason; a good one is recorded", async function () {
      const resets = new ResetWork({ ...deps(), peer: {} as never, fail: () => {}, tip: () => undefined }).handlers();
      const requested = (requestId: bigint, requesterKey: string) => ({
        requestId,
        accountId: toHex(randomBytes(32)),
        committeeId: 2n, // a committee this guardian does not serve: recorded, not served
        accountEpoch: 1n,
        newController: operator.address,
        drill: false,
        requesterKey,
        expiresAt: 2n ** 40n,
      });
      for (const [k, key] of ["0x", "0x1234", `0x${"ff".repeat(128)}`, `0x${"00".repeat(128)}`, `0x${"00".repeat(100_000)}`].entries()) {
        const reason = await outcome(() => resets.ResetRequested.run(requested(BigInt(100 + k), key), 1n));
        expect(reason, key.slice(0, 12)).to.not.equal("handled");
        expect(store.getRequest(BigInt(100 + k)), "not recorded").to.equal(undefined);
      }
      const A = toHex(g1ToEip2537(G1.BASE.multiply(123456789n)));
      expect(await outcome(() => resets.ResetRequested.run(requested(200n, A), 1n))).to.equal("handled");
      expect(store.getRequest(200n)?.requesterKey).to.equal(A);
    });

    it("a committee proposal naming a member twice is ignored (DUPLICATE_MEMBER); another proposal opens a round", async function () {
      const work = new CommitteeWork(deps()).handlers();
      const other = privateKeyToAccount(generatePrivateKey()).address as Address;
      for (const members of [[operator.address, other, operator.address], [other, operator.address, other.toLowerCase()]]) {
        expect(await outcome(() => work.CommitteeProposed.run({ committeeId: 7n, threshold: 2, members }, 1n))).to.equal("DUPLICATE_MEMBER");
        expect(store.getRound("7", 1)).to.equal(undefined);
      }
      expect(await outcome(() => work.CommitteeProposed.run({ committeeId: 8n, threshold: 2, members: [other, operator.address, coordinator] }, 1n))).to.equal("handled");
      expect(store.getRound("8", 1)).to.not.equal(undefined);
    });
  });
});
