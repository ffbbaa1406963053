import { expect } from "chai";
import { type Address, type Hex, hexToBytes, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { PEER_PATH } from "../../guardian/core/peerWire.ts";
import { channelIdentity, decodeCommitments, openPeerReply, peerRequestToJson, signPeerRequest, verifyPartial } from "../../sdk/index.ts";
import { startHandover } from "../helpers/committees.ts";
import {
  type GuardianNetwork,
  agentsFormCommittee,
  defaultAccountKey,
  driveAgentRound,
  passDeadline,
  startAgent,
  startGuardianNetwork,
  stopAgent,
  until,
  waitForLog,
} from "../helpers/guardianNetwork.ts";
import { Inbox } from "../helpers/localServices.ts";
import { type Linked, type OpenRequest, assemble, groupKeyHex, linkToCommittee, postingsOf, request } from "../helpers/resetClient.ts";
import { ONE_ETH, toBytes32 } from "../helpers/system.ts";

/**
 * Guardian agents as processes against a local node (hardhat node, and anvil as a second EVM), with real SMTP, SMS and app servers on 127.0.0.1: the agents
 * form a 3-of-5 committee themselves, the owner links in one transaction, and every reset is served by postings
 * on-chain and codes on the channels; the test only plays the owner (SDK pure functions and contract calls).
 */
for (const node of ["hardhat", "anvil"] as const) describe(`guardian agents serve v2 resets as processes against ${node === "anvil" ? "anvil" : "a hardhat node"}`, function () {
  this.timeout(240_000);
  const inbox = new Inbox();
  let net: GuardianNetwork;
  let committeeId: bigint;
  let commitments: Hex;
  let account: Linked;

  const codesOf = (r: OpenRequest) => inbox.codes(r.requestId);
  async function waitForCodes(r: OpenRequest, count: number, timeoutMs = 30_000) {
    return until(`${count} codes for request ${r.requestId}`, async () => codesOf(r).length >= count && codesOf(r), timeoutMs);
  }

  /** Assembles from the codes with the public shares of `epochs` (committee epoch → commitments) and completes. */
  async function complete(r: OpenRequest, codes: string[], epochs: ReadonlyMap<number, Hex> = new Map([[1, commitments]])) {
    const assembled = await assemble(net.sys, r, codes, epochs);
    expect(assembled.problems).to.deep.equal([]);
    await (await net.sys.coordinator.completeReset(r.requestId, keccak256(r.A), assembled.tokenHex, groupKeyHex(commitments))).wait();
    return assembled;
  }

  before(async function () {
    net = await startGuardianNetwork(inbox, { node, guardians: 6, confirmations: 2 });
    const { sys } = net;
    const members = sys.guardians.slice(0, 5);
    ({ committeeId, commitments } = await agentsFormCommittee(sys, members, 3));
    const channels = ["mailto:alice@example.org", "sms:+15550000001", `${net.appUrl}/alice`, "mailto:alice.backup@example.org", "sms:+15550000002"];
    account = await linkToCommittee(sys, sys.alice, committeeId, members, commitments, channels, toBytes32("alice-v2"));
    // Every member opened its envelope and keeps the channel.
    for (const a of net.agents.slice(0, 5)) await waitForLog(a, "account slot served: channel stored", 20_000);
  });

  after(async function () {
    await net?.close();
  });

  it("a reset is served: five postings that verify, codes on every channel kind, a token that completes; request → code latency measured", async function () {
    const t0 = Date.now();
    const r = await request(net.sys, account, net.sys.bob, net.sys.carol.address as Address);
    const codes = await waitForCodes(r, 5);
    const latency = inbox.messages.filter((m) => m.text.includes(`cg2.${r.requestId}.`)).map((m) => m.at - t0);
    if (process.env.CG_TEST_TIMING) console.log(`request → code accepted (ms): ${latency.sort((x, y) => x - y).join(", ")}`);
    const kinds = new Set(inbox.messages.filter((m) => m.text.includes(`cg2.${r.requestId}.`)).map((m) => m.channel));
    expect([...kinds].sort()).to.deep.equal(["app", "email", "sms"]);
    const postings = await postingsOf(net.sys, r.requestId);
    expect(postings.map((p) => p.slot).sort()).to.deep.equal([1, 2, 3, 4, 5]);
    expect(postings.every((p) => p.message === r.message && p.committeeEpoch === 1)).to.equal(true);
    await complete(r, codes);
    expect((await net.sys.coordinator.reset(r.requestId)).status).to.equal(2n); // Approved
  });

  it("a drill is served like a reset, says so, and verifies", async function () {
    const r = await request(net.sys, account, net.sys.alice);
    const codes = await waitForCodes(r, 5);
    expect(inbox.messages.filter((m) => m.text.includes(`cg2.${r.requestId}.`)).every((m) => /drill/i.test(m.text))).to.equal(true);
    await complete(r, codes);
    expect((await net.sys.coordinator.reset(r.requestId)).status).to.equal(5n); // DrillVerified
  });

  it("SIGKILL between posting and delivering: one posting and one delivery after the restart", async function () {
    const g2 = net.agents[1];
    await stopAgent(g2);
    startAgent(g2, { CG_FAILPOINTS: "serve.after-post" });
    await waitForLog(g2, "guardian started", 30_000, g2.logs.length - 1);
    const r = await request(net.sys, account, net.sys.bob, net.sys.carol.address as Address);
    expect((await g2.exited!).signal).to.equal("SIGKILL");
    await waitForCodes(r, 4);
    expect((await postingsOf(net.sys, r.requestId)).some((p) => p.slot === 2)).to.equal(true); // posted before dying
    expect(codesOf(r).some((c) => c.startsWith(`cg2.${r.requestId}.2.`))).to.equal(false);
    startAgent(g2);
    const codes = await waitForCodes(r, 5);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(codesOf(r).filter((c) => c.startsWith(`cg2.${r.requestId}.2.`))).to.have.length(1);
    expect((await postingsOf(net.sys, r.requestId)).filter((p) => p.slot === 2)).to.have.length(1);
    await complete(r, codes);
  });

  it("with n − t agents down the reset still completes", async function () {
    const [, , , g4, g5] = net.agents;
    await Promise.all([stopAgent(g4), stopAgent(g5)]);
    try {
      const r = await request(net.sys, account, net.sys.bob, net.sys.carol.address as Address);
      const codes = await waitForCodes(r, 3);
      const assembled = await complete(r, codes);
      expect(assembled.slotsUsed).to.deep.equal([1, 2, 3]);
    } finally {
      startAgent(g4);
      startAgent(g5);
    }
  });

  it("an SMTP outage: the e-mail code is delivered once the server is back", async function () {
    await net.stopSmtp();
    const r = await request(net.sys, account, net.sys.bob, net.sys.carol.address as Address);
    await waitForCodes(r, 3); // sms, app, sms
    await waitForLog(net.agents[0], /job failed; will retry/, 20_000);
    expect(codesOf(r).some((c) => c.startsWith(`cg2.${r.requestId}.1.`))).to.equal(false);
    await net.startSmtp();
    await waitForCodes(r, 5, 30_000);
    expect(codesOf(r).filter((c) => c.startsWith(`cg2.${r.requestId}.1.`))).to.have.length(1);
  });

  it("a delivery still failing when its request expires is dropped, not retried into a dead letter, and never sent", async function () {
    const g1 = net.agents[0];
    const from = g1.logs.length;
    const health = async () => (await (await fetch(`http://127.0.0.1:${g1.httpPort}/healthz`)).json()) as { dead: number; dropped: number };
    const before = await health();
    await net.stopSmtp();
    const r = await request(net.sys, account, net.sys.bob, net.sys.carol.address as Address);
    await waitForCodes(r, 3);
    await waitForLog(g1, /job failed; will retry/, 20_000, from);
    await passDeadline(net.sys, (await net.sys.coordinator.reset(r.requestId)).expiresAt);
    const dropped = await waitForLog(g1, "job dropped", 20_000, from);
    expect(JSON.parse(dropped)).to.include({ job: `deliver:${r.requestId}:1:1`, reason: "expired" });
    await net.startSmtp();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(codesOf(r).some((c) => c.startsWith(`cg2.${r.requestId}.1.`))).to.equal(false);
    const after = await health();
    expect([after.dead, after.dropped]).to.deep.equal([before.dead, before.dropped + 1]);
  });

  it("a request removed by a reorg gets no posting; the request that replaces it does", async function () {
    const provider = net.sys.connection.provider;
    await net.node.setIntervalMining(0);
    const snapshot = await provider.request({ method: "evm_snapshot", params: [] });
    const gone = await request(net.sys, account, net.sys.bob, net.sys.carol.address as Address); // one confirmation, agents need two
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await provider.request({ method: "evm_revert", params: [snapshot] });
    await net.node.setIntervalMining(250);
    const next = await request(net.sys, account, net.sys.bob, net.sys.bob.address as Address);
    expect(next.requestId).to.equal(gone.requestId); // the id is reused by the request that exists
    await waitForCodes(next, 5);
    const postings = await postingsOf(net.sys, next.requestId);
    expect(postings).to.have.length(5);
    expect(postings.every((p) => p.message === next.message)).to.equal(true); // none for the removed request's m
  });

  it("the peer API refuses an asker who does not hold the slot (nothing revealed) and serves one who does", async function () {
    const { sys } = net;
    const coordinator = (await sys.coordinator.getAddress()) as Address;
    const target = net.agents[0];
    const ask = async (key: Hex, slot: number, askerKey: Hex) => {
      const req = { chainId: sys.chainId, coordinator, accountId: account.accountId, accountEpoch: 1n, slot, committeeId, askerKey, issuedAt: BigInt(Math.floor(Date.now() / 1000)) };
      const body = peerRequestToJson(await signPeerRequest(privateKeyToAccount(key), req));
      const res = await fetch(`http://127.0.0.1:${target.peerPort}${PEER_PATH}`, { method: "POST", body });
      return { status: res.status, body: await res.text() };
    };
    const g6 = sys.guardians[5]; // registered, not a member
    const refusedOutsider = await ask(defaultAccountKey(6 + 5), 2, toHex(g6.hpke.publicKey));
    const g3 = sys.guardians[2]; // a member, but of slot 3, asking for slot 2
    const refusedWrongSlot = await ask(defaultAccountKey(6 + 2), 2, toHex(g3.hpke.publicKey));
    expect([refusedOutsider, refusedWrongSlot]).to.deep.equal([
      { status: 403, body: '{"error":"refused"}' },
      { status: 403, body: '{"error":"refused"}' },
    ]);
    const g2 = sys.guardians[1];
    const served = await ask(defaultAccountKey(6 + 1), 2, toHex(g2.hpke.publicKey));
    expect(served.status).to.equal(200);
    const reply = JSON.parse(served.body);
    expect(reply.signer).to.equal(1);
    const sigma = await openPeerReply(g2.hpke.privateKey, { chainId: sys.chainId, coordinator, accountId: account.accountId, accountEpoch: 1n, slot: 2, signer: 1 }, hexToBytes(reply.sealed));
    const id = channelIdentity(sys.chainId, coordinator, account.accountId, 1n, 2);
    expect(verifyPartial({ index: 1, sigma }, decodeCommitments(commitments), hexToBytes(id))).to.equal(true);
  });

  it("a handover in the middle of a reset: the new epoch's members (a newcomer learning its channel from peers) complete it with partials of one epoch", async function () {
    const { sys } = net;
    // Slots 3, 4, 5 stay silent on resets: epoch 1 gets only two postings.
    for (const a of net.agents.slice(2, 5)) {
      await stopAgent(a);
      startAgent(a, { CG_FAILPOINTS: "serve.none" });
      await waitForLog(a, "guardian started", 30_000, a.logs.length - 1);
    }
    const r = await request(sys, account, sys.bob, sys.carol.address as Address);
    await until("two epoch-1 postings", async () => (await postingsOf(sys, r.requestId)).length === 2);
    await (await sys.registry.connect(sys.guardians[3].signer).startUnbonding(ONE_ETH / 2n)).wait(); // g4 leaves slot 4
    const { ev } = await startHandover(sys, committeeId);
    const epoch = Number(ev.args.epoch);
    expect((ev.args.members as string[])[3]).to.equal(sys.guardians[5].address); // g6 takes slot 4
    const newCommitments = await driveAgentRound(sys, committeeId, BigInt(epoch), 4);
    await until("three postings of the new epoch", async () => (await postingsOf(sys, r.requestId)).filter((p) => p.committeeEpoch === epoch).length >= 3, 60_000);
    await waitForLog(net.agents[5], "channel learned from peers", 30_000);
    const codes = await until("codes of the new epoch", async () => {
      const c = codesOf(r);
      return c.filter((x) => x.startsWith(`cg2.${r.requestId}.4.`)).length === 1 && c.length >= 5 && c;
    });
    const assembled = await complete(r, codes, new Map([[1, commitments], [epoch, newCommitments]]));
    expect([assembled.epoch, assembled.slotsUsed]).to.deep.equal([epoch, [1, 2, 4]]);
    const posted = await postingsOf(sys, r.requestId);
    expect(posted.filter((p) => p.committeeEpoch === 1).map((p) => p.slot).sort()).to.deep.equal([1, 2]);
  });

  it("keeps channel URIs and codes out of every log line", async function () {
    const all = net.agents.flatMap((x) => x.logs).join("\n");
    for (const secret of [...account.channels, ...inbox.messages.flatMap((m) => (/cg2\.[0-9]+\.[0-9]+\.[0-9A-Z]+/.exec(m.text) ?? [])), "correct horse", "local-sms-token"]) {
      expect(all).to.not.include(secret);
    }
  });
});
