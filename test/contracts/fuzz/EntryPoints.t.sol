// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAccountRegistry} from "../../../contracts/interfaces/IAccountRegistry.sol";
import {ICommitteeRegistry} from "../../../contracts/interfaces/ICommitteeRegistry.sol";
import {IGuardianRegistry} from "../../../contracts/interfaces/IGuardianRegistry.sol";
import {IResetCoordinator} from "../../../contracts/interfaces/IResetCoordinator.sol";
import {BLS12381} from "../../../contracts/libraries/BLS12381.sol";
import {Attestations} from "./lib/Attestations.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {System} from "./lib/System.sol";
import {TestBls} from "./lib/TestBls.sol";
import {vm} from "./lib/Vm.sol";

/// @title EntryPoints
/// @notice Fuzzed malformed points, wrong lengths and boundary values at every entry point that takes points or
///         bytes; each is refused with its exact custom error (arguments included).
contract EntryPoints is System {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    bytes32 internal accountId;

    function setUp() public {
        deploySystem();
        formCommittee();
        accountId = linkAccount(ALICE, "alice", ALICE);
        vm.deal(BOB, 100 ether);
    }

    function _request() internal returns (uint256 requestId) {
        vm.prank(BOB);
        requestId = coordinator.requestReset{value: FEE}(accountId, BOB, Fixtures.REQUESTER_KEY);
    }

    /// @dev 64-byte limbs with 16 zero bytes, then 48 bytes of `seed` below p (a canonical field element).
    function _field(bytes32 seed) internal pure returns (bytes memory) {
        uint256 hi = uint256(seed) % TestBls.P_HI;
        return abi.encodePacked(bytes16(0), uint128(hi), keccak256(abi.encode(seed)));
    }

    // ───────────────────────────── requester key A (requestReset, requestDrill) ─────────────────────────────

    function testFuzz_requesterKeyOfAnyOtherLengthIsRefused(bytes calldata key) public {
        vm.assume(key.length != 128);
        vm.prank(BOB);
        vm.expectRevert(IResetCoordinator.ResetInvalidRequesterKey.selector);
        coordinator.requestReset{value: FEE}(accountId, BOB, key);
    }

    function testFuzz_requesterKeyOffTheCurveIsRefused(bytes32 x, bytes32 y) public {
        bytes memory key = abi.encodePacked(_field(x), _field(y));
        vm.prank(BOB);
        vm.expectRevert(IResetCoordinator.ResetInvalidRequesterKey.selector);
        coordinator.requestDrill{value: FEE}(accountId, key);
    }

    function testFuzz_requesterKeyWithACoordinateOfPOrMoreIsRefused(uint128 excess, bool inY) public {
        // x (or y) = p + excess as a 64-byte limb: not a field element
        uint256 lo = TestBls.P_LO + excess;
        uint256 hi = TestBls.P_HI + (lo < TestBls.P_LO ? 1 : 0);
        bytes memory limb = abi.encodePacked(bytes16(0), uint128(hi), lo);
        bytes memory key = inY ? abi.encodePacked(_field("x"), limb) : abi.encodePacked(limb, _field("y"));
        vm.prank(BOB);
        vm.expectRevert(IResetCoordinator.ResetInvalidRequesterKey.selector);
        coordinator.requestReset{value: FEE}(accountId, BOB, key);
    }

    function test_requesterKeyAtInfinityOrOffTheSubgroupIsRefused() public {
        vm.startPrank(BOB);
        vm.expectRevert(IResetCoordinator.ResetInvalidRequesterKey.selector);
        coordinator.requestReset{value: FEE}(accountId, BOB, new bytes(128));
        vm.expectRevert(IResetCoordinator.ResetInvalidRequesterKey.selector);
        coordinator.requestReset{value: FEE}(accountId, BOB, Fixtures.G1_OFF_SUBGROUP);
        // the control: the fixtures' A is accepted
        coordinator.requestReset{value: FEE}(accountId, BOB, Fixtures.REQUESTER_KEY);
        vm.stopPrank();
    }

    function testFuzz_requestWithAnyOtherFeeIsRefused(uint96 paid) public {
        vm.assume(paid != FEE && paid <= 100 ether);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IResetCoordinator.ResetWrongFee.selector, FEE, paid));
        coordinator.requestReset{value: paid}(accountId, BOB, Fixtures.REQUESTER_KEY);
    }

    // ───────────────────────────── postings ─────────────────────────────

    function testFuzz_postingOfAnyOtherLengthIsRefused(bytes calldata posting) public {
        vm.assume(posting.length != 240);
        uint256 requestId = _request();
        vm.prank(guardians[0]);
        vm.expectRevert(abi.encodeWithSelector(IResetCoordinator.ResetPostingMalformed.selector, posting.length));
        coordinator.postPartial(IResetCoordinator.PostingInput(requestId, 1, 1, bytes32(0), posting));
    }

    function testFuzz_postingForASlotOrEpochOutOfRangeIsRefused(uint8 slot, uint32 epoch) public {
        vm.assume(epoch != 1);
        uint256 requestId = _request();
        vm.prank(guardians[0]);
        vm.expectRevert(abi.encodeWithSelector(IResetCoordinator.ResetEpochNotActive.selector, requestId, epoch));
        coordinator.postPartial(IResetCoordinator.PostingInput(requestId, slot, epoch, bytes32(0), new bytes(240)));
    }

    /// @notice Whatever 240 bytes a member posts, a fraud proof against them either proves them invalid or is
    ///         refused as ResetPostingValid / ResetPostingMismatch; random bytes are never a valid posting.
    function testFuzz_randomPostingBytesAreAlwaysProvablyInvalid(bytes32 seed, uint8 flags) public {
        uint256 requestId = _request();
        bytes memory posting = abi.encodePacked(
            keccak256(abi.encode(seed, 0)), keccak256(abi.encode(seed, 1)), keccak256(abi.encode(seed, 2)),
            keccak256(abi.encode(seed, 3)), keccak256(abi.encode(seed, 4)), keccak256(abi.encode(seed, 5)),
            keccak256(abi.encode(seed, 6)), bytes16(keccak256(abi.encode(seed, 7)))
        );
        posting[0] = bytes1((uint8(posting[0]) & 0x1f) | (flags & 0xe0));
        bytes32 message = coordinator.resetMessage(requestId, keccak256(Fixtures.REQUESTER_KEY));
        vm.prank(guardians[0]);
        coordinator.postPartial(IResetCoordinator.PostingInput(requestId, 1, 1, message, posting));
        IResetCoordinator.PostingRecord[] memory history = new IResetCoordinator.PostingRecord[](1);
        history[0] = IResetCoordinator.PostingRecord(1, 1, guardians[0], message, keccak256(posting));
        IResetCoordinator.RequestContext memory context =
            IResetCoordinator.RequestContext(accountId, 1, COMMITTEE, BOB, keccak256(Fixtures.REQUESTER_KEY), FEE);
        vm.prank(BOB);
        coordinator.commitProof(keccak256(abi.encode(BOB, requestId, uint256(0), seed)));
        vm.roll(block.number + 1);
        // With no witness and an empty full form, the verdict is Invalid (bad flags or coordinates) or Mismatch.
        vm.prank(BOB);
        try coordinator.proveInvalidPosting(
            requestId, context, history, 0, posting, IResetCoordinator.FullPosting("", "", "", ""), "",
            Fixtures.commitments(1), Fixtures.REQUESTER_KEY, seed
        ) {
            require(registry.guardian(guardians[0]).jailed, "proven: the poster is jailed");
        } catch (bytes memory reason) {
            require(
                keccak256(reason)
                    == keccak256(abi.encodeWithSelector(IResetCoordinator.ResetPostingMismatch.selector, requestId, 0)),
                "refused only as a mismatch of the (empty) full form"
            );
        }
    }

    function testFuzz_proofAtAPositionPastTheHistoryIsRefused(uint256 position) public {
        uint256 requestId = _request();
        IResetCoordinator.RequestContext memory context =
            IResetCoordinator.RequestContext(accountId, 1, COMMITTEE, BOB, keccak256(Fixtures.REQUESTER_KEY), FEE);
        vm.prank(BOB);
        coordinator.commitProof(keccak256(abi.encode(BOB, requestId, position, bytes32(0))));
        vm.roll(block.number + 1);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IResetCoordinator.ResetWrongPostingHistory.selector, requestId));
        coordinator.proveInvalidPosting(
            requestId, context, new IResetCoordinator.PostingRecord[](0), position, new bytes(240),
            IResetCoordinator.FullPosting("", "", "", ""), "", Fixtures.commitments(1), Fixtures.REQUESTER_KEY, bytes32(0)
        );
    }

    // ───────────────────────────── completion: σ and K ─────────────────────────────

    function testFuzz_completionWithAnyOtherGroupKeyIsRefused(bytes calldata groupKey) public {
        vm.assume(keccak256(groupKey) != keccak256(Fixtures.GROUP_KEY));
        uint256 requestId = _request();
        vm.expectRevert(abi.encodeWithSelector(IResetCoordinator.ResetWrongGroupKey.selector, requestId));
        coordinator.completeReset(requestId, keccak256(Fixtures.REQUESTER_KEY), new bytes(128), groupKey);
    }

    function testFuzz_tokenOfAnyOtherLengthIsRefused(bytes calldata sigma) public {
        vm.assume(sigma.length != 128);
        uint256 requestId = _request();
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLSInvalidPointLength.selector, 128, sigma.length));
        coordinator.completeReset(requestId, keccak256(Fixtures.REQUESTER_KEY), sigma, Fixtures.GROUP_KEY);
    }

    function testFuzz_tokenOffTheCurveIsRefused(bytes32 x, bytes32 y) public {
        bytes memory sigma = abi.encodePacked(_field(x), _field(y));
        uint256 requestId = _request();
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLSPointNotOnCurve.selector, sigma));
        coordinator.completeReset(requestId, keccak256(Fixtures.REQUESTER_KEY), sigma, Fixtures.GROUP_KEY);
    }

    function testFuzz_tokenWithANonCanonicalCoordinateIsRefused(bytes16 padding, bytes32 x) public {
        vm.assume(padding != bytes16(0));
        bytes memory sigma = abi.encodePacked(padding, uint128(uint256(x)), x, _field(x));
        uint256 requestId = _request();
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLSInvalidFieldElement.selector, sigma));
        coordinator.completeReset(requestId, keccak256(Fixtures.REQUESTER_KEY), sigma, Fixtures.GROUP_KEY);
    }

    function testFuzz_tokenOfAnotherSecretOrMessageIsRefused(uint256 secret, bytes32 message) public {
        uint256 requestId = _request();
        bytes32 m = coordinator.resetMessage(requestId, keccak256(Fixtures.REQUESTER_KEY));
        secret = secret % (TestBls.R - 1) + 1;
        vm.assume(secret != Fixtures.GROUP_SECRET || message != m);
        bytes memory sigma = TestBls.sign(secret, message == m ? m : message);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLSSignatureInvalid.selector, sigma));
        coordinator.completeReset(requestId, keccak256(Fixtures.REQUESTER_KEY), sigma, Fixtures.GROUP_KEY);
    }

    function test_tokenAtInfinityOrOffTheSubgroupIsRefusedAndTheTrueOneAccepted() public {
        uint256 requestId = _request();
        bytes32 keyHash = keccak256(Fixtures.REQUESTER_KEY);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLSPointAtInfinity.selector, new bytes(128)));
        coordinator.completeReset(requestId, keyHash, new bytes(128), Fixtures.GROUP_KEY);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLSPointNotInSubgroup.selector, Fixtures.G1_OFF_SUBGROUP));
        coordinator.completeReset(requestId, keyHash, Fixtures.G1_OFF_SUBGROUP, Fixtures.GROUP_KEY);
        coordinator.completeReset(
            requestId, keyHash, TestBls.sign(Fixtures.GROUP_SECRET, coordinator.resetMessage(requestId, keyHash)), Fixtures.GROUP_KEY
        );
        require(coordinator.reset(requestId).status == IResetCoordinator.ResetStatus.Approved, "approved");
    }

    // ───────────────────────────── link and rotate: packed entries ─────────────────────────────

    function testFuzz_linkWithWrongEntryCountsIsRefused(uint8 count, bytes calldata tail) public {
        count = uint8(count % 8);
        vm.assume(count != 3);
        bytes memory envelopes = entries(count, "env");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IAccountRegistry.AccountEntriesMismatch.selector, bytes32("envelopes"), 3, count));
        coordinator.link("bob", COMMITTEE, BOB, SECURITY_PERIOD, address(0), envelopes, entries(3, "sealed"));
        // lengths that do not add up count as type(uint256).max entries
        bytes memory broken = abi.encodePacked(entries(3, "sealed"), uint16(tail.length + 1), tail);
        vm.prank(BOB);
        vm.expectRevert(
            abi.encodeWithSelector(IAccountRegistry.AccountEntriesMismatch.selector, bytes32("sealedChannels"), 3, type(uint256).max)
        );
        coordinator.link("bob", COMMITTEE, BOB, SECURITY_PERIOD, address(0), entries(3, "env"), broken);
    }

    function testFuzz_rotateWithWrongEntryCountsIsRefused(uint8 count) public {
        count = uint8(count % 8);
        vm.assume(count != 3);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IAccountRegistry.AccountEntriesMismatch.selector, bytes32("sealedChannels"), 3, count));
        coordinator.rotate(accountId, COMMITTEE, entries(3, "env"), entries(count, "sealed"));
    }

    function testFuzz_linkOutsideTheSecurityPeriodBoundsIsRefused(uint32 period) public {
        vm.assume(period < 1 hours || period > 7 days);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IAccountRegistry.AccountSecurityPeriodOutOfRange.selector, period));
        coordinator.link("bob", COMMITTEE, BOB, period, address(0), entries(3, "env"), entries(3, "sealed"));
    }

    // ───────────────────────────── committees: dealings and proofs of possession ─────────────────────────────

    function _propose() internal returns (uint256 committeeId) {
        address[] memory members = new address[](3);
        (members[0], members[1], members[2]) = (guardians[2], guardians[3], guardians[4]);
        committeeId = committees.propose(members, 2);
    }

    function testFuzz_dealingOfWrongLengthsIsRefused(uint16 commitmentsLength, uint16 sealedLength) public {
        vm.assume(commitmentsLength != 512 || sealedLength != 240);
        uint256 committeeId = _propose();
        vm.prank(guardians[2]);
        vm.expectRevert(abi.encodeWithSelector(ICommitteeRegistry.CommitteeDealingMalformed.selector, commitmentsLength, sealedLength));
        committees.deal(committeeId, 1, 1, new bytes(commitmentsLength), new bytes(sealedLength));
    }

    function testFuzz_finalizeWithOtherDealingsIsRefused(bytes calldata wrong, uint8 which) public {
        uint256 committeeId = _propose();
        for (uint8 i = 1; i <= 3; ++i) {
            vm.prank(guardians[1 + i]);
            committees.deal(committeeId, 1, i, Fixtures.dealing(1, i), new bytes(240));
        }
        vm.warp(committees.round(committeeId, 1).complaintDeadline + 1);
        bytes[] memory list = dealingsOf(1);
        uint256 slot = which % 3 + 1;
        vm.assume(keccak256(wrong) != keccak256(list[slot - 1]));
        list[slot - 1] = wrong;
        vm.expectRevert(abi.encodeWithSelector(ICommitteeRegistry.CommitteeDealingMismatch.selector, committeeId, 1, slot));
        committees.finalize(committeeId, 1, list);
    }

    function testFuzz_possessionProofOfAnyOtherLengthIsRefused(bytes calldata proof) public {
        vm.assume(proof.length != 128);
        uint256 committeeId = _propose();
        for (uint8 i = 1; i <= 3; ++i) {
            vm.prank(guardians[1 + i]);
            committees.deal(committeeId, 1, i, Fixtures.dealing(1, i), new bytes(240));
        }
        vm.warp(committees.round(committeeId, 1).complaintDeadline + 1);
        committees.finalize(committeeId, 1, dealingsOf(1));
        vm.prank(guardians[2]);
        vm.expectRevert(abi.encodeWithSelector(ICommitteeRegistry.CommitteeInvalidProofLength.selector, proof.length));
        committees.acknowledge(committeeId, 1, 1, proof);
    }

    function testFuzz_proposalOfAnInvalidSizeIsRefused(uint8 n, uint8 threshold) public {
        n = uint8(n % 40);
        vm.assume(!(n >= 2 && n <= 32 && threshold >= 2 && threshold <= n && uint256(threshold) * 2 > n));
        address[] memory members = new address[](n);
        vm.expectRevert(abi.encodeWithSelector(ICommitteeRegistry.CommitteeInvalidSize.selector, n, threshold));
        committees.propose(members, threshold);
    }

    // ───────────────────────────── registry: keys, kinds, amounts, signatures ─────────────────────────────

    function testFuzz_registrationWithInvalidChannelKindsIsRefused(uint8 kinds) public {
        vm.assume(kinds == 0 || kinds > 7);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IGuardianRegistry.GuardianInvalidChannelKinds.selector, kinds));
        registry.register(bytes32(uint256(1)), "", "", "", kinds);
    }

    function test_registrationWithoutAnEncryptionKeyIsRefused() public {
        vm.prank(BOB);
        vm.expectRevert(IGuardianRegistry.GuardianInvalidEncryptionKey.selector);
        registry.register(bytes32(0), "", "", "", 7);
    }

    function testFuzz_unbondingMoreThanTheStakeIsRefused(uint256 amount) public {
        vm.prank(guardians[0]);
        if (amount == 0) {
            vm.expectRevert(IGuardianRegistry.GuardianZeroAmount.selector);
        } else if (amount > 1 ether) {
            vm.expectRevert(abi.encodeWithSelector(IGuardianRegistry.GuardianInsufficientStake.selector, guardians[0], 1 ether, amount));
        } else {
            return registry.startUnbonding(amount); // the control: within the stake, accepted
        }
        registry.startUnbonding(amount);
    }

    function testFuzz_attestationWithAStrangersSignatureIsRefused(uint256 key) public {
        key = key % (0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141 - 1) + 1;
        vm.assume(key != ATTESTER_KEY);
        IGuardianRegistry.GuardianAttestation memory a = Attestations.forGuardian(registry, guardians[0], uint64(block.timestamp + 1 days));
        bytes memory signature = Attestations.sign(registry, a, key);
        vm.expectRevert(abi.encodeWithSelector(IGuardianRegistry.GuardianAttestationUnauthorized.selector, vm.addr(key)));
        registry.attest(a, signature);
    }

    function testFuzz_attestationWithAMalformedSignatureIsRefused(bytes calldata signature) public {
        vm.assume(signature.length != 65);
        IGuardianRegistry.GuardianAttestation memory a = Attestations.forGuardian(registry, guardians[0], uint64(block.timestamp + 1 days));
        vm.expectRevert(abi.encodeWithSelector(IGuardianRegistry.GuardianAttestationUnauthorized.selector, address(0)));
        registry.attest(a, signature);
    }
}
