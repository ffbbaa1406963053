// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CommitteeRegistry} from "../../../../contracts/CommitteeRegistry.sol";
import {GuardianRegistry} from "../../../../contracts/GuardianRegistry.sol";
import {ResetCoordinator} from "../../../../contracts/ResetCoordinator.sol";
import {IAuditLog} from "../../../../contracts/interfaces/IAuditLog.sol";
import {ICommitteeRegistry} from "../../../../contracts/interfaces/ICommitteeRegistry.sol";
import {IGuardianRegistry} from "../../../../contracts/interfaces/IGuardianRegistry.sol";
import {Attestations} from "./Attestations.sol";
import {Fixtures} from "./Fixtures.sol";
import {TestBls} from "./TestBls.sol";
import {vm} from "./Vm.sol";

/// @title System
/// @notice The deployed contracts as scripts/lib/deploy.ts wires them (same parameters), five guardians g1…g5
///         registered, staked and attested, committee 1 = (g1, g2, g3), t = 2, formed from the fixtures' dealings.
///         Shared by the invariant suite's setUp and the fuzz suites.
contract System {
    uint256 internal constant ATTESTER_KEY = 0xA77E57;
    uint256 internal constant FIRST_GUARDIAN_KEY = 0x6001;
    uint256 internal constant GUARDIANS = 5;
    uint256 internal constant FEE = 0.001 ether;
    uint32 internal constant SECURITY_PERIOD = 1 hours;
    uint256 internal constant COMMITTEE = 1;

    GuardianRegistry internal registry;
    CommitteeRegistry internal committees;
    ResetCoordinator internal coordinator;
    address internal admin;
    address internal treasury = address(0x7EA5);
    address internal attester;
    address[] internal guardians;

    function deploySystem() internal {
        admin = address(this);
        attester = vm.addr(ATTESTER_KEY);
        registry = new GuardianRegistry(admin, treasury, 1 ether, 14 days);
        // This contract's creation nonces start at 1 (EIP-161): the registry took 1, the committee registry takes 2,
        // the coordinator (which the committee registry must know in advance) 3.
        address predicted = _createAddress(address(this), 3);
        committees = new CommitteeRegistry(
            admin,
            registry,
            IAuditLog(predicted),
            ICommitteeRegistry.Parameters({
                dealWindow: 600,
                complaintWindow: 300,
                answerWindow: 3600,
                ackWindow: 600,
                maxEpochAge: 90 days,
                releaseDelay: 10 days,
                slashAmount: 0.5 ether,
                proverRewardBps: 2_000
            })
        );
        coordinator = new ResetCoordinator(
            admin,
            registry,
            committees,
            ResetCoordinator.Parameters({
                requestFee: FEE,
                requestLifetime: 1 days,
                disputeWindow: 1 days,
                minSecurityPeriod: 1 hours,
                maxSecurityPeriod: 7 days,
                slashAmount: 0.5 ether,
                proverRewardBps: 2_000,
                hookGasLimit: 200_000
            })
        );
        require(address(coordinator) == predicted, "System: coordinator address");
        registry.setCoordinator(address(coordinator));
        registry.grantRole(registry.SLASHER_ROLE(), address(committees));
        registry.setStakeLock(committees);
        coordinator.syncUnbondingFloor();
        registry.grantRole(registry.ATTESTER_ROLE(), attester);
        for (uint256 k = 0; k < GUARDIANS; ++k) {
            address g = vm.addr(FIRST_GUARDIAN_KEY + k);
            guardians.push(g);
            registerGuardian(g, 1 ether);
        }
    }

    function registerGuardian(address g, uint256 stake) internal {
        vm.deal(g, g.balance + stake);
        vm.prank(g);
        registry.register{value: stake}(keccak256(abi.encode("hpke", g)), "https://guardian.example/meta.json", bytes32("eu"), bytes32(uint256(uint160(g))), 7);
        attest(g);
    }

    function attest(address g) internal {
        IGuardianRegistry.GuardianAttestation memory a = Attestations.forGuardian(registry, g, uint64(block.timestamp + 365 days));
        registry.attest(a, Attestations.sign(registry, a, ATTESTER_KEY));
    }

    /// @notice Committee 1: g1, g2, g3 deal the fixtures' epoch-1 dealings, the complaint window passes, it is
    ///         finalized and every member acknowledges with s_j·H(ackMessage).
    function formCommittee() internal returns (uint256 committeeId) {
        address[] memory members = new address[](3);
        for (uint256 k = 0; k < 3; ++k) members[k] = guardians[k];
        committeeId = committees.propose(members, 2);
        for (uint8 i = 1; i <= 3; ++i) {
            vm.prank(members[i - 1]);
            committees.deal(committeeId, 1, i, Fixtures.dealing(1, i), new bytes(80 * 3));
        }
        vm.warp(committees.round(committeeId, 1).complaintDeadline + 1);
        committees.finalize(committeeId, 1, dealingsOf(1));
        require(committees.commitmentsHash(committeeId, 1) == keccak256(Fixtures.commitments(1)), "System: commitments");
        for (uint8 j = 1; j <= 3; ++j) {
            bytes memory proof = possessionProof(committeeId, 1, j);
            vm.prank(members[j - 1]);
            committees.acknowledge(committeeId, 1, j, proof);
        }
    }

    function dealingsOf(uint256 epoch) internal pure returns (bytes[] memory list) {
        list = new bytes[](3);
        for (uint256 i = 1; i <= 3; ++i) list[i - 1] = Fixtures.dealing(epoch, i);
    }

    function possessionProof(uint256 committeeId, uint256 epoch, uint256 slot) internal view returns (bytes memory) {
        return TestBls.sign(Fixtures.share(epoch, slot), committees.ackMessage(committeeId, epoch, slot));
    }

    /// @notice Packed entries (2-byte length, then the entry), one per member, as link and rotate take them.
    function entries(uint256 n, bytes32 tag) internal pure returns (bytes memory out) {
        for (uint256 k = 0; k < n; ++k) out = abi.encodePacked(out, uint16(32), keccak256(abi.encode(tag, k)));
    }

    function linkAccount(address owner, bytes32 salt, address controller) internal returns (bytes32 accountId) {
        vm.prank(owner);
        accountId = coordinator.link(salt, COMMITTEE, controller, SECURITY_PERIOD, address(0), entries(3, "env"), entries(3, "sealed"));
    }

    function _createAddress(address from, uint256 nonce) internal pure returns (address) {
        require(nonce < 0x80 && nonce > 0, "System: nonce");
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xd6), bytes1(0x94), from, bytes1(uint8(nonce)))))));
    }
}
