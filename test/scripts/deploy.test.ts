import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { completion, hardhat, rpc, startHardhatNode, type LocalNode } from "../../scripts/lib/localNode.ts";

describe("scripts/deploy.ts against a hardhat node on loopback", function () {
  this.timeout(180_000);
  let node: LocalNode;

  before(async function () {
    node = await startHardhatNode();
  });

  after(async function () {
    await node?.stop();
  });

  it("deploys, wires and writes deployments/<network>.json", async function () {
    const dir = mkdtempSync(join(tmpdir(), "cg-deploy-"));
    const { code, output } = await completion(
      hardhat(["run", "scripts/deploy.ts", "--network", "localhost"], { CG_LOCALHOST_URL: node.url, CG_DEPLOYMENTS_DIR: dir, CG_DISPUTE_WINDOW: "7200", CG_DEAL_WINDOW: "120" }),
    );
    expect(code, output).to.equal(0);
    const deployment = JSON.parse(readFileSync(join(dir, "localhost.json"), "utf8"));
    expect(deployment.chainId).to.equal(31337);
    expect(deployment.network).to.equal("localhost");
    expect(deployment.parameters.disputeWindow).to.equal(7200);
    expect(deployment.parameters.dealWindow).to.equal(120);
    expect(deployment.deploymentBlock).to.be.a("number");
    for (const address of [deployment.contracts.GuardianRegistry, deployment.contracts.ResetCoordinator, deployment.contracts.CommitteeRegistry, deployment.contracts.CommitteeCrypto, deployment.contracts.CommitteeSelection]) {
      const code = await rpc<string>(node.url, "eth_getCode", [address, "latest"]);
      expect(code.length).to.be.greaterThan(1000);
    }
    // The registry answers with the coordinator it was wired to (selector of coordinator()).
    const wired = await rpc<string>(node.url, "eth_call", [{ to: deployment.contracts.GuardianRegistry, data: "0x0a009097" }, "latest"]);
    expect("0x" + wired.slice(26)).to.equal(deployment.contracts.ResetCoordinator.toLowerCase());
    // …and with the committee registry as its stake lock (selector of stakeLock()).
    const lock = await rpc<string>(node.url, "eth_call", [{ to: deployment.contracts.GuardianRegistry, data: "0xa0e27510" }, "latest"]);
    expect("0x" + lock.slice(26)).to.equal(deployment.contracts.CommitteeRegistry.toLowerCase());
  });

  it("refuses a malformed parameter with a message that names it", async function () {
    const { code, output } = await completion(
      hardhat(["run", "scripts/deploy.ts", "--network", "localhost"], { CG_LOCALHOST_URL: node.url, CG_DEPLOYMENTS_DIR: tmpdir(), CG_REQUEST_LIFETIME: "one day" }),
    );
    expect(code).to.not.equal(0);
    expect(output).to.include('CG_REQUEST_LIFETIME: expected a whole number, got "one day"');
  });
});
