// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ProtocolMessages
/// @notice The exact encodings of PROTOCOL.md §9: every hash is keccak256 of `abi.encode` with these types, in
///         this order. The TypeScript library computes the same values; a test compares them on the EVM.
library ProtocolMessages {
    /// @dev keccak256("CGUARD-V01/reset")
    bytes32 internal constant RESET_TAG = keccak256("CGUARD-V01/reset");
    /// @dev keccak256("CGUARD-V01/share-commit")
    bytes32 internal constant SHARE_COMMIT_TAG = keccak256("CGUARD-V01/share-commit");
    /// @dev keccak256("CGUARD-V01/ack")
    bytes32 internal constant ACK_TAG = keccak256("CGUARD-V01/ack");
    /// @dev keccak256("CGUARD-V01/channel")
    bytes32 internal constant CHANNEL_TAG = keccak256("CGUARD-V01/channel");
    /// @dev keccak256("CGUARD-V02/ack")
    bytes32 internal constant COMMITTEE_ACK_TAG = keccak256("CGUARD-V02/ack");

    /// @notice Reset message m (PROTOCOL.md §4.2); the token is a BLS signature on its 32 bytes.
    function resetMessage(
        uint256 chainId,
        address coordinator,
        uint256 requestId,
        bytes32 accountId,
        uint256 epoch,
        address newController,
        bytes32 ephemeralKey
    ) internal pure returns (bytes32 m) {
        // keccak256(abi.encode(RESET_TAG, chainId, coordinator, requestId, accountId, epoch, newController,
        // ephemeralKey)), encoded in scratch memory past the free pointer: eight static words, no allocation.
        bytes32 tag = RESET_TAG;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, tag)
            mstore(add(p, 0x20), chainId)
            mstore(add(p, 0x40), and(coordinator, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x60), requestId)
            mstore(add(p, 0x80), accountId)
            mstore(add(p, 0xa0), epoch)
            mstore(add(p, 0xc0), and(newController, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0xe0), ephemeralKey)
            m := keccak256(p, 0x100)
        }
    }

    /// @notice Share commitment h_i (PROTOCOL.md §4.5) of a 128-byte EIP-2537 partial σ_i.
    function shareCommit(uint256 requestId, uint256 index, bytes memory sigmaI) internal pure returns (bytes32) {
        return keccak256(abi.encode(SHARE_COMMIT_TAG, requestId, index, sigmaI));
    }

    /// @notice Acknowledgement message (PROTOCOL.md §3.7): what a member's proof of possession signs.
    function ackMessage(uint256 chainId, address shardMapRegistry, bytes32 accountId, uint256 epoch, uint256 index)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(ACK_TAG, chainId, shardMapRegistry, accountId, epoch, index));
    }

    /// @notice Channel identity id_j of slot j in the sealed channel table (PROTOCOL.md §3.5).
    function channelIdentity(uint256 chainId, address shardMapRegistry, bytes32 accountId, uint256 slot)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(CHANNEL_TAG, chainId, shardMapRegistry, accountId, slot));
    }

    /// @notice Committee acknowledgement message (PROTOCOL v2 §3.6, §11): what member i's proof of possession of
    ///         its share of `committeeEpoch` signs.
    function committeeAckMessage(uint256 chainId, address registry, uint256 committeeId, uint256 committeeEpoch, uint256 i)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(COMMITTEE_ACK_TAG, chainId, registry, committeeId, committeeEpoch, i));
    }
}
