// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ICredentialConsumer
/// @notice Optional hook of an account: called once when a reset of that account is finalized.
/// @dev The coordinator calls it after every state change of the finalization, with a bounded amount of gas,
///      and ignores a revert (emitting `ConsumerHookFailed`), so a broken or hostile consumer can neither stall nor
///      undo a reset. `controllerOf(accountId)` on the coordinator stays the source of truth.
interface ICredentialConsumer {
    /// @notice The account's controller moved from `oldController` to `newController`.
    function onCredentialReset(bytes32 accountId, address oldController, address newController, uint256 requestId)
        external;
}
