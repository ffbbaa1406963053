// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {System} from "./lib/System.sol";
import {SystemHandler} from "./SystemHandler.sol";

/// @title SystemInvariants
/// @notice Random sequences of calls to every public function of GuardianRegistry, CommitteeRegistry and
///         ResetCoordinator (through `SystemHandler`), after each of which the invariants below must hold.
///         Runs and depth: hardhat.config.ts (`npm test` a few, `npm run fuzz` many).
contract SystemInvariants is System {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    SystemHandler internal handler;
    uint256 internal initialTotal;
    uint256 internal initialAuditLength;

    function setUp() public {
        deploySystem();
        formCommittee();
        address[] memory actors = new address[](4);
        actors[0] = address(0xA11CE);
        actors[1] = address(0xB0B);
        actors[2] = address(0xCA201);
        actors[3] = address(0xDA7E);
        bytes32[] memory accounts = new bytes32[](2);
        address[] memory controllers = new address[](2);
        accounts[0] = linkAccount(actors[0], "alice", actors[0]);
        accounts[1] = linkAccount(actors[1], "bob", actors[1]);
        (controllers[0], controllers[1]) = (actors[0], actors[1]);
        handler = new SystemHandler(
            registry, committees, coordinator, admin, ATTESTER_KEY, treasury, guardians, actors, accounts, controllers
        );
        initialTotal = handler.holdersBalance() + address(registry).balance + address(coordinator).balance;
        initialAuditLength = coordinator.auditLength();
    }

    /// @notice The handler's steps do what they say on a fixed path (so the random runs are not vacuous): requests,
    ///         honest postings and one posting of each fault, proofs (honest refused, invalid accepted), completion,
    ///         finalization, a handover (after which the retired epoch is refused) and settlement.
    function test_handlerStepsWorkOnAFixedPath() public {
        handler.requestReset(0, 2, 1, false); // request 1: carol asks to move alice's account to bob
        for (uint256 s = 0; s < 3; ++s) handler.post(0, s, 0, 0);
        for (uint256 kind = 1; kind <= 9; ++kind) {
            if ((kind - 1) % 3 == 0) handler.requestReset(1, 3, 0, true); // requests 2–4: drills of bob's account
            handler.post(1 + (kind - 1) / 3, (kind - 1) % 3, 0, kind + 3);
        }
        require(handler.postedCount() == 12, "every posting accepted");
        for (uint256 k = 0; k < 12; ++k) handler.prove(k, k);
        require(handler.honestProofsRefused() == 3, "honest postings refused");
        require(handler.invalidProofsAccepted() == 9, "every fault proven");
        handler.prove(3, 0); // proven already
        handler.complete(0, 0);
        handler.warp(2 hours - 1);
        handler.finalize(0, 3);
        require(coordinator.controllerOf(handler.accounts(0)) == address(0xB0B), "finalized: bob controls alice's account");
        for (uint256 g = 0; g < 3; ++g) {
            // every member was slashed (and jailed) above: governance frees them, they stake again
            handler.setJailed(g, false);
            handler.stake(g, 2 ether - 1);
        }
        handler.handover(0);
        require(handler.handovers() == 1 && handler.activeEpoch() == 2, "handed over to epoch 2");
        handler.requestReset(1, 0, 0, false); // request 5
        handler.post(4, 0, 0, 0); // epoch 1 is retired: refused
        handler.post(4, 0, 1, 0); // epoch 2
        require(handler.retiredPostingsRefused() == 1 && handler.postedCount() == 13, "retired refused, active accepted");
        handler.warp(3 days - 1); // the step warps by 1 + seconds % 3 days
        for (uint256 r = 0; r < 5; ++r) handler.settle(r, 0);
        for (uint256 id = 1; id <= 5; ++id) require(coordinator.reset(id).settled, "every request settled");
        require(address(coordinator).balance == coordinator.treasuryBalance(), "only the treasury's fees remain");
        handler.claim(4); // the treasury claims the slashed funds
        uint256 booked = coordinator.treasuryBalance();
        require(booked > 0, "fees of unserved slots and proven postings went to the treasury");
        handler.withdrawTreasury(booked - 1, 1); // withdraws everything (the step pays 1 + amount % booked)
        require(coordinator.treasuryBalance() == 0 && address(coordinator).balance == 0, "treasury withdrawn");
        require(handler.foldChecks() > 0 && handler.auditedEvents() > 0, "audit checked");
        require(handler.violations() == 0, handler.lastViolation());
        invariant_ethIsConserved();
        invariant_controllerChangesOnlyByFinalizedReset();
        invariant_auditLogCountsEveryEvent();
    }

    function targetContracts() public view returns (address[] memory list) {
        list = new address[](1);
        list[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory list) {
        bytes4[] memory s = new bytes4[](22);
        s[0] = SystemHandler.warp.selector;
        s[1] = SystemHandler.register.selector;
        s[2] = SystemHandler.stake.selector;
        s[3] = SystemHandler.startUnbonding.selector;
        s[4] = SystemHandler.withdraw.selector;
        s[5] = SystemHandler.setWithdrawalAddress.selector;
        s[6] = SystemHandler.cancelWithdrawalAddressChange.selector;
        s[7] = SystemHandler.attest.selector;
        s[8] = SystemHandler.revokeAttestation.selector;
        s[9] = SystemHandler.setJailed.selector;
        s[10] = SystemHandler.claim.selector;
        s[11] = SystemHandler.handover.selector;
        s[12] = SystemHandler.link.selector;
        s[13] = SystemHandler.rotate.selector;
        s[14] = SystemHandler.requestReset.selector;
        s[15] = SystemHandler.post.selector;
        s[16] = SystemHandler.complete.selector;
        s[17] = SystemHandler.cancel.selector;
        s[18] = SystemHandler.finalize.selector;
        s[19] = SystemHandler.prove.selector;
        s[20] = SystemHandler.settle.selector;
        s[21] = SystemHandler.withdrawTreasury.selector;
        list = new FuzzSelector[](1);
        list[0] = FuzzSelector(address(handler), s);
    }

    /// @notice (1) The registry holds exactly the stakes, unbonding funds and unclaimed rewards and treasury funds;
    ///         the coordinator exactly its treasury and the fees of unsettled requests; each equals what came in
    ///         minus what went out, and the ETH of everybody together never changes (besides what the handler gave).
    function invariant_ethIsConserved() public view {
        uint256 owed;
        for (uint256 k = 0; k < handler.operatorCount(); ++k) {
            address g = handler.operators(k);
            owed += uint256(registry.guardian(g).stake) + registry.guardian(g).unbonding + registry.claimable(g);
        }
        for (uint256 k = 0; k < 4; ++k) owed += registry.claimable(handler.actors(k));
        owed += registry.claimable(treasury); // its claims and the slashed funds booked to the treasury
        require(address(registry).balance == owed, "registry balance != stakes + unbonding + claims");
        require(address(registry).balance == handler.registryIn() - handler.registryOut(), "registry balance != in - out");
        require(
            address(coordinator).balance == coordinator.treasuryBalance() + handler.unsettledFees(),
            "coordinator balance != treasury + unsettled fees"
        );
        require(
            address(coordinator).balance == handler.coordinatorIn() - handler.coordinatorOut(),
            "coordinator balance != in - out"
        );
        require(
            handler.holdersBalance() + address(registry).balance + address(coordinator).balance
                == initialTotal + handler.minted(),
            "ETH created or lost"
        );
    }

    /// @notice (2) An account's controller is the one it was linked with, changed only by finalized resets.
    function invariant_controllerChangesOnlyByFinalizedReset() public view {
        for (uint256 k = 0; k < handler.accountCount(); ++k) {
            bytes32 id = handler.accounts(k);
            require(coordinator.controllerOf(id) == handler.ghostController(id), "controller changed outside a finalized reset");
        }
    }

    /// @notice (3, 4, 6) No step the protocol must refuse succeeded (a retired epoch's posting, an honest posting
    ///         proven invalid, …) and none it must allow failed (an invalid posting not provable, the owner unable
    ///         to request, cancel, complete or finalize).
    function invariant_noProtocolViolation() public view {
        require(handler.violations() == 0, handler.lastViolation());
    }

    /// @notice (3) The committee's active epoch is the handler's, and a retired epoch never gets a standing posting.
    function invariant_activeEpochIsTheLastHandedOver() public view {
        (,,, uint32 current) = committees.committeeState(COMMITTEE);
        require(current == handler.activeEpoch(), "active epoch differs");
    }

    /// @notice (5) One audit entry per audited event, and the head follows the fold (checked per call by the handler).
    function invariant_auditLogCountsEveryEvent() public view {
        require(coordinator.auditLength() == initialAuditLength + handler.auditedEvents(), "audit length != audited events");
    }
}
