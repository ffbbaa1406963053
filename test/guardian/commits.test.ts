import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Store } from "../../guardian/store.ts";
import { measureServing } from "../../scripts/scale/serving.ts";

/** The agent's database commits (each an fsync on its one thread) are grouped by pass, not made per request per step. */
describe("guardian store: commits grouped by pass", function () {
  this.timeout(60_000);
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cg-commits-"));
    store = new Store(join(dir, "guardian.db"), new Uint8Array(32).fill(7));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a batch writes all its deferred writes in one commit, and nothing before its flush", () => {
    const before = store.commits;
    const batch = store.batch();
    for (let k = 0; k < 5; k++) batch.later(() => store.enqueue(`post:${k}:1:1`, "post", { k }));
    expect(store.jobStatus("post:0:1:1")).to.equal(undefined);
    expect(store.commits).to.equal(before);
    expect(batch.flush(() => store.setCursor(9n, "0x09"))).to.equal(5);
    expect(store.commits - before).to.equal(1);
    for (let k = 0; k < 5; k++) expect(store.jobStatus(`post:${k}:1:1`)).to.equal("pending");
    expect(store.cursor()?.block).to.equal(9n);
  });

  it("a write of a batch that fails rolls back the whole batch; writes discarded from a mark are not written", () => {
    const batch = store.batch();
    batch.later(() => store.enqueue("post:1:1:1", "post", {}));
    const mark = batch.size;
    batch.later(() => store.enqueue("post:2:1:1", "post", {}));
    batch.discardFrom(mark);
    batch.later(() => {
      throw new Error("disk full");
    });
    expect(() => batch.flush(() => store.setCursor(3n, "0x03"))).to.throw("disk full");
    expect(store.jobStatus("post:1:1:1")).to.equal(undefined);
    expect(store.cursor()).to.equal(undefined);
    const again = store.batch();
    again.later(() => store.enqueue("post:1:1:1", "post", {}));
    again.flush();
    expect(store.jobStatus("post:1:1:1")).to.equal("pending");
    expect(store.jobStatus("post:2:1:1")).to.equal(undefined);
  });

  it("serving a request costs 3 commits a pass, not 4 a request (the agent's own ResetWork, counted)", async () => {
    // A pass: the requests of one poll with its cursor, the postings of one batch confirmed, the deliveries done.
    const one = await measureServing(6, 1, () => {});
    expect(one.commitsPerRequest).to.equal(3);
    const grouped = await measureServing(12, 6, () => {});
    expect(grouped.commitsPerRequest).to.equal(3 / 6);
  });
});
