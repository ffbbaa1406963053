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
import { assertChannelSpread, packEntries } from "./account.ts";

/** Shared with the v2 accounts (sdk/protocol/account.ts), where they now live. */
export { computeAccountId, packEntries, unpackEntries } from "./account.ts";

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

/** keccak256(abi.encode(keccak256(abi.encodePacked(committee)), commitmentsHash)), as the contract's `mapHash`. */
export function mapHash(committee: readonly Address[], commitmentsHash: Hex): Hex {
  // abi.encodePacked pads each array element to 32 bytes.
  const committeeHash = keccak256(concat(committee.map((a) => pad(a.toLowerCase() as Hex, { size: 32 }))));
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [committeeHash, commitmentsHash]));
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
  if (!(opts.allowSingle && n === 1 && t === 1)) assertChannelSpread(opts.members.map((m) => m.channelUri), t);
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
