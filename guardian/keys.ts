/**
 * `guardian keys export | import`: moving an operator's keys between machines as one sealed bundle. The bundle holds
 * the two keystore files exactly as sealed (scrypt + XChaCha20-Poly1305 under the passphrase); export checks that
 * they open before writing it, import checks that they open and that each secret matches its public part before
 * writing anything. No secret is printed unless `--show-private-key` asks for it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

import { getAddress, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { hpkePublicKey } from "../sdk/crypto/hpke.ts";
import { CGError } from "../sdk/errors.ts";
import { paths } from "./commands.ts";
import { loadConfig } from "./config.ts";
import { type KeystoreFile, openKeystore, readKeystore, sealKeystore, writeKeystore } from "./keystore.ts";
import { acquireLock } from "./lock.ts";

export const BUNDLE_FORMAT = "cg-guardian-keys/1";

interface Bundle {
  format: typeof BUNDLE_FORMAT;
  operator: KeystoreFile;
  hpke: KeystoreFile;
}

/** Opens both keystores with `passphrase` and checks each secret against its public part. */
function openBoth(b: { operator: KeystoreFile; hpke: KeystoreFile }, passphrase: string, where: string) {
  const operatorKey = openKeystore(b.operator, passphrase, `${where} (operator key)`);
  const hpkeSecret = openKeystore(b.hpke, passphrase, `${where} (encryption key)`);
  const operator = privateKeyToAccount(toHex(operatorKey));
  if (getAddress(operator.address) !== getAddress(b.operator.public)) throw new CGError("INVALID_KEYSTORE", `${where}: the operator key does not match its address ${b.operator.public}`);
  if (toHex(hpkePublicKey(hpkeSecret)) !== b.hpke.public.toLowerCase()) throw new CGError("INVALID_KEYSTORE", `${where}: the encryption key does not match its public key`);
  return { operatorKey, hpkeSecret, operator };
}

export async function keysExport(configFile: string | undefined, o: { out?: string; showPrivateKey?: boolean }): Promise<number> {
  const config = loadConfig(configFile);
  const p = paths(config);
  const bundle: Bundle = { format: BUNDLE_FORMAT, operator: readKeystore(p.operator), hpke: readKeystore(p.hpke) };
  const { operatorKey, hpkeSecret } = openBoth(bundle, config.passphrase, config.dataDir);
  const privateKey = o.showPrivateKey ? toHex(operatorKey) : undefined;
  operatorKey.fill(0);
  hpkeSecret.fill(0);
  const text = JSON.stringify(bundle, null, 2) + "\n";
  if (o.out !== undefined) {
    const out = resolve(o.out);
    if (existsSync(out)) throw new CGError("KEYSTORE_EXISTS", `${out} exists; refusing to overwrite it`);
    writeFileSync(out, text, { mode: 0o600 });
    process.stdout.write(JSON.stringify({ exported: out, operator: bundle.operator.public, encryptionKey: bundle.hpke.public, ...(privateKey ? { operatorPrivateKey: privateKey } : {}) }, null, 2) + "\n");
  } else if (privateKey) {
    process.stdout.write(JSON.stringify({ ...bundle, operatorPrivateKey: privateKey }, null, 2) + "\n");
  } else process.stdout.write(text);
  if (privateKey) process.stderr.write("guardian: the operator's private key is printed above in the clear; anyone who sees it controls the stake\n");
  return 0;
}

export async function keysImport(configFile: string | undefined, file: string, o: { force?: boolean; bundlePassphraseFile?: string }): Promise<number> {
  const config = loadConfig(configFile);
  let bundle: Bundle;
  try {
    bundle = JSON.parse(readFileSync(resolve(file), "utf8"));
  } catch (cause) {
    throw new CGError("INVALID_KEYSTORE", `${file} is not a key bundle written by \`cg-guardian keys export\``, { cause });
  }
  if (bundle?.format !== BUNDLE_FORMAT || bundle.operator?.kind !== "operator" || bundle.hpke?.kind !== "hpke") {
    throw new CGError("INVALID_KEYSTORE", `${file} is not a key bundle written by \`cg-guardian keys export\` (format ${BUNDLE_FORMAT})`);
  }
  const from = o.bundlePassphraseFile === undefined ? config.passphrase : readFileSync(resolve(o.bundlePassphraseFile), "utf8").replace(/\r?\n$/, "");
  const { operatorKey, hpkeSecret, operator } = openBoth(bundle, from, file);
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const p = paths(config);
    if (!o.force && (existsSync(p.operator) || existsSync(p.hpke))) {
      throw new CGError("KEYSTORE_EXISTS", `keys already exist in ${config.dataDir}; refusing to replace them (export them first; --force replaces them)`);
    }
    // Never swap the keys under a running agent.
    const lock = acquireLock(config.dataDir);
    try {
      const same = from === config.passphrase;
      writeKeystore(p.operator, same ? bundle.operator : sealKeystore("operator", operatorKey, getAddress(operator.address), config.passphrase, config.scryptN), o.force);
      writeKeystore(p.hpke, same ? bundle.hpke : sealKeystore("hpke", hpkeSecret, bundle.hpke.public, config.passphrase, config.scryptN), o.force);
    } finally {
      lock.release();
    }
    process.stdout.write(JSON.stringify({ imported: file, operator: getAddress(operator.address), encryptionKey: bundle.hpke.public, dataDir: config.dataDir }, null, 2) + "\n");
    return 0;
  } finally {
    operatorKey.fill(0);
    hpkeSecret.fill(0);
  }
}

