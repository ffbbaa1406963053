/**
 * The guardian database's size per account (guardian/store.ts, node:sqlite): a member keeps one sealed channel per
 * account slot it serves (one per account of each committee it is in). Stored through the Store's own `putChannel`,
 * in transactions of 1,000 (the size does not depend on how the inserts are grouped), then checkpointed; the file
 * size is page_count × page_size.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { toHex } from "viem";

import { Store } from "../../guardian/store.ts";

export interface DatabaseResult {
  accounts: number;
  emptyBytes: number;
  bytes: number;
  bytesPerAccount: number;
}

export function fileBytes(store: Store): number {
  store.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const { page_count } = store.db.prepare("PRAGMA page_count").get() as { page_count: number };
  const { page_size } = store.db.prepare("PRAGMA page_size").get() as { page_size: number };
  return page_count * page_size;
}

export function measureDatabase(accounts: number, progress: (line: string) => void): DatabaseResult {
  const dir = mkdtempSync(join(tmpdir(), "cg-scale-db-"));
  const store = new Store(join(dir, "guardian.db"), crypto.getRandomValues(new Uint8Array(32)));
  try {
    const emptyBytes = fileBytes(store);
    for (let start = 0; start < accounts; start += 1_000) {
      store.transaction(() => {
        for (let k = start; k < Math.min(accounts, start + 1_000); k++) {
          // A random account id (a keccak256 in practice) and a channel URI of a typical length.
          store.putChannel(toHex(crypto.getRandomValues(new Uint8Array(32))), 1n, 2, `mailto:owner${k}@example.org`, "envelope");
        }
      });
      if ((start + 1_000) % 10_000 === 0) progress(`database: ${Math.min(start + 1_000, accounts)}/${accounts} accounts stored`);
    }
    const bytes = fileBytes(store);
    return { accounts, emptyBytes, bytes, bytesPerAccount: (bytes - emptyBytes) / accounts };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
