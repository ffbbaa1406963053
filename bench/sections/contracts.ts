/**
 * Contract figures: receipt gasUsed (transaction base and calldata included, osaka) of each protocol transaction,
 * on a fresh deployment with five registered guardians, a 3-of-5 committee formed through the contract, and an
 * account linked to it in one transaction. Postings are the SDK's (compressed, 240 bytes); tokens are assembled
 * from them as a client does. The posting-layout figures come from PostingLayoutProbe (contracts/test/): the same
 * postings sent once compressed (240 bytes) and once in EIP-2537 full form (640 bytes).
 */
import type { Address, Hex } from "viem";
import { concat, hexToBytes, keccak256, toHex } from "viem";

import { g1ToEip2537, g2ToEip2537 } from "../../sdk/crypto/bls.ts";
import { type Posting, compressPosting } from "../../sdk/crypto/posting.ts";

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

/** EIP-7623 over a transaction's calldata: standard cost 4/16 gas per zero/non-zero byte, floor 21,000 + 10·tokens. */
export function calldataPricing(data: Hex) {
  const bytes = hexToBytes(data);
  const zero = bytes.filter((b) => b === 0).length;
  const nonZero = bytes.length - zero;
  const tokens = zero + 4 * nonZero;
  return { length: bytes.length, zero, nonZero, standard: 4 * zero + 16 * nonZero, floor: 21_000 + 10 * tokens };
}

/** C ‖ U ‖ V ‖ W in EIP-2537 full form: 128 + 128 + 256 + 128 = 640 bytes. */
function fullPostingBytes(p: Posting): Hex {
  return toHex(concat([g1ToEip2537(p.C), g1ToEip2537(p.U), g2ToEip2537(p.V), g1ToEip2537(p.W)]));
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

  // posting layout: each lifecycle posting sent by its member to PostingLayoutProbe, compressed and full
  const probe = await sys.ethers.deployContract("PostingLayoutProbe");
  await probe.waitForDeployment();
  const layouts = [];
  for (const p of postings) {
    const compressed = toHex(compressPosting(p.posting));
    if (compressed !== p.bytes) throw new Error("bench: compressPosting differs from the posted bytes");
    const full = fullPostingBytes(p.posting);
    const signer = committee.members[p.slot - 1].signer;
    const c = (await (await probe.connect(signer).postCompressed({ ...p.input, posting: compressed })).wait())!;
    const f = (await (await probe.connect(signer).postFull({ ...p.input, posting: full })).wait())!;
    layouts.push({ compressed: Number(c.gasUsed), full: Number(f.gasUsed), fullBytes: full, receipts: [c, f] });
  }
  // the reported gas.postPartial transaction: its calldata as sent, and the same call with the full posting
  const worst = postGas.indexOf(Math.max(...postGas));
  const layout = layouts[worst];
  const saving = layout.full - layout.compressed;
  const sentData = (await sys.ethers.provider.getTransaction(postings[worst].receipt.hash))!.data as Hex;
  const asSent = calldataPricing(sentData);
  const asFull = calldataPricing(sys.coordinator.interface.encodeFunctionData("postPartial", [{ ...postings[worst].input, posting: layout.fullBytes }]) as Hex);
  const fullGasUsed = postGas[worst] + saving; // the probe's measured difference added to the real transaction
  const probeData = await Promise.all(layout.receipts.map(async (r: any) => calldataPricing((await sys.ethers.provider.getTransaction(r.hash))!.data as Hex)));
  const binds = (floor: number, gasUsed: number) => (floor >= gasUsed ? "binds" : "does not bind");
  const floorNote =
    `EIP-7623 floor of gas.postPartial: compressed ${asSent.length} B calldata (${asSent.zero} zero), floor ${asSent.floor} vs gasUsed ${postGas[worst]}, ${binds(asSent.floor, postGas[worst])}; ` +
    `full ${asFull.length} B (${asFull.zero} zero), floor ${asFull.floor} vs ${fullGasUsed} (gasUsed + saving), ${binds(asFull.floor, fullGasUsed)}`;
  const probeNote =
    `probe floors: compressed ${probeData[0].floor} vs ${layout.compressed}, full ${probeData[1].floor} vs ${layout.full}`;

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
    {
      key: "gas.postingLayoutCompressed",
      value: layout.compressed,
      unit: "gas",
      note: "PostingLayoutProbe.postCompressed: the gas.postPartial posting (240 B) taken as PostingInput calldata, length-checked, hashed into the digest slot and the audit head, emitted as PartialPosted; nothing else of postPartial",
    },
    { key: "gas.postingLayoutFull", value: layout.full, unit: "gas", note: "PostingLayoutProbe.postFull: the same points in EIP-2537 full form (640 B), same steps" },
    {
      key: "gas.postingLayoutSaving",
      value: saving,
      unit: "gas",
      note: `full − compressed per posting (all three: ${layouts.map((l) => l.full - l.compressed).join(", ")}); ${floorNote}; ${probeNote}`,
    },
    { key: "gas.lifecycleT3Batched", value: lifecycleBatched, unit: "gas", target: 360_000, note: "postings at the batched per-posting cost" },
  ];
}
