// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Vm
/// @notice The few cheatcodes these tests use, at the standard cheatcode address. The signatures are those of
///         forge-std's `src/Vm.sol` (foundry-rs/forge-std, the `VmSafe` and `Vm` interfaces), which Hardhat's
///         Solidity test runner implements; only the ones called here are declared.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function deal(address account, uint256 newBalance) external;
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function assume(bool condition) external pure;
    function label(address account, string calldata newLabel) external;
}

/// @dev address(uint160(uint256(keccak256("hevm cheat code"))))
Vm constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
