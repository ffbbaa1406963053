/**
 * HPKE (RFC 9180) of the protocol: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305
 * (PROTOCOL.md §3.2, §5.2, §4.6), through `@hpke/core`. Sealed output is `enc (32 bytes) ‖ ciphertext`.
 */
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { x25519 } from "@noble/curves/ed25519.js";
import type { Address } from "viem";

import { CGError, describe } from "../errors.ts";
import { subShareInfo } from "../encoding/messages.ts";
import { R, scalarFromBytes, scalarToBytes } from "./bls.ts";
import { SCALAR_LENGTH, SEALED_SUBSHARE_LENGTH, X25519_KEY_LENGTH } from "./constants.ts";
import { wipe } from "./threshold.ts";

export const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

const ENC_LENGTH = 32;
const TAG_LENGTH = 16;

export interface HpkeKeyPair {
  publicKey: Uint8Array;
  /** Raw 32-byte X25519 secret: keep it in an encrypted keystore, wipe it after use. */
  privateKey: Uint8Array;
}

/** A fresh X25519 key pair (a guardian's encryption key, or an asker's key for a peer API reply). */
export async function generateHpkeKeyPair(): Promise<HpkeKeyPair> {
  const pair = await suite.kem.generateKeyPair();
  return {
    publicKey: new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)),
    privateKey: new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey)),
  };
}

/** The public key of a raw X25519 secret (RFC 7748 scalar multiplication of the base point). */
export function hpkePublicKey(privateKey: Uint8Array): Uint8Array {
  assertKey(privateKey, "hpkePublicKey: private key");
  return x25519.getPublicKey(privateKey);
}

function assertKey(key: Uint8Array, where: string): void {
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_LENGTH) {
    throw new CGError("INVALID_INPUT", `${where}: expected a ${X25519_KEY_LENGTH}-byte X25519 key, got ${describe(key)}`);
  }
}

/** Seals `plaintext` to `recipientPublicKey` with `info`; returns enc ‖ ciphertext. */
export async function seal(recipientPublicKey: Uint8Array, info: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  assertKey(recipientPublicKey, "seal: recipient public key");
  let pk: CryptoKey;
  try {
    pk = await suite.kem.deserializePublicKey(recipientPublicKey);
  } catch (cause) {
    throw new CGError("INVALID_INPUT", "seal: the recipient public key is not a valid X25519 key", { cause });
  }
  let sealed: { enc: ArrayBuffer; ct: ArrayBuffer };
  try {
    sealed = await suite.seal({ recipientPublicKey: pk, info }, plaintext);
  } catch (cause) {
    // RFC 9180 §7.1.4: DH with a low-order point gives the all-zero shared secret, which X25519 callers must refuse.
    throw new CGError("INVALID_INPUT", "seal: the recipient public key is refused by X25519 (a low-order point)", { cause });
  }
  const { enc, ct: ciphertext } = sealed;
  const out = new Uint8Array(enc.byteLength + ciphertext.byteLength);
  out.set(new Uint8Array(enc), 0);
  out.set(new Uint8Array(ciphertext), enc.byteLength);
  return out;
}

/** Opens enc ‖ ciphertext with the recipient's raw private key; `what` names the object in errors. */
export async function open(privateKey: Uint8Array, info: Uint8Array, sealed: Uint8Array, what: string): Promise<Uint8Array> {
  assertKey(privateKey, `${what}: private key`);
  if (!(sealed instanceof Uint8Array) || sealed.length < ENC_LENGTH + TAG_LENGTH) {
    throw new CGError("INVALID_INPUT", `${what}: expected at least ${ENC_LENGTH + TAG_LENGTH} sealed bytes, got ${describe(sealed)}`);
  }
  const recipientKey = await suite.kem.deserializePrivateKey(privateKey);
  try {
    const pt = await suite.open(
      { recipientKey, enc: sealed.slice(0, ENC_LENGTH), info },
      sealed.slice(ENC_LENGTH),
    );
    return new Uint8Array(pt);
  } catch (cause) {
    throw new CGError("DECRYPT_FAILED", `${what}: cannot be opened with this key (wrong key, wrong context, or tampered)`, {
      cause,
    });
  }
}

// ───────────────────────────── committee sub-shares (v2 §3.2, §4.1, §11) ─────────────────────────────

/** Who sealed a sub-share to whom, for which committee epoch: all of it goes into the HPKE info (§11). */
export interface SubShareContext {
  chainId: bigint;
  registry: Address;
  committeeId: bigint;
  /** The epoch the sub-share builds: 1 for the DKG, e + 1 for a reshare from epoch e. */
  committeeEpoch: bigint;
  /** The dealer's index in the dealing epoch (its old index in a reshare). */
  dealer: number;
  /** The recipient's index in the epoch being built. */
  recipient: number;
}

function subShareContextInfo(ctx: SubShareContext, where: string): Uint8Array {
  if (typeof ctx !== "object" || ctx === null) throw new CGError("INVALID_INPUT", `${where}: expected a sub-share context, got ${describe(ctx)}`);
  return subShareInfo(ctx.chainId, ctx.registry, ctx.committeeId, ctx.committeeEpoch, ctx.dealer, ctx.recipient);
}

function subShareName(ctx: SubShareContext): string {
  return `sub-share from dealer #${ctx.dealer} to member #${ctx.recipient} (committee ${ctx.committeeId}, epoch ${ctx.committeeEpoch})`;
}

/** Seals a sub-share f_i(j) (32 bytes big-endian) to recipient j's HPKE key: enc (32) ‖ ciphertext + tag (48) = 80 bytes. */
export async function sealSubShare(recipientPublicKey: Uint8Array, ctx: SubShareContext, value: bigint): Promise<Uint8Array> {
  const info = subShareContextInfo(ctx, "sealSubShare");
  if (typeof value !== "bigint" || value <= 0n || value >= R) {
    throw new CGError("INVALID_INPUT", `sealSubShare: expected the sub-share as a scalar in [1, r-1], got ${typeof value === "bigint" ? "a value out of range" : typeof value}`);
  }
  const plaintext = scalarToBytes(value);
  try {
    const sealed = await seal(recipientPublicKey, info, plaintext);
    if (sealed.length !== SEALED_SUBSHARE_LENGTH) {
      // Cannot happen with this suite; a library change that breaks the wire form must not go unnoticed.
      throw new CGError("INTERNAL", `sealSubShare: expected ${SEALED_SUBSHARE_LENGTH} sealed bytes, produced ${sealed.length}`);
    }
    return sealed;
  } finally {
    wipe(plaintext);
  }
}

/**
 * Opens a sealed sub-share with the recipient's raw X25519 private key and reads the scalar (§11: in
 * [1, r − 1]). Fails only with CGError: INVALID_INPUT (lengths, context), DECRYPT_FAILED (wrong key,
 * wrong context, tampered, or a malformed or low-order enc), INVALID_SCALAR (0 or ≥ r inside).
 */
export async function openSubShare(privateKey: Uint8Array, ctx: SubShareContext, sealed: Uint8Array): Promise<bigint> {
  const info = subShareContextInfo(ctx, "openSubShare");
  assertKey(privateKey, "openSubShare: private key");
  if (!(sealed instanceof Uint8Array) || sealed.length !== SEALED_SUBSHARE_LENGTH) {
    throw new CGError("INVALID_INPUT", `openSubShare: expected ${SEALED_SUBSHARE_LENGTH} sealed bytes, got ${describe(sealed)}`);
  }
  const what = subShareName(ctx);
  let plaintext: Uint8Array | undefined;
  try {
    plaintext = await open(privateKey, info, sealed, what);
    if (plaintext.length !== SCALAR_LENGTH) {
      throw new CGError("INVALID_SCALAR", `${what}: expected a ${SCALAR_LENGTH}-byte scalar, got ${plaintext.length} bytes`);
    }
    return scalarFromBytes(plaintext, what);
  } catch (cause) {
    if (cause instanceof CGError) throw cause;
    // Whatever the HPKE library throws outside `open`'s own guard (e.g. on a malformed key) stays a CGError.
    throw new CGError("DECRYPT_FAILED", `${what}: cannot be opened with this key (wrong key, wrong context, or tampered)`, { cause });
  } finally {
    if (plaintext) wipe(plaintext);
  }
}
