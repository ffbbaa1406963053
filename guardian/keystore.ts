/** Keystore files of the guardian: the sealing itself is the SDK's (sdk/crypto/keystore.ts). */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";

import { type KeystoreFile } from "../sdk/crypto/keystore.ts";
import { CGError } from "../sdk/errors.ts";

export { DEFAULT_SCRYPT_N, type KeystoreFile, openKeystore, sealKeystore } from "../sdk/crypto/keystore.ts";

export function writeKeystore(path: string, file: KeystoreFile, overwrite = false): void {
  if (existsSync(path) && !overwrite) throw new CGError("KEYSTORE_EXISTS", `${path} exists; refusing to overwrite a key (move it away first)`);
  writeFileSync(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readKeystore(path: string): KeystoreFile {
  if (!existsSync(path)) throw new CGError("INVALID_CONFIG", `keystore ${path} does not exist; run \`guardian keys init\` first`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as KeystoreFile;
  } catch (cause) {
    throw new CGError("INVALID_KEYSTORE", `${path} is not a JSON keystore`, { cause });
  }
}
