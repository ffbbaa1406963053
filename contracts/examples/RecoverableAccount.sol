// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICredentialConsumer} from "../interfaces/ICredentialConsumer.sol";
import {IAccountRegistry} from "../interfaces/IAccountRegistry.sol";

/// @title RecoverableAccount
/// @notice A minimal smart account whose controller is whoever the coordinator says controls its account id:
///         it holds ETH and tokens, and its controller executes calls through it. A finalized reset moves control
///         to the new key; the funds never move.
/// @dev `controllerOf(accountId)` is read on every call, so the account needs no hook to follow a reset; it
///      implements `ICredentialConsumer` only to record when control moved.
contract RecoverableAccount is ICredentialConsumer {
    IAccountRegistry public immutable registry;
    bytes32 public immutable accountId;
    uint256 public lastResetRequestId;

    error RecoverableAccountNotController(address caller);
    error RecoverableAccountNotRegistry(address caller);
    error RecoverableAccountCallFailed(address to, bytes reason);

    event Executed(address indexed to, uint256 value, bytes data);
    event ControlMoved(address indexed oldController, address indexed newController, uint256 requestId);

    constructor(IAccountRegistry registry_, bytes32 accountId_) {
        registry = registry_;
        accountId = accountId_;
    }

    receive() external payable {}

    function controller() public view returns (address) {
        return registry.controllerOf(accountId);
    }

    /// @notice Calls `to` with `value` and `data` on behalf of the account; controller only.
    function execute(address to, uint256 value, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != controller()) revert RecoverableAccountNotController(msg.sender);
        bool ok;
        (ok, result) = to.call{value: value}(data);
        if (!ok) revert RecoverableAccountCallFailed(to, result);
        emit Executed(to, value, data);
    }

    /// @inheritdoc ICredentialConsumer
    function onCredentialReset(bytes32 accountId_, address oldController, address newController, uint256 requestId)
        external
    {
        if (msg.sender != address(registry) || accountId_ != accountId) revert RecoverableAccountNotRegistry(msg.sender);
        lastResetRequestId = requestId;
        emit ControlMoved(oldController, newController, requestId);
    }
}
