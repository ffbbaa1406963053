/**
 * Contract figures: receipt gasUsed (transaction base and calldata included, osaka) of each protocol transaction,
 * on a fresh deployment with five registered guardians, a 3-of-5 committee formed through the contract, and an
 * account linked to it in one transaction. Postings are the SDK's (compressed, 240 bytes); tokens are assembled
 * from them as a client does.
 */
import type { Address } from "viem";
import { keccak256 } from "viem";

import { type System, deploySystem } from "../../test/helpers/system.ts";
import {
  activeEpoch,
  commitProof,
  committeeOf,
  compress,
  fullOf,
  historyOf,
  linkTo,
  post,
  postingFor,
  requestOf,
  tokenOf,
} from "../../test/helpers/resets.ts";
import type { Connection, Figure } from "../run.ts";

async function gasOf(tx: Promise<any>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt.gasUsed);
}

export async function contractsSection(connection: Connection): Promise<Figure[]> {
  const sys: System = await deploySystem(connection as never, { guardians: 5 });
  const committee = await committeeOf(sys, sys.guardians.slice(0, 5), 3);
  const epoch = await activeEpoch(sys, committee.committeeId);
  const account = await linkTo(sys, sys.alice, committee);
  const linkGas = Number(account.receipt.gasUsed);

  // one full lifecycle: request, three single postings, completion, finalization
  const request = await requestOf(sys, account, sys.bob, sys.bob.address as Address);
  const requestGas = Number(request.receipt.gasUsed);
  const postings = [];
  for (const slot of [1, 2, 3]) postings.push(await post(sys, committee, request, slot));
  const postGas = postings.map((p) => Number(p.receipt.gasUsed));
  const keyHash = keccak256(request.requesterKey);
  const completeGas = await gasOf(sys.coordinator.completeReset(request.requestId, keyHash, tokenOf(request, postings, 3), committee.groupKey));
  await sys.networkHelpers.time.increase(3600);
  const finalizeGas = await gasOf(sys.coordinator.finalizeReset(request.requestId));

  // batched postings: member 4 posts to five open requests in one transaction
  const requests = [];
  for (let k = 0; k < 5; k++) requests.push(await requestOf(sys, account, sys.carol, sys.carol.address as Address));
  const g4 = committee.members[3];
  const batch = requests.map((r) => postingFor(committee, r, 4, epoch));
  const batchGas = await gasOf(sys.coordinator.connect(g4.signer).postPartials(batch.map((b) => b.input)));
  const perPosting = Math.round(batchGas / 5);

  // cancel of an approved reset (by the controller, bob since the finalization)
  const toCancel = requests[0];
  const cancelPostings = [];
  for (const slot of [1, 2, 3]) cancelPostings.push(await post(sys, committee, toCancel, slot));
  await (await sys.coordinator.completeReset(toCancel.requestId, keccak256(toCancel.requesterKey), tokenOf(toCancel, [...cancelPostings], 3), committee.groupKey)).wait();
  const cancelGas = await gasOf(sys.coordinator.connect(sys.bob).cancelReset(toCancel.requestId));

  // fraud proof against member 5's posting made with a wrong share
  const target = requests[1];
  const bad = postingFor({ ...committee, shares: new Map([[5, 424242n]]) }, target, 5, epoch);
  await (await sys.coordinator.connect(committee.members[4].signer).postPartial(bad.input)).wait();
  const history = await historyOf(sys, target.requestId);
  const position = history.length - 1;
  const salt = await commitProof(sys, sys.prover, target.requestId, position);
  const proveGas = await gasOf(
    sys.coordinator
      .connect(sys.prover)
      .proveInvalidPosting(target.requestId, target.context, history, position, compress(bad.posting), fullOf(bad.posting), "0x", committee.commitments, target.requesterKey, salt),
  );

  // settlement of the cancelled request after its window
  await sys.networkHelpers.time.increase(3 * 24 * 3600);
  const settleGas = await gasOf(sys.coordinator.settle(toCancel.requestId, toCancel.context, await historyOf(sys, toCancel.requestId)));

  const lifecycle = requestGas + postGas.reduce((a, b) => a + b, 0) + completeGas + finalizeGas;
  const lifecycleBatched = requestGas + 3 * perPosting + completeGas + finalizeGas;
  return [
    { key: "gas.linkN5", value: linkGas, unit: "gas", target: 120_000, note: "one transaction, no guardian transaction; envelopes 81 B, table entries 137 B" },
    { key: "gas.requestReset", value: requestGas, unit: "gas", target: 90_000 },
    { key: "gas.postPartial", value: Math.max(...postGas), unit: "gas", target: 45_000, note: `three single postings: ${postGas.join(", ")}` },
    { key: "gas.postPartialsBatchPerPosting", value: perPosting, unit: "gas", target: 25_000, note: `5 requests in one transaction: ${batchGas}` },
    { key: "gas.completeReset", value: completeGas, unit: "gas", target: 165_000 },
    { key: "gas.cancelReset", value: cancelGas, unit: "gas" },
    { key: "gas.finalizeReset", value: finalizeGas, unit: "gas", target: 55_000, note: "no consumer hook" },
    { key: "gas.proveInvalidPosting", value: proveGas, unit: "gas", target: 300_000, note: "wrong share: the second equation fails" },
    { key: "gas.settle", value: settleGas, unit: "gas", note: "approved then cancelled; 3 standing postings paid" },
    { key: "gas.lifecycleT3", value: lifecycle, unit: "gas", target: 405_000, note: "request + 3 single postings + complete + finalize" },
    { key: "gas.lifecycleT3Batched", value: lifecycleBatched, unit: "gas", target: 360_000, note: "postings at the batched per-posting cost" },
  ];
}
