// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAuditLog} from "./interfaces/IAuditLog.sol";

/// @title AuditLog
/// @notice The hash chain of PROTOCOL.md §7, held by the coordinator: not upgradeable, and no role can rewrite it.
/// @dev auditHead_n = bytes24(keccak256(abi.encode(auditHead_{n−1}, n, kind, keccak256(payload)))), auditHead_0 = 0.
///      The head is the first 24 bytes of the keccak256 so that head and length share one storage slot: every
///      audited transaction then pays one slot rewrite (5,000 gas) instead of two. Forging a history that
///      replays to a given head is a second-preimage problem (2^192 work); the birthday bound (2^96) would only
///      matter to an attacker who could choose both histories, while each head depends on every earlier entry and
///      is fixed the moment its transaction is mined (see docs/DECISIONS.md).
///      Invariant: after n appends, `_audit.head` = auditHead_n and `_audit.length` = n.
abstract contract AuditLog is IAuditLog {
    struct AuditState {
        bytes24 head;
        uint64 length;
    }

    AuditState private _audit;

    /// @inheritdoc IAuditLog
    function auditHead() external view returns (bytes32) {
        return bytes32(_audit.head);
    }

    /// @inheritdoc IAuditLog
    function auditLength() external view returns (uint256) {
        return _audit.length;
    }

    function _appendAudit(AuditKind kind, bytes memory payload) internal {
        _appendAudit(kind, keccak256(payload));
    }

    function _appendAudit(AuditKind kind, bytes32 payloadHash) internal {
        AuditState storage s = _audit;
        (bytes24 head, uint64 length) = _foldAudit(s.head, s.length, kind, payloadHash);
        _audit = AuditState(head, length);
    }

    /// @dev For batches: load once, fold in memory, store once.
    function _auditState() internal view returns (bytes24 head, uint64 length) {
        AuditState memory s = _audit;
        return (s.head, s.length);
    }

    function _setAuditState(bytes24 head, uint64 length) internal {
        _audit = AuditState(head, length);
    }

    /// @dev bytes24(keccak256(abi.encode(head, uint256(n), uint8(kind), payloadHash))), encoded in scratch memory
    ///      past the free pointer (never allocated). A bytes24 sits left-aligned in its word, exactly as abi.encode
    ///      lays it out, and the mask keeps the first 24 bytes of the hash.
    function _foldAudit(bytes24 head, uint64 length, AuditKind kind, bytes32 payloadHash)
        internal
        pure
        returns (bytes24 next, uint64 n)
    {
        n = length + 1;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, head)
            mstore(add(ptr, 0x20), n)
            mstore(add(ptr, 0x40), kind)
            mstore(add(ptr, 0x60), payloadHash)
            next := and(keccak256(ptr, 0x80), not(0xffffffffffffffff))
        }
    }
}
