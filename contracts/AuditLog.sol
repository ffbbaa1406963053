// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAuditLog} from "./interfaces/IAuditLog.sol";

/// @title AuditLog
/// @notice The hash chain of PROTOCOL.md §7, held by the coordinator: not upgradeable, and no role can rewrite it.
/// @dev Invariant: after n appends, `_head` = auditHead_n and `_length` = n. `_length` shares a slot with the
///      coordinator's request counter, which `requestReset` writes anyway.
abstract contract AuditLog is IAuditLog {
    bytes32 private _head;
    uint64 internal _length;
    uint64 internal _nextRequestId;

    /// @inheritdoc IAuditLog
    function auditHead() external view returns (bytes32) {
        return _head;
    }

    /// @inheritdoc IAuditLog
    function auditLength() external view returns (uint256) {
        return _length;
    }

    /// @dev auditHead_n = keccak256(abi.encode(auditHead_{n−1}, n, kind, keccak256(payload))).
    function _appendAudit(AuditKind kind, bytes memory payload) internal {
        (_head, _length) = _foldAudit(_head, _length, kind, keccak256(payload));
    }

    function _appendAudit(AuditKind kind, bytes32 payloadHash) internal {
        (_head, _length) = _foldAudit(_head, _length, kind, payloadHash);
    }

    /// @dev For batches: load once, fold in memory, store once.
    function _auditState() internal view returns (bytes32 head, uint64 length) {
        return (_head, _length);
    }

    function _setAuditState(bytes32 head, uint64 length) internal {
        (_head, _length) = (head, length);
    }

    function _foldAudit(bytes32 head, uint64 length, AuditKind kind, bytes32 payloadHash)
        internal
        pure
        returns (bytes32, uint64)
    {
        uint64 n = length + 1;
        return (keccak256(abi.encode(head, uint256(n), uint8(kind), payloadHash)), n);
    }
}
