// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICredentialConsumer} from "../interfaces/ICredentialConsumer.sol";
import {IResetCoordinator} from "../interfaces/IResetCoordinator.sol";

/// @notice Test-only consumers that misbehave in the hook: each must leave finalization intact.

contract RevertingConsumer is ICredentialConsumer {
    function onCredentialReset(bytes32, address, address, uint256) external pure {
        revert("consumer refuses");
    }
}

contract ReentrantConsumer is ICredentialConsumer {
    bool public reentered;

    function onCredentialReset(bytes32, address, address, uint256 requestId) external {
        // Try to finalize again and to cancel; both must fail without affecting the outer finalization.
        (bool again,) = msg.sender.call(abi.encodeCall(IResetCoordinator.finalizeReset, (requestId)));
        (bool cancel,) = msg.sender.call(abi.encodeCall(IResetCoordinator.cancelReset, (requestId)));
        reentered = again || cancel;
        if (!reentered) revert("reentry blocked");
    }
}

contract GasBurningConsumer is ICredentialConsumer {
    uint256 public counter;

    function onCredentialReset(bytes32, address, address, uint256) external {
        while (true) {
            ++counter;
        }
    }
}
