/**
 * Gas that may grow with the number of accounts, on EDR's simulated network (hardfork osaka), every figure a receipt's
 * gasUsed (21,000 base and calldata included):
 *
 * - links: real `link` transactions to a 3-of-5 committee (opaque envelopes of 81 and table entries of 137 bytes, the
 *   sizes of an X25519 HPKE envelope and of a sealed entry of a short URI), each account its own salt;
 * - a handover replacing one member of five (start, 5 reshares, finalize, 5 acknowledgements), on a fresh deployment
 *   per account count with that many accounts linked to the committee first (bench/sections/committees.ts);
 * - postings: one member posting for `batch` requests in one `postPartials` transaction, against one `postPartial`.
 */
import type { Address } from "viem";

import { formAndHandOver } from "../../bench/sections/committees.ts";
import { activeEpoch, committeeOf, linkTo, postingFor, requestOf } from "../../test/helpers/resets.ts";
import { type Connection, deploySystem } from "../../test/helpers/system.ts";

export interface HandoverPoint {
  accounts: number;
  handoverGas: number;
}

export interface ChainResult {
  handovers: HandoverPoint[];
  /** Gas of each link of the largest run, in order. */
  linkGas: number[];
}

export async function measureChain(connection: Connection, counts: number[], progress: (line: string) => void): Promise<ChainResult> {
  const handovers: HandoverPoint[] = [];
  let linkGas: number[] = [];
  for (const accounts of [...counts].sort((a, b) => a - b)) {
    const started = Date.now();
    const step = Math.max(1_000, Math.ceil(accounts / 10 / 1_000) * 1_000);
    const run = await formAndHandOver(connection, accounts, (linked) => {
      if (linked % step === 0 || linked === accounts) progress(`chain: ${linked}/${accounts} accounts linked (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    });
    const handoverGas = run.handover.reduce((a, b) => a + b, 0);
    handovers.push({ accounts, handoverGas });
    progress(`chain: handover with ${accounts} accounts linked: ${handoverGas.toLocaleString("en-US")} gas`);
    if (run.linkGas.length >= linkGas.length) linkGas = run.linkGas;
  }
  return { handovers, linkGas };
}

export interface PostingResult {
  batch: number;
  batchGas: number;
  perPosting: number;
  singleGas: number;
}

/** One member (slot 4) posts for `batch` open requests of one account in one `postPartials`; then one `postPartial`. */
export async function measurePostings(connection: Connection, batch: number, progress: (line: string) => void): Promise<PostingResult> {
  const sys = await deploySystem(connection as never);
  const committee = await committeeOf(sys, sys.guardians.slice(0, 5), 3);
  const account = await linkTo(sys, sys.alice, committee);
  const requests = [];
  for (let k = 0; k <= batch; k++) requests.push(await requestOf(sys, account, sys.carol, sys.carol.address as Address));
  const epoch = await activeEpoch(sys, committee.committeeId);
  const poster = sys.coordinator.connect(committee.members[3].signer);
  const gasOf = async (tx: Promise<any>) => {
    const receipt = await (await tx).wait();
    if (receipt.status !== 1) throw new Error("posting reverted");
    return Number(receipt.gasUsed);
  };
  const batchGas = await gasOf(poster.postPartials(requests.slice(0, batch).map((r) => postingFor(committee, r, 4, epoch).input)));
  const singleGas = await gasOf(poster.postPartial(postingFor(committee, requests[batch], 4, epoch).input));
  progress(`postings: ${batch} in one postPartials: ${batchGas.toLocaleString("en-US")} gas`);
  return { batch, batchGas, perPosting: Math.round(batchGas / batch), singleGas };
}
