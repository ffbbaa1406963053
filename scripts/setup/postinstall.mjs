// Post-install step that makes `npm install` then `npm test` work whatever Node the machine runs.
//
// Hardhat 3 needs Node >= 22.13, so the workspace ships Node 24 as the devDependency `node`
// (npm scripts put node_modules/.bin first on PATH, so this script already runs under it).
// EDR, Hardhat's EVM, loads a native binding published as an optional dependency that declares
// `node >= 22`; an `npm install` started by an older Node skips it. This step installs the binding
// for this platform at the exact version EDR expects, without touching package.json or the lockfile.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";

const require = createRequire(import.meta.url);

/** Directory of an installed package, found from its entry point (its `exports` may hide package.json). */
function packageDir(name, from = require) {
  let dir = dirname(from.resolve(name));
  while (!existsSync(join(dir, "package.json")) || JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`package.json of ${name} not found`);
    dir = up;
  }
  return dir;
}

function bindingName() {
  const { platform, arch } = process;
  if (platform === "linux") {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `@nomicfoundation/edr-linux-${arch}-${glibc ? "gnu" : "musl"}`;
  }
  if (platform === "darwin") return `@nomicfoundation/edr-darwin-${arch}`;
  if (platform === "win32") return `@nomicfoundation/edr-win32-${arch}-msvc`;
  return undefined;
}

function main() {
  let edrDir;
  try {
    // EDR is Hardhat's dependency: resolve it the way Hardhat does.
    edrDir = packageDir("@nomicfoundation/edr", createRequire(join(packageDir("hardhat"), "package.json")));
  } catch {
    // Installed without Hardhat (e.g. a production install of the library only): nothing to do.
    return;
  }
  const edrVersion = JSON.parse(readFileSync(join(edrDir, "package.json"), "utf8")).version;
  const binding = bindingName();
  if (binding === undefined) {
    console.warn(`postinstall: no EDR binding is published for ${process.platform}-${process.arch}`);
    return;
  }
  try {
    packageDir(binding, createRequire(join(edrDir, "package.json")));
    return; // already present
  } catch {
    // fall through and install it
  }
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli
    ? [process.execPath, [npmCli]]
    : [process.platform === "win32" ? "npm.cmd" : "npm", []];
  console.log(`postinstall: installing ${binding}@${edrVersion} under Node ${process.version}`);
  const result = spawnSync(
    cmd,
    [...args, "install", "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", `${binding}@${edrVersion}`],
    { stdio: "inherit", env: process.env },
  );
  if (result.status !== 0) {
    console.error(`postinstall: could not install ${binding}@${edrVersion} (exit ${result.status})`);
    process.exit(1);
  }
}

main();
