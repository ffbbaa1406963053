/**
 * The protocol v2 encodings and peer-API cryptography the agent uses (PROTOCOL.md §4.6, §5, §6, §11), in one place.
 * Each function is the §11 encoding or construction built on the SDK's primitives (HPKE, BLS, the channel table,
 * the posting); the SDK's own v2 modules (`sdk/encoding/messages.ts`, `sdk/protocol/account.ts`,
 * `sdk/protocol/peer.ts`, `sdk/crypto/posting.ts`) carry the same names and values.
 */
import { type Address, type Hex, hexToBytes, toHex } from "viem";

import { type G1Point, type G2Point, g1FromCompressed, g1ToCompressed, hashToG1 } from "../../sdk/crypto/bls.ts";
import { open as hpkeOpen, seal as hpkeSeal } from "../../sdk/crypto/hpke.ts";
import { type Posting, compressPosting as compress } from "../../sdk/crypto/posting.ts";
import { type Share, computePartial, combine, verifyPartial } from "../../sdk/crypto/threshold.ts";
import { envelopeInfo, peerSignatureInfo } from "../../sdk/encoding/messages.ts";
import { CGError } from "../../sdk/errors.ts";

export { channelIdentity, envelopeInfo, peerSignatureInfo, resetMessage } from "../../sdk/encoding/messages.ts";
export { requesterKeyHash } from "../../sdk/crypto/posting.ts";

export interface EnvelopeContext {
  chainId: bigint;
  coordinator: Address;
  accountId: Hex;
  accountEpoch: bigint;
  slot: number;
}

/** Opens slot j's channel envelope (§5.2) with this member's HPKE secret; the URI is secret. */
export async function openEnvelope(privateKey: Uint8Array, ctx: EnvelopeContext, envelope: Hex): Promise<string> {
  const bytes = await hpkeOpen(privateKey, envelopeInfo(ctx.chainId, ctx.coordinator, ctx.accountId, ctx.accountEpoch, ctx.slot), hexToBytes(envelope), `channel envelope of slot ${ctx.slot}`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new CGError("INVALID_ENCODING", `channel envelope of slot ${ctx.slot}: not UTF-8`, { cause });
  }
}

/** Entries packed as 2-byte big-endian length ‖ entry (the link's envelopes and sealed channels). */
export function unpackEntries(packed: Hex): Hex[] {
  const bytes = hexToBytes(packed);
  const out: Hex[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 2 > bytes.length) throw new CGError("INVALID_ENCODING", "packed entries: a length prefix is cut short");
    const length = (bytes[at] << 8) | bytes[at + 1];
    if (at + 2 + length > bytes.length) throw new CGError("INVALID_ENCODING", "packed entries: an entry is cut short");
    out.push(toHex(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return out;
}

/** C ‖ U ‖ V ‖ W compressed (ZCash): 48 + 48 + 96 + 48 = 240 bytes, as the coordinator takes a posting. */
export function compressPosting(p: Posting): Hex {
  return toHex(compress(p));
}

// ───────────────────────────── peer API (§4.6) ─────────────────────────────

/** What an asking operator signs (EIP-712): the account slot it asks for and the HPKE key to answer to. */
export interface PeerRequest {
  chainId: bigint;
  coordinator: Address;
  accountId: Hex;
  accountEpoch: bigint;
  slot: number;
  asker: Address;
  askerKey: Hex;
  issuedAt: bigint;
}

export const PEER_REQUEST_TYPES = {
  PeerChannelRequest: [
    { name: "coordinator", type: "address" },
    { name: "accountId", type: "bytes32" },
    { name: "accountEpoch", type: "uint256" },
    { name: "slot", type: "uint256" },
    { name: "asker", type: "address" },
    { name: "askerKey", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

/** The EIP-712 typed data of a peer request (domain "Credential Guardians peer API", version 2, the chain id). */
export function peerRequestTypedData(r: PeerRequest) {
  return {
    domain: { name: "Credential Guardians peer API", version: "2", chainId: r.chainId },
    types: PEER_REQUEST_TYPES,
    primaryType: "PeerChannelRequest" as const,
    message: { coordinator: r.coordinator, accountId: r.accountId, accountEpoch: r.accountEpoch, slot: BigInt(r.slot), asker: r.asker, askerKey: r.askerKey, issuedAt: r.issuedAt },
  };
}

/** A member's partial signature on id_j with its share. */
export function peerPartial(share: Share, identity: Hex): G1Point {
  return computePartial(share, hexToBytes(identity)).sigma;
}

/** Seals a partial (compressed G1) to the asker's HPKE key, bound to the account slot and the signer's slot. */
export async function sealPeerReply(askerKey: Uint8Array, ctx: EnvelopeContext & { signer: number }, partial: G1Point): Promise<Uint8Array> {
  return hpkeSeal(askerKey, peerSignatureInfo(ctx.chainId, ctx.coordinator, ctx.accountId, ctx.accountEpoch, ctx.slot, ctx.signer), g1ToCompressed(partial));
}

export async function openPeerReply(privateKey: Uint8Array, ctx: EnvelopeContext & { signer: number }, sealed: Uint8Array): Promise<G1Point> {
  const bytes = await hpkeOpen(privateKey, peerSignatureInfo(ctx.chainId, ctx.coordinator, ctx.accountId, ctx.accountEpoch, ctx.slot, ctx.signer), sealed, `peer reply of slot ${ctx.signer}`);
  return g1FromCompressed(bytes, `peer reply of slot ${ctx.signer}`);
}

/** Combines t partials on id_j after checking each against its signer's public share (from the epoch's commitments);
 *  returns σ on id_j, or throws naming the slots whose partials failed. */
export function combineChannelSignature(partials: { signer: number; sigma: G1Point }[], commitments: readonly G2Point[], identity: Hex, t: number): G1Point {
  const message = hexToBytes(identity);
  const good = partials.filter((p) => verifyPartial({ index: p.signer, sigma: p.sigma }, commitments, message));
  const bad = partials.filter((p) => !good.includes(p)).map((p) => p.signer);
  if (good.length < t) {
    throw new CGError("NOT_ENOUGH_PARTIALS", `channel signature: ${good.length} verified partials of ${t} needed${bad.length ? `; slots ${bad.join(", ")} sent partials that fail their public share` : ""}`, {
      details: { bad },
    });
  }
  return combine(
    good.slice(0, t).map((p) => ({ index: p.signer, sigma: p.sigma })),
    t,
  );
}

export { hashToG1 };
