/**
 * Passphrase-sealed secrets: scrypt derives a key from the passphrase, XChaCha20-Poly1305 seals the secret (with
 * its kind as associated data). Used for the guardian's keystores and for a reset request's one-time requester secret.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { randomBytes } from "@noble/hashes/utils.js";

import { CGError } from "../errors.ts";

export interface KeystoreFile {
  version: 1;
  kind: "operator" | "hpke" | "requester";
  /** The public part, so `keys show` needs no passphrase. */
  public: string;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "xchacha20-poly1305"; nonce: string; ciphertext: string };
}

export const DEFAULT_SCRYPT_N = 2 ** 16;

function deriveKey(passphrase: string, salt: Uint8Array, N: number, r: number, p: number): Uint8Array {
  return scrypt(new TextEncoder().encode(passphrase), salt, { N, r, p, dkLen: 32 });
}

export function sealKeystore(kind: KeystoreFile["kind"], secret: Uint8Array, publicPart: string, passphrase: string, N = DEFAULT_SCRYPT_N): KeystoreFile {
  if (passphrase.length < 8) throw new CGError("INVALID_CONFIG", "keystore: the passphrase must have at least 8 characters");
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = deriveKey(passphrase, salt, N, 8, 1);
  try {
    const ciphertext = xchacha20poly1305(key, nonce, new TextEncoder().encode(kind)).encrypt(secret);
    return {
      version: 1,
      kind,
      public: publicPart,
      kdf: { name: "scrypt", N, r: 8, p: 1, salt: bytesHex(salt) },
      cipher: { name: "xchacha20-poly1305", nonce: bytesHex(nonce), ciphertext: bytesHex(ciphertext) },
    };
  } finally {
    key.fill(0);
  }
}

export function openKeystore(file: KeystoreFile, passphrase: string, where: string): Uint8Array {
  if (file?.version !== 1 || file.kdf?.name !== "scrypt" || file.cipher?.name !== "xchacha20-poly1305") {
    throw new CGError("INVALID_KEYSTORE", `${where}: not a version-1 scrypt/xchacha20-poly1305 keystore`);
  }
  const key = deriveKey(passphrase, hexBytes(file.kdf.salt), file.kdf.N, file.kdf.r, file.kdf.p);
  try {
    return xchacha20poly1305(key, hexBytes(file.cipher.nonce), new TextEncoder().encode(file.kind)).decrypt(hexBytes(file.cipher.ciphertext));
  } catch (cause) {
    throw new CGError("WRONG_PASSPHRASE", `${where}: the passphrase does not open this keystore`, { cause });
  } finally {
    key.fill(0);
  }
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function bytesHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
