/**
 * Foundation figures: gas of the BLS12381 library calls (through BLS12381Harness, measured with gasleft()
 * around the call, calldata copied to memory inside the window; no transaction base or calldata cost) and
 * off-chain timings of the TypeScript cryptography (medians over 50 runs).
 */
import { toBytes } from "viem";

import {
  combine,
  computePartial,
  deal,
  generateHpkeKeyPair,
  sealFragment,
  verifyPartial,
} from "../../sdk/index.ts";
import { message, tokenFixture } from "../../test/helpers/fixtures.ts";
import { medianMs } from "../stats.ts";
import type { Connection, Figure } from "../run.ts";

export async function cryptoSection({ ethers }: Connection): Promise<Figure[]> {
  const harness = await ethers.deployContract("BLS12381Harness");
  const f = tokenFixture(message(1), 5, 3);

  const hashGas: bigint[] = [];
  for (let k = 0; k < 10; k++) hashGas.push(await harness.hashToG1Gas(message(k)));
  const figures: Figure[] = [
    { key: "gas.hashToG1", value: Number(hashGas.reduce((a, b) => (a > b ? a : b))), unit: "gas", target: 15_000, note: "max over 10 messages" },
    { key: "gas.verifyToken", value: Number(await harness.verifyTokenGas(f.tokenHex, f.groupKeyHex, f.message)), unit: "gas", target: 120_000 },
    { key: "gas.derivePublicShareT3", value: Number(await harness.derivePublicShareGas(f.commitmentsHex, 5)), unit: "gas" },
  ];

  const m = toBytes(message(2));
  const d = deal(5, 3);
  const partials = d.shares.map((s) => computePartial(s, m));
  const eph = await generateHpkeKeyPair();
  const ctx = { chainId: 31337n, coordinator: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const, requestId: 1n, index: 1 };
  figures.push(
    { key: "offchain.dealN5T3Ms", value: await medianMs(() => deal(5, 3)), unit: "ms" },
    { key: "offchain.partialMs", value: await medianMs(() => computePartial(d.shares[0], m)), unit: "ms" },
    { key: "offchain.verifyPartialMs", value: await medianMs(() => verifyPartial(partials[0], d.commitments, m)), unit: "ms" },
    { key: "offchain.combineT3Ms", value: await medianMs(() => combine(partials.slice(1, 4), 3)), unit: "ms" },
    { key: "offchain.sealFragmentMs", value: await medianMs(() => sealFragment(eph.publicKey, ctx, partials[0].sigma)), unit: "ms" },
  );
  return figures;
}
