/**
 * The owner's side of PROTOCOL.md §3: deal a reset key for a committee, seal one envelope per member and the
 * channel table, and produce the `ShardMapParams` the contract takes. Also the guardian's side: open its
 * envelope, check the share with Feldman, and sign the acknowledgement (proof of possession).
 */
import { type Address, type Hex, concat, encodeAbiParameters, hexToBytes, keccak256, pad, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import { type G2Point, g1ToEip2537, g2FromEip2537, g2ToEip2537 } from "../crypto/bls.ts";
import { sealChannel } from "../crypto/channelTable.ts";
import { G2_EIP2537_LENGTH } from "../crypto/constants.ts";
import { openShareEnvelope, sealShareEnvelope } from "../crypto/hpke.ts";
import { type Share, computePartial, deal, verifyShare } from "../crypto/threshold.ts";
import { ackMessage, channelIdentityV1, commitmentsHash as hashCommitments } from "../encoding/messages.ts";

export interface CommitteeMember {
  operator: Address;
  /** The member's registered X25519 key, as bytes32 hex. */
  encryptionKey: Hex;
  /** Where this member delivers fragments: mailto:, sms:, or https:. */
  channelUri: string;
}

/** What the contract's `link` / `rotate` take; envelopes and sealed channels are packed (`packEntries`). */
export interface ShardMapParams {
  securityPeriod: number;
  threshold: number;
  committee: Address[];
  commitments: Hex;
  envelopes: Hex;
  sealedChannels: Hex;
}

export interface PreparedShardMap {
  params: ShardMapParams;
  /** The envelopes and sealed channels one per member (what the packed params carry). */
  envelopes: Hex[];
  sealedChannels: Hex[];
  commitments: G2Point[];
  groupKey: G2Point;
  commitmentsHash: Hex;
}

/** accountId = keccak256(abi.encode(chainId, owner, salt)), as `ShardMapRegistry.computeAccountId`. */
export function computeAccountId(chainId: bigint, owner: Address, salt: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "address" }, { type: "bytes32" }], [chainId, owner, salt]));
}

/** keccak256(abi.encode(keccak256(abi.encodePacked(committee)), commitmentsHash)), as the contract's `mapHash`. */
export function mapHash(committee: readonly Address[], commitmentsHash: Hex): Hex {
  // abi.encodePacked pads each array element to 32 bytes.
  const committeeHash = keccak256(concat(committee.map((a) => pad(a.toLowerCase() as Hex, { size: 32 }))));
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [committeeHash, commitmentsHash]));
}

/** PROTOCOL.md §3.1: no single channel URI may receive t or more fragments. */
export function assertChannelSpread(members: readonly CommitteeMember[], t: number): void {
  const counts = new Map<string, number>();
  for (const m of members) {
    const key = m.channelUri.trim().toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [uri, count] of counts) {
    if (count >= t) {
      throw new CGError(
        "CHANNEL_CONCENTRATION",
        `one channel would receive ${count} fragments with threshold ${t}: whoever controls it alone could reset the account; give at most ${t - 1} members the same channel`,
        { details: { count, threshold: t, scheme: uri.split(":")[0] } },
      );
    }
  }
}

export async function prepareShardMap(opts: {
  chainId: bigint;
  shardMapRegistry: Address;
  accountId: Hex;
  epoch: bigint;
  threshold: number;
  securityPeriod: number;
  members: readonly CommitteeMember[];
  allowSingle?: boolean;
}): Promise<PreparedShardMap> {
  const n = opts.members.length;
  const t = opts.threshold;
  if (!(opts.allowSingle && n === 1 && t === 1)) assertChannelSpread(opts.members, t);
  const dealing = deal(n, t, { allowSingle: opts.allowSingle });
  try {
    const envelopes: Hex[] = [];
    const sealedChannels: Hex[] = [];
    for (let i = 1; i <= n; i++) {
      const member = opts.members[i - 1];
      const ctx = { chainId: opts.chainId, shardMapRegistry: opts.shardMapRegistry, accountId: opts.accountId, epoch: opts.epoch, index: i };
      envelopes.push(toHex(await sealShareEnvelope(hexToBytes(member.encryptionKey), ctx, dealing.shares[i - 1].value, member.channelUri)));
      const id = channelIdentityV1(opts.chainId, opts.shardMapRegistry, opts.accountId, i);
      sealedChannels.push(toHex(sealChannel(dealing.groupKey, id, member.channelUri)));
    }
    const encoded = dealing.commitments.map((c) => g2ToEip2537(c));
    return {
      params: {
        securityPeriod: opts.securityPeriod,
        threshold: t,
        committee: opts.members.map((m) => m.operator),
        commitments: concat(encoded.map((e) => toHex(e))),
        envelopes: packEntries(envelopes),
        sealedChannels: packEntries(sealedChannels),
      },
      envelopes,
      sealedChannels,
      commitments: [...dealing.commitments],
      groupKey: dealing.groupKey,
      commitmentsHash: hashCommitments(encoded),
    };
  } finally {
    dealing.wipe();
  }
}

/** Packs entries for the contract: each a 2-byte big-endian length, then its bytes. */
export function packEntries(entries: readonly Hex[]): Hex {
  const parts: Hex[] = [];
  for (const e of entries) {
    const bytes = (e.length - 2) / 2;
    if (bytes > 0xffff) throw new CGError("INVALID_INPUT", `packEntries: an entry of ${bytes} bytes does not fit a 2-byte length`);
    parts.push(toHex(bytes, { size: 2 }), e);
  }
  return parts.length ? concat(parts) : "0x";
}

/** Unpacks `packEntries` output (as found in `ShardMapLinked`); refuses lengths that do not add up. */
export function unpackEntries(packed: Hex): Hex[] {
  const bytes = hexToBytes(packed);
  const out: Hex[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) throw new CGError("INVALID_INPUT", "unpackEntries: a length is cut short");
    const len = (bytes[offset] << 8) | bytes[offset + 1];
    if (offset + 2 + len > bytes.length) throw new CGError("INVALID_INPUT", `unpackEntries: entry ${out.length + 1} claims ${len} bytes past the end`);
    out.push(toHex(bytes.subarray(offset + 2, offset + 2 + len)));
    offset += 2 + len;
  }
  return out;
}

/** Splits the `commitments` bytes of a `ShardMapLinked` event into checked G2 points. */
export function decodeCommitments(commitments: Hex): G2Point[] {
  const bytes = hexToBytes(commitments);
  if (bytes.length === 0 || bytes.length % G2_EIP2537_LENGTH !== 0) {
    throw new CGError("INVALID_INPUT", `decodeCommitments: expected a multiple of ${G2_EIP2537_LENGTH} bytes, got ${describe(bytes)}`);
  }
  const out: G2Point[] = [];
  for (let o = 0; o < bytes.length; o += G2_EIP2537_LENGTH) {
    out.push(g2FromEip2537(bytes.subarray(o, o + G2_EIP2537_LENGTH), `commitment C_${o / G2_EIP2537_LENGTH}`));
  }
  return out;
}

export interface Assignment {
  share: Share;
  channelUri: string;
}

/**
 * The guardian's check of PROTOCOL.md §3.7: open envelope i and verify s_i·P2 == Σ_j i^j·C_j.
 * Throws `INVALID_SHARE` (no acknowledgement must follow) when the share does not match the commitments.
 */
export async function openAssignment(opts: {
  privateKey: Uint8Array;
  chainId: bigint;
  shardMapRegistry: Address;
  accountId: Hex;
  epoch: bigint;
  index: number;
  envelope: Hex;
  commitments: readonly G2Point[];
}): Promise<Assignment> {
  const ctx = { chainId: opts.chainId, shardMapRegistry: opts.shardMapRegistry, accountId: opts.accountId, epoch: opts.epoch, index: opts.index };
  const { share, channelUri } = await openShareEnvelope(opts.privateKey, ctx, hexToBytes(opts.envelope));
  const s: Share = { index: opts.index, value: share };
  if (!verifyShare(s, opts.commitments)) {
    throw new CGError("INVALID_SHARE", `share #${opts.index} of epoch ${opts.epoch} does not match the published commitments`, {
      details: { index: opts.index, epoch: opts.epoch.toString() },
    });
  }
  return { share: s, channelUri };
}

/** The proof of possession carried by an acknowledgement: σ = s_i·H(ackMessage), EIP-2537 encoded. */
export function possessionProof(share: Share, chainId: bigint, shardMapRegistry: Address, accountId: Hex, epoch: bigint): Hex {
  const m = ackMessage(chainId, shardMapRegistry, accountId, epoch, share.index);
  return toHex(g1ToEip2537(computePartial(share, hexToBytes(m)).sigma));
}
