import { expect } from "chai";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync } from "node:sqlite";

import { type Address, createPublicClient, encodeErrorResult, http } from "viem";

import { classifyHandlerFailure } from "../../../guardian/core/failures.ts";
import { guardianRegistryAbi } from "../../../sdk/abi/index.ts";
import { CGError } from "../../../sdk/errors.ts";
import { computePartial, deal } from "../../../sdk/crypto/threshold.ts";
import { sealPeerReply } from "../../../sdk/protocol/peer.ts";

const REGISTRY: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** A JSON-RPC endpoint on loopback that answers every request with `answer` (or never, when it is undefined). */
async function rpcServer(answer?: (id: unknown) => unknown): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (answer === undefined) return; // hangs: the client times out
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", ...(answer(JSON.parse(body).id) as object) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return { url, close };
}

/** What a handler's chain read throws against `url` (the real viem error, with its cause chain). */
async function readFails(url: string): Promise<unknown> {
  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 300 }) });
  try {
    await client.readContract({ address: REGISTRY, abi: guardianRegistryAbi, functionName: "isEligible", args: [REGISTRY] });
  } catch (e) {
    return e;
  }
  throw new Error("the read was expected to fail");
}

describe("guardian/core/failures", function () {
  it("puts a node that is down, hangs, rate-limits or answers nothing down to the chain: the event is tried again", async function () {
    const closed = await rpcServer(() => ({}));
    await closed.close();
    expect(classifyHandlerFailure(await readFails(closed.url))).to.deep.equal({ retry: true, boundary: "chain" });

    const hanging = await rpcServer();
    const limited = await rpcServer((id) => ({ id, error: { code: -32005, message: "rate limited" } }));
    const empty = await rpcServer((id) => ({ id, result: "0x" }));
    try {
      for (const url of [hanging.url, limited.url, empty.url]) {
        expect(classifyHandlerFailure(await readFails(url)), url).to.deep.equal({ retry: true, boundary: "chain" });
      }
    } finally {
      await Promise.all([hanging.close(), limited.close(), empty.close()]);
    }
    expect(classifyHandlerFailure(new CGError("CHAIN_UNAVAILABLE", "x"))).to.deep.equal({ retry: true, boundary: "chain" });
    expect(classifyHandlerFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).to.deep.equal({ retry: true, boundary: "chain" });
  });

  it("puts a failing local database down to the store: the event is tried again", function () {
    const db = new DatabaseSync(":memory:");
    let sqlite: unknown;
    try {
      db.exec("INSERT INTO missing_table VALUES (1)");
    } catch (e) {
      sqlite = e;
    }
    expect(classifyHandlerFailure(sqlite)).to.deep.equal({ retry: true, boundary: "store" });
    expect(classifyHandlerFailure(new CGError("STORE_FAILED", "x"))).to.deep.equal({ retry: true, boundary: "store" });
  });

  it("puts a revert, a refused input or any other exception down to the event's content, with a short reason", async function () {
    const reverting = await rpcServer((id) => ({
      id,
      error: { code: 3, message: "execution reverted", data: encodeErrorResult({ abi: guardianRegistryAbi, errorName: "GuardianNotRegistered", args: [REGISTRY] }) },
    }));
    try {
      expect(classifyHandlerFailure(await readFails(reverting.url))).to.deep.equal({ retry: false, reason: "CONTRACT_REVERTED" });
    } finally {
      await reverting.close();
    }
    const d = deal(2, 2);
    const lowOrder = Uint8Array.from([1, ...new Array(31).fill(0)]);
    // A peer reply sealed to a low-order "HPKE key" is refused by X25519: content, not infrastructure.
    const refused = await sealPeerReply(lowOrder, { chainId: 1n, coordinator: REGISTRY, accountId: `0x${"11".repeat(32)}`, accountEpoch: 1n, slot: 2, signer: 1 }, computePartial(d.shares[0], new Uint8Array(32)).sigma).catch((e) => e);
    expect(classifyHandlerFailure(refused)).to.deep.equal({ retry: false, reason: "INVALID_INPUT" });
    expect(classifyHandlerFailure(new CGError("INVALID_SHARE", "x"))).to.deep.equal({ retry: false, reason: "INVALID_SHARE" });
    expect(classifyHandlerFailure(new TypeError("Cannot read properties of undefined"))).to.deep.equal({ retry: false, reason: "UNEXPECTED_ERROR" });
    expect(classifyHandlerFailure("a string")).to.deep.equal({ retry: false, reason: "UNEXPECTED_ERROR" });
    // A content error that merely mentions a network word is still content.
    expect(classifyHandlerFailure(new CGError("INVALID_INPUT", "ETIMEDOUT in the payload"))).to.deep.equal({ retry: false, reason: "INVALID_INPUT" });
  });
});
