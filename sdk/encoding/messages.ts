/**
 * The exact encodings of PROTOCOL.md §11, computed as the contracts' `abi.encode` does
 * (contracts/libraries/ProtocolMessages.sol). Tests compare them with an independent encoder (ethers) and,
 * for what the contracts already expose, on the EVM.
 *
 * For accounts (§5, §11) the "registry" of the channel identity, the envelope info and the peer-signature
 * info is the contract that holds accounts: the reset coordinator.
 */
import { type Address, type Hex, concat, encodeAbiParameters, isAddress, keccak256, maxUint256, stringToHex, toBytes, toHex } from "viem";

import { CGError, describe } from "../errors.ts";
import { COMMITTEE_MAX_SIZE, G2_EIP2537_LENGTH, INFO, TAG } from "../crypto/constants.ts";

const tagHash = (tag: string): Hex => keccak256(stringToHex(tag));

/** keccak256 of each domain tag, the first word of every protocol message. */
export const TAG_HASH = {
  /** keccak256("CGUARD-V02/reset") */
  reset: tagHash(TAG.reset),
  /** keccak256("CGUARD-V02/channel") */
  channel: tagHash(TAG.channel),
  /** keccak256("CGUARD-V02/ack") */
  committeeAck: tagHash(TAG.committeeAck),
} as const;

/** The fields of the v2 reset message m (PROTOCOL v2 §6.2, §11), as the request's event and the account carry them. */
export interface ResetMessageFields {
  chainId: bigint;
  coordinator: Address;
  requestId: bigint;
  accountId: Hex;
  /** The account epoch the request binds (1 at link, +1 at each rotation). */
  accountEpoch: bigint;
  committeeId: bigint;
  /** address(0) for a drill (§7). */
  newController: Address;
  /** keccak256 of the requester key A in its 128-byte EIP-2537 form (`requesterKeyHash`). */
  requesterKeyHash: Hex;
}

function assertBytes32(value: Hex, where: string): void {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new CGError("INVALID_INPUT", `${where}: expected 32 bytes as 0x-hex, got ${describe(value)}`);
  }
}

/**
 * m = keccak256(abi.encode(bytes32 keccak256("CGUARD-V02/reset"), uint256 chainId, address coordinator,
 * uint256 requestId, bytes32 accountId, uint256 accountEpoch, uint256 committeeId, address newController,
 * bytes32 keccak256(A))) (PROTOCOL v2 §6.2, §11).
 */
export function resetMessage(f: ResetMessageFields): Hex {
  if (typeof f !== "object" || f === null) {
    throw new CGError("INVALID_INPUT", `resetMessage: expected the request's fields, got ${describe(f)}`);
  }
  const where = "resetMessage";
  assertUint256(f.chainId, where, "chainId");
  assertAddress(f.coordinator, where, "coordinator");
  assertUint256(f.requestId, where, "requestId");
  assertBytes32(f.accountId, `${where}.accountId`);
  assertUint256(f.accountEpoch, where, "accountEpoch", 1n);
  assertUint256(f.committeeId, where, "committeeId");
  assertAddress(f.newController, where, "newController");
  assertBytes32(f.requesterKeyHash, `${where}.requesterKeyHash`);
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
        { type: "uint256" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "address" },
        { type: "bytes32" },
      ],
      [TAG_HASH.reset, f.chainId, f.coordinator, f.requestId, f.accountId, f.accountEpoch, f.committeeId, f.newController, f.requesterKeyHash],
    ),
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

// ───────────────────────────── accounts and resets, protocol v2 (§4.6, §5, §11) ─────────────────────────────

/** Checks the fields every account message carries: chain, coordinator, account id, account epoch ≥ 1, slot. */
function assertAccountFields(where: string, chainId: bigint, coordinator: Address, accountId: Hex, accountEpoch: bigint, slot: number): void {
  assertUint256(chainId, where, "chainId");
  assertAddress(coordinator, where, "coordinator");
  assertBytes32(accountId, `${where}.accountId`);
  assertUint256(accountEpoch, where, "accountEpoch", 1n);
  assertCommitteeIndex(slot, where, "slot j");
}

const accountHead = [{ type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "uint256" }, { type: "uint256" }] as const;

/**
 * id_j = keccak256(abi.encode(bytes32 keccak256("CGUARD-V02/channel"), uint256 chainId, address registry,
 * bytes32 accountId, uint256 accountEpoch, uint256 j)) with registry = the coordinator (§5.3, §11): the
 * identity under which slot j's channel URI is sealed in the channel table.
 */
export function channelIdentity(chainId: bigint, coordinator: Address, accountId: Hex, accountEpoch: bigint, slot: number): Hex {
  assertAccountFields("channelIdentity", chainId, coordinator, accountId, accountEpoch, slot);
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, ...accountHead],
      [TAG_HASH.channel, chainId, coordinator, accountId, accountEpoch, BigInt(slot)],
    ),
  );
}

/**
 * HPKE info of slot j's channel envelope (§5.2, §11):
 * "CGUARD-V02/channel" ‖ abi.encode(uint256 chainId, address registry, bytes32 accountId, uint256 accountEpoch, uint256 j).
 */
export function envelopeInfo(chainId: bigint, coordinator: Address, accountId: Hex, accountEpoch: bigint, slot: number): Uint8Array {
  assertAccountFields("envelopeInfo", chainId, coordinator, accountId, accountEpoch, slot);
  return toBytes(
    concat([stringToHex(INFO.channelEnvelope), encodeAbiParameters(accountHead, [chainId, coordinator, accountId, accountEpoch, BigInt(slot)])]),
  );
}

/**
 * HPKE info of a peer's reply carrying its partial signature on id_j (§4.6, §11):
 * "CGUARD-V02/peer-signature" ‖ abi.encode(uint256 chainId, address registry, bytes32 accountId, uint256 accountEpoch,
 * uint256 j, uint256 signer), where j is the slot asked about and `signer` the replying member's slot.
 */
export function peerSignatureInfo(
  chainId: bigint,
  coordinator: Address,
  accountId: Hex,
  accountEpoch: bigint,
  slot: number,
  signer: number,
): Uint8Array {
  assertAccountFields("peerSignatureInfo", chainId, coordinator, accountId, accountEpoch, slot);
  assertCommitteeIndex(signer, "peerSignatureInfo", "signer");
  return toBytes(
    concat([
      stringToHex(INFO.peerSignature),
      encodeAbiParameters([...accountHead, { type: "uint256" }], [chainId, coordinator, accountId, accountEpoch, BigInt(slot), BigInt(signer)]),
    ]),
  );
}
