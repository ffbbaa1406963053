// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IResetCoordinator} from "../interfaces/IResetCoordinator.sol";

/// @title PostingLayoutProbe
/// @notice Test-only. Exists only to measure, for the benchmark (`gas.postingLayout*` in bench/sections/contracts.ts),
///         what the compressed posting layout (240 bytes) saves over the EIP-2537 full layout (640 bytes) in a
///         posting transaction. Never deployed by the protocol.
/// @dev Each entry point does with the posting bytes exactly what `ResetCoordinator._post` does with them, and
///      nothing else: takes the same `PostingInput` struct as calldata, checks the length, hashes the posting into
///      the uint192 posting digest (a non-zero → non-zero slot rewrite), builds abi.encode(requestId, slot,
///      committeeEpoch, caller, message, posting) once, hashes it into the audit head (a second non-zero rewrite, as
///      the coordinator's audit state) and emits it as `PartialPosted` from the same buffer. The checks that do not
///      touch the posting (request status, committee membership, slot bitmap) are left out: they cost the same in
///      both layouts. The receipt difference between the two entry points is then the layout's cost: calldata
///      (with the EIP-7623 floor), copying, hashing, memory and log data.
contract PostingLayoutProbe {
    uint256 internal constant COMPRESSED_LENGTH = 240; // C ‖ U ‖ V ‖ W = 48 + 48 + 96 + 48
    uint256 internal constant FULL_LENGTH = 640; // EIP-2537: 128 + 128 + 256 + 128

    /// @notice Same fields as `IResetCoordinator.PartialPosted`.
    event PartialPosted(
        uint256 indexed requestId, uint8 slot, uint32 committeeEpoch, address guardian, bytes32 message, bytes posting
    );

    error ProbeWrongLength(uint256 expected, uint256 length);

    uint192 public digest;
    bytes24 public auditHead;

    constructor() {
        // Non-zero from the start, so every probe transaction pays a non-zero → non-zero rewrite, as postPartial does.
        (digest, auditHead) = (1, bytes24(uint192(1)));
    }

    /// @notice A compressed posting (240 bytes), as guardians post it.
    function postCompressed(IResetCoordinator.PostingInput calldata input) external {
        _post(input, COMPRESSED_LENGTH);
    }

    /// @notice The same posting in EIP-2537 full form (640 bytes).
    function postFull(IResetCoordinator.PostingInput calldata input) external {
        _post(input, FULL_LENGTH);
    }

    function _post(IResetCoordinator.PostingInput calldata input, uint256 length) private {
        bytes calldata posting = input.posting;
        if (posting.length != length) revert ProbeWrongLength(length, posting.length);
        (uint256 requestId, uint256 slot, uint256 committeeEpoch, bytes32 message) =
            (input.requestId, input.slot, input.committeeEpoch, input.message);
        uint256 d = digest;
        bytes32 payloadHash;
        bytes32 topic = PartialPosted.selector;
        assembly ("memory-safe") {
            // keccak256(posting), folded into the digest as the coordinator does
            let q := mload(0x40)
            calldatacopy(q, posting.offset, length)
            let postingHash := keccak256(q, length)
            mstore(q, d)
            mstore(add(q, 0x20), slot)
            mstore(add(q, 0x40), committeeEpoch)
            mstore(add(q, 0x60), caller())
            mstore(add(q, 0x80), message)
            mstore(add(q, 0xa0), postingHash)
            d := and(keccak256(q, 0xc0), 0xffffffffffffffffffffffffffffffffffffffffffffffff)
            // one buffer: abi.encode(requestId, …, posting) for the audit hash, and from its second word (offset
            // rewritten) the PartialPosted data
            let padded := and(add(length, 31), not(31))
            mstore(q, requestId)
            mstore(add(q, 0x20), slot)
            mstore(add(q, 0x40), committeeEpoch)
            mstore(add(q, 0x60), caller())
            mstore(add(q, 0x80), message)
            mstore(add(q, 0xa0), 0xc0)
            mstore(add(q, 0xc0), length)
            mstore(add(q, add(0xc0, padded)), 0) // zero padding of the last word (none for 640)
            calldatacopy(add(q, 0xe0), posting.offset, length)
            payloadHash := keccak256(q, add(0xe0, padded))
            mstore(add(q, 0xa0), 0xa0)
            log2(add(q, 0x20), add(0xc0, padded), topic, requestId)
        }
        digest = uint192(d);
        auditHead = bytes24(keccak256(abi.encode(auditHead, payloadHash)));
    }
}
