/**
 * Committee figures: receipt gasUsed (base and calldata included) of every transaction of a 3-of-5 formation and of
 * a handover that replaces one member of five, on a fresh deployment with seven registered guardians; then the
 * same on another deployment with 1,000 accounts linked to the committee before the handover.
 */
import { toHex } from "viem";

import { ONE_ETH, type System, deploySystem } from "../../test/helpers/system.ts";
import {
  type Round,
  acknowledge,
  dealAll,
  finalize,
  pastWindow,
  propose,
  sharesFrom,
  slotsOf,
  startHandover,
} from "../../test/helpers/committees.ts";
import { ZERO_ADDRESS, opaqueEntries } from "../../test/helpers/resets.ts";
import type { Connection, Figure } from "../run.ts";

/** Runs `step` and returns the gasUsed of every transaction mined meanwhile. */
async function gasOfBlocks(sys: System, step: () => Promise<unknown>): Promise<number[]> {
  const provider = sys.ethers.provider;
  const from = await provider.getBlockNumber();
  await step();
  const gas: number[] = [];
  for (let b = from + 1; b <= (await provider.getBlockNumber()); b++) {
    const block = await provider.getBlock(b);
    for (const h of block!.transactions) gas.push(Number((await provider.getTransactionReceipt(h))!.gasUsed));
  }
  return gas;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const max = (xs: number[]) => Math.max(...xs);

export async function committeesSection(connection: Connection): Promise<Figure[]> {
  const plain = await formAndHandOver(connection, 0);
  // The same formation and handover with 1,000 accounts linked in between: a handover touches no account.
  const busy = await formAndHandOver(connection, 1_000);
  const { form, proposeGas, dealGas, finalizeGas, ackGas, handover, startGas, reshareGas, handoverFinalizeGas, handoverAckGas } = plain;
  return [
    { key: "gas.committeeFormN5T3", value: sum(form), unit: "gas", target: 1_500_000, note: "propose + 5 deals + finalize + 5 acknowledgements" },
    { key: "gas.committeeFormN5T3.propose", value: sum(proposeGas), unit: "gas" },
    { key: "gas.committeeFormN5T3.deal", value: max(dealGas), unit: "gas", note: "each of 5 (largest)" },
    { key: "gas.committeeFormN5T3.finalize", value: sum(finalizeGas), unit: "gas" },
    { key: "gas.committeeFormN5T3.acknowledge", value: max(ackGas.slice(0, -1)), unit: "gas", note: "each of the first 4 (largest)" },
    { key: "gas.committeeFormN5T3.acknowledgeActivating", value: ackGas[ackGas.length - 1], unit: "gas" },
    { key: "gas.handoverN5T3", value: sum(handover), unit: "gas", target: 1_500_000, note: "start + 5 reshares + finalize + 5 acknowledgements" },
    { key: "gas.handoverN5T3.start", value: sum(startGas), unit: "gas", note: "startHandover + drawReplacements (over 7 guardians)" },
    { key: "gas.handoverN5T3.deal", value: max(reshareGas), unit: "gas", note: "each of 5 (largest)" },
    { key: "gas.handoverN5T3.finalize", value: sum(handoverFinalizeGas), unit: "gas", note: "Lagrange (MODEXP) + 3 G2MSM of 3 points, C'_0 = K" },
    { key: "gas.handoverN5T3.acknowledge", value: max(handoverAckGas.slice(0, -1)), unit: "gas", note: "each of the first 4 (largest)" },
    { key: "gas.handoverN5T3.acknowledgeActivating", value: handoverAckGas[handoverAckGas.length - 1], unit: "gas", note: "retires epoch 1, releases the member that left" },
    {
      key: "gas.handoverN5T3Accounts1000",
      value: sum(busy.handover),
      unit: "gas",
      target: Math.round(sum(handover) * 1.01),
      note: `the same handover with 1,000 accounts linked to the committee (${(((sum(busy.handover) - sum(handover)) / sum(handover)) * 100).toFixed(2)} % from gas.handoverN5T3)`,
    },
  ];
}

/**
 * Links `count` accounts of alice to `committeeId` (real `link` transactions, opaque envelopes of 81 and table entries
 * of 137 bytes, salts 0…count−1), sent `LINK_BATCH` at a time before their receipts are awaited; returns each link's
 * receipt gasUsed in order. `onProgress` is told how many are linked after each batch.
 */
export async function linkAccounts(sys: System, committeeId: bigint, count: number, onProgress?: (linked: number) => void): Promise<number[]> {
  const gas: number[] = [];
  const coordinator = sys.coordinator.connect(sys.alice);
  for (let start = 0; start < count; start += LINK_BATCH) {
    const sent = [];
    for (let k = start; k < Math.min(count, start + LINK_BATCH); k++) {
      sent.push(await coordinator.link(toHex(k, { size: 32 }), committeeId, sys.alice.address, 3600, ZERO_ADDRESS, opaqueEntries(5, 81), opaqueEntries(5, 137)));
    }
    for (const tx of sent) {
      const receipt = await tx.wait();
      if (receipt.status !== 1) throw new Error(`link ${gas.length} reverted`);
      gas.push(Number(receipt.gasUsed));
    }
    onProgress?.(gas.length);
  }
  return gas;
}

const LINK_BATCH = 100;

/**
 * A fresh deployment: a 3-of-5 formation, `accounts` links to it, then a handover replacing one member. Returns the
 * gasUsed of every transaction by step, and of each link.
 */
export async function formAndHandOver(connection: Connection, accounts: number, onProgress?: (linked: number) => void) {
  const sys: System = await deploySystem(connection as never, { guardians: 7 });
  const members = sys.guardians.slice(0, 5);

  let round!: Round;
  const proposeGas = await gasOfBlocks(sys, async () => (round = await propose(sys, members, 3)));
  const dealGas = await gasOfBlocks(sys, () => dealAll(sys, round, [1, 2, 3, 4, 5]));
  await pastWindow(sys, round, "complaintDeadline");
  let qualified: number[] = [];
  const finalizeGas = await gasOfBlocks(sys, async () => (qualified = slotsOf((await finalize(sys, round)).event.args.qualified, 5)));
  const shares = sharesFrom(round, qualified, false);
  const ackGas = await gasOfBlocks(sys, () => acknowledge(sys, round, shares));
  const form = [...proposeGas, ...dealGas, ...finalizeGas, ...ackGas];
  const linkGas = await linkAccounts(sys, round.committeeId, accounts, onProgress);

  // Handover: g4 unbonds, anyone starts the handover, the five old members reshare, anyone finalizes, the five
  // members of the new epoch acknowledge (the last activates and retires epoch 1).
  await (await sys.registry.connect(members[3].signer).startUnbonding(ONE_ETH / 2n)).wait();
  let next!: Round;
  const startGas = await gasOfBlocks(sys, async () => {
    const { ev } = await startHandover(sys, round.committeeId);
    const byAddress = new Map(sys.guardians.map((g) => [g.address.toLowerCase(), g]));
    next = { committeeId: round.committeeId, epoch: ev.args.epoch, members: (ev.args.members as string[]).map((a) => byAddress.get(a.toLowerCase())!), dealers: members, threshold: 3, dealings: new Map() };
  });
  const reshareGas = await gasOfBlocks(sys, () => dealAll(sys, next, [1, 2, 3, 4, 5], shares));
  await pastWindow(sys, next, "complaintDeadline");
  // The finalizer passes only the dealings of Q' (the three lowest qualified dealers), as the agents do.
  const handoverFinalizeGas = await gasOfBlocks(sys, () => finalize(sys, next, sys.bob, [1, 2, 3]));
  const handoverAckGas = await gasOfBlocks(sys, () => acknowledge(sys, next, sharesFrom(next, [1, 2, 3], true)));
  const handover = [...startGas, ...reshareGas, ...handoverFinalizeGas, ...handoverAckGas];
  // startHandover's helper mines empty blocks until the draw block: only transactions are counted.
  return { form, proposeGas, dealGas, finalizeGas, ackGas, handover, startGas, reshareGas, handoverFinalizeGas, handoverAckGas, linkGas };
}
