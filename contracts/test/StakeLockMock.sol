// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IStakeLock} from "../interfaces/IStakeLock.sol";

/// @notice Test-only stake lock: answers whatever lock time the test set for an operator (0 when none was set).
contract StakeLockMock is IStakeLock {
    mapping(address operator => uint64) private _lockedUntil;

    function setLockedUntil(address operator, uint64 lockedUntil) external {
        _lockedUntil[operator] = lockedUntil;
    }

    function stakeLockedUntil(address operator) external view returns (uint64) {
        return _lockedUntil[operator];
    }
}
