/** Loads the test vectors of test/vectors (see its README for provenance). */
import { readFileSync } from "node:fs";

export interface H2CVector {
  msg: string;
  u: [string, string];
  P: { x: string; y: string };
  Q0: { x: string; y: string };
  Q1: { x: string; y: string };
}

export interface ExpandVector {
  msg: string;
  len_in_bytes: string;
  uniform_bytes: string;
  DST_prime: string;
  msg_prime: string;
}

function load<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../vectors/${path}`, import.meta.url), "utf8")) as T;
}

export const hashToG1Vectors = load<{ dst: string; vectors: H2CVector[] }>("rfc9380/BLS12381G1_XMD_SHA-256_SSWU_RO_.json");
export const expandVectors = [
  load<{ DST: string; tests: ExpandVector[] }>("rfc9380/expand_message_xmd_SHA256_38.json"),
  load<{ DST: string; tests: ExpandVector[] }>("rfc9380/expand_message_xmd_SHA256_256.json"),
];
export const eip2537Vectors = load<{ G1: { Input: string; Expected: string; Name: string }[] }>("eip2537/eip2537.json");

/** An Fp element as a 0x-prefixed 64-byte EIP-2537 limb. */
export function fpHex(value: string): string {
  return "0x" + BigInt(value).toString(16).padStart(128, "0");
}

/** A vector's affine G1 point in EIP-2537 form. */
export function g1Hex(point: { x: string; y: string }): string {
  return fpHex(point.x) + fpHex(point.y).slice(2);
}
