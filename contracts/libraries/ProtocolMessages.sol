// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ProtocolMessages
/// @notice The exact encodings of PROTOCOL.md §11: every hash is keccak256 of `abi.encode` with these types, in
///         this order. The TypeScript library computes the same values; a test compares them on the EVM.
library ProtocolMessages {
    /// @dev keccak256("CGUARD-V02/reset")
    bytes32 internal constant RESET_TAG = keccak256("CGUARD-V02/reset");
    /// @dev keccak256("CGUARD-V02/channel")
    bytes32 internal constant CHANNEL_TAG = keccak256("CGUARD-V02/channel");
    /// @dev keccak256("CGUARD-V02/ack")
    bytes32 internal constant COMMITTEE_ACK_TAG = keccak256("CGUARD-V02/ack");

    /// @notice Reset message m (PROTOCOL.md §6.2); partials and the token are BLS signatures on its 32 bytes.
    function resetMessage(
        uint256 chainId,
        address coordinator,
        uint256 requestId,
        bytes32 accountId,
        uint256 accountEpoch,
        uint256 committeeId,
        address newController,
        bytes32 requesterKeyHash
    ) internal pure returns (bytes32 m) {
        // keccak256(abi.encode(RESET_TAG, chainId, coordinator, requestId, accountId, accountEpoch, committeeId,
        // newController, requesterKeyHash)), encoded in scratch memory past the free pointer: nine static words.
        bytes32 tag = RESET_TAG;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, tag)
            mstore(add(p, 0x20), chainId)
            mstore(add(p, 0x40), and(coordinator, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x60), requestId)
            mstore(add(p, 0x80), accountId)
            mstore(add(p, 0xa0), accountEpoch)
            mstore(add(p, 0xc0), committeeId)
            mstore(add(p, 0xe0), and(newController, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x100), requesterKeyHash)
            m := keccak256(p, 0x120)
        }
    }

    /// @notice Channel identity id_j of slot j of an account epoch's sealed channel table (PROTOCOL.md §5.3);
    ///         `registry` is the contract that holds accounts (the coordinator).
    function channelIdentity(uint256 chainId, address registry, bytes32 accountId, uint256 accountEpoch, uint256 slot)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(CHANNEL_TAG, chainId, registry, accountId, accountEpoch, slot));
    }

    /// @notice Committee acknowledgement message (PROTOCOL.md §3.6, §11): what member i's proof of possession of
    ///         its share of `committeeEpoch` signs.
    function committeeAckMessage(uint256 chainId, address registry, uint256 committeeId, uint256 committeeEpoch, uint256 i)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(COMMITTEE_ACK_TAG, chainId, registry, committeeId, committeeEpoch, i));
    }
}
