import { expect } from "chai";
import { join } from "node:path";
import { type Address, type Hex, toHex } from "viem";

import { Store } from "../../guardian/store.ts";
import { assembleToken, generateHpkeKeyPair, packEntries, prepareShardMap } from "../../sdk/index.ts";
import { type GuardianNetwork, linkServedAccount, startAgent, startGuardianNetwork, stopAgent, waitForLog } from "../helpers/guardianNetwork.ts";
import { Inbox } from "../helpers/localServices.ts";
import { type LinkedAccount, findEvent } from "../helpers/system.ts";

describe("guardian agents as processes against a hardhat node", function () {
  this.timeout(240_000);
  const inbox = new Inbox();
  let net: GuardianNetwork;
  let account: LinkedAccount;
  const channels: string[] = [];

  before(async function () {
    net = await startGuardianNetwork(inbox, { guardians: 5, confirmations: 2 });
    channels.push("mailto:alice@example.org", "sms:+15550000001", `${net.appUrl}/alice`, "mailto:alice.backup@example.org", "sms:+15550000002");
    await net.sys.coordinator.setMaxOpenRequests(16);
    account = await linkServedAccount(net, net.sys.alice, channels, 3);
  });

  after(async function () {
    await net?.close();
  });

  async function request(newController: Address) {
    const { sys } = net;
    const ephemeral = await generateHpkeKeyPair();
    const ephemeralKey = toHex(ephemeral.publicKey);
    const fee = (await sys.coordinator.parameters()).requestFee;
    const receipt = await (await sys.coordinator.connect(sys.bob).requestReset(account.accountId, newController, ephemeralKey, { value: fee })).wait();
    const requestId: bigint = findEvent(sys.coordinator, receipt, "ResetRequested").args.requestId;
    const message = (await sys.coordinator.resetMessage(requestId, ephemeralKey)) as Hex;
    return { requestId, ephemeral, ephemeralKey, message };
  }

  async function waitForFragments(requestId: bigint, count: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fragments = inbox.fragments(requestId);
      if (fragments.length >= count) return fragments;
      if (Date.now() > deadline) throw new Error(`only ${fragments.length} of ${count} fragments for request ${requestId} arrived`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function commitsOf(requestId: bigint): Promise<Map<number, Hex>> {
    const { sys } = net;
    const logs = await sys.coordinator.queryFilter(sys.coordinator.filters.ShareCommitted(requestId), 0);
    const commits = new Map<number, Hex>();
    for (const l of logs as any[]) {
      if (commits.has(Number(l.args.index))) throw new Error(`two commits of member ${l.args.index} for request ${requestId}`);
      commits.set(Number(l.args.index), l.args.commitment);
    }
    return commits;
  }

  async function completeWith(r: Awaited<ReturnType<typeof request>>, fragments: string[]) {
    const { sys } = net;
    const assembled = await assembleToken({
      fragments,
      ephemeralPrivateKey: r.ephemeral.privateKey,
      chainId: sys.chainId,
      coordinator: (await sys.coordinator.getAddress()) as Address,
      requestId: r.requestId,
      message: r.message,
      commitments: account.prepared.commitments,
      committee: account.prepared.params.committee,
      onChainCommits: await commitsOf(r.requestId),
    });
    const groupKey = account.prepared.params.commitments.slice(0, 514);
    await expect(sys.coordinator.completeReset(r.requestId, account.accountId, r.ephemeralKey, assembled.tokenHex, groupKey)).to.emit(sys.coordinator, "ResetApproved");
    return assembled;
  }

  async function waitForCommits(requestId: bigint, count: number, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while ((await commitsOf(requestId)).size < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} commits for request ${requestId}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("fragments arrive on every channel and combine into a token that completeReset accepts", async function () {
    const r = await request(net.sys.carol.address as Address);
    const fragments = await waitForFragments(r.requestId, 5);
    const kinds = new Set(inbox.messages.filter((m) => m.text.includes(`cg1.${r.requestId}.`)).map((m) => m.channel));
    expect([...kinds].sort()).to.deep.equal(["app", "email", "sms"]);
    await waitForCommits(r.requestId, 5);
    const assembled = await completeWith(r, fragments);
    expect(assembled.problems).to.deep.equal([]);
    // Exactly one delivery per member.
    expect(inbox.fragments(r.requestId).length).to.equal(5);
  });

  it("a guardian killed with SIGKILL after computing, before delivering, delivers exactly once after a restart", async function () {
    const g2 = net.agents[1];
    const t0 = Date.now();
    const step = (what: string) => process.env.CG_TEST_TIMING && console.log(`${what}: ${Date.now() - t0} ms`);
    await stopAgent(g2);
    step("stopped");
    startAgent(g2, { CG_FAILPOINTS: "serve.after-commit" });
    await waitForLog(g2, "guardian started", 30_000, g2.logs.length - 1);
    const r = await request(net.sys.carol.address as Address);
    const exit = await g2.exited!;
    step("killed");
    expect(exit.signal).to.equal("SIGKILL");
    await waitForFragments(r.requestId, 4);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(inbox.fragments(r.requestId).filter((f) => f.startsWith(`cg1.${r.requestId}.2.`))).to.deep.equal([]);
    startAgent(g2);
    step("restarted");
    const fragments = await waitForFragments(r.requestId, 5);
    step("delivered");
    await waitForCommits(r.requestId, 5);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(inbox.fragments(r.requestId).filter((f) => f.startsWith(`cg1.${r.requestId}.2.`)).length).to.equal(1);
    expect((await commitsOf(r.requestId)).has(2)).to.equal(true);
    await completeWith(r, fragments);
  });

  it("with n − t guardians stopped the reset still completes", async function () {
    const [, , , g4, g5] = net.agents;
    await Promise.all([stopAgent(g4), stopAgent(g5)]);
    try {
      const r = await request(net.sys.carol.address as Address);
      const fragments = await waitForFragments(r.requestId, 3);
      await waitForCommits(r.requestId, 3);
      const assembled = await completeWith(r, fragments);
      expect([...assembled.used].sort()).to.deep.equal([1, 2, 3]);
    } finally {
      startAgent(g4);
      startAgent(g5);
    }
  });

  it("an SMTP server that is down for a while gets the fragment once it is back", async function () {
    await net.stopSmtp();
    const r = await request(net.sys.carol.address as Address);
    await waitForFragments(r.requestId, 3); // sms, app, sms
    await waitForLog(net.agents[0], /job failed; will retry/, 20_000);
    expect(inbox.fragments(r.requestId).some((f) => f.startsWith(`cg1.${r.requestId}.1.`))).to.equal(false);
    await net.startSmtp();
    const fragments = await waitForFragments(r.requestId, 5, 30_000);
    expect(fragments.filter((f) => f.startsWith(`cg1.${r.requestId}.1.`)).length).to.equal(1);
  });

  it("a request mined and then removed by a reorg is not served", async function () {
    const { sys } = net;
    const provider = net.sys.connection.provider;
    await provider.request({ method: "evm_setIntervalMining", params: [0] });
    const snapshot = await provider.request({ method: "evm_snapshot", params: [] });
    const r = await request(sys.carol.address as Address); // mined alone: one confirmation, agents need two
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await provider.request({ method: "evm_revert", params: [snapshot] });
    await provider.request({ method: "evm_setIntervalMining", params: [250] });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(inbox.fragments(r.requestId)).to.deep.equal([]);
    for (const a of net.agents) expect(a.logs.some((l) => l.includes(`"requestId":"${r.requestId}"`)), a.guardian.name).to.equal(false);
    // The silence is the reorg's doing, not dead agents: the next request (it may reuse the id) is served.
    const next = await request(sys.carol.address as Address);
    expect(next.ephemeralKey).to.not.equal(r.ephemeralKey);
    expect((await waitForFragments(next.requestId, 5)).length).to.equal(5);
  });

  it("a guardian refuses a bad envelope with a logged reason and does not acknowledge it", async function () {
    const { sys } = net;
    const registry = (await sys.coordinator.getAddress()) as Address;
    const salt = toHex(new Uint8Array(32).fill(9));
    const accountId = (await sys.coordinator.computeAccountId(sys.carol.address, salt)) as Hex;
    const committee = sys.guardians.slice(0, 3);
    const prepared = await prepareShardMap({
      chainId: sys.chainId,
      shardMapRegistry: registry,
      accountId,
      epoch: 1n,
      threshold: 2,
      securityPeriod: 3600,
      members: committee.map((g, k) => ({ operator: g.address, encryptionKey: toHex(g.hpke.publicKey), channelUri: channels[k] })),
    });
    const envelopes = [...prepared.envelopes];
    envelopes[0] = (envelopes[0].slice(0, -2) + (envelopes[0].endsWith("00") ? "01" : "00")) as Hex; // tampered for g1
    const params = { ...prepared.params, envelopes: packEntries(envelopes) };
    const receipt = await (await sys.coordinator.connect(sys.carol).link(salt, "0x0000000000000000000000000000000000000000", params)).wait();
    const mapId: bigint = findEvent(sys.coordinator, receipt, "ShardMapLinked").args.mapId;
    const line = await waitForLog(net.agents[0], `"mapId":"${mapId}"`, 20_000);
    expect(line).to.include("shard map refused: no acknowledgement");
    expect(line).to.include("DECRYPT_FAILED");
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await sys.coordinator.shardMap(mapId)).acknowledged !== 6n) await new Promise((r) => setTimeout(r, 200));
    const map = await sys.coordinator.shardMap(mapId);
    expect(map.acknowledged).to.equal(6n); // members 2 and 3 only
    expect(map.status).to.equal(1n); // still pending
  });

  it("hostile events of every kind are recorded as ignored with their reason; the next request is served, also after a restart", async function () {
    const { sys } = net;
    const registry = (await sys.coordinator.getAddress()) as Address;
    const [g1, g2, g3, g4, g5] = sys.guardians;
    const hostileMap = async (label: string, committee: typeof sys.guardians, tamper: (p: Awaited<ReturnType<typeof prepareShardMap>>) => Record<string, unknown>) => {
      const salt = toHex(new TextEncoder().encode(label.padEnd(32, ".")));
      const accountId = (await sys.coordinator.computeAccountId(sys.carol.address, salt)) as Hex;
      const prepared = await prepareShardMap({
        chainId: sys.chainId,
        shardMapRegistry: registry,
        accountId,
        epoch: 1n,
        threshold: 2,
        securityPeriod: 3600,
        members: committee.map((g, k) => ({ operator: g.address, encryptionKey: toHex(g.hpke.publicKey), channelUri: channels[k] })),
      });
      const receipt = await (await sys.coordinator.connect(sys.carol).link(salt, "0x0000000000000000000000000000000000000000", { ...prepared.params, ...tamper(prepared) })).wait();
      return findEvent(sys.coordinator, receipt, "ShardMapLinked").args.mapId as bigint;
    };
    // Everything the contract lets through: g1's envelope is 80 random bytes, g2's is empty, g3's is sound.
    const garbage = await hostileMap("hostile-envelopes", [g1, g2, g3], (p) => ({
      envelopes: packEntries([toHex(crypto.getRandomValues(new Uint8Array(80))), "0x", p.envelopes[2]]),
    }));
    // C_0 is sound (the contract refuses a zero one), C_1 is no field element at all.
    const malformed = await hostileMap("hostile-commitments", [g4, g5], (p) => ({
      commitments: (p.params.commitments.slice(0, 2 + 512) + "01".repeat(256)) as Hex,
    }));
    // Requester keys that are no X25519 keys, yet 32 non-zero bytes: u = 1, u = p − 1, u = p (≡ 0), all low order.
    const lowOrder: Hex[] = [toHex(Uint8Array.from([1, ...new Array(31).fill(0)])), `0xec${"ff".repeat(30)}7f`, `0xed${"ff".repeat(30)}7f`];
    const fee = (await sys.coordinator.parameters()).requestFee;
    const hostileRequests: bigint[] = [];
    for (const key of lowOrder) {
      const receipt = await (await sys.coordinator.connect(sys.bob).requestReset(account.accountId, sys.bob.address, key, { value: fee })).wait();
      hostileRequests.push(findEvent(sys.coordinator, receipt, "ResetRequested").args.requestId);
    }
    const legitimate = await request(sys.carol.address as Address);
    expect((await waitForFragments(legitimate.requestId, 5)).length).to.equal(5);
    for (const id of hostileRequests) expect(inbox.fragments(id)).to.deep.equal([]);

    const ignoredBy = (k: number) => {
      const a = net.agents[k];
      const store = new Store(join(a.dataDir, "guardian.db"), a.guardian.hpke.privateKey);
      try {
        return store.ignoredEvents(100).recent.map((i) => `${i.event} ${i.key} ${i.reason}`);
      } finally {
        store.close();
      }
    };
    const requestsIgnored = hostileRequests.map((id) => `ResetRequested requestId=${id} INVALID_INPUT`);
    expect(ignoredBy(0)).to.include.members([...requestsIgnored, `ShardMapLinked mapId=${garbage} DECRYPT_FAILED`]);
    expect(ignoredBy(1)).to.include.members([...requestsIgnored, `ShardMapLinked mapId=${garbage} INVALID_INPUT`]);
    expect(ignoredBy(2)).to.include.members(requestsIgnored);
    expect(ignoredBy(2).some((i) => i.includes(`mapId=${garbage} `))).to.equal(false); // g3's envelope was sound
    for (const k of [3, 4]) expect(ignoredBy(k)).to.include.members([...requestsIgnored, `ShardMapLinked mapId=${malformed} INVALID_ENCODING`]);
    const line = await waitForLog(net.agents[0], `"requestId":"${hostileRequests[0]}"`, 5_000);
    expect(line).to.include("chain event ignored").and.to.include('"reason":"INVALID_INPUT"').and.to.include("low-order point");
    const metrics = await (await fetch(`http://127.0.0.1:${net.agents[0].httpPort}/metrics`)).text();
    expect(metrics).to.include('cg_guardian_events_ignored_total{event="ResetRequested",reason="INVALID_INPUT"} 3');

    // After a restart that rescans every block, g1 handles none of them again and still serves the next request.
    const agent = net.agents[0];
    const before = ignoredBy(0).length;
    await stopAgent(agent);
    const from = agent.logs.length;
    startAgent(agent, { CG_REORG_WINDOW: "10000" });
    await waitForLog(agent, "guardian started", 30_000, from);
    const next = await request(sys.carol.address as Address);
    await waitForFragments(next.requestId, 5);
    expect(inbox.fragments(next.requestId).filter((f) => f.startsWith(`cg1.${next.requestId}.1.`))).to.have.length(1);
    expect(agent.logs.slice(from).filter((l) => l.includes("chain event ignored") || l.includes("shard map refused"))).to.deep.equal([]);
    expect(ignoredBy(0)).to.have.length(before);
  });

  it("exposes health and Prometheus metrics on loopback and keeps secrets out of its logs", async function () {
    const a = net.agents[0];
    const health = await (await fetch(`http://127.0.0.1:${a.httpPort}/healthz`)).json();
    expect(health.status).to.equal("ok");
    const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text();
    expect(metrics).to.match(/cg_guardian_requests_served_total \d+/);
    expect(metrics).to.match(/cg_guardian_deliveries_total\{channel="email",outcome="ok"\} \d+/);
    expect(metrics).to.include("cg_guardian_cursor_lag_blocks");
    const all = net.agents.flatMap((x) => x.logs).join("\n");
    for (const secret of [...channels, ...inbox.fragments(1n), "correct horse", "local-sms-token"]) expect(all).to.not.include(secret);
  });
});
