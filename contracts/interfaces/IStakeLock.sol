// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

interface IStakeLock {
    /// @notice Until when `operator`'s stake must stay in the registry: type(uint64).max while it is a member of a committee that is forming, active or being handed over to; after it has been handed over, the end of its last epoch's dispute window; 0 if it never was a member.
    function stakeLockedUntil(address operator) external view returns (uint64);
}
