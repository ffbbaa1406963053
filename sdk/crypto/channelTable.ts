/**
 * The sealed channel table of PROTOCOL.md §3.5: identity-based encryption of slot j's channel URI under the
 * account's group key K (Boneh–Franklin style, as drand's timelock encryption), opened only by a threshold
 * BLS signature of the committee on id_j.
 *
 *   Q_j = H(id_j); random ρ; U_j = ρ·P2;
 *   key_j = HKDF-SHA256(ikm = Fp12.toBytes(e(ρ·Q_j, K)), salt = empty, info = "CGUARD-V02/channel-key", L = 32);
 *   sealed_j = compress(U_j) ‖ ChaCha20-Poly1305(key_j, nonce = 0, URI_j).
 *   Open with σ = k·Q_j: e(σ, U_j) = e(ρ·Q_j, K).
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type Hex, hexToBytes } from "viem";

import { CGError, describe } from "../errors.ts";
import { type G1Point, type G2Point, Fp12, G2, g2FromCompressed, g2ToCompressed, hashToG1, pairing } from "./bls.ts";
import { G2_COMPRESSED_LENGTH, INFO } from "./constants.ts";
import { randomScalar, wipe } from "./threshold.ts";

const NONCE = new Uint8Array(12);
const TAG_LENGTH = 16;

function channelKey(gt: ReturnType<typeof pairing>): Uint8Array {
  const ikm = Fp12.toBytes(gt);
  try {
    return hkdf(sha256, ikm, new Uint8Array(0), new TextEncoder().encode(INFO.channelKey), 32);
  } finally {
    wipe(ikm);
  }
}

function identityBytes(identity: Hex): Uint8Array {
  if (typeof identity !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(identity)) {
    throw new CGError("INVALID_INPUT", `channel table: expected a 32-byte identity id_j, got ${describe(identity)}`);
  }
  return hexToBytes(identity);
}

/** Seals one slot's channel URI under the group key K for identity id_j. */
export function sealChannel(groupKey: G2Point, identity: Hex, channelUri: string, rho: bigint = randomScalar()): Uint8Array {
  if (groupKey.is0()) throw new CGError("POINT_AT_INFINITY", "sealChannel: the group key is the point at infinity");
  const q = hashToG1(identityBytes(identity));
  const u = G2.BASE.multiply(rho);
  const key = channelKey(pairing(q.multiply(rho), groupKey));
  try {
    const ct = chacha20poly1305(key, NONCE).encrypt(new TextEncoder().encode(channelUri));
    const out = new Uint8Array(G2_COMPRESSED_LENGTH + ct.length);
    out.set(g2ToCompressed(u), 0);
    out.set(ct, G2_COMPRESSED_LENGTH);
    return out;
  } finally {
    wipe(key);
  }
}

/** Opens a sealed slot with σ, the group's signature on id_j (t partials on id_j, combined). */
export function openChannel(sealed: Uint8Array, signatureOnIdentity: G1Point): string {
  if (!(sealed instanceof Uint8Array) || sealed.length < G2_COMPRESSED_LENGTH + TAG_LENGTH) {
    throw new CGError("INVALID_INPUT", `openChannel: expected at least ${G2_COMPRESSED_LENGTH + TAG_LENGTH} bytes, got ${describe(sealed)}`);
  }
  const u = g2FromCompressed(sealed.subarray(0, G2_COMPRESSED_LENGTH), "openChannel: U_j");
  const key = channelKey(pairing(signatureOnIdentity, u));
  try {
    const pt = chacha20poly1305(key, NONCE).decrypt(sealed.subarray(G2_COMPRESSED_LENGTH));
    return new TextDecoder("utf-8", { fatal: true }).decode(pt);
  } catch (cause) {
    throw new CGError("DECRYPT_FAILED", "openChannel: the signature does not open this slot (wrong identity, wrong key, or tampered)", { cause });
  } finally {
    wipe(key);
  }
}
