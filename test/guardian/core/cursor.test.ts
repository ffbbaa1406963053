import { expect } from "chai";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { type Hex, createPublicClient, http } from "viem";

import { cursorIntact } from "../../../guardian/core/cursor.ts";

const STORED = { block: 10n, hash: `0x${"aa".repeat(32)}` as Hex };
const OTHER = `0x${"bb".repeat(32)}` as Hex;

/** A JSON-RPC endpoint on loopback whose eth_getBlockByNumber answers `answer` (a result, or an error object). */
async function rpcServer(answer: { result?: unknown; error?: unknown }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, ...answer })));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())),
  };
}

function block(hash: Hex, number = 10n) {
  const word = `0x${"00".repeat(32)}`;
  return {
    number: `0x${number.toString(16)}`, hash, parentHash: word, nonce: "0x0000000000000000", sha3Uncles: word, logsBloom: `0x${"00".repeat(256)}`,
    transactionsRoot: word, stateRoot: word, receiptsRoot: word, miner: `0x${"00".repeat(20)}`, difficulty: "0x0", totalDifficulty: "0x0", extraData: "0x",
    size: "0x0", gasLimit: "0x0", gasUsed: "0x0", timestamp: "0x1", transactions: [], uncles: [], baseFeePerGas: "0x1",
  };
}

/** The agent's reorg check reads the stored block through viem, as the agent does (retries off to keep it short). */
async function check(answer: { result?: unknown; error?: unknown }, head = { number: 12n, parentHash: OTHER }) {
  const server = await rpcServer(answer);
  try {
    const client = createPublicClient({ transport: http(server.url, { retryCount: 0 }) });
    return await cursorIntact(STORED, head, (n) => client.getBlock({ blockNumber: n }));
  } finally {
    await server.close();
  }
}

describe("guardian core: is the cursor's block still the chain's (reorg check)", function () {
  it("the head right after the cursor decides by its parent hash, without a read", async function () {
    const never = () => Promise.reject(new Error("no read expected"));
    expect(await cursorIntact(STORED, { number: 11n, parentHash: STORED.hash }, never)).to.equal(true);
    expect(await cursorIntact(STORED, { number: 11n, parentHash: OTHER }, never)).to.equal(false);
  });

  it("a stored block read back with its hash is intact; with another hash, or gone from a shorter chain, it changed", async function () {
    expect(await check({ result: block(STORED.hash) })).to.equal(true);
    expect(await check({ result: block(OTHER) })).to.equal(false);
    expect(await check({ result: null })).to.equal(false); // viem: BlockNotFoundError
  });

  it("a read the node fails (an RPC error) is no reorg: the check fails, so the poll looks again instead of rewinding and forgetting pending deliveries", async function () {
    let failure: unknown;
    await check({ error: { code: -32603, message: "internal error" } }).then(
      (intact) => expect.fail(`expected the check to fail, it answered ${intact}`),
      (e) => (failure = e),
    );
    expect(String((failure as Error).message)).to.match(/internal error/i);
    await check({ error: { code: -32005, message: "limit exceeded" } }).then(
      (intact) => expect.fail(`expected the check to fail, it answered ${intact}`),
      () => undefined,
    );
  });
});
