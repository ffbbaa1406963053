import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import "dotenv/config";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

/**
 * solc 0.8.30 comes from the npm package `solc` (its soljson.js), so compiling never downloads
 * a compiler. The EIP-2537 precompiles need evmVersion prague or later; the simulated network
 * runs EDR's default hardfork (osaka).
 */
const solc = {
  version: "0.8.30",
  path: require.resolve("solc/soljson.js"),
  settings: {
    evmVersion: "prague",
    optimizer: { enabled: true, runs: 200 },
    viaIR: true,
  },
} as const;

/**
 * Solidity fuzz and invariant suites (test/contracts/fuzz/): a bounded run in `npm test`, a deep one with
 * `CG_FUZZ=deep` (`npm run fuzz`). The seed is fixed so a failure reproduces; `CG_FUZZ_SEED` picks another.
 */
const deepFuzz = process.env.CG_FUZZ === "deep";
const fuzzSeed = process.env.CG_FUZZ_SEED ?? "0x4347554152442d56303220696e76617269616e7473";

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: solc,
      production: solc,
    },
  },
  paths: {
    tests: { mocha: "test", solidity: "test/contracts/fuzz" },
  },
  test: {
    mocha: { timeout: 120_000 },
    solidity: {
      fuzz: { runs: deepFuzz ? 2_000 : 64, seed: fuzzSeed },
      invariant: { runs: deepFuzz ? 256 : 8, depth: deepFuzz ? 100 : 25, failOnRevert: false },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: process.env.CG_LOCALHOST_URL ?? "http://127.0.0.1:8545" },
    remote: {
      type: "http",
      chainType: "l1",
      url: configVariable("CG_RPC_URL"),
      accounts: [configVariable("CG_DEPLOYER_KEY")],
    },
  },
});
