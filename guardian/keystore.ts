/**
 * Encrypted keystores for the operator key (secp256k1) and the HPKE key (X25519): scrypt derives a key from the
 * passphrase, XChaCha20-Poly1305 seals the secret. One JSON file per key, readable only by the operator.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";

import { CGError } from "../sdk/errors.ts";

export interface KeystoreFile {
  version: 1;
  kind: "operator" | "hpke";
  /** The public part, so `keys show` needs no passphrase. */
  public: string;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "xchacha20-poly1305"; nonce: string; ciphertext: string };
}

export const DEFAULT_SCRYPT_N = 2 ** 16;

function deriveKey(passphrase: string, salt: Uint8Array, N: number, r: number, p: number): Uint8Array {
  if (passphrase.length < 8) throw new CGError("INVALID_CONFIG", "keystore: the passphrase must have at least 8 characters");
  return scrypt(new TextEncoder().encode(passphrase), salt, { N, r, p, dkLen: 32 });
}

export function sealKeystore(kind: KeystoreFile["kind"], secret: Uint8Array, publicPart: string, passphrase: string, N = DEFAULT_SCRYPT_N): KeystoreFile {
  const salt = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(24));
  const key = deriveKey(passphrase, salt, N, 8, 1);
  try {
    const ciphertext = xchacha20poly1305(key, nonce, new TextEncoder().encode(kind)).encrypt(secret);
    return {
      version: 1,
      kind,
      public: publicPart,
      kdf: { name: "scrypt", N, r: 8, p: 1, salt: Buffer.from(salt).toString("hex") },
      cipher: { name: "xchacha20-poly1305", nonce: Buffer.from(nonce).toString("hex"), ciphertext: Buffer.from(ciphertext).toString("hex") },
    };
  } finally {
    key.fill(0);
  }
}

export function openKeystore(file: KeystoreFile, passphrase: string, where: string): Uint8Array {
  if (file?.version !== 1 || file.kdf?.name !== "scrypt" || file.cipher?.name !== "xchacha20-poly1305") {
    throw new CGError("INVALID_KEYSTORE", `${where}: not a version-1 scrypt/xchacha20-poly1305 keystore`);
  }
  const key = deriveKey(passphrase, Buffer.from(file.kdf.salt, "hex"), file.kdf.N, file.kdf.r, file.kdf.p);
  try {
    return xchacha20poly1305(key, Buffer.from(file.cipher.nonce, "hex"), new TextEncoder().encode(file.kind)).decrypt(Buffer.from(file.cipher.ciphertext, "hex"));
  } catch (cause) {
    throw new CGError("WRONG_PASSPHRASE", `${where}: the passphrase does not open this keystore`, { cause });
  } finally {
    key.fill(0);
  }
}

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
