/**
 * Contract figures: receipt gasUsed (transaction base and calldata included) of each protocol transaction, on a
 * fresh deployment with five registered guardians and an account linked with n = 5, t = 3.
 */
import type { Address } from "viem";

import { G1 } from "../../sdk/index.ts";
import {
  type System,
  assemble,
  commit,
  committeeArg,
  deploySystem,
  linkAccount,
  requestReset,
  serve,
} from "../../test/helpers/system.ts";
import type { Connection, Figure } from "../run.ts";

async function gasOf(tx: Promise<any>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt.gasUsed);
}

export async function contractsSection(connection: Connection): Promise<Figure[]> {
  const sys: System = await deploySystem(connection as never, { guardians: 5 });
  await sys.coordinator.setMaxOpenRequests(8);

  // link (n = 5, t = 3) and the five acknowledgements (the last one activates the map)
  const linkStart = await sys.ethers.provider.getBlockNumber();
  const account = await linkAccount(sys, sys.alice);
  const linkReceipts = [];
  for (let b = linkStart + 1; b <= (await sys.ethers.provider.getBlockNumber()); b++) {
    const block = await sys.ethers.provider.getBlock(b, true);
    for (const h of block!.transactions) linkReceipts.push(await sys.ethers.provider.getTransactionReceipt(h));
  }
  const [linkGas, ...ackGas] = linkReceipts.map((r) => Number(r!.gasUsed));

  // one full lifecycle: request, three commits, completion, finalization
  const request = await requestReset(sys, account, sys.bob, sys.bob.address as Address);
  const requestGas = Number((await sys.ethers.provider.getTransactionReceipt((await sys.ethers.provider.getBlock("latest"))!.transactions[0]))!.gasUsed);
  const fragments: string[] = [];
  const commitGas: number[] = [];
  for (const i of [1, 2, 3]) {
    const served = await serve(sys, account, request, i);
    commitGas.push(Number((await commit(sys, account, request, i, served)).gasUsed));
    fragments.push(served.fragment);
  }
  const { tokenHex } = await assemble(sys, account, request, fragments);
  const groupKey = account.prepared.params.commitments.slice(0, 2 + 512) as `0x${string}`;
  const completeGas = await gasOf(sys.coordinator.completeReset(request.requestId, account.accountId, request.ephemeralKey, tokenHex, groupKey));
  await sys.networkHelpers.time.increase(3600);
  const finalizeGas = await gasOf(sys.coordinator.finalizeReset(request.requestId));

  // batched commits: one guardian commits to five open requests in one transaction
  const requests = [];
  for (let k = 0; k < 5; k++) requests.push(await requestReset(sys, account, sys.carol, sys.carol.address as Address));
  const g4 = account.committee[3];
  const batch = [];
  for (const r of requests) batch.push({ requestId: r.requestId, index: 4, commitment: (await serve(sys, account, r, 4)).commitment });
  const batchGas = await gasOf(sys.coordinator.connect(g4.signer).commitShares([{ committee: committeeArg(account), commits: batch }]));

  // cancel of an approved reset
  const toCancel = requests[0];
  const cancelFragments = [];
  for (const i of [1, 2, 3]) {
    const served = await serve(sys, account, toCancel, i);
    await commit(sys, account, toCancel, i, served);
    cancelFragments.push(served.fragment);
  }
  const cancelToken = await assemble(sys, account, toCancel, cancelFragments);
  await sys.coordinator.completeReset(toCancel.requestId, account.accountId, toCancel.ephemeralKey, cancelToken.tokenHex, groupKey);
  const cancelGas = await gasOf(sys.coordinator.connect(sys.bob).cancelReset(toCancel.requestId));

  // fraud proof against an invalid committed share
  const target = requests[1];
  const bad = await serve(sys, account, target, 5, G1.BASE.multiply(424242n));
  await commit(sys, account, target, 5, bad);
  const history = [{ index: 4, commitment: batch[1].commitment }, { index: 5, commitment: bad.commitment }];
  const proveGas = await gasOf(
    sys.coordinator
      .connect(sys.prover)
      .proveInvalidShare(target.requestId, 5, bad.sigma, target.ephemeralKey, account.prepared.params.commitments, account.prepared.params.committee, history),
  );

  const lifecycle = requestGas + commitGas.reduce((a, b) => a + b, 0) + completeGas + finalizeGas;
  return [
    { key: "gas.linkN5T3", value: linkGas, unit: "gas", target: 250_000 },
    { key: "gas.acknowledge", value: Math.max(...ackGas), unit: "gas", target: 60_000, note: `max of 5; first ${ackGas[0]}, activating ${ackGas[ackGas.length - 1]}` },
    { key: "gas.requestReset", value: requestGas, unit: "gas", target: 80_000 },
    { key: "gas.commitShare", value: Math.max(...commitGas), unit: "gas", target: 35_000, note: `three commits: ${commitGas.join(", ")}` },
    { key: "gas.commitSharesBatch5PerShare", value: Math.round(batchGas / 5), unit: "gas", target: 15_000, note: `batch of 5: ${batchGas}` },
    { key: "gas.completeReset", value: completeGas, unit: "gas", target: 165_000 },
    { key: "gas.cancelReset", value: cancelGas, unit: "gas" },
    { key: "gas.finalizeReset", value: finalizeGas, unit: "gas", target: 60_000, note: "no consumer hook" },
    { key: "gas.proveInvalidShare", value: proveGas, unit: "gas" },
    { key: "gas.lifecycleT3", value: lifecycle, unit: "gas", target: 375_000, note: "request + 3 commits + complete + finalize" },
  ];
}
