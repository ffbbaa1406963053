import { readFileSync } from "node:fs";

import { expect } from "chai";

import { FIXTURES_PATH, fixturesSource } from "../../../scripts/fuzz/fixtures.ts";

describe("fuzz fixtures (scripts/fuzz/fixtures.ts)", function () {
  it("the committed test/contracts/fuzz/lib/Fixtures.sol is exactly what the generator makes today", function () {
    const committed = readFileSync(FIXTURES_PATH, "utf8");
    // On a difference, run `node scripts/fuzz/fixtures.ts` and commit the result.
    expect(fixturesSource() === committed, "Fixtures.sol differs from the generator's output").to.equal(true);
  });

  it("the generator is deterministic (two runs, the same text)", function () {
    expect(fixturesSource()).to.equal(fixturesSource());
  });
});
