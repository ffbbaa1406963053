/**
 * Client figures of protocol v2: `offchain.assembleT3Ms`, the owner's client turning 3 codes into a verified token
 * (§6.6) with everything read from the node. A `hardhat node` on loopback (JSON-RPC over HTTP, as a wallet talks to its
 * node) holds a fresh deployment, a 3-of-5 committee formed through the contract, a linked account, one request and
 * 3 real postings (each member's code drawn, c_i derived from it, the posting made and sent by the member).
 *
 * Timed, end to end, per run: `resetRequest` (the request from its `ResetRequested` log) and `assembleReset` (the
 * postings from `PartialPosted` logs, each epoch's commitments from the committee registry's logs, then for each code
 * c_i and c_i·G1 == C_i, the posting's C, U and W decoded and checked, decryption, e(σ_i, P2) == e(H(m), PK_i),
 * Lagrange at 0, and e(σ, P2) == e(H(m), K)). Median over 20 runs after 2 untimed ones; nothing is cached between runs
 * but what the JavaScript engine and noble keep (compiled code, noble's tables for P1 and P2).
 */
import { type Address, type PublicClient, createPublicClient, hexToBytes, http, toHex } from "viem";
import { network } from "hardhat";

import { startHardhatNode } from "../../scripts/lib/localNode.ts";
import { type Clients, assembleReset, chainFor, resetRequest } from "../../sdk/client/index.ts";
import { hashToG1 } from "../../sdk/crypto/bls.ts";
import { channelCodeScalar, compressPosting, makePosting } from "../../sdk/crypto/posting.ts";
import { type CodeMessage, generateChannelCode } from "../../sdk/encoding/channelCode.ts";
import { activeEpoch, committeeOf, linkTo, requestOf } from "../../test/helpers/resets.ts";
import { deploySystem } from "../../test/helpers/system.ts";
import type { Connection, Figure } from "../run.ts";
import { medianMs } from "../stats.ts";

const RUNS = 20;

export async function clientSection(_connection: Connection): Promise<Figure[]> {
  const node = await startHardhatNode();
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  try {
    const sys = await deploySystem(connection as never, { guardians: 5 });
    const committee = await committeeOf(sys, sys.guardians.slice(0, 5), 3);
    const epoch = await activeEpoch(sys, committee.committeeId);
    const account = await linkTo(sys, sys.alice, committee);
    const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
    const codes: CodeMessage[] = [];
    for (const slot of [1, 2, 3]) {
      const code = generateChannelCode();
      const c = channelCodeScalar(sys.chainId, sys.deployment.contracts.ResetCoordinator as Address, request.requestId, slot, code);
      const posting = makePosting({ share: { index: slot, value: committee.shares.get(slot)! }, hashedMessage: hashToG1(hexToBytes(request.message)), requesterKey: request.A, c });
      const input = { requestId: request.requestId, slot, committeeEpoch: epoch, message: request.message, posting: toHex(compressPosting(posting)) };
      await (await sys.coordinator.connect(committee.members[slot - 1].signer).postPartial(input)).wait();
      codes.push({ requestId: request.requestId, slot, code });
    }
    const c: Clients = {
      public: createPublicClient({ chain: chainFor(Number(sys.chainId), node.url), transport: http(node.url) }) as PublicClient,
      deployment: sys.deployment as unknown as Clients["deployment"],
    };
    const assemble = async () => {
      const assembled = await assembleReset(c, await resetRequest(c, request.requestId), request.a, codes);
      if (assembled.used.length !== 3 || assembled.problems.length !== 0) throw new Error(`assembly failed: ${assembled.problems.join("; ")}`);
    };
    return [
      {
        key: "offchain.assembleT3Ms",
        value: await medianMs(assemble, RUNS, 2),
        unit: "ms",
        target: 200,
        note: `median of ${RUNS}: request and postings read from a local node over HTTP, 3 codes checked against C_i, U and W decoded, partials opened and verified, combined, token verified`,
      },
    ];
  } finally {
    await connection.close();
    await node.stop();
  }
}
