// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CommitteeRegistry} from "../../../contracts/CommitteeRegistry.sol";
import {GuardianRegistry} from "../../../contracts/GuardianRegistry.sol";
import {ResetCoordinator} from "../../../contracts/ResetCoordinator.sol";
import {IAuditLog} from "../../../contracts/interfaces/IAuditLog.sol";
import {ICommitteeRegistry} from "../../../contracts/interfaces/ICommitteeRegistry.sol";
import {IGuardianRegistry} from "../../../contracts/interfaces/IGuardianRegistry.sol";
import {IResetCoordinator} from "../../../contracts/interfaces/IResetCoordinator.sol";
import {ProtocolMessages} from "../../../contracts/libraries/ProtocolMessages.sol";
import {Attestations} from "./lib/Attestations.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {TestBls} from "./lib/TestBls.sol";
import {Vm, vm} from "./lib/Vm.sol";

/// @title SystemHandler
/// @notice The invariant suite's only target: each function is one step of a random sequence (a call to a public
///         function of GuardianRegistry, CommitteeRegistry or ResetCoordinator, with inputs bounded to something the
///         contracts could plausibly see), and keeps the ghost state the invariants compare the contracts with.
///         A step that the protocol must allow and that reverts, or one it must refuse and that succeeds, is counted
///         in `violations` with its reason (`lastViolation`); the invariants require none.
contract SystemHandler {
    GuardianRegistry public immutable registry;
    CommitteeRegistry public immutable committees;
    ResetCoordinator public immutable coordinator;
    address public immutable admin;
    address public immutable attester;
    uint256 private immutable attesterKey;
    address public immutable treasury;
    uint256 internal constant FEE = 0.001 ether;
    uint256 internal constant COMMITTEE = 1;
    uint32 internal constant SECURITY_PERIOD = 1 hours;
    uint256 internal constant MAX_ACCOUNTS = 6;
    uint256 internal constant MAX_OPERATORS = 8;

    struct Request {
        bytes32 accountId;
        uint256 accountEpoch;
        address newController;
        uint64 expiresAt;
        uint64 executableAt; // 0 until approved
        uint8 status; // IResetCoordinator.ResetStatus
        bool settled;
    }

    struct Posted {
        uint256 requestId;
        uint256 position;
        uint32 epoch;
        uint8 kind; // 0 honest, otherwise the kind of fault (see _fault)
        bool proven;
    }

    // ── actors and ghost state ──
    address[] public actors; // owners, provers, withdrawal addresses
    address[] public operators; // registered guardians, in registration order
    address[] public holders; // every address that can hold ETH of the system (actors, operators, treasury, this)
    bytes32[] public accounts;
    mapping(bytes32 => address) public ghostController;
    mapping(bytes32 => uint256) public ghostAccountEpoch;
    mapping(bytes32 => uint256) public ghostVoidBefore;
    Request[] internal _requests; // index = requestId − 1
    mapping(uint256 requestId => IResetCoordinator.PostingRecord[]) internal _history;
    mapping(uint256 requestId => mapping(uint256 position => bytes)) internal _postingBytes;
    mapping(uint256 requestId => mapping(uint256 position => IResetCoordinator.FullPosting)) internal _full;
    mapping(uint256 requestId => mapping(uint256 position => bytes)) internal _witness;
    Posted[] public posted;
    uint32 public activeEpoch = 1;
    mapping(uint256 epoch => mapping(uint256 slot => address)) public memberAt;

    uint256 public minted; // ETH the handler gave actors (vm.deal) to pay stakes and fees
    uint256 public registryIn;
    uint256 public registryOut;
    uint256 public coordinatorIn;
    uint256 public coordinatorOut;
    uint256 public auditedEvents; // audited events seen in the logs since setUp
    uint256 public foldChecks; // audit entries whose head the handler recomputed
    uint256 public violations;
    string public lastViolation;
    mapping(bytes32 => uint256) public calls; // per step name, for the report
    uint256 public honestProofsRefused;
    uint256 public invalidProofsAccepted;
    uint256 public retiredPostingsRefused;
    uint256 public handovers;

    constructor(
        GuardianRegistry registry_,
        CommitteeRegistry committees_,
        ResetCoordinator coordinator_,
        address admin_,
        uint256 attesterKey_,
        address treasury_,
        address[] memory operators_,
        address[] memory actors_,
        bytes32[] memory accounts_,
        address[] memory controllers_
    ) {
        (registry, committees, coordinator, admin, treasury) = (registry_, committees_, coordinator_, admin_, treasury_);
        (attesterKey, attester) = (attesterKey_, vm.addr(attesterKey_));
        for (uint256 k = 0; k < operators_.length; ++k) {
            operators.push(operators_[k]);
            holders.push(operators_[k]);
        }
        for (uint256 k = 0; k < actors_.length; ++k) {
            actors.push(actors_[k]);
            holders.push(actors_[k]);
        }
        holders.push(treasury_);
        holders.push(address(this));
        for (uint256 k = 0; k < accounts_.length; ++k) {
            accounts.push(accounts_[k]);
            ghostController[accounts_[k]] = controllers_[k];
            ghostAccountEpoch[accounts_[k]] = 1;
        }
        for (uint256 s = 1; s <= 3; ++s) memberAt[1][s] = operators_[s - 1];
        (registryIn, coordinatorIn) = (address(registry_).balance, address(coordinator_).balance);
    }

    // ───────────────────────────── bookkeeping ─────────────────────────────

    modifier step(bytes32 name) {
        ++calls[name];
        vm.recordLogs();
        _;
        _countAudited();
    }

    function _violation(string memory reason) internal {
        ++violations;
        lastViolation = reason;
    }

    /// @dev Every event of the three contracts is an audited state change (PROTOCOL.md §10), one entry each.
    function _countAudited() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 k = 0; k < logs.length; ++k) {
            address e = logs[k].emitter;
            if (e == address(registry) || e == address(committees) || e == address(coordinator)) ++auditedEvents;
        }
    }

    /// @dev Gives `who` what it is about to pay, so no step fails for want of ETH; counted as minted.
    function _fund(address who, uint256 amount) internal {
        vm.deal(who, who.balance + amount);
        minted += amount;
    }

    function _holdersBalance() internal view returns (uint256 total) {
        for (uint256 k = 0; k < holders.length; ++k) total += holders[k].balance;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _operator(uint256 seed) internal view returns (address) {
        return operators[seed % operators.length];
    }

    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + x % (hi - lo + 1);
    }

    function _fold(bytes32 head, uint256 n, IAuditLog.AuditKind kind, bytes32 payloadHash) internal pure returns (bytes32) {
        return bytes32(bytes24(keccak256(abi.encode(bytes24(head), n, uint8(kind), payloadHash))));
    }

    /// @dev Checks that the call just made appended exactly one entry, folded as AuditLog says.
    function _checkFold(bytes32 headBefore, uint256 lengthBefore, IAuditLog.AuditKind kind, bytes memory payload) internal {
        ++foldChecks;
        if (coordinator.auditLength() != lengthBefore + 1) return _violation("audit: one call, one entry");
        if (coordinator.auditHead() != _fold(headBefore, lengthBefore + 1, kind, keccak256(payload))) {
            _violation("audit: head does not follow the fold");
        }
    }

    function requestCount() external view returns (uint256) {
        return _requests.length;
    }

    function request(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId - 1];
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    function operatorCount() external view returns (uint256) {
        return operators.length;
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function postedCount() external view returns (uint256) {
        return posted.length;
    }

    // ───────────────────────────── time ─────────────────────────────

    function warp(uint256 seconds_) external step("warp") {
        vm.warp(block.timestamp + _bound(seconds_, 1, 3 days));
        vm.roll(block.number + 1);
    }

    // ───────────────────────────── GuardianRegistry ─────────────────────────────

    function register(uint256 stakeSeed) external step("register") {
        if (operators.length >= MAX_OPERATORS) return;
        address g = vm.addr(0x6001 + operators.length);
        uint256 amount = _bound(stakeSeed, 0, 3 ether);
        operators.push(g);
        holders.push(g);
        _fund(g, amount);
        vm.prank(g);
        registry.register{value: amount}(keccak256(abi.encode("hpke", g)), "https://guardian.example/meta.json", bytes32("us"), bytes32("cloud"), 7);
        registryIn += amount;
        _attest(g);
    }

    function stake(uint256 who, uint256 amount) external step("stake") {
        address g = _operator(who);
        amount = _bound(amount, 1, 2 ether);
        _fund(g, amount);
        vm.prank(g);
        registry.stake{value: amount}();
        registryIn += amount;
    }

    function startUnbonding(uint256 who, uint256 amount) external step("startUnbonding") {
        address g = _operator(who);
        uint256 available = registry.guardian(g).stake;
        if (available == 0) return;
        vm.prank(g);
        registry.startUnbonding(_bound(amount, 1, available));
    }

    function withdraw(uint256 who) external step("withdraw") {
        address g = _operator(who);
        uint256 before = _holdersBalance();
        vm.prank(g);
        try registry.withdraw() {
            registryOut += _holdersBalance() - before;
        } catch {}
    }

    function setWithdrawalAddress(uint256 who, uint256 to) external step("setWithdrawalAddress") {
        vm.prank(_operator(who));
        registry.setWithdrawalAddress(_actor(to));
    }

    function cancelWithdrawalAddressChange(uint256 who, uint256 caller) external step("cancelWithdrawalAddress") {
        vm.prank(_actor(caller));
        try registry.cancelWithdrawalAddressChange(_operator(who)) {} catch {}
    }

    function attest(uint256 who) external step("attest") {
        _attest(_operator(who));
    }

    function _attest(address g) internal {
        IGuardianRegistry.GuardianAttestation memory a = Attestations.forGuardian(registry, g, uint64(block.timestamp + 365 days));
        registry.attest(a, Attestations.sign(registry, a, attesterKey));
    }

    function revokeAttestation(uint256 who) external step("revokeAttestation") {
        vm.prank(attester);
        registry.revokeAttestation(_operator(who));
    }

    function setJailed(uint256 who, bool jailed) external step("setJailed") {
        vm.prank(admin);
        registry.setJailed(_operator(who), jailed);
    }

    function claim(uint256 who) external step("claim") {
        uint256 k = who % (actors.length + 1);
        address claimer = k == actors.length ? treasury : actors[k];
        uint256 before = _holdersBalance();
        vm.prank(claimer);
        try registry.claim() {
            registryOut += _holdersBalance() - before;
        } catch {}
    }

    // ───────────────────────────── CommitteeRegistry: handover ─────────────────────────────

    /// @notice A whole handover of committee 1 to the next epoch the fixtures cover: requested (by anyone when a
    ///         member is ineligible, else by governance for one slot), drawn, dealt by the old members, finalized
    ///         and acknowledged by the new ones. Any step may be refused (no eligible replacement, a draw pending);
    ///         then the committee keeps its epoch.
    function handover(uint256 seed) external step("handover") {
        if (activeEpoch >= Fixtures.EPOCHS) return;
        (, , , uint32 current) = committees.committeeState(COMMITTEE);
        if (current != activeEpoch) return _violation("committee: active epoch moved outside a handover");
        uint32 slots = uint32(1 << (seed % 3));
        try committees.startHandover(COMMITTEE) {}
        catch {
            vm.prank(admin);
            try committees.forceHandover(COMMITTEE, slots, 2) {} catch {}
        }
        vm.roll(block.number + 3);
        try committees.drawReplacements(COMMITTEE) returns (uint256 epoch) {
            _runHandover(uint32(epoch));
        } catch {}
    }

    function _runHandover(uint32 epoch) internal {
        if (epoch != activeEpoch + 1) return _violation("committee: handover to an unexpected epoch");
        ICommitteeRegistry.Member[] memory dealers = committees.members(COMMITTEE, activeEpoch);
        for (uint8 i = 1; i <= 3; ++i) {
            vm.prank(dealers[i - 1].operator);
            committees.deal(COMMITTEE, epoch, i, Fixtures.dealing(epoch, i), new bytes(80 * 3));
        }
        vm.warp(committees.round(COMMITTEE, epoch).complaintDeadline + 1);
        bytes[] memory list = new bytes[](3);
        for (uint256 i = 1; i <= 3; ++i) list[i - 1] = Fixtures.dealing(epoch, i);
        committees.finalize(COMMITTEE, epoch, list);
        if (committees.commitmentsHash(COMMITTEE, epoch) != keccak256(Fixtures.commitments(epoch))) {
            return _violation("committee: reshare commitments differ from the fixtures");
        }
        ICommitteeRegistry.Member[] memory recipients = committees.members(COMMITTEE, epoch);
        for (uint8 j = 1; j <= 3; ++j) {
            bytes memory proof = TestBls.sign(Fixtures.share(epoch, j), committees.ackMessage(COMMITTEE, epoch, j));
            vm.prank(recipients[j - 1].operator);
            committees.acknowledge(COMMITTEE, epoch, j, proof);
            memberAt[epoch][j] = recipients[j - 1].operator;
        }
        (, , , uint32 current) = committees.committeeState(COMMITTEE);
        if (current != epoch) return _violation("committee: handover acknowledged but not active");
        activeEpoch = epoch;
        ++handovers;
    }

    // ───────────────────────────── ResetCoordinator: accounts ─────────────────────────────

    function link(uint256 ownerSeed, uint256 controllerSeed, bytes32 salt) external step("link") {
        if (accounts.length >= MAX_ACCOUNTS) return;
        address owner = _actor(ownerSeed);
        address controller = _actor(controllerSeed);
        vm.prank(owner);
        bytes32 accountId =
            coordinator.link(salt, COMMITTEE, controller, SECURITY_PERIOD, address(0), _entries("env"), _entries("sealed"));
        accounts.push(accountId);
        ghostController[accountId] = controller;
        ghostAccountEpoch[accountId] = 1;
    }

    function rotate(uint256 accountSeed, uint256 callerSeed, bool asController) external step("rotate") {
        bytes32 accountId = accounts[accountSeed % accounts.length];
        address caller = asController ? ghostController[accountId] : _actor(callerSeed);
        vm.prank(caller);
        try coordinator.rotate(accountId, COMMITTEE, _entries("env2"), _entries("sealed2")) returns (uint256 epoch) {
            if (caller != ghostController[accountId]) _violation("rotate by someone other than the controller");
            if (epoch != ++ghostAccountEpoch[accountId]) _violation("rotate: account epoch");
            ghostVoidBefore[accountId] = _requests.length + 1;
        } catch {
            if (caller == ghostController[accountId]) _violation("the controller could not rotate");
        }
    }

    function _entries(bytes32 tag) internal pure returns (bytes memory out) {
        for (uint256 k = 0; k < 3; ++k) out = abi.encodePacked(out, uint16(32), keccak256(abi.encode(tag, k)));
    }

    // ───────────────────────────── ResetCoordinator: requests ─────────────────────────────

    /// @notice Anyone may request, as often as it pays the fee (spam included); it must always be accepted.
    function requestReset(uint256 accountSeed, uint256 callerSeed, uint256 newControllerSeed, bool drill)
        external
        step("requestReset")
    {
        bytes32 accountId = accounts[accountSeed % accounts.length];
        address caller = _actor(callerSeed);
        address newController = drill ? address(0) : _actor(newControllerSeed);
        _fund(caller, FEE);
        bytes32 head = coordinator.auditHead();
        uint256 length = coordinator.auditLength();
        vm.prank(caller);
        uint256 requestId;
        if (drill) {
            try coordinator.requestDrill{value: FEE}(accountId, Fixtures.REQUESTER_KEY) returns (uint256 id) {
                requestId = id;
            } catch {
                return _violation("a paid drill request was refused");
            }
        } else {
            try coordinator.requestReset{value: FEE}(accountId, newController, Fixtures.REQUESTER_KEY) returns (uint256 id) {
                requestId = id;
            } catch {
                return _violation("a paid reset request was refused");
            }
        }
        coordinatorIn += FEE;
        if (requestId != _requests.length + 1) return _violation("request ids are not consecutive");
        uint64 expiresAt = uint64(block.timestamp + 1 days);
        _requests.push(Request(accountId, ghostAccountEpoch[accountId], newController, expiresAt, 0, 1, false));
        _checkFold(
            head,
            length,
            IAuditLog.AuditKind.ResetRequested,
            abi.encode(requestId, accountId, COMMITTEE, ghostAccountEpoch[accountId], newController, drill, Fixtures.REQUESTER_KEY, expiresAt, FEE)
        );
    }

    function _message(uint256 requestId) internal view returns (bytes32) {
        Request storage r = _requests[requestId - 1];
        return ProtocolMessages.resetMessage(
            block.chainid, address(coordinator), requestId, r.accountId, r.accountEpoch, COMMITTEE, r.newController, keccak256(Fixtures.REQUESTER_KEY)
        );
    }

    function _context(uint256 requestId) internal view returns (IResetCoordinator.RequestContext memory) {
        Request storage r = _requests[requestId - 1];
        return IResetCoordinator.RequestContext(r.accountId, r.accountEpoch, COMMITTEE, r.newController, keccak256(Fixtures.REQUESTER_KEY), FEE);
    }

    /// @dev Open: pending, unexpired and not voided (what the ghost state says, not the contract).
    function _open(uint256 requestId) internal view returns (bool) {
        Request storage r = _requests[requestId - 1];
        return r.status == uint8(IResetCoordinator.ResetStatus.Pending) && block.timestamp <= r.expiresAt
            && requestId >= ghostVoidBefore[r.accountId];
    }

    /// @notice A member posts, honestly or with one of the faults of `_fault`, at any epoch the committee has had.
    ///         Only the active epoch's member of the slot may post; a retired epoch is always refused.
    function post(uint256 requestSeed, uint256 slotSeed, uint256 epochSeed, uint256 faultSeed) external step("post") {
        if (_requests.length == 0) return;
        uint256 requestId = requestSeed % _requests.length + 1;
        uint8 slot = uint8(slotSeed % 3 + 1);
        uint32 epoch = uint32(epochSeed % activeEpoch + 1);
        uint8 kind = uint8(faultSeed % 13); // 0–3 honest (weighted), 4–12 the faults 1–9
        kind = kind < 4 ? 0 : kind - 3;
        address member = memberAt[epoch][slot];
        bytes32 message = _message(requestId);
        bytes32 seed = keccak256(abi.encode(requestId, slot, epoch, _history[requestId].length));
        TestBls.Posting memory p = TestBls.posting(
            Fixtures.share(epoch, slot), message, Fixtures.REQUESTER_KEY, TestBls.scalar(seed), TestBls.scalar(~seed)
        );
        bytes memory witness;
        if (kind != 0) witness = _fault(p, kind, message, seed);
        bool expected = _open(requestId) && epoch == activeEpoch
            && _postedSlots(requestId, epoch) & (uint32(1) << (slot - 1)) == 0;
        bytes32 head = coordinator.auditHead();
        uint256 length = coordinator.auditLength();
        vm.prank(member);
        try coordinator.postPartial(IResetCoordinator.PostingInput(requestId, slot, epoch, message, p.compressed)) {
            if (epoch != activeEpoch) return _violation("a retired epoch's posting was accepted");
            if (!expected) return _violation("a posting was accepted for a request that is not open");
            uint256 position = _history[requestId].length;
            _history[requestId].push(
                IResetCoordinator.PostingRecord(slot, epoch, member, message, keccak256(p.compressed))
            );
            _postingBytes[requestId][position] = p.compressed;
            _full[requestId][position] = IResetCoordinator.FullPosting(p.C, p.U, p.V, p.W);
            _witness[requestId][position] = witness;
            posted.push(Posted(requestId, position, epoch, kind, false));
            _checkFold(head, length, IAuditLog.AuditKind.PartialPosted, abi.encode(requestId, slot, epoch, member, message, p.compressed));
        } catch {
            if (epoch != activeEpoch) ++retiredPostingsRefused;
            else if (expected) _violation("an open request refused the slot's first posting");
        }
    }

    function _postedSlots(uint256 requestId, uint32 epoch) internal view returns (uint32 bits) {
        IResetCoordinator.PostingRecord[] storage h = _history[requestId];
        for (uint256 k = 0; k < h.length; ++k) {
            if (h[k].committeeEpoch == epoch) bits |= uint32(1) << (h[k].slot - 1);
        }
    }

    /// @dev Turns an honest posting into an invalid one of `kind`; returns the encoding witness it needs (if any).
    ///      1 W + G1 (second equation), 2 V of another ρ (first equation), 3 σ of a wrong share, 4 no compression
    ///      flag on C, 5 infinity flag on U, 6 W's x = p, 7 C's x has no y (G1 witness), 8 V's x has no y (G2
    ///      witness), 9 C = −A (A + C = O, σ in clear).
    function _fault(TestBls.Posting memory p, uint8 kind, bytes32 message, bytes32 seed) internal view returns (bytes memory) {
        if (kind == 1) {
            p.W = TestBls.addG1(p.W, Fixtures.P1);
        } else if (kind == 2) {
            p.V = TestBls.mulG2(Fixtures.P2, TestBls.scalar(keccak256(abi.encode(seed, "rho'"))));
        } else if (kind == 3) {
            p.W = TestBls.addG1(p.W, TestBls.sign(1, message)); // σ of s + 1
        } else if (kind == 9) {
            p.C = TestBls.negG1(Fixtures.REQUESTER_KEY);
        }
        TestBls.compress(p);
        bytes memory c = p.compressed;
        if (kind == 4) {
            c[0] = bytes1(uint8(c[0]) & 0x7f);
        } else if (kind == 5) {
            c[48] = bytes1(uint8(c[48]) | 0x40);
        } else if (kind == 6) {
            bytes memory pBytes = abi.encodePacked(uint128(TestBls.P_HI), TestBls.P_LO);
            for (uint256 k = 0; k < 48; ++k) c[192 + k] = pBytes[k];
            c[192] = bytes1(uint8(c[192]) | 0x80);
        } else if (kind == 7) {
            for (uint256 k = 0; k < 48; ++k) c[k] = Fixtures.G1_NO_Y[k];
            return abi.encode(uint256(0), Fixtures.G1_NO_Y_WITNESS_HI, Fixtures.G1_NO_Y_WITNESS_LO);
        } else if (kind == 8) {
            for (uint256 k = 0; k < 96; ++k) c[96 + k] = Fixtures.G2_NO_Y[k];
            return abi.encode(uint256(2), Fixtures.G2_NO_Y_WITNESS_HI, Fixtures.G2_NO_Y_WITNESS_LO);
        }
        return "";
    }

    /// @notice The owner assembles σ = k·H(m) (the combination of t partials) and completes the request.
    function complete(uint256 requestSeed, uint256 callerSeed) external step("complete") {
        if (_requests.length == 0) return;
        uint256 requestId = requestSeed % _requests.length + 1;
        Request storage r = _requests[requestId - 1];
        bytes memory sigma = TestBls.sign(Fixtures.GROUP_SECRET, _message(requestId));
        bool expected = _open(requestId);
        vm.prank(_actor(callerSeed));
        try coordinator.completeReset(requestId, keccak256(Fixtures.REQUESTER_KEY), sigma, Fixtures.GROUP_KEY) {
            if (!expected) return _violation("a request that is not open was completed");
            if (r.newController == address(0)) {
                r.status = uint8(IResetCoordinator.ResetStatus.DrillVerified);
            } else {
                r.status = uint8(IResetCoordinator.ResetStatus.Approved);
                r.executableAt = uint64(block.timestamp + SECURITY_PERIOD);
            }
        } catch {
            if (expected) _violation("an open request refused a valid token");
        }
    }

    /// @notice The controller (or, to be refused, someone else) cancels.
    function cancel(uint256 requestSeed, uint256 callerSeed, bool asController) external step("cancel") {
        if (_requests.length == 0) return;
        uint256 requestId = requestSeed % _requests.length + 1;
        Request storage r = _requests[requestId - 1];
        address controller = ghostController[r.accountId];
        address caller = asController ? controller : _actor(callerSeed);
        bool live = requestId >= ghostVoidBefore[r.accountId]
            && (r.status == uint8(IResetCoordinator.ResetStatus.Pending)
                || (r.status == uint8(IResetCoordinator.ResetStatus.Approved) && block.timestamp < r.executableAt));
        bytes32 head = coordinator.auditHead();
        uint256 length = coordinator.auditLength();
        vm.prank(caller);
        try coordinator.cancelReset(requestId) {
            if (caller != controller) return _violation("someone other than the controller cancelled");
            if (!live) return _violation("a request that was not live was cancelled");
            r.status = uint8(IResetCoordinator.ResetStatus.Cancelled);
            _checkFold(head, length, IAuditLog.AuditKind.ResetCancelled, abi.encode(requestId, r.accountId, caller));
        } catch {
            if (caller == controller && live) _violation("the controller could not cancel a live request");
        }
    }

    /// @notice Anyone finalizes; the controller changes only here.
    function finalize(uint256 requestSeed, uint256 callerSeed) external step("finalize") {
        if (_requests.length == 0) return;
        uint256 requestId = requestSeed % _requests.length + 1;
        Request storage r = _requests[requestId - 1];
        bool due = r.status == uint8(IResetCoordinator.ResetStatus.Approved) && block.timestamp >= r.executableAt
            && requestId >= ghostVoidBefore[r.accountId];
        vm.prank(_actor(callerSeed));
        try coordinator.finalizeReset(requestId) {
            if (!due) return _violation("a request that was not due was finalized");
            r.status = uint8(IResetCoordinator.ResetStatus.Finalized);
            ghostController[r.accountId] = r.newController;
            ghostVoidBefore[r.accountId] = _requests.length + 1;
        } catch {
            if (due) _violation("a due approved request could not be finalized");
        }
    }

    // ───────────────────────────── ResetCoordinator: accountability ─────────────────────────────

    /// @notice Anyone (the poster included) tries to prove a posting invalid: an honest one must always be refused
    ///         with ResetPostingValid, an invalid one always accepted (once).
    function prove(uint256 postSeed, uint256 proverSeed) external step("prove") {
        if (posted.length == 0) return;
        Posted storage target = posted[postSeed % posted.length];
        uint256 k = proverSeed % (actors.length + 1);
        address prover = k == actors.length ? _history[target.requestId][target.position].guardian : actors[k];
        bytes32 salt = keccak256(abi.encode(postSeed, proverSeed));
        bytes32 commitment = keccak256(abi.encode(prover, target.requestId, target.position, salt));
        bytes32 head = coordinator.auditHead();
        uint256 length = coordinator.auditLength();
        vm.prank(prover);
        coordinator.commitProof(commitment);
        _checkFold(head, length, IAuditLog.AuditKind.ProofCommitted, abi.encode(prover, commitment));
        vm.roll(block.number + 1);
        uint256 before = registry.claimable(prover);
        vm.prank(prover);
        try coordinator.proveInvalidPosting(
            target.requestId,
            _context(target.requestId),
            _history[target.requestId],
            target.position,
            _postingBytes[target.requestId][target.position],
            _full[target.requestId][target.position],
            _witness[target.requestId][target.position],
            Fixtures.commitments(target.epoch),
            Fixtures.REQUESTER_KEY,
            salt
        ) {
            if (target.kind == 0) return _violation("an honest posting was proven invalid");
            if (target.proven) return _violation("a posting was proven invalid twice");
            target.proven = true;
            ++invalidProofsAccepted;
            if (registry.claimable(prover) < before) _violation("a proof lowered the prover's claim");
        } catch (bytes memory reason) {
            bytes memory expected = target.kind == 0
                ? abi.encodeWithSelector(IResetCoordinator.ResetPostingValid.selector, target.requestId, target.position)
                : abi.encodeWithSelector(IResetCoordinator.ResetPostingAlreadyProven.selector, target.requestId, target.position);
            if (target.kind == 0 || target.proven) {
                if (keccak256(reason) != keccak256(expected)) _violation("a proof was refused for the wrong reason");
                if (target.kind == 0) ++honestProofsRefused;
            } else {
                _violation("an invalid posting could not be proven");
            }
        }
    }

    /// @notice Anyone settles a request past its dispute window: fees to the standing postings' payees.
    function settle(uint256 requestSeed, uint256 callerSeed) external step("settle") {
        if (_requests.length == 0) return;
        uint256 requestId = requestSeed % _requests.length + 1;
        Request storage r = _requests[requestId - 1];
        uint256 deadline = r.executableAt != 0 ? r.executableAt : r.expiresAt;
        bool due = !r.settled && block.timestamp > deadline + 1 days;
        uint256 before = _holdersBalance();
        vm.prank(_actor(callerSeed));
        try coordinator.settle(requestId, _context(requestId), _history[requestId]) {
            if (!due) return _violation("a request was settled early or twice");
            r.settled = true;
            coordinatorOut += _holdersBalance() - before;
        } catch {
            if (due) _violation("a due request could not be settled");
        }
    }

    function withdrawTreasury(uint256 amountSeed, uint256 toSeed) external step("withdrawTreasury") {
        uint256 available = coordinator.treasuryBalance();
        if (available == 0) return;
        uint256 before = _holdersBalance();
        vm.prank(admin);
        coordinator.withdrawTreasury(_actor(toSeed), _bound(amountSeed, 1, available));
        coordinatorOut += _holdersBalance() - before;
    }

    // ───────────────────────────── views for the invariants ─────────────────────────────

    /// @notice Fees of requests not yet settled (they are the coordinator's ETH besides its treasury).
    function unsettledFees() external view returns (uint256 total) {
        for (uint256 k = 0; k < _requests.length; ++k) {
            if (!_requests[k].settled) total += FEE;
        }
    }

    function holdersBalance() external view returns (uint256) {
        return _holdersBalance();
    }
}
