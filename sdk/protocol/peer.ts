/**
 * The cryptography of the guardian peer API (PROTOCOL v2 §4.6): a newcomer in slot j of a committee learns an
 * account's channel URI_j by opening the sealed channel entry with σ = k·H(id_j), which it gets from t other
 * members' partial signatures. Pure: the HTTP endpoint, the on-chain membership check and the clock belong
 * to the agent.
 *
 *   asker    signs a ChannelRequest (EIP-712, its operator key): chain, coordinator, account, account epoch,
 *            slot j, committee, its HPKE key, issuedAt
 *   member   checks the signature (`verifyPeerRequest`), checks on-chain that the signer holds slot j of the
 *            account's committee, replies share·H(id_j) sealed to the asker's HPKE key
 *            (info "CGUARD-V02/peer-signature" ‖ abi.encode(chainId, coordinator, accountId, accountEpoch, j, signer))
 *   asker    opens each reply, checks each partial against that member's public share, combines t into σ,
 *            opens sealed_j (`openChannel`)
 *
 * EIP-712 domain: { name: "Credential Guardians peer API", version: "2", chainId, verifyingContract: coordinator },
 * so a request signed for one chain or one deployment is worthless on another.
 */
import { type Address, type Hex, getAddress, hexToBytes, isAddress, isHex, recoverTypedDataAddress } from "viem";

import { CGError, describe } from "../errors.ts";
import { type G1Point, type G2Point, G2, g1FromCompressed, g1ToCompressed, hashToG1, verifySignature } from "../crypto/bls.ts";
import { openChannel } from "../crypto/channelTable.ts";
import { COMMITTEE_MAX_SIZE, G1_COMPRESSED_LENGTH, X25519_KEY_LENGTH } from "../crypto/constants.ts";
import { open, seal } from "../crypto/hpke.ts";
import { type Partial, type Share, combine, verifyToken, wipe } from "../crypto/threshold.ts";
import { channelIdentity, peerSignatureInfo } from "../encoding/messages.ts";

const UINT256_MAX = (1n << 256n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

// ───────────────────────────── the asker's request ─────────────────────────────

/** What an asker requests: slot j's channel of one account epoch. */
export interface PeerRequest {
  chainId: bigint;
  /** The contract that holds accounts (the reset coordinator). */
  coordinator: Address;
  accountId: Hex;
  accountEpoch: bigint;
  /** j, the slot whose channel the asker wants (its own slot). */
  slot: number;
  committeeId: bigint;
  /** The asker's X25519 public key, to which replies are sealed (32 bytes, 0x-hex). */
  askerKey: Hex;
  /** Unix seconds when the asker signed; the member refuses stale or future requests. */
  issuedAt: bigint;
}

export interface SignedPeerRequest {
  request: PeerRequest;
  /** The asking operator's EIP-712 signature. */
  signature: Hex;
}

export const PEER_REQUEST_DOMAIN_NAME = "Credential Guardians peer API";
export const PEER_REQUEST_DOMAIN_VERSION = "2";

/** ChannelRequest(bytes32 accountId,uint256 accountEpoch,uint256 slot,uint256 committeeId,bytes32 askerKey,uint64 issuedAt) */
export const PEER_REQUEST_TYPES = {
  ChannelRequest: [
    { name: "accountId", type: "bytes32" },
    { name: "accountEpoch", type: "uint256" },
    { name: "slot", type: "uint256" },
    { name: "committeeId", type: "uint256" },
    { name: "askerKey", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

function bytes32(value: unknown): value is Hex {
  return typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value);
}

function assertRequest(r: PeerRequest, where: string): void {
  const fail = (what: string, got: unknown): never => {
    throw new CGError("INVALID_INPUT", `${where}: expected ${what}, got ${describe(got)}`);
  };
  if (typeof r !== "object" || r === null) fail("a peer request", r);
  if (typeof r.chainId !== "bigint" || r.chainId < 1n || r.chainId > UINT256_MAX) fail("chainId as a uint256 bigint ≥ 1", r.chainId);
  if (typeof r.coordinator !== "string" || !isAddress(r.coordinator, { strict: false })) fail("the coordinator as a 20-byte address", r.coordinator);
  if (!bytes32(r.accountId)) fail("accountId as 32 bytes of 0x-hex", r.accountId);
  if (typeof r.accountEpoch !== "bigint" || r.accountEpoch < 1n || r.accountEpoch > UINT256_MAX) fail("accountEpoch as a bigint ≥ 1", r.accountEpoch);
  if (!Number.isInteger(r.slot) || r.slot < 1 || r.slot > COMMITTEE_MAX_SIZE) fail(`slot as an integer in [1, ${COMMITTEE_MAX_SIZE}]`, r.slot);
  if (typeof r.committeeId !== "bigint" || r.committeeId < 0n || r.committeeId > UINT256_MAX) fail("committeeId as a uint256 bigint", r.committeeId);
  if (!bytes32(r.askerKey)) fail(`the asker's ${X25519_KEY_LENGTH}-byte X25519 key as 0x-hex`, r.askerKey);
  if (typeof r.issuedAt !== "bigint" || r.issuedAt < 0n || r.issuedAt > UINT64_MAX) fail("issuedAt as uint64 Unix seconds", r.issuedAt);
}

/** The EIP-712 typed data of a request, for viem's `signTypedData` / `recoverTypedDataAddress`. */
export function peerRequestTypedData(request: PeerRequest) {
  assertRequest(request, "peerRequestTypedData");
  return {
    domain: {
      name: PEER_REQUEST_DOMAIN_NAME,
      version: PEER_REQUEST_DOMAIN_VERSION,
      chainId: request.chainId,
      verifyingContract: getAddress(request.coordinator),
    },
    types: PEER_REQUEST_TYPES,
    primaryType: "ChannelRequest" as const,
    message: {
      accountId: request.accountId,
      accountEpoch: request.accountEpoch,
      slot: BigInt(request.slot),
      committeeId: request.committeeId,
      askerKey: request.askerKey,
      issuedAt: request.issuedAt,
    },
  };
}

/** Anything that signs EIP-712 data as viem's local accounts do (`privateKeyToAccount`). */
export interface TypedDataSigner {
  signTypedData(typedData: ReturnType<typeof peerRequestTypedData>): Promise<Hex>;
}

/** The asker signs its request with its operator key. */
export async function signPeerRequest(signer: TypedDataSigner, request: PeerRequest): Promise<SignedPeerRequest> {
  const typedData = peerRequestTypedData(request);
  if (typeof signer !== "object" || signer === null || typeof signer.signTypedData !== "function") {
    throw new CGError("INVALID_INPUT", `signPeerRequest: expected an account that signs typed data, got ${describe(signer)}`);
  }
  return { request, signature: await signer.signTypedData(typedData) };
}

/**
 * The member's check of a request: the signature recovers to an operator, and `issuedAt` lies within
 * [now − maxAgeSeconds, now + maxSkewSeconds]. Returns the signer's address; whether it holds slot j of the
 * account's committee is for the caller to check on-chain. Throws `PEER_REQUEST_REFUSED` otherwise.
 */
export async function verifyPeerRequest(
  signed: SignedPeerRequest,
  opts: { now: bigint; maxAgeSeconds: bigint; maxSkewSeconds?: bigint },
): Promise<Address> {
  const where = "verifyPeerRequest";
  if (typeof signed !== "object" || signed === null || typeof signed.signature !== "string" || !isHex(signed.signature)) {
    throw new CGError("INVALID_INPUT", `${where}: expected {request, signature}, got ${describe(signed)}`);
  }
  const typedData = peerRequestTypedData(signed.request);
  const { now, maxAgeSeconds, maxSkewSeconds = 60n } = opts;
  const issuedAt = signed.request.issuedAt;
  if (issuedAt + maxAgeSeconds < now) {
    throw new CGError("PEER_REQUEST_REFUSED", `${where}: the request was issued ${now - issuedAt} s ago, more than ${maxAgeSeconds} s`, { details: { issuedAt, now } });
  }
  if (issuedAt > now + maxSkewSeconds) {
    throw new CGError("PEER_REQUEST_REFUSED", `${where}: the request is issued ${issuedAt - now} s in the future`, { details: { issuedAt, now } });
  }
  try {
    return await recoverTypedDataAddress({ ...typedData, signature: signed.signature });
  } catch (cause) {
    throw new CGError("PEER_REQUEST_REFUSED", `${where}: the signature does not recover to an address`, { cause });
  }
}

/** A request as JSON text for the HTTP body: numbers as decimal strings. */
export function peerRequestToJson(signed: SignedPeerRequest): string {
  const r = signed.request;
  assertRequest(r, "peerRequestToJson");
  return JSON.stringify({
    request: {
      chainId: r.chainId.toString(),
      coordinator: r.coordinator,
      accountId: r.accountId,
      accountEpoch: r.accountEpoch.toString(),
      slot: r.slot,
      committeeId: r.committeeId.toString(),
      askerKey: r.askerKey,
      issuedAt: r.issuedAt.toString(),
    },
    signature: signed.signature,
  });
}

/** Reads `peerRequestToJson` output (untrusted input): every field checked. */
export function peerRequestFromJson(text: string): SignedPeerRequest {
  const where = "peerRequestFromJson";
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new CGError("INVALID_INPUT", `${where}: expected JSON, got text that does not parse`, { cause });
  }
  const o = raw as { request?: Record<string, unknown>; signature?: unknown };
  const r = o?.request;
  if (typeof r !== "object" || r === null || typeof o.signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(o.signature)) {
    throw new CGError("INVALID_INPUT", `${where}: expected {request, signature} with a 65-byte signature`);
  }
  const big = (name: string): bigint => {
    const v = r[name];
    if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(v)) throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a decimal string, got ${describe(v)}`);
    return BigInt(v);
  };
  const request: PeerRequest = {
    chainId: big("chainId"),
    coordinator: r.coordinator as Address,
    accountId: r.accountId as Hex,
    accountEpoch: big("accountEpoch"),
    slot: r.slot as number,
    committeeId: big("committeeId"),
    askerKey: r.askerKey as Hex,
    issuedAt: big("issuedAt"),
  };
  assertRequest(request, where);
  return { request, signature: o.signature as Hex };
}

// ───────────────────────────── a member's reply ─────────────────────────────

/** Which reply: slot j's identity of one account epoch, signed by member `signer`. */
export interface PeerReplyContext {
  chainId: bigint;
  coordinator: Address;
  accountId: Hex;
  accountEpoch: bigint;
  /** j, the slot asked about. */
  slot: number;
  /** The replying member's slot. */
  signer: number;
}

/** The member's partial signature on id_j: share·H(id_j), with the member's slot as its index. */
export function peerPartial(share: Share, identity: Hex): Partial {
  if (typeof share !== "object" || share === null || !Number.isInteger(share.index) || share.index < 1 || share.index > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `peerPartial: expected a share {index, value} with index in [1, ${COMMITTEE_MAX_SIZE}]`);
  }
  if (!bytes32(identity)) throw new CGError("INVALID_INPUT", `peerPartial: expected id_j as 32 bytes of 0x-hex, got ${describe(identity)}`);
  return { index: share.index, sigma: hashToG1(hexToBytes(identity)).multiply(share.value) };
}

function replyInfo(ctx: PeerReplyContext, where: string): Uint8Array {
  if (typeof ctx !== "object" || ctx === null) throw new CGError("INVALID_INPUT", `${where}: expected the reply's context, got ${describe(ctx)}`);
  return peerSignatureInfo(ctx.chainId, ctx.coordinator, ctx.accountId, ctx.accountEpoch, ctx.slot, ctx.signer);
}

/** Seals the compressed partial (48 bytes) to the asker's key: enc (32) ‖ ciphertext + tag (64) = 96 bytes. */
export async function sealPeerReply(askerKey: Hex | Uint8Array, ctx: PeerReplyContext, partial: G1Point): Promise<Uint8Array> {
  const info = replyInfo(ctx, "sealPeerReply");
  const key = typeof askerKey === "string" && isHex(askerKey) ? hexToBytes(askerKey) : askerKey;
  if (partial.is0()) throw new CGError("POINT_AT_INFINITY", "sealPeerReply: the partial is the point at infinity");
  const plaintext = g1ToCompressed(partial);
  try {
    return await seal(key as Uint8Array, info, plaintext);
  } finally {
    wipe(plaintext);
  }
}

/** The asker opens a reply with its X25519 private key; the point is decoded with full checks (not yet verified). */
export async function openPeerReply(privateKey: Uint8Array, ctx: PeerReplyContext, sealed: Uint8Array | Hex): Promise<G1Point> {
  const info = replyInfo(ctx, "openPeerReply");
  const bytes = typeof sealed === "string" && isHex(sealed) ? hexToBytes(sealed) : sealed;
  if (!(bytes instanceof Uint8Array)) throw new CGError("INVALID_INPUT", `openPeerReply: expected the sealed reply as bytes or 0x-hex, got ${describe(sealed)}`);
  const what = `peer reply of member ${ctx.signer} for slot ${ctx.slot}`;
  const plaintext = await open(privateKey, info, bytes, what);
  try {
    if (plaintext.length !== G1_COMPRESSED_LENGTH) {
      throw new CGError("INVALID_REPLY", `${what}: expected a ${G1_COMPRESSED_LENGTH}-byte partial, got ${plaintext.length} bytes`);
    }
    return g1FromCompressed(plaintext, what);
  } finally {
    wipe(plaintext);
  }
}

// ───────────────────────────── the asker: combine and open ─────────────────────────────

export interface PeerReplyInput {
  /** The replying member's slot. */
  signer: number;
  /** The member's operator, named in problems. */
  operator?: Address;
  sealed: Uint8Array | Hex;
}

export interface PeerProblem {
  signer: number;
  operator?: Address;
  check: "open" | "partial" | "public-share";
  message: string;
}

export interface RecoverChannelInput {
  /** The asker's X25519 private key (the one its request named). */
  privateKey: Uint8Array;
  chainId: bigint;
  coordinator: Address;
  accountId: Hex;
  accountEpoch: bigint;
  /** j, the asker's slot. */
  slot: number;
  /** The committee's threshold t and group key K. */
  t: number;
  groupKey: G2Point;
  /** PK_1 … PK_n of the committee's active epoch. */
  publicShares: readonly G2Point[];
  replies: readonly PeerReplyInput[];
  /** sealed_j from the account's `AccountLinked` / `AccountRotated` table. */
  sealedChannel: Uint8Array | Hex;
}

/**
 * The asker's side of §4.6: opens each reply, checks each partial against that member's public share
 * (e(σ_k, P2) == e(H(id_j), PK_k)), combines t verified partials into σ on id_j, checks σ under K, and opens
 * sealed_j. Throws `NOT_ENOUGH_PEERS` naming the members whose replies failed, by slot and operator.
 */
export async function recoverChannel(input: RecoverChannelInput): Promise<{ uri: string; signers: number[]; problems: PeerProblem[] }> {
  const where = "recoverChannel";
  if (typeof input !== "object" || input === null) throw new CGError("INVALID_INPUT", `${where}: expected the replies and the sealed entry, got ${describe(input)}`);
  const { chainId, coordinator, accountId, accountEpoch, slot, t, groupKey, publicShares, replies } = input;
  if (!Number.isInteger(t) || t < 1 || t > COMMITTEE_MAX_SIZE) throw new CGError("INVALID_INPUT", `${where}: expected a threshold t in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(t)}`);
  if (!(groupKey instanceof G2) || groupKey.is0()) throw new CGError("INVALID_INPUT", `${where}: expected the group key K as a G2 point other than infinity`);
  if (!Array.isArray(replies) || !Array.isArray(publicShares)) throw new CGError("INVALID_INPUT", `${where}: expected replies and public shares as lists`);
  const identity = channelIdentity(chainId, coordinator, accountId, accountEpoch, slot);
  const hq = hashToG1(hexToBytes(identity));
  const problems: PeerProblem[] = [];
  const valid: Partial[] = [];
  for (const reply of replies) {
    const { signer, operator } = reply;
    if (valid.some((p) => p.index === signer)) continue;
    const PK = publicShares[signer - 1];
    if (!(PK instanceof G2)) {
      problems.push({ signer, operator, check: "public-share", message: `no public share was given for member ${signer}` });
      continue;
    }
    let sigma: G1Point;
    try {
      sigma = await openPeerReply(input.privateKey, { chainId, coordinator, accountId, accountEpoch, slot, signer }, reply.sealed);
    } catch (cause) {
      problems.push({ signer, operator, check: "open", message: `the reply of member ${signer} does not open: ${cause instanceof CGError ? cause.message : "not a sealed partial"}` });
      continue;
    }
    if (!verifySignature(sigma, PK, hq)) {
      problems.push({ signer, operator, check: "partial", message: `the partial signature of member ${signer} on id_${slot} fails the check against its public share` });
      continue;
    }
    valid.push({ index: signer, sigma });
  }
  if (valid.length < t) {
    const named = problems.map((p) => (p.operator ? `${p.message} (operator ${p.operator})` : p.message)).join("; ");
    throw new CGError("NOT_ENOUGH_PEERS", `${where}: ${valid.length} verified partial signatures on id_${slot}, ${t} needed${named ? ` — ${named}` : ""}`, {
      details: { need: t, valid: valid.map((p) => p.index), problems },
    });
  }
  const chosen = valid.slice(0, t);
  const sigma = combine(chosen, t);
  if (!verifyToken(sigma, groupKey, hexToBytes(identity))) {
    throw new CGError("TOKEN_INVALID", `${where}: ${t} verified partials on id_${slot} do not combine under K: the public shares given are not K's`);
  }
  const sealed = typeof input.sealedChannel === "string" ? hexToBytes(input.sealedChannel) : input.sealedChannel;
  return { uri: openChannel(sealed, sigma), signers: chosen.map((p) => p.index), problems };
}
