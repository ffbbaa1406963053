import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { privateKeyToAccount } from "viem/accounts";

import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";
import { defaultAccountKey } from "../helpers/guardianNetwork.ts";
import { type CliNetwork, startCliNetwork } from "./localNetwork.ts";

/** The code block after `<!-- client-example -->` in README.md, exactly as written there. */
export function readmeExample(): string {
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const m = /<!-- client-example -->\r?\n```ts\r?\n([\s\S]*?)\r?\n```/.exec(readme);
  if (!m) throw new Error("README.md has no ```ts block after <!-- client-example -->");
  return m[1] + "\n";
}

describe("the client library's README example", function () {
  this.timeout(120_000);
  let net: CliNetwork;

  before(async function () {
    net = await startCliNetwork();
  });

  after(async function () {
    await net?.close();
  });

  it("runs as written against a local network: lists committee 1 and links an account to it", function () {
    // Run from the project's root, as the README says, so its `./sdk/client/index.ts` import resolves.
    const file = join(PROJECT_ROOT, `readme-example-${process.pid}.ts`);
    writeFileSync(file, readmeExample());
    try {
      const env = { ...process.env, CG_RPC_URL: net.node.url, CG_DEPLOYMENT: net.deploymentFile, CG_PRIVATE_KEY: defaultAccountKey(2) };
      const r = spawnSync(process.execPath, ["--no-warnings", file], { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include("committee 1: active, 3 of 5");
      expect(r.stdout).to.match(new RegExp(`linked 0x[0-9a-f]{64} to committee 1; controller ${privateKeyToAccount(defaultAccountKey(2)).address}`));
    } finally {
      rmSync(file, { force: true });
    }
  });
});
