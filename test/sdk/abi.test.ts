import { expect } from "chai";
import { readFileSync } from "node:fs";

import { EXPORTED, abiSource } from "../../scripts/export-abi.ts";

describe("sdk/abi", function () {
  it("matches the compiled contracts (run `node scripts/export-abi.ts` after changing an interface)", function () {
    for (const name of EXPORTED) {
      const committed = readFileSync(new URL(`../../sdk/abi/${name}.ts`, import.meta.url), "utf8");
      expect(committed, `sdk/abi/${name}.ts is stale`).to.equal(abiSource(name));
    }
  });
});
