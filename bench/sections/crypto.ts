/**
 * Foundation figures: gas of the BLS12381 library calls (through BLS12381Harness, measured with gasleft()
 * around the call, calldata copied to memory inside the window; no transaction base or calldata cost) and
 * off-chain timings of the TypeScript cryptography (medians over 50 runs; the committee DKG and reshare
 * figures, medians over 20).
 */
import { type Address, toBytes } from "viem";

import {
  type DkgDealing,
  type Share,
  CGError,
  G2,
  checkReshareDealing,
  combine,
  combineDkgCommitments,
  combineDkgShares,
  combineReshareCommitments,
  combineReshareShares,
  committeePossessionProof,
  committeePublicShare,
  computePartial,
  deal,
  dealDkg,
  dealReshare,
  generateHpkeKeyPair,
  G1,
  compressPosting,
  decompressPosting,
  hashToG1,
  makePosting,
  openPosting,
  publicShare,
  randomScalar,
  verifyPosting,
  openSubShare,
  reshareDealers,
  sealSubShare,
  verifyPartial,
  verifySubShare,
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
  // One member's posting for a request (PROTOCOL §6.4) and the checks around it.
  const hm = hashToG1(m);
  const a = randomScalar();
  const requesterKey = G1.BASE.multiply(a);
  const c = randomScalar();
  const posting = makePosting({ share: d.shares[0], hashedMessage: hm, requesterKey, c });
  const pk1 = publicShare(d.commitments, 1);
  const compressed = compressPosting(posting);
  figures.push(
    { key: "offchain.dealN5T3Ms", value: await medianMs(() => deal(5, 3)), unit: "ms" },
    { key: "offchain.partialMs", value: await medianMs(() => computePartial(d.shares[0], m)), unit: "ms" },
    { key: "offchain.verifyPartialMs", value: await medianMs(() => verifyPartial(partials[0], d.commitments, m)), unit: "ms" },
    { key: "offchain.combineT3Ms", value: await medianMs(() => combine(partials.slice(1, 4), 3)), unit: "ms" },
    { key: "offchain.makePostingMs", value: await medianMs(() => compressPosting(makePosting({ share: d.shares[0], hashedMessage: hm, requesterKey, c }))), unit: "ms", note: "σ_i, ρ, U, V, W, compressed" },
    { key: "offchain.verifyPostingMs", value: await medianMs(() => verifyPosting({ posting: decompressPosting(compressed), hashedMessage: hm, publicShare: pk1, requesterKey })), unit: "ms", note: "decompress + both §6.4 equations" },
    { key: "offchain.openPostingMs", value: await medianMs(() => openPosting({ posting, requesterSecret: a, c })), unit: "ms" },
    ...(await committeeKeyFigures()),
  );
  return figures;
}

/**
 * CPU of one member's part of the v2 committee key ceremonies (PROTOCOL v2 §3, §4), 3-of-5, no chain:
 * the other members' dealings are prepared before the clock starts. Exported so that it can run alone.
 *
 * - offchain.dkgN5T3Ms: member 1 deals, seals its 5 sub-shares, opens the 5 addressed to it (its own
 *   and 4 others'), checks them against their dealers' commitments, combines s_1, computes C and PK_1,
 *   checks s_1·P2 == PK_1 and signs its proof of possession.
 * - offchain.reshareN5T3Ms: old member 1 deals from s_1 to 5 new members and seals the 5 sub-shares; new
 *   member 1 opens and checks the sub-shares of Q' = {1, 2, 3}, checks E_{i,0} == PK_i for each, combines
 *   s'_1 and C' with Lagrange, checks s'_1·P2 == PK'_1 and signs its proof of possession.
 */
export async function committeeKeyFigures(): Promise<Figure[]> {
  const n = 5;
  const t = 3;
  const runs = 20;
  const chainId = 31337n;
  const registry: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  const committeeId = 1n;
  const keys = await Promise.all(Array.from({ length: n }, () => generateHpkeKeyPair()));
  const ctx = (committeeEpoch: bigint, dealer: number, recipient: number) => ({ chainId, registry, committeeId, committeeEpoch, dealer, recipient });

  // §3: dealers 2…5 have dealt; member 1 receives their sealed sub-shares.
  const others: DkgDealing[] = [];
  const othersSealed: Uint8Array[] = [];
  for (let i = 2; i <= n; i++) {
    const d = dealDkg(n, t);
    others.push(d);
    othersSealed.push(await sealSubShare(keys[0].publicKey, ctx(1n, i, 1), d.subShares[0]));
  }
  const dkgMember = async () => {
    const mine = dealDkg(n, t);
    const sealed: Uint8Array[] = [];
    for (let j = 1; j <= n; j++) sealed.push(await sealSubShare(keys[j - 1].publicKey, ctx(1n, 1, j), mine.subShares[j - 1]));
    const dealings = [mine, ...others];
    const received = [sealed[0], ...othersSealed];
    const subShares: bigint[] = [];
    for (let i = 1; i <= n; i++) {
      const v = await openSubShare(keys[0].privateKey, ctx(1n, i, 1), received[i - 1]);
      if (!verifySubShare(1, v, dealings[i - 1].commitments)) throw new CGError("BENCH", `sub-share from dealer #${i} does not verify`);
      subShares.push(v);
    }
    const share: Share = { index: 1, value: combineDkgShares(subShares) };
    const C = combineDkgCommitments(dealings.map((d) => d.commitments));
    if (!G2.BASE.multiply(share.value).equals(committeePublicShare(C, 1))) throw new CGError("BENCH", "s_1 does not match PK_1");
    committeePossessionProof(share, chainId, registry, committeeId, 1n);
    mine.wipe();
  };

  // §4: the old epoch (3-of-5 from the dealings above plus one more), and the reshare dealings of old members 2 and 3.
  const last = dealDkg(n, t);
  const oldDealings = [...others, last];
  const oldC = combineDkgCommitments(oldDealings.map((d) => d.commitments));
  const oldShares: Share[] = Array.from({ length: n }, (_, k) => ({
    index: k + 1,
    value: combineDkgShares(oldDealings.map((d) => d.subShares[k])),
  }));
  const dealers = reshareDealers([1, 2, 3, 4, 5], t);
  const reshareOf = new Map<number, { commitments: DkgDealing["commitments"]; sealed: Uint8Array }>();
  for (const i of dealers.slice(1)) {
    const d = dealReshare(oldShares[i - 1], n, t);
    reshareOf.set(i, { commitments: d.commitments, sealed: await sealSubShare(keys[0].publicKey, ctx(2n, i, 1), d.subShares[0]) });
  }
  const reshareMember = async () => {
    const mine = dealReshare(oldShares[0], n, t);
    const sealed: Uint8Array[] = [];
    for (let j = 1; j <= n; j++) sealed.push(await sealSubShare(keys[j - 1].publicKey, ctx(2n, 1, j), mine.subShares[j - 1]));
    reshareOf.set(1, { commitments: mine.commitments, sealed: sealed[0] });
    const subShares: bigint[] = [];
    for (const i of dealers) {
      const { commitments, sealed: s } = reshareOf.get(i)!;
      const v = await openSubShare(keys[0].privateKey, ctx(2n, i, 1), s);
      if (!verifySubShare(1, v, commitments)) throw new CGError("BENCH", `reshare sub-share from dealer #${i} does not verify`);
      if (!checkReshareDealing(i, commitments, oldC)) throw new CGError("BENCH", `E_{${i},0} != PK_${i}`);
      subShares.push(v);
    }
    const share: Share = { index: 1, value: combineReshareShares(dealers, subShares) };
    const C = combineReshareCommitments(dealers, dealers.map((i) => reshareOf.get(i)!.commitments));
    if (!C[0].equals(oldC[0])) throw new CGError("BENCH", "C'_0 != K");
    if (!G2.BASE.multiply(share.value).equals(committeePublicShare(C, 1))) throw new CGError("BENCH", "s'_1 does not match PK'_1");
    committeePossessionProof(share, chainId, registry, committeeId, 2n);
    mine.wipe();
  };

  return [
    { key: "offchain.dkgN5T3Ms", value: await medianMs(dkgMember, runs), unit: "ms", note: "one member's part of a 3-of-5 DKG, median of 20" },
    { key: "offchain.reshareN5T3Ms", value: await medianMs(reshareMember, runs), unit: "ms", note: "one old dealer + one new member of a 3-of-5 reshare, median of 20" },
  ];
}
