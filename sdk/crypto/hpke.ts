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
import { fragmentInfo, shareEnvelopeInfo } from "../encoding/messages.ts";
import { type G1Point, g1FromCompressed, g1ToCompressed, scalarFromBytes, scalarToBytes } from "./bls.ts";
import { G1_COMPRESSED_LENGTH, X25519_KEY_LENGTH } from "./constants.ts";
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
