// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../libraries/BLS12381.sol";
import {ProtocolMessages} from "../libraries/ProtocolMessages.sol";

/// @notice Test-only: exposes the BLS12381 and ProtocolMessages libraries, plus gas probes for the benchmark.
/// @dev The `…Gas` functions return the gas the library call itself used (gasleft() before and after).
contract BLS12381Harness {
    function dst() external pure returns (bytes memory) {
        return BLS12381.DST;
    }

    function expandMessageXmd(bytes memory message, bytes memory dst_, uint256 lenInBytes)
        external
        view
        returns (bytes memory)
    {
        return BLS12381.expandMessageXmd(message, dst_, lenInBytes);
    }

    function reduceModP(uint256 a, uint256 b) external pure returns (uint256, uint256) {
        return BLS12381.reduceModP(a, b);
    }

    function hashToField(bytes memory message, bytes memory dst_) external view returns (bytes memory) {
        return BLS12381.hashToField(message, dst_);
    }

    function hashToG1(bytes memory message, bytes memory dst_) external view returns (bytes memory) {
        return BLS12381.hashToG1(message, dst_);
    }

    function hashToG1(bytes32 message) external view returns (bytes memory) {
        return BLS12381.hashToG1(message);
    }

    function tryVerifyShare(bytes memory commitments, uint256 index, uint256 value) external view returns (uint8) {
        return uint8(BLS12381.tryVerifyShare(commitments, index, value));
    }

    function verifyShare(bytes memory commitments, uint256 index, uint256 value) external view {
        BLS12381.verifyShare(commitments, index, value);
    }

    function trySumG2(bytes[] memory lists) external view returns (uint8 err, bytes memory sum) {
        BLS12381.BLSError e;
        (e, sum,) = BLS12381.trySumG2(lists);
        err = uint8(e);
    }

    function tryLinearCombinationG2(bytes[] memory lists, uint256[] memory scalars)
        external
        view
        returns (uint8 err, bytes memory result)
    {
        BLS12381.BLSError e;
        (e, result,) = BLS12381.tryLinearCombinationG2(lists, scalars);
        err = uint8(e);
    }

    function lagrangeAtZero(uint256[] memory indices) external view returns (uint256[] memory) {
        return BLS12381.lagrangeAtZero(indices);
    }

    function committeeAckMessage(uint256 chainId, address registry, uint256 committeeId, uint256 epoch, uint256 i)
        external
        pure
        returns (bytes32)
    {
        return ProtocolMessages.committeeAckMessage(chainId, registry, committeeId, epoch, i);
    }

    function tryVerifyToken(bytes memory sigma, bytes memory groupKey, bytes32 message)
        external
        view
        returns (BLS12381.BLSError)
    {
        return BLS12381.tryVerifyToken(sigma, groupKey, message);
    }

    function verifyToken(bytes memory sigma, bytes memory groupKey, bytes32 message) external view {
        BLS12381.verifyToken(sigma, groupKey, message);
    }

    function verifyTokenCalldata(bytes calldata sigma, bytes calldata groupKey, bytes32 message) external view {
        BLS12381.verifyTokenCalldata(sigma, groupKey, message);
    }

    function tryVerifyTokenCalldata(bytes calldata sigma, bytes calldata groupKey, bytes32 message)
        external
        view
        returns (BLS12381.BLSError)
    {
        return BLS12381.tryVerifyTokenCalldata(sigma, groupKey, message);
    }

    function tryVerifyPartial(bytes memory sigmaI, bytes memory commitments, uint256 index, bytes32 message)
        external
        view
        returns (BLS12381.BLSError)
    {
        return BLS12381.tryVerifyPartial(sigmaI, commitments, index, message);
    }

    function verifyPartial(bytes memory sigmaI, bytes memory commitments, uint256 index, bytes32 message)
        external
        view
    {
        BLS12381.verifyPartial(sigmaI, commitments, index, message);
    }

    function derivePublicShare(bytes memory commitments, uint256 index) external view returns (bytes memory) {
        return BLS12381.derivePublicShare(commitments, index);
    }

    function tryDerivePublicShare(bytes memory commitments, uint256 index)
        external
        view
        returns (BLS12381.BLSError, bytes memory)
    {
        return BLS12381.tryDerivePublicShare(commitments, index);
    }

    function validateG1(bytes memory point) external view {
        BLS12381.validateG1(point);
    }

    function validateG2(bytes memory point) external view {
        BLS12381.validateG2(point);
    }

    function tryValidateG1(bytes memory point) external view returns (BLS12381.BLSError) {
        return BLS12381.tryValidateG1(point);
    }

    function tryValidateG2(bytes memory point) external view returns (BLS12381.BLSError) {
        return BLS12381.tryValidateG2(point);
    }

    // ── exact encodings (PROTOCOL.md §11) ──

    function resetMessage(
        uint256 chainId,
        address coordinator,
        uint256 requestId,
        bytes32 accountId,
        uint256 accountEpoch,
        uint256 committeeId,
        address newController,
        bytes32 requesterKeyHash
    ) external pure returns (bytes32) {
        return ProtocolMessages.resetMessage(
            chainId, coordinator, requestId, accountId, accountEpoch, committeeId, newController, requesterKeyHash
        );
    }

    function channelIdentity(uint256 chainId, address registry, bytes32 accountId, uint256 accountEpoch, uint256 slot)
        external
        pure
        returns (bytes32)
    {
        return ProtocolMessages.channelIdentity(chainId, registry, accountId, accountEpoch, slot);
    }

    // ── gas probes ──
    // Each returns the gas of the library call measured with gasleft() around it, copying the calldata
    // arguments to memory inside the window so that decoding is counted.

    function hashToG1Gas(bytes32 message) external view returns (uint256 used) {
        uint256 before = gasleft();
        BLS12381.hashToG1(message);
        used = before - gasleft();
    }

    function verifyTokenGas(bytes calldata sigma, bytes calldata groupKey, bytes32 message)
        external
        view
        returns (uint256 used)
    {
        uint256 before = gasleft();
        BLS12381.verifyTokenCalldata(sigma, groupKey, message);
        used = before - gasleft();
    }

    function derivePublicShareGas(bytes calldata commitments, uint256 index) external view returns (uint256 used) {
        uint256 before = gasleft();
        BLS12381.derivePublicShare(commitments, index);
        used = before - gasleft();
    }
}
