/**
 * A local network for the `cg` tests without guardian agents: `hardhat node` on loopback (mining every 200 ms, so a
 * watcher's commit is a block old by the time it proves), the deployed contracts, guardians g1…g5 registered and
 * attested, and committee 1 (3 of 5) formed by the test acting as its members. The test then plays the guardians of a
 * reset too: `post` makes a member's posting exactly as an agent does (a fresh code, the verifiably encrypted
 * partial, compressed) and returns the `cg2.` text the agent would deliver, so every CLI path runs against real
 * postings with no agent process in the way.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { network } from "hardhat";
import { hexToBytes, toHex } from "viem";

import { type ResetRequest, messageOf } from "../../sdk/client/index.ts";
import { G1, g1FromEip2537, hashToG1 } from "../../sdk/crypto/bls.ts";
import { channelCodeScalar, compressPosting, makePosting } from "../../sdk/crypto/posting.ts";
import { formatCodeMessage, generateChannelCode } from "../../sdk/encoding/channelCode.ts";
import { type LocalNode, startHardhatNode } from "../../scripts/lib/localNode.ts";
import { formCommittee } from "../helpers/committees.ts";
import { type System, deploySystem } from "../helpers/system.ts";

export interface CliNetwork {
  node: LocalNode;
  sys: System;
  deploymentFile: string;
  committeeId: bigint;
  shares: Map<number, bigint>;
  /** Member `slot` posts for `request`; `invalid` adds P1 to W (a posting that fails the public check). */
  post(request: ResetRequest, slot: number, o?: { invalid?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startCliNetwork(): Promise<CliNetwork> {
  const node = await startHardhatNode();
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  const sys = await deploySystem(connection as never, { guardians: 5 });
  const { round, shares } = await formCommittee(sys, sys.guardians.slice(0, 5), 3);
  await connection.provider.request({ method: "evm_setIntervalMining", params: [200] });
  const dir = mkdtempSync(join(tmpdir(), "cg-cli-"));
  const deploymentFile = join(dir, "deployment.json");
  writeFileSync(deploymentFile, JSON.stringify(sys.deployment));
  return {
    node,
    sys,
    deploymentFile,
    committeeId: round.committeeId,
    shares,
    async post(request, slot, o = {}) {
      const message = messageOf(request);
      const code = generateChannelCode();
      const c = channelCodeScalar(BigInt(request.chainId), request.coordinator, request.requestId, slot, code);
      const honest = makePosting({ share: { index: slot, value: shares.get(slot)! }, hashedMessage: hashToG1(hexToBytes(message)), requesterKey: g1FromEip2537(hexToBytes(request.requesterKey)), c });
      const posting = o.invalid ? { ...honest, W: honest.W.add(G1.BASE) } : honest;
      const member = sys.guardians[slot - 1];
      const tx = await sys.coordinator.connect(member.signer).postPartial({ requestId: request.requestId, slot, committeeEpoch: round.epoch, message, posting: toHex(compressPosting(posting)) });
      await tx.wait();
      return formatCodeMessage({ requestId: request.requestId, slot, code });
    },
    async close() {
      await connection.close();
      await node.stop();
    },
  };
}
