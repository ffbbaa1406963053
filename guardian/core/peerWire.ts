/**
 * The guardian peer API's wire format (PROTOCOL.md §4.6), pure: parsing and checking a request body, and the
 * freshness rule. The HTTP server and client are in guardian/peer.ts.
 *
 *   POST /v2/channel-signature   {"request": {chainId, coordinator, accountId, accountEpoch, slot, asker, askerKey,
 *                                 issuedAt}, "signature": "0x…"}   (numbers as decimal strings; EIP-712 signature by
 *                                 the asker's operator key over PeerChannelRequest)
 *   200                          {"signer": <the answering member's slot>, "committeeEpoch": "<e>", "sealed": "0x…"}
 *   403                          {"error": "refused"}   (the same body for every refusal: the asker learns nothing)
 *   GET /.well-known/cg-guardian.json   {"operator": "0x…", "peerApi": "<public URL>"}   (the metadata document)
 */
import { type Address, type Hex, getAddress, isAddress } from "viem";

import { CGError } from "../../sdk/errors.ts";
import type { PeerRequest } from "./protocol.ts";

export const PEER_PATH = "/v2/channel-signature";
export const METADATA_PATH = "/.well-known/cg-guardian.json";
/** A signed request is accepted for this long either side of the member's clock. */
export const PEER_REQUEST_WINDOW_SECONDS = 300n;
export const PEER_BODY_LIMIT = 4096;

export interface PeerBody {
  request: PeerRequest;
  signature: Hex;
}

function bad(what: string): never {
  throw new CGError("INVALID_INPUT", `peer request: ${what}`);
}

function decimal(v: unknown, what: string, max: bigint): bigint {
  if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(v) || BigInt(v) > max) bad(`${what} is not a decimal number in range`);
  return BigInt(v);
}

function hex(v: unknown, bytes: number, what: string): Hex {
  if (typeof v !== "string" || !new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`).test(v)) bad(`${what} is not ${bytes} bytes of 0x-hex`);
  return v.toLowerCase() as Hex;
}

function addr(v: unknown, what: string): Address {
  if (typeof v !== "string" || !isAddress(v, { strict: false })) bad(`${what} is not an address`);
  return getAddress(v);
}

/** Parses a request body; throws INVALID_INPUT naming the first bad field. */
export function parsePeerBody(text: string): PeerBody {
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    bad("the body is not JSON");
  }
  const r = json?.request;
  if (typeof r !== "object" || r === null) bad("no request object");
  const U256 = (1n << 256n) - 1n;
  const slot = Number(decimal(r.slot, "slot", 32n));
  if (slot < 1) bad("slot is not in [1, 32]");
  return {
    request: {
      chainId: decimal(r.chainId, "chainId", U256),
      coordinator: addr(r.coordinator, "coordinator"),
      accountId: hex(r.accountId, 32, "accountId"),
      accountEpoch: decimal(r.accountEpoch, "accountEpoch", U256),
      slot,
      asker: addr(r.asker, "asker"),
      askerKey: hex(r.askerKey, 32, "askerKey"),
      issuedAt: decimal(r.issuedAt, "issuedAt", (1n << 64n) - 1n),
    },
    signature: hex(json.signature, 65, "signature"),
  };
}

export function encodePeerBody(b: PeerBody): string {
  const r = b.request;
  return JSON.stringify({
    request: {
      chainId: r.chainId.toString(),
      coordinator: r.coordinator,
      accountId: r.accountId,
      accountEpoch: r.accountEpoch.toString(),
      slot: String(r.slot),
      asker: r.asker,
      askerKey: r.askerKey,
      issuedAt: r.issuedAt.toString(),
    },
    signature: b.signature,
  });
}

/** True while `issuedAt` is within the window around `now` (seconds). */
export function isFresh(issuedAt: bigint, now: bigint): boolean {
  return issuedAt + PEER_REQUEST_WINDOW_SECONDS >= now && issuedAt <= now + PEER_REQUEST_WINDOW_SECONDS;
}
