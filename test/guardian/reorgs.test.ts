import { expect } from "chai";
import { type Address, type Hex, concatHex, keccak256, toHex } from "viem";

import { G1, G2, g1ToEip2537, g2ToEip2537 } from "../../sdk/crypto/bls.ts";
import { rpc } from "../../scripts/lib/localNode.ts";
import { type GuardianNetwork, agentsFormCommittee, startGuardianNetwork, until, waitForLog } from "../helpers/guardianNetwork.ts";
import { Inbox } from "../helpers/localServices.ts";
import { type Linked, type OpenRequest, assemble, groupKeyHex, linkToCommittee, postingsOf, request } from "../helpers/resetClient.ts";
import { toBytes32 } from "../helpers/system.ts";

/**
 * Real reorgs on anvil (`anvil_reorg`: the last `depth` blocks replaced by new ones holding the transactions given,
 * the others dropped), with five agents as processes acting on logs two blocks deep. The test mines by hand around each
 * reorg, so it knows which block holds what: the request, the agents' postings.
 */
describe("guardian agents under real reorgs (anvil)", function () {
  this.timeout(180_000);
  const inbox = new Inbox();
  let net: GuardianNetwork;
  let commitments: Hex;
  let account: Linked;

  const call = <T = unknown>(method: string, params: unknown[] = []) => rpc<T>(net.node.url, method, params);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const codesOf = (r: OpenRequest) => inbox.codes(r.requestId);
  const slotsOf = (codes: string[], r: OpenRequest) => codes.map((c) => Number(c.slice(`cg2.${r.requestId}.`.length).split(".")[0])).sort();
  const head = async () => BigInt(await call<Hex>("eth_blockNumber"));
  const mine = async (blocks = 1) => void (await call("anvil_mine", [toHex(blocks)]));
  const pooled = async () => Number(BigInt((await call<{ pending: Hex }>("txpool_status")).pending));
  /** Blocks only when the test mines them. */
  const byHand = async () => {
    await net.node.setIntervalMining(0);
    await call("evm_setAutomine", [false]);
  };
  const resume = () => net.node.setIntervalMining(250);
  const postingCount = (r: OpenRequest) => net.agents.map((a) => a.logs.filter((l) => l.includes('"partial posted"') && l.includes(`"${r.requestId}"`)).length);

  before(async function () {
    net = await startGuardianNetwork(inbox, { node: "anvil", guardians: 5, confirmations: 2 });
    const { sys } = net;
    const formed = await agentsFormCommittee(sys, sys.guardians, 3);
    commitments = formed.commitments;
    const channels = ["mailto:alice@example.org", "sms:+15550000001", `${net.appUrl}/alice`, "mailto:alice.backup@example.org", "sms:+15550000002"];
    account = await linkToCommittee(sys, sys.alice, formed.committeeId, sys.guardians, commitments, channels, toBytes32("alice-reorg"));
    for (const a of net.agents) await waitForLog(a, "account slot served: channel stored", 20_000);
  });

  afterEach(async function () {
    await resume();
  });

  after(async function () {
    await net?.close();
  });

  async function completes(r: OpenRequest) {
    const codes = codesOf(r);
    const assembled = await assemble(net.sys, r, codes, new Map([[1, commitments]]));
    expect(assembled.problems).to.deep.equal([]);
    await (await net.sys.coordinator.completeReset(r.requestId, keccak256(r.A), assembled.tokenHex, groupKeyHex(commitments))).wait();
    expect((await net.sys.coordinator.reset(r.requestId)).status).to.equal(2n); // Approved
  }

  it("runs osaka: the EIP-2537 pairing precompile checks e(P, Q) · e(−P, Q) = 1", async function () {
    const pair = (p: typeof G1.BASE, q: typeof G2.BASE) => concatHex([toHex(g1ToEip2537(p)), toHex(g2ToEip2537(q))]);
    const p = G1.BASE.multiply(7n);
    const q = G2.BASE.multiply(11n);
    const ok = await call<Hex>("eth_call", [{ to: "0x000000000000000000000000000000000000000f", data: concatHex([pair(p, q), pair(p.negate(), q)]) }, "latest"]);
    const no = await call<Hex>("eth_call", [{ to: "0x000000000000000000000000000000000000000f", data: concatHex([pair(p, q), pair(p, q)]) }, "latest"]);
    expect([BigInt(ok), BigInt(no)]).to.deep.equal([1n, 0n]);
  });

  it("a reorg drops the block of the postings before they are confirmed: each agent posts again, one posting per slot stays, each code is delivered once", async function () {
    const { sys } = net;
    await byHand();
    const r = await request(sys, account, sys.bob, sys.carol.address as Address, { mine: () => mine() });
    await mine(); // the request is two blocks deep: the agents serve it
    await until("five postings sent", async () => (await pooled()) >= 5, 30_000);
    await mine(); // the postings, one block deep
    const postedAt = await head();
    expect(await postingsOf(sys, r.requestId)).to.have.length(5);
    await sleep(1_500);
    expect(codesOf(r)).to.deep.equal([]); // no code before its posting is confirmed
    const dropped = (await call<{ hash: Hex }>("eth_getBlockByNumber", [toHex(postedAt), false])).hash;
    await call("anvil_reorg", [1, []]);
    expect((await call<{ hash: Hex }>("eth_getBlockByNumber", [toHex(postedAt), false])).hash).to.not.equal(dropped);
    expect(await postingsOf(sys, r.requestId)).to.deep.equal([]);
    await until("the postings sent again", async () => (await pooled()) >= 5, 30_000);
    await resume();
    await until("five codes", async () => codesOf(r).length >= 5, 30_000);
    await sleep(1_500);
    const postings = await postingsOf(sys, r.requestId);
    expect(postings.map((p) => p.slot).sort()).to.deep.equal([1, 2, 3, 4, 5]);
    expect(postings.every((p) => p.message === r.message)).to.equal(true);
    expect(slotsOf(codesOf(r), r)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(postingCount(r)).to.deep.equal([2, 2, 2, 2, 2]); // each agent posted, saw it dropped, posted again
    await completes(r);
  });

  it("a reorg drops a request the agents served (its postings one block deep): no posting and no code left for it; the request that takes its id is served once", async function () {
    const { sys } = net;
    await byHand();
    const from = net.agents.map((a) => a.logs.length);
    const gone = await request(sys, account, sys.bob, sys.carol.address as Address, { mine: () => mine() });
    await mine();
    await until("five postings sent", async () => (await pooled()) >= 5, 30_000);
    await mine();
    expect(await postingsOf(sys, gone.requestId)).to.have.length(5);
    await call("anvil_reorg", [3, []]); // the request's block, the next, and the postings' block
    expect(await postingsOf(sys, gone.requestId)).to.deep.equal([]);
    expect((await sys.coordinator.reset(gone.requestId)).status).to.equal(0n); // no such request
    await mine(2);
    await Promise.all(net.agents.map((a, k) => waitForLog(a, "the processed block changed (reorg)", 20_000, from[k])));
    await resume();
    await sleep(1_500);
    expect(await postingsOf(sys, gone.requestId)).to.deep.equal([]);
    expect(codesOf(gone)).to.deep.equal([]);
    const next = await request(sys, account, sys.bob, sys.bob.address as Address);
    expect(next.requestId).to.equal(gone.requestId);
    await until("five codes", async () => codesOf(next).length >= 5, 30_000);
    await sleep(1_500);
    const postings = await postingsOf(sys, next.requestId);
    expect(postings.map((p) => p.slot).sort()).to.deep.equal([1, 2, 3, 4, 5]);
    expect(postings.every((p) => p.message === next.message)).to.equal(true); // none for the dropped request's m
    expect(slotsOf(codesOf(next), next)).to.deep.equal([1, 2, 3, 4, 5]);
    await completes(next);
  });

  it("a reorg moves a served request to a later block: it is served with the same postings and codes, none lost, none delivered twice", async function () {
    const { sys } = net;
    await byHand();
    const from = net.agents.map((a) => a.logs.length);
    const r = await request(sys, account, sys.bob, sys.carol.address as Address, { mine: () => mine() });
    const raw = await call<Hex>("eth_getRawTransactionByHash", [r.hash]);
    await mine();
    await until("five postings sent", async () => (await pooled()) >= 5, 30_000);
    await mine();
    const first = await postingsOf(sys, r.requestId);
    expect(first).to.have.length(5);
    const requestBlock = BigInt(r.blockNumber);
    // Three new blocks in place of the request's, the next and the postings': the request in the second of them.
    await call("anvil_reorg", [3, [[raw, 1]]]);
    const moved = await sys.ethers.provider.getTransactionReceipt(r.hash);
    expect(BigInt(moved!.blockNumber)).to.equal(requestBlock + 1n);
    expect(await postingsOf(sys, r.requestId)).to.deep.equal([]);
    await mine();
    await Promise.all(net.agents.map((a, k) => waitForLog(a, "the processed block changed (reorg)", 20_000, from[k])));
    await resume();
    await until("five codes", async () => codesOf(r).length >= 5, 30_000);
    await sleep(1_500);
    const postings = await postingsOf(sys, r.requestId);
    expect(postings.map((p) => p.slot).sort()).to.deep.equal([1, 2, 3, 4, 5]);
    // The same postings as before the reorg: the same codes stand behind them.
    expect(postings.map((p) => p.posting).sort()).to.deep.equal(first.map((p) => p.posting).sort());
    expect(slotsOf(codesOf(r), r)).to.deep.equal([1, 2, 3, 4, 5]);
    await completes(r);
  });
});
