/**
 * The channel code of PROTOCOL v2 §6.3 and §6.5: 16 random bytes a guardian sends to its slot's channel,
 * as text a person can read aloud and type back.
 *
 * Symbol layout (28 symbols, shown as 7 groups of 4 joined by "-", 34 characters):
 *
 *   symbols 0…25   the 16 bytes as one big-endian bit stream (bit 7 of byte 0 first), cut into 5-bit
 *                  symbols, most significant bit first; 128 bits fill 25 symbols and 3 bits of the 26th,
 *                  whose 2 low bits are padding and must be 0.
 *   symbols 26…27  the check: the first 10 bits of SHA-256(code), big-endian (symbol 26 = bits 0…4,
 *                  i.e. h[0] >> 3; symbol 27 = bits 5…9, i.e. (h[0] & 7) << 2 | h[1] >> 6).
 *
 * Alphabet: Crockford base-32, `0123456789ABCDEFGHJKMNPQRSTVWXYZ` (no I, L, O, U). Readers accept any
 * case, read I and L as 1 and O as 0, and ignore dashes and surrounding spaces.
 *
 * What the check catches: a substitution in a check symbol always (the check is a function of the
 * data); a substitution in the last data symbol that touches a padding bit always; any other single
 * substitution in the data escapes with probability 2^-10 (a 10-bit check of a random function cannot
 * do better; the test measures it). A code that escapes the check still fails the client's
 * `c_i·G1 == C_i` test against the on-chain posting (§6.6), so a typo is never silently accepted.
 *
 * The delivered message is `cg2.<requestId>.<slot>.<code>` with decimal ids and the code's 28 symbols
 * without dashes, so it is at most 40 characters while requestId < 10,000 (slots are ≤ 32); readers also
 * accept the dashed form, a link whose fragment holds the message, and a message body that contains it.
 *
 * The code is a secret until the reset completes: no error message shows it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";

import { CGError, describe } from "../errors.ts";
import { CHANNEL_CODE_LENGTH, CODE_MESSAGE_PREFIX, COMMITTEE_MAX_SIZE } from "../crypto/constants.ts";

/** Crockford base-32 (https://www.crockford.com/base32.html), symbol value = position. */
export const CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 26 data symbols (128 bits + 2 padding bits) and 2 check symbols (10 bits). */
export const CHANNEL_CODE_DATA_SYMBOLS = 26;
export const CHANNEL_CODE_SYMBOLS = 28;
/** 7 groups of 4 symbols joined by "-". */
export const CHANNEL_CODE_TEXT_LENGTH = 34;

const UINT256_MAX = (1n << 256n) - 1n;

/** Symbol value of each accepted character (upper case after normalization), with I, L → 1 and O → 0. */
const SYMBOL_VALUE: ReadonlyMap<string, number> = new Map([
  ...[...CROCKFORD_ALPHABET].map((ch, v) => [ch, v] as [string, number]),
  ["I", 1],
  ["L", 1],
  ["O", 0],
]);

export interface CodeMessage {
  requestId: bigint;
  /** The member index i of the committee, 1-based. */
  slot: number;
  /** The 16-byte channel code. */
  code: Uint8Array;
}

function assertCode(code: Uint8Array, where: string): void {
  if (!(code instanceof Uint8Array) || code.length !== CHANNEL_CODE_LENGTH) {
    throw new CGError("INVALID_INPUT", `${where}: expected a ${CHANNEL_CODE_LENGTH}-byte channel code, got ${describe(code)}`);
  }
}

/** 16 random bytes from the platform CSPRNG (§6.3). */
export function generateChannelCode(): Uint8Array {
  return randomBytes(CHANNEL_CODE_LENGTH);
}

/** The two check symbols' values: the first 10 bits of SHA-256(code). */
function checkValues(code: Uint8Array): [number, number] {
  const h = sha256(code);
  return [h[0] >> 3, ((h[0] & 0b111) << 2) | (h[1] >> 6)];
}

/** The 26 data symbols' values: the big-endian bit stream of the 16 bytes, 5 bits a symbol, zero-padded. */
function dataValues(code: Uint8Array): number[] {
  const values: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const byte of code) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push((buffer >> bits) & 0b11111);
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) values.push((buffer << (5 - bits)) & 0b11111); // 3 data bits, 2 zero padding bits
  return values;
}

/** The 34-character text: 26 data symbols and 2 check symbols in 7 groups of 4 joined by "-" (§6.5). */
export function formatChannelCode(code: Uint8Array): string {
  assertCode(code, "formatChannelCode");
  const symbols = [...dataValues(code), ...checkValues(code)].map((v) => CROCKFORD_ALPHABET[v]).join("");
  return symbols.match(/.{4}/g)!.join("-");
}

/** The 28 symbols without dashes, as the delivered message carries them. */
function compactChannelCode(code: Uint8Array): string {
  return formatChannelCode(code).replaceAll("-", "");
}

/**
 * Reads a code typed or pasted by a person: any case, I/L → 1, O → 0, dashes anywhere, spaces around.
 * Refuses, each with its own message: a wrong number of symbols, a character outside the alphabet,
 * non-zero padding bits, and check symbols that do not match.
 */
export function parseChannelCode(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new CGError("INVALID_CHANNEL_CODE", `parseChannelCode: expected text, got ${describe(text)}`);
  }
  const symbols = text.trim().toUpperCase().replaceAll("-", "");
  if (symbols.length !== CHANNEL_CODE_SYMBOLS) {
    throw new CGError(
      "INVALID_CHANNEL_CODE",
      `parseChannelCode: expected ${CHANNEL_CODE_SYMBOLS} symbols (${CHANNEL_CODE_DATA_SYMBOLS} for the code, 2 for the check) besides dashes, got ${symbols.length}`,
      { details: { symbols: symbols.length } },
    );
  }
  const values: number[] = [];
  for (let k = 0; k < symbols.length; k++) {
    const value = SYMBOL_VALUE.get(symbols[k]);
    if (value === undefined) {
      // The offending character is not a code symbol, so naming it reveals nothing of the code.
      const hint = symbols[k] === "U" ? " (U is not used in Crockford base-32)" : "";
      throw new CGError(
        "INVALID_CHANNEL_CODE",
        `parseChannelCode: symbol ${k + 1} of the code, ${JSON.stringify(symbols[k])}, is not in the Crockford base-32 alphabet${hint}`,
        { details: { position: k + 1 } },
      );
    }
    values.push(value);
  }
  // Undo the big-endian bit stream of formatChannelCode.
  const code = new Uint8Array(CHANNEL_CODE_LENGTH);
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (let k = 0; k < CHANNEL_CODE_DATA_SYMBOLS; k++) {
    buffer = (buffer << 5) | values[k];
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      code[n++] = (buffer >> bits) & 0xff;
      buffer &= (1 << bits) - 1;
    }
  }
  // 26 × 5 = 130 bits: 128 went into the bytes, the 2 left over are the padding.
  if (bits !== 2 || buffer !== 0) {
    throw new CGError(
      "INVALID_CHANNEL_CODE",
      `parseChannelCode: the code's padding bits (the 2 low bits of symbol ${CHANNEL_CODE_DATA_SYMBOLS}) are not zero: a symbol was probably mistyped`,
    );
  }
  const [c0, c1] = checkValues(code);
  if (values[26] !== c0 || values[27] !== c1) {
    throw new CGError("INVALID_CHANNEL_CODE", "parseChannelCode: the code's check symbols do not match: a symbol was probably mistyped");
  }
  return code;
}

function assertRequestId(requestId: bigint, where: string): void {
  if (typeof requestId !== "bigint" || requestId < 0n || requestId > UINT256_MAX) {
    throw new CGError("INVALID_INPUT", `${where}: expected a request id as a uint256 bigint, got ${describe(requestId)}`);
  }
}

function assertSlot(slot: number, where: string): void {
  if (!Number.isInteger(slot) || slot < 1 || slot > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected a slot (member index) in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(slot)}`);
  }
}

/** `cg2.<requestId>.<slot>.<code>`: decimal ids, the code's 28 symbols without dashes (§6.5). */
export function formatCodeMessage(m: CodeMessage): string {
  if (typeof m !== "object" || m === null) {
    throw new CGError("INVALID_INPUT", `formatCodeMessage: expected {requestId, slot, code}, got ${describe(m)}`);
  }
  assertRequestId(m.requestId, "formatCodeMessage");
  assertSlot(m.slot, "formatCodeMessage");
  assertCode(m.code, "formatCodeMessage");
  return `${CODE_MESSAGE_PREFIX}.${m.requestId}.${m.slot}.${compactChannelCode(m.code)}`;
}

const CODE_MESSAGE_IN_TEXT = new RegExp(`${CODE_MESSAGE_PREFIX}\\.[0-9]+\\.[0-9]+\\.[0-9A-Za-z-]+`, "i");

/**
 * Parses a delivered code given as the bare `cg2.…` text, as a link whose fragment holds it, or as a
 * message body that contains it. The code part may be dashed or not, in any case.
 */
export function parseCodeMessage(input: string): CodeMessage {
  if (typeof input !== "string") {
    throw new CGError("INVALID_CODE_MESSAGE", `parseCodeMessage: expected text, got ${describe(input)}`);
  }
  const found = CODE_MESSAGE_IN_TEXT.exec(input)?.[0];
  if (found === undefined) {
    throw new CGError("INVALID_CODE_MESSAGE", `parseCodeMessage: expected ${CODE_MESSAGE_PREFIX}.<requestId>.<slot>.<code> in the text, found none`);
  }
  const [, request, slot, codeText] = found.split(".");
  if (!/^(0|[1-9][0-9]*)$/.test(request) || request.length > 78 || BigInt(request) > UINT256_MAX) {
    throw new CGError("INVALID_CODE_MESSAGE", `parseCodeMessage: expected a decimal request id, got ${describe(request)}`);
  }
  if (!/^[1-9][0-9]?$/.test(slot) || Number(slot) > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_CODE_MESSAGE", `parseCodeMessage: expected a slot in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(slot)}`);
  }
  let code: Uint8Array;
  try {
    code = parseChannelCode(codeText);
  } catch (cause) {
    const why = cause instanceof CGError ? cause.message.replace(/^parseChannelCode: /, "") : String(cause);
    throw new CGError("INVALID_CHANNEL_CODE", `parseCodeMessage: the code of request ${request}, slot ${slot}: ${why}`, {
      cause,
      details: { requestId: request, slot: Number(slot) },
    });
  }
  return { requestId: BigInt(request), slot: Number(slot), code };
}
