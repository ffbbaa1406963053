/**
 * The fragment text codec of PROTOCOL.md §4.4: `cg1.<requestId>.<i>.<base64url(enc ‖ ciphertext)>`, no padding.
 * `decodeFragment` also finds the fragment inside a link or a message body, so a user can paste either.
 */
import { CGError, describe } from "../errors.ts";
import { FRAGMENT_PAYLOAD_LENGTH, FRAGMENT_PREFIX, MAX_COMMITTEE_SIZE } from "../crypto/constants.ts";

export interface FragmentText {
  requestId: bigint;
  index: number;
  /** enc (32) ‖ ChaCha20-Poly1305 ciphertext of the 48-byte compressed partial (64). */
  payload: Uint8Array;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const FRAGMENT_IN_TEXT = /cg1\.[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+/;

export function encodeFragment(f: FragmentText): string {
  if (typeof f.requestId !== "bigint" || f.requestId < 0n) {
    throw new CGError("INVALID_INPUT", `encodeFragment: expected a non-negative bigint request id, got ${describe(f.requestId)}`);
  }
  if (!Number.isInteger(f.index) || f.index < 1 || f.index > MAX_COMMITTEE_SIZE) {
    throw new CGError("INVALID_INPUT", `encodeFragment: expected an index in [1, ${MAX_COMMITTEE_SIZE}], got ${describe(f.index)}`);
  }
  if (!(f.payload instanceof Uint8Array) || f.payload.length !== FRAGMENT_PAYLOAD_LENGTH) {
    throw new CGError("INVALID_INPUT", `encodeFragment: expected a ${FRAGMENT_PAYLOAD_LENGTH}-byte payload, got ${describe(f.payload)}`);
  }
  return `${FRAGMENT_PREFIX}.${f.requestId}.${f.index}.${Buffer.from(f.payload).toString("base64url")}`;
}

/** A link form for one-tap opening: the fragment travels in the URL fragment, never sent to a server. */
export function fragmentLink(baseUrl: string, fragment: string): string {
  return `${baseUrl.replace(/#.*$/, "")}#${fragment}`;
}

/** Parses a fragment given as its text, as a link carrying it, or as a message body that contains it. */
export function decodeFragment(input: string): FragmentText {
  if (typeof input !== "string") {
    throw new CGError("INVALID_FRAGMENT", `decodeFragment: expected text, got ${describe(input)}`);
  }
  const trimmed = input.trim();
  const text = trimmed.startsWith(`${FRAGMENT_PREFIX}.`) ? trimmed : (FRAGMENT_IN_TEXT.exec(trimmed)?.[0] ?? trimmed);
  const parts = text.split(".");
  if (parts.length !== 4) {
    throw new CGError("INVALID_FRAGMENT", `decodeFragment: expected 4 dot-separated parts (cg1.<request>.<index>.<payload>), got ${parts.length}`);
  }
  const [prefix, request, index, body] = parts;
  if (prefix !== FRAGMENT_PREFIX) {
    throw new CGError("INVALID_FRAGMENT", `decodeFragment: expected prefix ${FRAGMENT_PREFIX}, got ${describe(prefix.slice(0, 8))}`);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(request)) {
    throw new CGError("INVALID_FRAGMENT", `decodeFragment: expected a decimal request id, got ${describe(request.slice(0, 24))}`);
  }
  if (!/^[1-9][0-9]?$/.test(index) || Number(index) > MAX_COMMITTEE_SIZE) {
    throw new CGError("INVALID_FRAGMENT", `decodeFragment: expected a guardian index in [1, ${MAX_COMMITTEE_SIZE}], got ${describe(index.slice(0, 8))}`);
  }
  if (!BASE64URL.test(body)) {
    throw new CGError("INVALID_FRAGMENT", "decodeFragment: expected base64url without padding after the index");
  }
  const payload = new Uint8Array(Buffer.from(body, "base64url"));
  if (payload.length !== FRAGMENT_PAYLOAD_LENGTH || Buffer.from(payload).toString("base64url") !== body) {
    throw new CGError("INVALID_FRAGMENT", `decodeFragment: expected a ${FRAGMENT_PAYLOAD_LENGTH}-byte payload, got ${payload.length} bytes`);
  }
  return { requestId: BigInt(request), index: Number(index), payload };
}
