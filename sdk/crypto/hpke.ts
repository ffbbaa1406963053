/**
 * HPKE (RFC 9180) of the protocol: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305
 * (PROTOCOL.md §3.4, §4.4), through `@hpke/core`. Sealed output is `enc (32 bytes) ‖ ciphertext`.
 */
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { x25519 } from "@noble/curves/ed25519.js";
import type { Address, Hex } from "viem";

import { CGError, describe } from "../errors.ts";
import { fragmentInfo, shareEnvelopeInfo, subShareInfo } from "../encoding/messages.ts";
import { type G1Point, R, g1FromCompressed, g1ToCompressed, scalarFromBytes, scalarToBytes } from "./bls.ts";
import { G1_COMPRESSED_LENGTH, SCALAR_LENGTH, SEALED_SUBSHARE_LENGTH, X25519_KEY_LENGTH } from "./constants.ts";
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

/** A fresh X25519 key pair (a guardian's encryption key, or a request's ephemeral key). */
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

// ───────────────────────────── share envelopes (§3.4) ─────────────────────────────

export interface EnvelopeContext {
  chainId: bigint;
  shardMapRegistry: Address;
  accountId: Hex;
  epoch: bigint;
  index: number;
}

/** Envelope for member i: plaintext s_i (32 bytes big-endian) ‖ UTF-8 channel URI. */
export async function sealShareEnvelope(
  recipientPublicKey: Uint8Array,
  ctx: EnvelopeContext,
  share: bigint,
  channelUri: string,
): Promise<Uint8Array> {
  if (typeof channelUri !== "string" || channelUri.length === 0) {
    throw new CGError("INVALID_INPUT", `sealShareEnvelope: expected a channel URI, got ${describe(channelUri)}`);
  }
  const shareBytes = scalarToBytes(share);
  const uri = new TextEncoder().encode(channelUri);
  const plaintext = new Uint8Array(32 + uri.length);
  plaintext.set(shareBytes, 0);
  plaintext.set(uri, 32);
  try {
    return await seal(recipientPublicKey, shareEnvelopeInfo(ctx.chainId, ctx.shardMapRegistry, ctx.accountId, ctx.epoch, ctx.index), plaintext);
  } finally {
    wipe(shareBytes, plaintext);
  }
}

export async function openShareEnvelope(
  privateKey: Uint8Array,
  ctx: EnvelopeContext,
  envelope: Uint8Array,
): Promise<{ share: bigint; channelUri: string }> {
  const info = shareEnvelopeInfo(ctx.chainId, ctx.shardMapRegistry, ctx.accountId, ctx.epoch, ctx.index);
  const plaintext = await open(privateKey, info, envelope, `share envelope #${ctx.index}`);
  try {
    if (plaintext.length <= 32) {
      throw new CGError("INVALID_ENVELOPE", `share envelope #${ctx.index}: expected a share and a channel URI, got ${plaintext.length} bytes`);
    }
    const share = scalarFromBytes(plaintext.subarray(0, 32), `share envelope #${ctx.index}`);
    let channelUri: string;
    try {
      channelUri = new TextDecoder("utf-8", { fatal: true }).decode(plaintext.subarray(32));
    } catch (cause) {
      throw new CGError("INVALID_ENVELOPE", `share envelope #${ctx.index}: the channel URI is not UTF-8`, { cause });
    }
    return { share, channelUri };
  } finally {
    wipe(plaintext);
  }
}

// ───────────────────────────── fragments (§4.4) ─────────────────────────────

export interface FragmentContext {
  chainId: bigint;
  coordinator: Address;
  requestId: bigint;
  index: number;
}

/** Seals compress(σ_i) (48 bytes) to the request's ephemeral key: 32 + 64 bytes. */
export async function sealFragment(ephemeralPublicKey: Uint8Array, ctx: FragmentContext, sigma: G1Point): Promise<Uint8Array> {
  const compressed = g1ToCompressed(sigma);
  try {
    return await seal(ephemeralPublicKey, fragmentInfo(ctx.chainId, ctx.coordinator, ctx.requestId, ctx.index), compressed);
  } finally {
    wipe(compressed);
  }
}

/** Opens a fragment payload and decodes σ_i with full point checks. */
export async function openFragment(ephemeralPrivateKey: Uint8Array, ctx: FragmentContext, payload: Uint8Array): Promise<G1Point> {
  const info = fragmentInfo(ctx.chainId, ctx.coordinator, ctx.requestId, ctx.index);
  const plaintext = await open(ephemeralPrivateKey, info, payload, `fragment #${ctx.index} of request ${ctx.requestId}`);
  try {
    if (plaintext.length !== G1_COMPRESSED_LENGTH) {
      throw new CGError("INVALID_FRAGMENT", `fragment #${ctx.index}: expected a ${G1_COMPRESSED_LENGTH}-byte partial, got ${plaintext.length} bytes`);
    }
    return g1FromCompressed(plaintext, `fragment #${ctx.index} of request ${ctx.requestId}`);
  } finally {
    wipe(plaintext);
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
