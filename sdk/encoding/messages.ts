/**
 * The exact encodings of PROTOCOL.md §9, computed as the contracts' `abi.encode` does
 * (contracts/libraries/ProtocolMessages.sol); a test compares both on the EVM.
 */
import { type Address, type Hex, concat, encodeAbiParameters, isAddress, keccak256, maxUint256, stringToHex, toBytes, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import { COMMITTEE_MAX_SIZE, G1_EIP2537_LENGTH, G2_EIP2537_LENGTH, INFO, TAG } from "../crypto/constants.ts";

const tagHash = (tag: string): Hex => keccak256(stringToHex(tag));

/** keccak256 of each domain tag, the first word of every protocol message. */
export const TAG_HASH = {
  reset: tagHash(TAG.reset),
  shareCommit: tagHash(TAG.shareCommit),
  ack: tagHash(TAG.ack),
  channel: tagHash(TAG.channel),
  /** keccak256("CGUARD-V02/ack") */
  committeeAck: tagHash(TAG.committeeAck),
} as const;

export interface ResetMessageFields {
  chainId: bigint;
  coordinator: Address;
  requestId: bigint;
  accountId: Hex;
  epoch: bigint;
  newController: Address;
  ephemeralKey: Hex;
}

function assertBytes32(value: Hex, where: string): void {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new CGError("INVALID_INPUT", `${where}: expected 32 bytes as 0x-hex, got ${describe(value)}`);
  }
}

/** m = keccak256(abi.encode(keccak256("CGUARD-V01/reset"), chainId, coordinator, requestId, accountId, epoch, newController, ephemeralKey)). */
export function resetMessage(f: ResetMessageFields): Hex {
  assertBytes32(f.accountId, "resetMessage.accountId");
  assertBytes32(f.ephemeralKey, "resetMessage.ephemeralKey");
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
        { type: "uint256" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
        { type: "bytes32" },
      ],
      [TAG_HASH.reset, f.chainId, f.coordinator, f.requestId, f.accountId, f.epoch, f.newController, f.ephemeralKey],
    ),
  );
}

/** h_i = keccak256(abi.encode(keccak256("CGUARD-V01/share-commit"), requestId, i, σ_i)), σ_i in EIP-2537 form. */
export function shareCommit(requestId: bigint, index: number, sigmaEip2537: Uint8Array): Hex {
  if (sigmaEip2537.length !== G1_EIP2537_LENGTH) {
    throw new CGError("INVALID_INPUT", `shareCommit: expected a ${G1_EIP2537_LENGTH}-byte G1 point, got ${describe(sigmaEip2537)}`);
  }
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "uint256" }, { type: "bytes" }],
      [TAG_HASH.shareCommit, requestId, BigInt(index), toHex(sigmaEip2537)],
    ),
  );
}

/** The acknowledgement message a member's proof of possession signs (PROTOCOL.md §3.7). */
export function ackMessage(chainId: bigint, shardMapRegistry: Address, accountId: Hex, epoch: bigint, index: number): Hex {
  assertBytes32(accountId, "ackMessage.accountId");
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "uint256" }, { type: "uint256" }],
      [TAG_HASH.ack, chainId, shardMapRegistry, accountId, epoch, BigInt(index)],
    ),
  );
}

/** id_j, the identity under which slot j's channel URI is sealed (PROTOCOL.md §3.5). */
export function channelIdentity(chainId: bigint, shardMapRegistry: Address, accountId: Hex, slot: number): Hex {
  assertBytes32(accountId, "channelIdentity.accountId");
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "uint256" }],
      [TAG_HASH.channel, chainId, shardMapRegistry, accountId, BigInt(slot)],
    ),
  );
}

/** HPKE info of a share envelope: "CGUARD-V01/share" ‖ abi.encode(chainId, shardMapRegistry, accountId, epoch, i). */
export function shareEnvelopeInfo(chainId: bigint, shardMapRegistry: Address, accountId: Hex, epoch: bigint, index: number): Uint8Array {
  assertBytes32(accountId, "shareEnvelopeInfo.accountId");
  return toBytes(
    concat([
      stringToHex(INFO.share),
      encodeAbiParameters(
        [{ type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "uint256" }, { type: "uint256" }],
        [chainId, shardMapRegistry, accountId, epoch, BigInt(index)],
      ),
    ]),
  );
}

/** HPKE info of a fragment: "CGUARD-V01/fragment" ‖ abi.encode(chainId, coordinator, requestId, i). */
export function fragmentInfo(chainId: bigint, coordinator: Address, requestId: bigint, index: number): Uint8Array {
  return toBytes(
    concat([
      stringToHex(INFO.fragment),
      encodeAbiParameters(
        [{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "uint256" }],
        [chainId, coordinator, requestId, BigInt(index)],
      ),
    ]),
  );
}

/** commitmentsHash = keccak256(C_0 ‖ … ‖ C_{t−1}), each the 256-byte EIP-2537 G2 encoding. */
export function commitmentsHash(commitmentsEip2537: readonly Uint8Array[]): Hex {
  for (const c of commitmentsEip2537) {
    if (c.length !== G2_EIP2537_LENGTH) {
      throw new CGError("INVALID_INPUT", `commitmentsHash: expected ${G2_EIP2537_LENGTH}-byte G2 points, got ${describe(c)}`);
    }
  }
  return keccak256(concat(commitmentsEip2537.map((c) => toHex(c))));
}

/** groupKeyHash = keccak256(C_0). */
export function groupKeyHash(groupKeyEip2537: Uint8Array): Hex {
  return commitmentsHash([groupKeyEip2537]);
}

// ───────────────────────────── committees, protocol v2 (§3, §4, §11) ─────────────────────────────

function assertUint256(value: bigint, where: string, name: string, min = 0n): void {
  if (typeof value !== "bigint" || value < min || value > maxUint256) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a bigint in [${min}, 2^256 − 1], got ${describe(value)}`);
  }
}

function assertAddress(value: Address, where: string, name: string): void {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as a 20-byte 0x-hex address (EIP-55 checksum if mixed case), got ${describe(value)}`);
  }
}

function assertCommitteeIndex(value: number, where: string, name: string): void {
  if (!Number.isInteger(value) || value < 1 || value > COMMITTEE_MAX_SIZE) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${name} as an integer in [1, ${COMMITTEE_MAX_SIZE}], got ${describe(value)}`);
  }
}

/** Checks the fields every committee message carries; the first epoch of a committee is 1 (§3). */
function assertCommitteeFields(where: string, chainId: bigint, registry: Address, committeeId: bigint, committeeEpoch: bigint): void {
  assertUint256(chainId, where, "chainId");
  assertAddress(registry, where, "registry");
  assertUint256(committeeId, where, "committeeId");
  assertUint256(committeeEpoch, where, "committeeEpoch", 1n);
}

/**
 * HPKE info of a DKG or reshare sub-share (§3.2, §4.1, §11):
 * "CGUARD-V02/subshare" ‖ abi.encode(uint256 chainId, address registry, uint256 committeeId,
 * uint256 committeeEpoch, uint256 dealer, uint256 recipient).
 * `committeeEpoch` is the epoch the sub-share builds (1 for the DKG, e + 1 for a reshare from e); `dealer`
 * is the dealer's index in the dealing epoch (its old index in a reshare), `recipient` its index in the new one.
 */
export function subShareInfo(
  chainId: bigint,
  registry: Address,
  committeeId: bigint,
  committeeEpoch: bigint,
  dealer: number,
  recipient: number,
): Uint8Array {
  assertCommitteeFields("subShareInfo", chainId, registry, committeeId, committeeEpoch);
  assertCommitteeIndex(dealer, "subShareInfo", "dealer");
  assertCommitteeIndex(recipient, "subShareInfo", "recipient");
  return toBytes(
    concat([
      stringToHex(INFO.subShare),
      encodeAbiParameters(
        [{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "uint256" }, { type: "uint256" }, { type: "uint256" }],
        [chainId, registry, committeeId, committeeEpoch, BigInt(dealer), BigInt(recipient)],
      ),
    ]),
  );
}

/**
 * The committee acknowledgement message that member i's proof of possession signs (§3.6, §4.4, §11):
 * keccak256(abi.encode(bytes32 keccak256("CGUARD-V02/ack"), uint256 chainId, address registry,
 * uint256 committeeId, uint256 committeeEpoch, uint256 i)).
 */
export function committeeAckMessage(chainId: bigint, registry: Address, committeeId: bigint, committeeEpoch: bigint, index: number): Hex {
  assertCommitteeFields("committeeAckMessage", chainId, registry, committeeId, committeeEpoch);
  assertCommitteeIndex(index, "committeeAckMessage", "member index i");
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "uint256" }, { type: "uint256" }],
      [TAG_HASH.committeeAck, chainId, registry, committeeId, committeeEpoch, BigInt(index)],
    ),
  );
}
