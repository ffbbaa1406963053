/**
 * Accounts of PROTOCOL v2 §5, the owner's side and the guardian's: the account id, channel URIs in canonical
 * form and the spread rule, the `link` / `rotate` payload (one HPKE envelope per slot and the sealed channel
 * table, each packed), and a member opening its envelope. Pure: no chain, no I/O.
 *
 * The "registry" of §11 for accounts (channel identity, envelope info) is the contract that holds accounts,
 * the reset coordinator; every function here takes it as `coordinator`.
 *
 * Channel URIs are private (they never appear on-chain in clear). The one error that shows a URI is the
 * spread refusal, thrown on the owner's own input before anything is sealed, because the owner must learn
 * which channel to change; no other message or detail carries one.
 */
import { type Address, type Hex, concat, encodeAbiParameters, hexToBytes, isAddress, isHex, keccak256, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import { type G2Point, G2, g2FromEip2537 } from "../crypto/bls.ts";
import { sealChannel } from "../crypto/channelTable.ts";
import { COMMITTEE_MAX_SIZE, X25519_KEY_LENGTH } from "../crypto/constants.ts";
import { open, seal } from "../crypto/hpke.ts";
import { channelIdentity, envelopeInfo } from "../encoding/messages.ts";

const UINT256_MAX = (1n << 256n) - 1n;

// ───────────────────────────── account id (§5.1) ─────────────────────────────

/** accountId = keccak256(abi.encode(uint256 chainId, address owner, bytes32 salt)), as the coordinator's `computeAccountId`. */
export function computeAccountId(chainId: bigint, owner: Address, salt: Hex): Hex {
  const where = "computeAccountId";
  if (typeof chainId !== "bigint" || chainId < 0n || chainId > UINT256_MAX) {
    throw new CGError("INVALID_INPUT", `${where}: expected chainId as a uint256 bigint, got ${describe(chainId)}`);
  }
  if (typeof owner !== "string" || !isAddress(owner)) {
    throw new CGError("INVALID_INPUT", `${where}: expected the owner as a 20-byte address, got ${describe(owner)}`);
  }
  if (typeof salt !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(salt)) {
    throw new CGError("INVALID_INPUT", `${where}: expected the salt as 32 bytes of 0x-hex, got ${describe(salt)}`);
  }
  return keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "address" }, { type: "bytes32" }], [chainId, owner, salt]));
}

// ───────────────────────────── channel URIs (§5.2) ─────────────────────────────

export type ChannelKind = "mailto" | "sms" | "https";

export interface ParsedChannel {
  kind: ChannelKind;
  /** The form URIs are compared in for the spread rule. */
  canonical: string;
  /** The form sealed for the guardian: the canonical form, except that an app endpoint keeps its path. */
  uri: string;
}

function refuseChannel(where: string, why: string): never {
  // The URI itself is not quoted: it is private, and `why` says enough to fix it.
  throw new CGError("INVALID_CHANNEL", `${where}: ${why}`);
}

/** A host name as the WHATWG URL parser normalizes it: lowercased, IDNA to punycode, no trailing dot. */
function canonicalHost(host: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(`https://${host}/`);
  } catch {
    refuseChannel(where, "the e-mail domain is not a valid host name");
  }
  if (parsed.host !== parsed.hostname || parsed.username || parsed.pathname !== "/" || parsed.hostname === "") {
    refuseChannel(where, "the e-mail domain is not a valid host name");
  }
  return parsed.hostname.replace(/\.$/, "");
}

function parseMailto(rest: string, where: string): ParsedChannel {
  if (/[?,;\s]/.test(rest)) refuseChannel(where, "a mailto: channel must be one address, without headers (?…), lists or spaces");
  let address: string;
  try {
    address = decodeURIComponent(rest);
  } catch {
    refuseChannel(where, "the mailto: address has a malformed %-escape");
  }
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1 || /[\s,;?]/.test(address)) {
    refuseChannel(where, "expected mailto:<local part>@<domain>");
  }
  const canonical = `mailto:${address.slice(0, at)}@${canonicalHost(address.slice(at + 1), where)}`;
  return { kind: "mailto", canonical, uri: canonical };
}

function parseSms(rest: string, where: string): ParsedChannel {
  if (/[?,;]/.test(rest)) refuseChannel(where, "an sms: channel must be one number, without a body (?…) or a list");
  // RFC 3966 visual separators are not part of the number.
  const number = rest.replace(/[\s\-.()]/g, "");
  if (!/^\+[1-9][0-9]{1,14}$/.test(number)) {
    refuseChannel(where, "expected an sms: number in international E.164 form: + then the country code and number, 2 to 15 digits");
  }
  const canonical = `sms:${number}`;
  return { kind: "sms", canonical, uri: canonical };
}

function parseHttps(uri: string, where: string): ParsedChannel {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    refuseChannel(where, "the https: app endpoint is not a valid URL");
  }
  if (url.username || url.password) refuseChannel(where, "an https: app endpoint must not carry credentials (user:password@)");
  if (url.hash) refuseChannel(where, "an https: app endpoint must not have a #fragment");
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    refuseChannel(where, "an app endpoint must be https: (plain http: only on a loopback host, for development)");
  }
  return { kind: "https", canonical: url.origin, uri: url.href };
}

/** Plain http: is accepted only for these hosts (a developer's own machine); guardians still refuse loopback targets
 *  unless their operator allows private targets. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Parses a channel URI (§5.2): `mailto:` one address, `sms:` one number in E.164, `https:` an app endpoint.
 * Throws `INVALID_CHANNEL` saying what was expected (without quoting the URI).
 */
export function parseChannel(uri: string, where = "parseChannel"): ParsedChannel {
  if (typeof uri !== "string") throw new CGError("INVALID_INPUT", `${where}: expected a channel URI as text, got ${describe(uri)}`);
  const text = uri.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  const rest = scheme === undefined ? "" : text.slice(scheme.length + 1);
  switch (scheme) {
    case "mailto":
      return parseMailto(rest, where);
    case "sms":
      return parseSms(rest, where);
    case "https":
    case "http":
      return parseHttps(text, where);
    default:
      refuseChannel(
        where,
        scheme === undefined
          ? "expected a channel URI with a scheme: mailto:, sms: or https:"
          : `expected a channel URI of scheme mailto:, sms: or https:, got ${JSON.stringify(`${scheme.slice(0, 12)}:`)}`,
      );
  }
}

/**
 * The canonical form of a channel URI (§5.2), in which the spread rule compares them: scheme and host
 * lowercased, the e-mail domain lowercased (IDNA to punycode; the local part is kept, it is case-sensitive
 * by RFC 5321), phone numbers in E.164 without separators, an app endpoint by its origin.
 */
export function canonicalChannel(uri: string): string {
  return parseChannel(uri, "canonicalChannel").canonical;
}

function assertThreshold(t: number, n: number, where: string): void {
  if (!Number.isInteger(t) || t < 2 || t > n) {
    throw new CGError("INVALID_INPUT", `${where}: expected a threshold t in [2, n = ${n}], got ${describe(t)}`, { details: { n, t } });
  }
}

/** "slots 1, 2 and 4" */
function slotList(slots: readonly number[]): string {
  return slots.length === 1 ? `slot ${slots[0]}` : `slots ${slots.slice(0, -1).join(", ")} and ${slots[slots.length - 1]}`;
}

/**
 * The spread rule of §5.2: no single channel, compared in canonical form, may hold t or more slots, since
 * whoever controls it would receive t codes and could reset the account alone. `uris[j − 1]` is slot j's
 * channel. Throws `CHANNEL_CONCENTRATION` naming the channel and its slots, or `INVALID_CHANNEL` naming the
 * slot whose URI does not parse.
 */
export function assertChannelSpread(uris: readonly string[], t: number): void {
  const where = "assertChannelSpread";
  if (!Array.isArray(uris) || uris.length < 1 || uris.length > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected 1 to ${COMMITTEE_MAX_SIZE} channel URIs (one per slot), got ${Array.isArray(uris) ? uris.length : describe(uris)}`);
  }
  assertThreshold(t, uris.length, where);
  const slotsOf = new Map<string, number[]>();
  uris.forEach((uri, k) => {
    const { canonical } = parseChannel(uri, `${where}: slot ${k + 1}`);
    slotsOf.set(canonical, [...(slotsOf.get(canonical) ?? []), k + 1]);
  });
  for (const [canonical, slots] of slotsOf) {
    if (slots.length >= t) {
      throw new CGError(
        "CHANNEL_CONCENTRATION",
        `${where}: ${slotList(slots)} all deliver to ${canonical}: with threshold ${t}, whoever controls that channel would receive ${slots.length} codes and could reset the account alone; give it at most ${t - 1} slots`,
        { details: { slots, threshold: t } },
      );
    }
  }
}

// ───────────────────────────── packed entries (IAccountRegistry) ─────────────────────────────

/** Packs entries for `link` / `rotate`: each a 2-byte big-endian length, then its bytes. */
export function packEntries(entries: readonly (Hex | Uint8Array)[]): Hex {
  if (!Array.isArray(entries)) throw new CGError("INVALID_INPUT", `packEntries: expected a list of entries, got ${describe(entries)}`);
  const parts: Uint8Array[] = entries.map((e, k) => {
    const bytes = e instanceof Uint8Array ? e : typeof e === "string" && isHex(e) && e.length % 2 === 0 ? hexToBytes(e) : undefined;
    if (bytes === undefined) throw new CGError("INVALID_INPUT", `packEntries: expected entry ${k + 1} as bytes or even-length 0x-hex, got ${describe(e)}`);
    if (bytes.length > 0xffff) throw new CGError("INVALID_INPUT", `packEntries: entry ${k + 1} has ${bytes.length} bytes, more than a 2-byte length holds`);
    const out = new Uint8Array(2 + bytes.length);
    out[0] = bytes.length >> 8;
    out[1] = bytes.length & 0xff;
    out.set(bytes, 2);
    return out;
  });
  return parts.length ? concat(parts.map((p) => toHex(p))) : "0x";
}

/**
 * Unpacks `packEntries` output (as found in `AccountLinked` / `AccountRotated`); refuses lengths that do not add
 * up and, when `expected` is given, a different number of entries.
 */
export function unpackEntries(packed: Hex | Uint8Array, expected?: number): Hex[] {
  const bytes = packed instanceof Uint8Array ? packed : typeof packed === "string" && isHex(packed) && packed.length % 2 === 0 ? hexToBytes(packed) : undefined;
  if (bytes === undefined) throw new CGError("INVALID_INPUT", `unpackEntries: expected bytes or even-length 0x-hex, got ${describe(packed)}`);
  const out: Hex[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) throw new CGError("INVALID_INPUT", `unpackEntries: the length of entry ${out.length + 1} is cut short`);
    const len = (bytes[offset] << 8) | bytes[offset + 1];
    if (offset + 2 + len > bytes.length) throw new CGError("INVALID_INPUT", `unpackEntries: entry ${out.length + 1} claims ${len} bytes past the end`);
    out.push(toHex(bytes.subarray(offset + 2, offset + 2 + len)));
    offset += 2 + len;
  }
  if (expected !== undefined && out.length !== expected) {
    throw new CGError("INVALID_INPUT", `unpackEntries: expected ${expected} entries, got ${out.length}`, { details: { expected, actual: out.length } });
  }
  return out;
}

// ───────────────────────────── link / rotate payload (§5.2, §5.3) ─────────────────────────────

/** What binds an envelope or a table entry to one slot of one account epoch. */
export interface SlotContext {
  chainId: bigint;
  /** The contract that holds accounts (the reset coordinator): the "registry" of §11. */
  coordinator: Address;
  accountId: Hex;
  accountEpoch: bigint;
  slot: number;
}

export interface LinkMember {
  slot: number;
  /** The member's registered X25519 key (32 bytes, bytes or 0x-hex). */
  encryptionKey: Hex | Uint8Array;
}

export interface PrepareLinkInput {
  chainId: bigint;
  coordinator: Address;
  accountId: Hex;
  /** 1 for `link`; the account's epoch + 1 for `rotate`. */
  accountEpoch: bigint;
  /** The committee's group key K (a G2 point or its 256-byte EIP-2537 form). */
  groupKey: G2Point | Hex | Uint8Array;
  /** The committee's members in its active epoch, one per slot 1…n, in any order. */
  members: readonly LinkMember[];
  /** `channels[j − 1]` is slot j's channel URI. */
  channels: readonly string[];
  t: number;
}

export interface PreparedLink {
  /** n HPKE envelopes, packed: slot j's URI sealed to its member (§5.2). */
  envelopes: Hex;
  /** n sealed channel-table entries, packed: slot j's URI under K for id_j (§5.3). */
  sealedChannels: Hex;
}

function keyBytes(key: Hex | Uint8Array, where: string): Uint8Array {
  const bytes = key instanceof Uint8Array ? key : typeof key === "string" && isHex(key) && key.length % 2 === 0 ? hexToBytes(key) : undefined;
  if (bytes === undefined || bytes.length !== X25519_KEY_LENGTH) {
    throw new CGError("INVALID_INPUT", `${where}: expected a ${X25519_KEY_LENGTH}-byte X25519 key, got ${describe(key)}`);
  }
  return bytes;
}

function groupKeyPoint(key: G2Point | Hex | Uint8Array, where: string): G2Point {
  if (key instanceof G2) {
    if (key.is0()) throw new CGError("POINT_AT_INFINITY", `${where}: the group key K is the point at infinity`);
    if (!key.isTorsionFree()) throw new CGError("NOT_IN_SUBGROUP", `${where}: the group key K is not in the G2 subgroup`);
    return key;
  }
  const bytes = typeof key === "string" && isHex(key) ? hexToBytes(key) : key;
  if (!(bytes instanceof Uint8Array)) throw new CGError("INVALID_INPUT", `${where}: expected the group key K as a G2 point or 256 bytes, got ${describe(key)}`);
  return g2FromEip2537(bytes, `${where}: group key K`);
}

/**
 * The owner's `link` / `rotate` payload (§5.2–§5.3): checks the spread rule, then for each slot j seals the
 * channel URI to the member's key (HPKE, info `envelopeInfo`) and under K for id_j (`sealChannel`), and packs
 * both lists. The URI sealed is the parsed form (`parseChannel(…).uri`).
 */
export async function prepareLink(input: PrepareLinkInput): Promise<PreparedLink> {
  const where = "prepareLink";
  if (typeof input !== "object" || input === null) throw new CGError("INVALID_INPUT", `${where}: expected the link's fields, got ${describe(input)}`);
  const { chainId, coordinator, accountId, accountEpoch, members, channels, t } = input;
  const groupKey = groupKeyPoint(input.groupKey, where);
  if (!Array.isArray(members) || !Array.isArray(channels) || members.length !== channels.length) {
    throw new CGError(
      "INVALID_INPUT",
      `${where}: expected one channel per member, got ${Array.isArray(members) ? members.length : describe(members)} members and ${Array.isArray(channels) ? channels.length : describe(channels)} channels`,
    );
  }
  const n = members.length;
  const bySlot = new Map<number, LinkMember>();
  for (const m of members) {
    if (typeof m !== "object" || m === null || !Number.isInteger(m.slot) || m.slot < 1 || m.slot > n || bySlot.has(m.slot)) {
      throw new CGError("INVALID_INPUT", `${where}: expected members with distinct slots 1…${n}, got slot ${describe(m?.slot)}`);
    }
    bySlot.set(m.slot, m);
  }
  assertChannelSpread(channels, t);
  const envelopes: Hex[] = [];
  const sealedChannels: Hex[] = [];
  for (let j = 1; j <= n; j++) {
    const { uri } = parseChannel(channels[j - 1], `${where}: slot ${j}`);
    const key = keyBytes(bySlot.get(j)!.encryptionKey, `${where}: the encryption key of slot ${j}`);
    const info = envelopeInfo(chainId, coordinator, accountId, accountEpoch, j);
    envelopes.push(toHex(await seal(key, info, new TextEncoder().encode(uri))));
    sealedChannels.push(toHex(sealChannel(groupKey, channelIdentity(chainId, coordinator, accountId, accountEpoch, j), uri)));
  }
  return { envelopes: packEntries(envelopes), sealedChannels: packEntries(sealedChannels) };
}

/**
 * A member opens its envelope (§5.2) with its X25519 private key: returns slot j's channel URI. Throws
 * `DECRYPT_FAILED` for a wrong key or context or a tampered envelope, `INVALID_ENVELOPE` when what is inside
 * is not a channel URI of §5.2 (the content is not shown).
 */
export async function openEnvelope(privateKey: Uint8Array, ctx: SlotContext, envelope: Hex | Uint8Array): Promise<string> {
  if (typeof ctx !== "object" || ctx === null) throw new CGError("INVALID_INPUT", `openEnvelope: expected the slot's context, got ${describe(ctx)}`);
  const info = envelopeInfo(ctx.chainId, ctx.coordinator, ctx.accountId, ctx.accountEpoch, ctx.slot);
  const bytes = envelope instanceof Uint8Array ? envelope : typeof envelope === "string" && isHex(envelope) ? hexToBytes(envelope) : undefined;
  if (bytes === undefined) throw new CGError("INVALID_INPUT", `openEnvelope: expected the envelope as bytes or 0x-hex, got ${describe(envelope)}`);
  const what = `channel envelope of slot ${ctx.slot} (account epoch ${ctx.accountEpoch})`;
  const plaintext = await open(privateKey, info, bytes, what);
  let uri: string;
  try {
    uri = new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
    return parseChannel(uri, what).uri;
  } catch (cause) {
    throw new CGError("INVALID_ENVELOPE", `${what}: does not hold a channel URI (mailto:, sms: or https:)`, { cause });
  }
}
