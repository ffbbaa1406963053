/**
 * `npm run bench`: measures every figure the project tracks, prints a table and rewrites bench/results.json.
 * Gas is for EDR's simulated network at its default hardfork (osaka). Add a section by writing a function
 * that returns `Figure[]` in bench/sections/ and listing it below.
 */
import { network } from "hardhat";

import { mergeResults } from "./results.ts";
import { clientSection } from "./sections/client.ts";
import { committeesSection } from "./sections/committees.ts";
import { contractsSection } from "./sections/contracts.ts";
import { cryptoSection } from "./sections/crypto.ts";
import { guardianSection } from "./sections/guardian.ts";

export type Connection = Awaited<ReturnType<typeof network.create>>;

export interface Figure {
  key: string;
  value: number;
  unit: "gas" | "ms" | "per-second";
  /** Upper bound the project aims for, if any. */
  target?: number;
  note?: string;
}

const sections = [
  { name: "cryptography", run: cryptoSection },
  { name: "contracts", run: contractsSection },
  { name: "committees", run: committeesSection },
  { name: "client", run: clientSection },
  { name: "guardian", run: guardianSection },
];

const connection = await network.create();
const figures: Figure[] = [];
for (const section of sections) {
  process.stderr.write(`bench: ${section.name}…\n`);
  figures.push(...(await section.run(connection)));
}

const rows = figures.map((f) => [
  f.key,
  f.unit === "gas" ? f.value.toLocaleString("en-US") : String(f.value),
  f.unit,
  f.target === undefined ? "" : f.target.toLocaleString("en-US"),
  f.target === undefined ? "" : f.value <= f.target ? "met" : "MISSED",
  f.note ?? "",
]);
const header = ["figure", "value", "unit", "target", "", "note"];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (r: string[]) => r.map((cell, c) => (c === 1 || c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));

// gas.* and offchain.* are this script's; what other scripts merged in (scale.*, reliability.*, …) is kept.
mergeResults({
  figures: Object.fromEntries(figures.map((f) => [f.key, f.value])),
  owns: (key) => key.startsWith("gas.") || key.startsWith("offchain."),
  top: { generated: new Date().toISOString() },
  environment: {
    evm: "EDR simulated network, hardfork osaka (Hardhat default)",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gasMethod: {
      library: "gas.hashToG1, gas.verifyToken, gas.derivePublicShareT3: gasleft() around the library call in BLS12381Harness (no 21,000 base, no calldata cost)",
      transactions: "every other gas.* figure: receipt gasUsed, including the 21,000 base and calldata",
    },
  },
});
console.log("\nwrote bench/results.json");
