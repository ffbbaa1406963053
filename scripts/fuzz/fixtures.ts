/**
 * Fixtures of the contracts' invariant and fuzz suites (test/contracts/fuzz/): the BLS key material the Solidity
 * tests cannot draw themselves, computed with the SDK from fixed labels so every run gives the same bytes.
 *
 *   committee (n = 3, t = 2): the DKG dealings of epoch 1, the reshare dealings of epochs 2 and 3 (each old slot
 *   deals g_i with g_i(0) = s_i, Q' = {1, 2}), and for every epoch the members' shares and the committee commitments;
 *   the group secret k and key K = k·P2; a requester key pair (a, A = a·G1); compressed x coordinates with no y on
 *   the curve (G1 and G2) with their non-residue witnesses; a G1 point off the subgroup and one off the curve.
 *
 * The Solidity side computes everything that depends on the chain (postings, proofs of possession, tokens) from
 * these secrets with the EIP-2537 precompiles. `node scripts/fuzz/fixtures.ts` rewrites
 * test/contracts/fuzz/lib/Fixtures.sol; test/scripts/fuzz/fixtures.test.ts checks the committed copy is current.
 * These are test secrets, public by construction: nothing here may serve a real committee.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { type Hex, hexToBytes, keccak256, toBytes, toHex } from "viem";

import { Fp, Fr, G1, G2, P, R, deal, g1ToEip2537, g2ToEip2537, lagrangeAtZero } from "../../sdk/index.ts";
import type { G2Point } from "../../sdk/index.ts";

export const FIXTURES_PATH = fileURLToPath(new URL("../../test/contracts/fuzz/lib/Fixtures.sol", import.meta.url));

const N = 3;
const T = 2;
const EPOCHS = 3;

/** A scalar in [1, r − 1] from a label: keccak256("cg-fuzz-fixture/" ‖ label) mod (r − 1) + 1. */
function scalar(label: string): bigint {
  return (BigInt(keccak256(toBytes(`cg-fuzz-fixture/${label}`))) % (R - 1n)) + 1n;
}

const g2Hex = (p: G2Point) => toHex(g2ToEip2537(p));
const concatHex = (parts: Hex[]) => ("0x" + parts.map((p) => p.slice(2)).join("")) as Hex;

interface Epoch {
  dealings: Hex[]; // per dealer slot: C_0 ‖ … ‖ C_{t−1}
  shares: bigint[]; // per member slot
  commitments: Hex;
}

function epochs(): { groupSecret: bigint; list: Epoch[] } {
  const list: Epoch[] = [];
  // Epoch 1: a DKG, every member deals f_i; all qualify.
  let polys = Array.from({ length: N }, (_, i) => [scalar(`dkg/${i + 1}/0`), scalar(`dkg/${i + 1}/1`)]);
  let lambdas = polys.map(() => 1n);
  let dealers = [1, 2, 3];
  for (let e = 1; e <= EPOCHS; e++) {
    const dealt = polys.map((coefficients) => deal(N, T, { coefficients }));
    const shares = Array.from({ length: N }, (_, j) =>
      dealers.reduce((s, i, k) => Fr.add(s, Fr.mul(lambdas[k], dealt[i - 1].shares[j].value)), 0n),
    );
    const commitments = Array.from({ length: T }, (_, l) =>
      dealers.reduce((sum: G2Point | undefined, i, k) => {
        const term = dealt[i - 1].commitments[l].multiply(lambdas[k]);
        return sum ? sum.add(term) : term;
      }, undefined)!,
    );
    list.push({ dealings: dealt.map((d) => concatHex(d.commitments.map(g2Hex))), shares, commitments: concatHex(commitments.map(g2Hex)) });
    // The next epoch reshares this one: old slot i deals g_i(0) = s_i; Q' = the two lowest slots.
    polys = shares.map((s, i) => [s, scalar(`reshare/${e + 1}/${i + 1}/1`)]);
    dealers = [1, 2];
    lambdas = lagrangeAtZero(dealers);
  }
  // k = Σ f_i(0) over the DKG dealers; every epoch must keep K = k·P2 as its C_0 (a handover never changes it).
  const groupSecret = Array.from({ length: N }, (_, i) => scalar(`dkg/${i + 1}/0`)).reduce((x, y) => Fr.add(x, y), 0n);
  const groupKey = g2Hex(G2.BASE.multiply(groupSecret));
  for (const [k, e] of list.entries()) {
    if (e.commitments.slice(0, 2 + 512) !== groupKey) throw new Error(`fixtures: epoch ${k + 1} does not keep the group key`);
  }
  return { groupSecret, list };
}

const isSquare = (a: bigint) => a === 0n || Fp.pow(a, (P - 1n) / 2n) === 1n;

/** A G1 x (compressed, flag set) with no y, and w with w² = −(x³ + 4). */
function g1NoY() {
  for (let x = 1n; ; x++) {
    const z = Fp.add(Fp.pow(x, 3n), 4n);
    if (!isSquare(z)) {
      const bytes = hexToBytes(toHex(x, { size: 48 }));
      bytes[0] |= 0x80;
      return { x: toHex(bytes), w: Fp.sqrt(Fp.neg(z)) };
    }
  }
}

/** A G2 x = x0 + x1·u (compressed x1 ‖ x0) with no y, and w with w² = −N(x³ + 4(1 + u)). */
function g2NoY() {
  const x1 = 1n;
  for (let x0 = 1n; ; x0++) {
    const a0 = Fp.sub(Fp.mul(x0, x0), Fp.mul(x1, x1));
    const a1 = Fp.mul(2n, Fp.mul(x0, x1));
    const z0 = Fp.add(Fp.sub(Fp.mul(a0, x0), Fp.mul(a1, x1)), 4n);
    const z1 = Fp.add(Fp.add(Fp.mul(a0, x1), Fp.mul(a1, x0)), 4n);
    const norm = Fp.add(Fp.mul(z0, z0), Fp.mul(z1, z1));
    if (!isSquare(norm)) {
      const bytes = new Uint8Array(96);
      bytes.set(hexToBytes(toHex(x1, { size: 48 })), 0);
      bytes.set(hexToBytes(toHex(x0, { size: 48 })), 48);
      bytes[0] |= 0x80;
      return { x: toHex(bytes), w: Fp.sqrt(Fp.neg(norm)) };
    }
  }
}

/** A G1 point on the curve y² = x³ + 4 outside the prime-order subgroup, EIP-2537 form. */
function offSubgroupG1(): Hex {
  for (let x = 1n; ; x++) {
    const z = Fp.add(Fp.pow(x, 3n), 4n);
    if (!isSquare(z)) continue;
    const point = G1.fromAffine({ x, y: Fp.sqrt(z) });
    if (point.isTorsionFree()) continue;
    return concatHex([toHex(x, { size: 64 }), toHex(Fp.sqrt(z), { size: 64 })]);
  }
}

const u = (v: bigint) => toHex(v, { size: 32 });

/** The Solidity source of the fixtures library (deterministic: the same text on every run). */
export function fixturesSource(): string {
  const { groupSecret, list } = epochs();
  const a = scalar("requester");
  const noY1 = g1NoY();
  const noY2 = g2NoY();
  const off = offSubgroupG1();
  const dealingCases = list.flatMap((e) => e.dealings);
  const out: string[] = [];
  out.push(
    "// SPDX-License-Identifier: MIT",
    "// Generated by scripts/fuzz/fixtures.ts (node scripts/fuzz/fixtures.ts); do not edit.",
    "pragma solidity ^0.8.30;",
    "",
    "/// @title Fixtures",
    "/// @notice BLS key material for the invariant and fuzz suites, made by the SDK from fixed labels (test secrets,",
    "///         public by construction). Committee: n = 3, t = 2; epoch 1 is a DKG, epochs 2 and 3 reshare the one",
    "///         before (every old slot deals, Q' = {1, 2}).",
    "library Fixtures {",
    `    uint256 internal constant N = ${N};`,
    `    uint256 internal constant T = ${T};`,
    `    uint256 internal constant EPOCHS = ${EPOCHS};`,
    "    /// @notice k, the committee's group secret (K = k·P2).",
    `    uint256 internal constant GROUP_SECRET = ${u(groupSecret)};`,
    "    /// @notice a, the requester's one-time secret (A = a·G1).",
    `    uint256 internal constant REQUESTER_SECRET = ${u(a)};`,
    "    /// @notice The witness w (split at bit 256) that G1_NO_Y has no y: w² = −(x³ + 4).",
    `    uint256 internal constant G1_NO_Y_WITNESS_HI = ${u(noY1.w >> 256n)};`,
    `    uint256 internal constant G1_NO_Y_WITNESS_LO = ${u(noY1.w & ((1n << 256n) - 1n))};`,
    "    /// @notice The witness w (split at bit 256) that G2_NO_Y has no y: w² = −N(x³ + 4(1 + u)).",
    `    uint256 internal constant G2_NO_Y_WITNESS_HI = ${u(noY2.w >> 256n)};`,
    `    uint256 internal constant G2_NO_Y_WITNESS_LO = ${u(noY2.w & ((1n << 256n) - 1n))};`,
    "",
    "    /// @notice G1 generator P1, EIP-2537.",
    `    bytes internal constant P1 = hex"${toHex(g1ToEip2537(G1.BASE)).slice(2)}";`,
    "    /// @notice G2 generator P2, EIP-2537.",
    `    bytes internal constant P2 = hex"${g2Hex(G2.BASE).slice(2)}";`,
    "    /// @notice The group key K = C_0 of every epoch, EIP-2537.",
    `    bytes internal constant GROUP_KEY = hex"${g2Hex(G2.BASE.multiply(groupSecret)).slice(2)}";`,
    "    /// @notice The requester key A = a·G1, EIP-2537.",
    `    bytes internal constant REQUESTER_KEY = hex"${toHex(g1ToEip2537(G1.BASE.multiply(a))).slice(2)}";`,
    "    /// @notice A compressed G1 x (flag 0x80) with no point on the curve.",
    `    bytes internal constant G1_NO_Y = hex"${noY1.x.slice(2)}";`,
    "    /// @notice A compressed G2 x (x1 ‖ x0, flag 0x80) with no point on the curve.",
    `    bytes internal constant G2_NO_Y = hex"${noY2.x.slice(2)}";`,
    "    /// @notice A G1 point on the curve but outside the prime-order subgroup, EIP-2537.",
    `    bytes internal constant G1_OFF_SUBGROUP = hex"${off.slice(2)}";`,
    "",
  );
  out.push("    /// @notice Member `slot`'s share of `epoch`.");
  out.push("    function share(uint256 epoch, uint256 slot) internal pure returns (uint256) {");
  list.forEach((e, k) => e.shares.forEach((s, j) => out.push(`        if (epoch == ${k + 1} && slot == ${j + 1}) return ${u(s)};`)));
  out.push('        revert("Fixtures: no such share");', "    }", "");
  out.push("    /// @notice The commitments C_0 ‖ C_1 of `epoch` (EIP-2537 G2 each), as finalize computes them.");
  out.push("    function commitments(uint256 epoch) internal pure returns (bytes memory) {");
  list.forEach((e, k) => out.push(`        if (epoch == ${k + 1}) return hex"${e.commitments.slice(2)}";`));
  out.push('        revert("Fixtures: no such epoch");', "    }", "");
  out.push("    /// @notice The dealing of old slot `dealer` (DKG member at epoch 1) for `epoch`: its commitments.");
  out.push("    function dealing(uint256 epoch, uint256 dealer) internal pure returns (bytes memory) {");
  dealingCases.forEach((d, k) => out.push(`        if (epoch == ${Math.floor(k / N) + 1} && dealer == ${(k % N) + 1}) return hex"${d.slice(2)}";`));
  out.push('        revert("Fixtures: no such dealing");', "    }", "}", "");
  return out.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(FIXTURES_PATH, fixturesSource());
  console.log(`wrote ${FIXTURES_PATH}`);
}
