import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { pino } from "pino";
import { type Chain, type Hex, type PublicClient, TransactionReceiptNotFoundError, type WalletClient, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import type { GuardianConfig } from "../../guardian/config.ts";
import { createMetrics } from "../../guardian/metrics.ts";
import type { PeerApi } from "../../guardian/peer.ts";
import { ResetWork } from "../../guardian/resets.ts";
import { Store } from "../../guardian/store.ts";
import { G1, g1ToEip2537 } from "../../sdk/crypto/bls.ts";
import { deal, randomScalar } from "../../sdk/crypto/threshold.ts";

/** The agent's posting pipeline (guardian/resets.ts) against a chain answered in memory whose receipts wait. */
describe("guardian postings: batches are sent while earlier ones wait for their receipts", function () {
  this.timeout(30_000);
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cg-postings-"));
    store = new Store(join(dir, "guardian.db"), new Uint8Array(32).fill(3));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a posting made while a transaction waits for its receipt goes out in the next pass; one in flight is not sent again", async () => {
    const SLOT = 2;
    const operator = privateKeyToAccount(generatePrivateKey());
    store.putCommitteeShare("1", 1, SLOT, deal(5, 3).shares[SLOT - 1].value, "0x");
    const keys = new Map<bigint, Hex>();
    const event = (k: number) => {
      const requesterKey = toHex(g1ToEip2537(G1.BASE.multiply(randomScalar())));
      keys.set(BigInt(k), requesterKey);
      store.putChannel(toHex(k, { size: 32 }), 1n, SLOT, `mailto:owner${k}@example.org`, "envelope");
      return { requestId: BigInt(k), accountId: toHex(k, { size: 32 }), committeeId: 1n, accountEpoch: 1n, newController: operator.address, drill: false, requesterKey, expiresAt: 10n ** 12n };
    };
    const mined = new Set<Hex>();
    const publicClient = {
      readContract: async ({ functionName }: { functionName: string }) => {
        if (functionName === "committee") return { activeEpoch: 1n, threshold: 3 };
        return { expired: false, voided: false, status: 1, postingEpoch: 0n, posted: 0n };
      },
      getLogs: async ({ args }: { args: { requestId: bigint } }) => [{ removed: false, args: { requesterKey: keys.get(args.requestId) } }],
      getTransactionReceipt: async ({ hash }: { hash: Hex }) => {
        if (!mined.has(hash)) throw new TransactionReceiptNotFoundError({ hash });
        return { status: "success", blockNumber: 2n, gasUsed: 0n };
      },
      getTransaction: async () => ({}), // known to the node: pending
      getBlock: async () => ({ timestamp: 1n }),
    } as unknown as PublicClient;
    const sent: { hash: Hex; requests: string[] }[] = [];
    const wallet = {
      writeContract: async ({ functionName, args }: { functionName: string; args: any[] }) => {
        const inputs = functionName === "postPartials" ? args[0] : [args[0]];
        const hash = toHex(sent.length + 1, { size: 32 });
        sent.push({ hash, requests: inputs.map((i: { requestId: bigint }) => i.requestId.toString()) });
        return hash;
      },
    } as unknown as WalletClient;
    const failures: unknown[] = [];
    const config = { coordinator: operator.address, committees: operator.address, confirmations: 1, reorgWindow: 64, pollIntervalMs: 50 } as unknown as GuardianConfig;
    const work = new ResetWork({
      config,
      store,
      operator,
      hpkeSecret: new Uint8Array(32),
      channels: {},
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      publicClient,
      wallet,
      chain: { id: 31337 } as Chain,
      peer: {} as PeerApi,
      wake: () => {},
      fail: (_job, e) => void failures.push(e),
      tip: () => ({ number: 1n, time: 1n }),
    });
    const onRequested = work.handlers().ResetRequested.run;
    try {
      await onRequested(event(1), 1n);
      await onRequested(event(2), 1n);
      await work.drainPostings();
      expect(sent.map((s) => s.requests)).to.deep.equal([["1", "2"]]);
      // Its receipt has not come: a new posting goes out alone, the two in flight are not sent again.
      await onRequested(event(3), 1n);
      await work.drainPostings();
      await work.drainPostings();
      expect(sent.map((s) => s.requests)).to.deep.equal([["1", "2"], ["3"]]);
      expect(store.jobStatus(`post:1:${SLOT}:1`)).to.equal("pending");
      // The receipts come: every posting is done and its delivery queued, nothing failed.
      for (const s of sent) mined.add(s.hash);
      await work.settled();
      expect(failures).to.deep.equal([]);
      for (const k of [1, 2, 3]) {
        expect(store.jobStatus(`post:${k}:${SLOT}:1`)).to.equal("done");
        expect(store.jobStatus(`deliver:${k}:${SLOT}:1`)).to.equal("pending");
      }
      expect(sent).to.have.length(2);
    } finally {
      work.stop();
      await work.settled();
    }
  });
});
