// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ShardMapRegistry} from "./ShardMapRegistry.sol";
import {IAuditLog} from "./interfaces/IAuditLog.sol";
import {IGuardianRegistry} from "./interfaces/IGuardianRegistry.sol";
import {IResetCoordinator} from "./interfaces/IResetCoordinator.sol";
import {BLS12381} from "./libraries/BLS12381.sol";
import {ProtocolMessages} from "./libraries/ProtocolMessages.sol";

/// @title ResetCoordinator
/// @notice The reset lifecycle (PROTOCOL.md §4–§5) over the shard maps it inherits, and the audit log (§7).
///         Not upgradeable.
/// @dev Concepts:
///  - Request: two storage slots. `Request` packs the new controller, the map it is bound to, its deadline (expiry
///    while pending, executableAt once approved), status, the map generation it was made under and its fee
///    version. `Commits` packs a running digest of the commits, the committed and fee-claimed bitmaps and a
///    service-recorded flag. Everything else (ephemeral key, account, epoch, commits) is in event data.
///  - Commit digest: d_0 = keccak256(ephemeralKey), d_k = keccak256(abi.encode(d_{k−1}, index, h_index)), both
///    truncated to 216 bits. Writing d_0 at request time makes every commit a rewrite of a warm-able, non-zero slot
///    and pins the ephemeral key, so a fraud proof can recompute m without trusting its caller.
///  - Completion needs no stored request data beyond `Request`: the token is a signature on m, which binds the
///    account, epoch, new controller and ephemeral key the caller passes.
///  - Fees: each request pays the fee of the current schedule version; each member whose commit stands when the
///    fee is claimed gets fee / n once the request is approved; the rest stays with the contract's treasury.
///  - Reentrancy: state-changing entry points are `nonReentrant` (transient storage); the consumer hook is called
///    last, with a bounded amount of gas and without copying its return data, and a failure is only reported.
contract ResetCoordinator is IResetCoordinator, ShardMapRegistry, AccessControl, ReentrancyGuardTransient {
    uint256 public constant MAX_REQUEST_FEE = 1 ether;
    uint32 public constant MIN_REQUEST_LIFETIME = 10 minutes;
    uint32 public constant MAX_REQUEST_LIFETIME = 30 days;
    uint32 public constant MAX_SECURITY_PERIOD = 90 days;
    uint256 public constant MAX_SLASH_AMOUNT = 1_000 ether;
    uint256 public constant MAX_PROVER_REWARD_BPS = 5_000;
    uint256 public constant MAX_HOOK_GAS = 1_000_000;
    uint8 public constant MAX_OPEN_REQUESTS = 16;
    uint256 private constant HOOK_GAS_RESERVE = 5_000;

    struct Request {
        address newController;
        uint32 mapId;
        uint32 deadline;
        ResetStatus status;
        uint8 generation;
        uint16 feeVersion;
    }

    struct Commits {
        uint216 digest;
        uint16 committed;
        uint16 feesClaimed;
        bool serviceRecorded;
    }

    /// @notice Constructor parameters (each bounded; see the setters).
    struct Parameters {
        uint256 requestFee;
        uint32 requestLifetime;
        uint8 maxOpenRequests;
        uint32 minSecurityPeriod;
        uint32 maxSecurityPeriod;
        uint256 slashAmount;
        uint256 proverRewardBps;
        uint256 hookGasLimit;
    }

    mapping(uint256 requestId => Request) private _requests;
    mapping(uint256 requestId => Commits) private _commits;
    /// @dev What `requestReset` reads, in one slot: the current fee and its version, the lifetime, the cap.
    struct RequestPolicy {
        uint128 fee;
        uint16 feeVersion;
        uint32 lifetime;
        uint8 maxOpen;
        uint64 lastRequestId;
    }

    RequestPolicy private _policy;
    uint256[] private _feeSchedule; // every fee ever set, by version, for fee claims
    uint256 private _slashAmount;
    uint256 private _proverRewardBps;
    uint256 private _hookGasLimit;
    address private _committeeRegistry;

    constructor(address admin, IGuardianRegistry guardianRegistry_, Parameters memory p)
        ShardMapRegistry(guardianRegistry_)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRequestFee(p.requestFee);
        _setRequestLifetime(p.requestLifetime);
        _setMaxOpenRequests(p.maxOpenRequests);
        _setSecurityPeriodBounds(p.minSecurityPeriod, p.maxSecurityPeriod);
        _setSlashAmount(p.slashAmount);
        _setProverRewardBps(p.proverRewardBps);
        _setHookGasLimit(p.hookGasLimit);
    }

    // ───────────────────────────── requests ─────────────────────────────

    /// @inheritdoc IResetCoordinator
    function requestReset(bytes32 accountId, address newController, bytes32 ephemeralKey)
        external
        payable
        nonReentrant
        returns (uint256 requestId)
    {
        Account storage a = _knownAccount(accountId);
        (uint256 mapId, ShardMap storage m) = _activeMap(a);
        if (newController == address(0)) revert ResetInvalidNewController();
        if (ephemeralKey == bytes32(0)) revert ResetInvalidEphemeralKey();
        RequestPolicy memory policy = _policy;
        uint256 fee = policy.fee;
        if (msg.value != fee) revert ResetFeeTooLow(fee, msg.value);
        uint8 open = a.openRequests;
        if (open >= policy.maxOpen) revert ResetTooManyOpenRequests(accountId, policy.maxOpen);
        a.openRequests = open + 1;

        requestId = ++policy.lastRequestId;
        _policy.lastRequestId = uint64(requestId);
        uint32 expiresAt = uint32(block.timestamp) + policy.lifetime;
        _requests[requestId] = Request({
            newController: newController,
            mapId: uint32(mapId),
            deadline: expiresAt,
            status: ResetStatus.Pending,
            generation: m.generation,
            feeVersion: policy.feeVersion
        });
        _commits[requestId].digest = uint216(uint256(keccak256(abi.encode(ephemeralKey))));
        uint256 epoch = m.epoch;
        emit ResetRequested(requestId, accountId, mapId, epoch, newController, ephemeralKey, expiresAt, fee);
        _appendAudit(
            AuditKind.ResetRequested,
            abi.encode(requestId, accountId, mapId, epoch, newController, ephemeralKey, uint64(expiresAt), fee)
        );
    }

    /// @inheritdoc IResetCoordinator
    function commitShare(ShareCommit calldata commit, Committee calldata committee) external {
        (bytes24 head, uint64 n) = _auditState();
        (, head, n) = _commit(0, commit, committee, head, n);
        _setAuditState(head, n);
    }

    /// @inheritdoc IResetCoordinator
    function commitShares(CommitGroup[] calldata groups) external {
        (bytes24 head, uint64 n) = _auditState();
        for (uint256 g = 0; g < groups.length; ++g) {
            CommitGroup calldata group = groups[g];
            uint256 mapId = 0;
            for (uint256 k = 0; k < group.commits.length; ++k) {
                (mapId, head, n) = _commit(mapId, group.commits[k], group.committee, head, n);
            }
        }
        _setAuditState(head, n);
    }

    /// @inheritdoc IResetCoordinator
    function completeReset(
        uint256 requestId,
        bytes32 accountId,
        bytes32 ephemeralKey,
        bytes calldata sigma,
        bytes calldata groupKey
    ) external {
        // No reentrancy guard: this function makes no call other than to precompiles.
        Request storage r = _requests[requestId];
        ShardMap storage m = _liveMap(requestId, r, ResetStatus.Pending);
        if (block.timestamp > r.deadline) revert ResetExpired(requestId, r.deadline);
        bytes32 groupKeyHash;
        assembly ("memory-safe") {
            // keccak256 of the calldata bytes, hashed in scratch memory without an allocation
            let p := mload(0x40)
            calldatacopy(p, groupKey.offset, groupKey.length)
            groupKeyHash := keccak256(p, groupKey.length)
        }
        if (groupKeyHash != m.groupKeyHash) revert ResetWrongGroupKey(requestId);
        bytes32 message = ProtocolMessages.resetMessage(
            block.chainid, address(this), requestId, accountId, m.epoch, r.newController, ephemeralKey
        );
        BLS12381.verifyTokenCalldata(sigma, groupKey, message);

        uint32 executableAt;
        unchecked {
            executableAt = uint32(block.timestamp) + m.securityPeriod; // ≤ now + 90 days: no overflow before 2106
        }
        (r.status, r.deadline) = (ResetStatus.Approved, executableAt);
        emit ResetApproved(requestId, accountId, executableAt);
        bytes32 payloadHash;
        assembly ("memory-safe") {
            // keccak256(abi.encode(requestId, accountId, uint64(executableAt))) in scratch memory
            let p := mload(0x40)
            mstore(p, requestId)
            mstore(add(p, 0x20), accountId)
            mstore(add(p, 0x40), executableAt)
            payloadHash := keccak256(p, 0x60)
        }
        _appendAudit(AuditKind.ResetApproved, payloadHash);
    }

    /// @inheritdoc IResetCoordinator
    function cancelReset(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        ResetStatus status = r.status;
        if (status == ResetStatus.None) revert ResetUnknownRequest(requestId);
        if (status != ResetStatus.Pending && status != ResetStatus.Approved) revert ResetNotPending(requestId, status);
        if (status == ResetStatus.Approved && block.timestamp >= r.deadline) {
            revert ResetSecurityPeriodOver(requestId, r.deadline);
        }
        ShardMap storage m = _maps[r.mapId];
        bytes32 accountId = m.accountId;
        Account storage a = _accounts[accountId];
        if (msg.sender != a.controller) revert ResetNotController(requestId, msg.sender);
        _close(r, m, a, ResetStatus.Cancelled);
        emit ResetCancelled(requestId, accountId, msg.sender);
        _appendAudit(AuditKind.ResetCancelled, abi.encode(requestId, accountId, msg.sender));
    }

    /// @inheritdoc IResetCoordinator
    function finalizeReset(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        ShardMap storage m = _liveMap(requestId, r, ResetStatus.Approved);
        if (block.timestamp < r.deadline) revert ResetSecurityPeriodActive(requestId, r.deadline);
        bytes32 accountId = m.accountId;
        Account storage a = _accounts[accountId];
        address oldController = a.controller;
        address newController = r.newController;
        a.controller = newController;
        a.openRequests = 0; // every other request of the account is void from here on
        unchecked {
            ++m.generation; // wraps after 256 finalizations; requests expire long before that
        }
        r.status = ResetStatus.Finalized;
        emit ResetFinalized(requestId, accountId, oldController, newController);
        _appendAudit(AuditKind.ResetFinalized, abi.encode(requestId, accountId, oldController, newController));
        _callConsumer(requestId, accountId, oldController, newController);
    }

    /// @inheritdoc IResetCoordinator
    function expireReset(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        if (r.status == ResetStatus.None) revert ResetUnknownRequest(requestId);
        if (r.status != ResetStatus.Pending) revert ResetNotPending(requestId, r.status);
        if (block.timestamp <= r.deadline) revert ResetNotExpired(requestId, r.deadline);
        ShardMap storage m = _maps[r.mapId];
        bytes32 accountId = m.accountId;
        _close(r, m, _accounts[accountId], ResetStatus.Expired);
        emit ResetLapsed(requestId, accountId);
        _appendAudit(AuditKind.ResetLapsed, abi.encode(requestId, accountId));
    }

    // ───────────────────────────── accountability ─────────────────────────────

    /// @inheritdoc IResetCoordinator
    function proveInvalidShare(
        uint256 requestId,
        uint8 index,
        bytes calldata sigmaI,
        bytes32 ephemeralKey,
        bytes calldata commitments,
        address[] calldata committee,
        CommitRecord[] calldata history
    ) external nonReentrant {
        Request storage r = _requests[requestId];
        if (r.status == ResetStatus.None) revert ResetUnknownRequest(requestId);
        ShardMap storage m = _maps[r.mapId];
        if (computeMapHash(committee, keccak256(commitments)) != m.mapHash) revert ResetWrongCommitments(requestId);
        Commits storage c = _commits[requestId];
        uint16 bit = index == 0 || index > committee.length ? 0 : uint16(1) << (index - 1);
        if (bit == 0 || c.committed & bit == 0) revert ResetShareNotCommitted(requestId, index);
        bytes32 commitment = _replayCommits(requestId, c.digest, ephemeralKey, history, index);
        if (commitment != ProtocolMessages.shareCommit(requestId, index, sigmaI)) {
            revert ResetShareNotCommitted(requestId, index);
        }
        bytes32 message = ProtocolMessages.resetMessage(
            block.chainid, address(this), requestId, m.accountId, m.epoch, r.newController, ephemeralKey
        );
        if (BLS12381.tryVerifyPartial(sigmaI, commitments, index, message) == BLS12381.BLSError.None) {
            revert ResetShareValid(requestId, index);
        }
        c.committed &= ~bit; // a proven share earns no fee and cannot be proven twice
        address guardian = committee[index - 1];
        uint256 slashed = _guardianRegistry.slash(guardian, _slashAmount, msg.sender, _proverRewardBps);
        emit InvalidShareProven(requestId, index, guardian, msg.sender, slashed);
        _appendAudit(AuditKind.InvalidShareProven, abi.encode(requestId, index, guardian, msg.sender, slashed));
    }

    /// @inheritdoc IResetCoordinator
    function claimFee(uint256 requestId, uint8 index, Committee calldata committee) external nonReentrant {
        Request storage r = _requests[requestId];
        if (r.status != ResetStatus.Approved && r.status != ResetStatus.Finalized) {
            revert ResetNotApproved(requestId, r.status);
        }
        ShardMap storage m = _maps[r.mapId];
        if (computeMapHash(committee.members, committee.commitmentsHash) != m.mapHash) {
            revert ResetWrongCommitments(requestId);
        }
        Commits storage c = _commits[requestId];
        uint16 bit = index == 0 || index > committee.members.length ? 0 : uint16(1) << (index - 1);
        if (bit == 0 || c.committed & bit == 0) revert ResetShareNotCommitted(requestId, index);
        if (c.feesClaimed & bit != 0) revert ResetFeeAlreadyClaimed(requestId, index);
        c.feesClaimed |= bit;
        address guardian = committee.members[index - 1];
        uint256 amount = _feeSchedule[r.feeVersion] / m.size;
        emit FeeClaimed(requestId, index, guardian, amount);
        (bool ok,) = guardian.call{value: amount}("");
        if (!ok) revert ResetTransferFailed(guardian, amount);
    }

    /// @inheritdoc IResetCoordinator
    function recordService(uint256 requestId, Committee calldata committee) external nonReentrant {
        Request storage r = _requests[requestId];
        ShardMap storage m = _maps[r.mapId];
        bool closed = r.status == ResetStatus.Finalized || r.status == ResetStatus.Cancelled
            || r.status == ResetStatus.Expired || (r.status != ResetStatus.None && _isVoid(r, m));
        if (!closed) revert ResetNotClosed(requestId, r.status);
        if (computeMapHash(committee.members, committee.commitmentsHash) != m.mapHash) {
            revert ResetWrongCommitments(requestId);
        }
        Commits storage c = _commits[requestId];
        if (c.serviceRecorded) revert ResetServiceAlreadyRecorded(requestId);
        c.serviceRecorded = true;
        uint16 committed = c.committed;
        for (uint256 k = 0; k < committee.members.length; ++k) {
            _guardianRegistry.recordService(committee.members[k], requestId, committed & (uint16(1) << uint16(k)) != 0);
        }
    }

    // ───────────────────────────── audit ─────────────────────────────

    /// @inheritdoc IAuditLog
    function recordRegistryEvent(AuditKind kind, bytes32 payloadHash) external {
        bool allowed = msg.sender == address(_guardianRegistry)
            ? kind <= AuditKind.RegistryParameterChanged
            : msg.sender == _committeeRegistry && kind >= AuditKind.CommitteeProposed;
        if (!allowed) revert AuditUnauthorizedWriter(msg.sender);
        _appendAudit(kind, payloadHash);
    }

    /// @notice Wires the committee registry, once: it may then append its own events to the audit log.
    function setCommitteeRegistry(address committeeRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_committeeRegistry != address(0) || committeeRegistry_ == address(0)) {
            revert ResetParameterOutOfRange("committeeRegistry", uint160(committeeRegistry_));
        }
        _committeeRegistry = committeeRegistry_;
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IResetCoordinator
    function reset(uint256 requestId) external view returns (ResetView memory v) {
        Request storage r = _requests[requestId];
        Commits storage c = _commits[requestId];
        v = ResetView({
            status: r.status,
            newController: r.newController,
            mapId: r.mapId,
            deadline: r.deadline,
            generation: r.generation,
            voided: r.status != ResetStatus.None && _isVoid(r, _maps[r.mapId]),
            fee: r.status == ResetStatus.None ? 0 : _feeSchedule[r.feeVersion],
            committed: c.committed,
            feesClaimed: c.feesClaimed,
            serviceRecorded: c.serviceRecorded,
            commitDigest: bytes32(uint256(c.digest))
        });
    }

    /// @inheritdoc IResetCoordinator
    function resetMessage(uint256 requestId, bytes32 ephemeralKey) external view returns (bytes32) {
        Request storage r = _requests[requestId];
        if (r.status == ResetStatus.None) revert ResetUnknownRequest(requestId);
        ShardMap storage m = _maps[r.mapId];
        return ProtocolMessages.resetMessage(
            block.chainid, address(this), requestId, m.accountId, m.epoch, r.newController, ephemeralKey
        );
    }

    /// @inheritdoc IResetCoordinator
    function nextRequestId() external view returns (uint256) {
        return uint256(_policy.lastRequestId) + 1;
    }

    function guardianRegistry() external view returns (IGuardianRegistry) {
        return _guardianRegistry;
    }

    function parameters() external view returns (Parameters memory) {
        return Parameters({
            requestFee: _policy.fee,
            requestLifetime: _policy.lifetime,
            maxOpenRequests: _policy.maxOpen,
            minSecurityPeriod: _minSecurityPeriod,
            maxSecurityPeriod: _maxSecurityPeriod,
            slashAmount: _slashAmount,
            proverRewardBps: _proverRewardBps,
            hookGasLimit: _hookGasLimit
        });
    }

    // ───────────────────────────── governance ─────────────────────────────

    function setRequestFee(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRequestFee(value);
    }

    function setRequestLifetime(uint32 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRequestLifetime(value);
        _syncUnbondingFloor();
    }

    function setMaxOpenRequests(uint8 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxOpenRequests(value);
    }

    function setSecurityPeriodBounds(uint32 minValue, uint32 maxValue) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSecurityPeriodBounds(minValue, maxValue);
        _syncUnbondingFloor();
    }

    function setSlashAmount(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSlashAmount(value);
    }

    function setProverRewardBps(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setProverRewardBps(value);
    }

    function setHookGasLimit(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setHookGasLimit(value);
    }

    /// @notice Tells the guardian registry that unbonding must outlast a request lifetime plus a security period.
    ///         Called by the deployment once the registry has granted this contract SLASHER_ROLE, and by the setters.
    function syncUnbondingFloor() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _syncUnbondingFloor();
    }

    /// @notice Sends the treasury's funds (fees not paid to guardians) to `to`.
    function withdrawTreasury(address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ResetTransferFailed(to, amount);
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev The request's map, after checking the request has `expected` status, is not void, and its epoch is
    ///      still the active one.
    function _liveMap(uint256 requestId, Request storage r, ResetStatus expected)
        private
        view
        returns (ShardMap storage m)
    {
        ResetStatus status = r.status;
        if (status != expected) {
            if (status == ResetStatus.None) revert ResetUnknownRequest(requestId);
            if (expected == ResetStatus.Pending) revert ResetNotPending(requestId, status);
            revert ResetNotApproved(requestId, status);
        }
        m = _maps[r.mapId];
        if (m.status != ShardMapStatus.Active) revert ResetEpochRetired(requestId, r.mapId);
        if (m.generation != r.generation) revert ResetVoided(requestId);
    }

    function _isVoid(Request storage r, ShardMap storage m) private view returns (bool) {
        return (r.status == ResetStatus.Pending || r.status == ResetStatus.Approved)
            && (m.status != ShardMapStatus.Active || m.generation != r.generation);
    }

    /// @dev Closes a pending or approved request; it leaves the open-request count only if it was still counted.
    function _close(Request storage r, ShardMap storage m, Account storage a, ResetStatus status) private {
        bool counted = !_isVoid(r, m);
        r.status = status;
        if (counted && a.openRequests > 0) --a.openRequests;
    }

    /// @dev Records one commit. Only the request's status and deadline and the map's `mapHash` are read: a commit
    ///      to a request that a rotation or a finalization made void is harmless (it can never be approved, so it
    ///      earns nothing) and not worth a third storage read on every commit.
    function _commit(uint256 mapIdExpected, ShareCommit calldata s, Committee calldata committee, bytes24 head, uint64 n)
        private
        returns (uint256 mapId, bytes24, uint64)
    {
        uint256 requestId = s.requestId;
        Request storage r = _requests[requestId];
        ResetStatus status = r.status;
        if (status != ResetStatus.Pending) {
            if (status == ResetStatus.None) revert ResetUnknownRequest(requestId);
            revert ResetNotPending(requestId, status);
        }
        if (block.timestamp > r.deadline) revert ResetExpired(requestId, r.deadline);
        mapId = r.mapId;
        if (mapId != mapIdExpected) {
            // First commit of a group: check the committee against this map.
            _requireMember(_maps[mapId], mapId, s.index, committee.members, committee.commitmentsHash);
        } else if (s.index == 0 || s.index > committee.members.length || committee.members[s.index - 1] != msg.sender) {
            revert ShardMapNotMember(mapId, s.index, msg.sender);
        }
        Commits storage c = _commits[requestId];
        uint16 bit = uint16(1) << (s.index - 1);
        uint16 committed = c.committed;
        if (committed & bit != 0) revert ResetAlreadyCommitted(requestId, s.index);
        c.committed = committed | bit;
        c.digest = uint216(uint256(keccak256(abi.encode(c.digest, s.index, s.commitment))));
        emit ShareCommitted(requestId, s.index, msg.sender, s.commitment);
        (head, n) = _foldAudit(
            head, n, AuditKind.ShareCommitted, keccak256(abi.encode(requestId, s.index, msg.sender, s.commitment))
        );
        return (mapId, head, n);
    }

    /// @dev Recomputes the commit digest from d_0 = keccak256(ephemeralKey) and the history, checks it against the
    ///      stored one, and returns member `index`'s commitment.
    function _replayCommits(
        uint256 requestId,
        uint216 stored,
        bytes32 ephemeralKey,
        CommitRecord[] calldata history,
        uint8 index
    ) private pure returns (bytes32 commitment) {
        uint216 d = uint216(uint256(keccak256(abi.encode(ephemeralKey))));
        for (uint256 k = 0; k < history.length; ++k) {
            d = uint216(uint256(keccak256(abi.encode(d, history[k].index, history[k].commitment))));
            if (history[k].index == index) commitment = history[k].commitment;
        }
        if (d != stored) revert ResetWrongCommitHistory(requestId);
    }

    function _callConsumer(uint256 requestId, bytes32 accountId, address oldController, address newController)
        private
    {
        address consumer = _consumers[accountId];
        if (consumer == address(0)) return;
        uint256 gasLimit = _hookGasLimit;
        // Refuse to run the hook with less gas than promised, so a caller cannot make it fail on purpose.
        if (gasleft() < gasLimit + gasLimit / 63 + HOOK_GAS_RESERVE) revert ResetParameterOutOfRange("gas", gasleft());
        bytes memory data = abi.encodeWithSignature(
            "onCredentialReset(bytes32,address,address,uint256)", accountId, oldController, newController, requestId
        );
        bool ok;
        assembly ("memory-safe") {
            ok := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0) // return data is not copied
        }
        if (!ok) emit ConsumerHookFailed(requestId, consumer);
    }

    function _syncUnbondingFloor() private {
        _guardianRegistry.setMinUnbondingDelay(uint64(_policy.lifetime) + _maxSecurityPeriod);
    }

    function _setRequestFee(uint256 value) private {
        if (value == 0 || value > MAX_REQUEST_FEE) revert ResetParameterOutOfRange("requestFee", value);
        _policy.feeVersion = uint16(_feeSchedule.length);
        _policy.fee = uint128(value);
        _feeSchedule.push(value);
        _emitParameter("requestFee", value);
    }

    function _setRequestLifetime(uint32 value) private {
        if (value < MIN_REQUEST_LIFETIME || value > MAX_REQUEST_LIFETIME) {
            revert ResetParameterOutOfRange("requestLifetime", value);
        }
        _policy.lifetime = value;
        _emitParameter("requestLifetime", value);
    }

    function _setMaxOpenRequests(uint8 value) private {
        if (value == 0 || value > MAX_OPEN_REQUESTS) revert ResetParameterOutOfRange("maxOpenRequests", value);
        _policy.maxOpen = value;
        _emitParameter("maxOpenRequests", value);
    }

    function _setSecurityPeriodBounds(uint32 minValue, uint32 maxValue) private {
        if (minValue == 0 || minValue > maxValue) revert ResetParameterOutOfRange("minSecurityPeriod", minValue);
        if (maxValue > MAX_SECURITY_PERIOD) revert ResetParameterOutOfRange("maxSecurityPeriod", maxValue);
        _minSecurityPeriod = minValue;
        _maxSecurityPeriod = maxValue;
        _emitParameter("minSecurityPeriod", minValue);
        _emitParameter("maxSecurityPeriod", maxValue);
    }

    function _setSlashAmount(uint256 value) private {
        if (value == 0 || value > MAX_SLASH_AMOUNT) revert ResetParameterOutOfRange("slashAmount", value);
        _slashAmount = value;
        _emitParameter("slashAmount", value);
    }

    function _setProverRewardBps(uint256 value) private {
        if (value > MAX_PROVER_REWARD_BPS) revert ResetParameterOutOfRange("proverRewardBps", value);
        _proverRewardBps = value;
        _emitParameter("proverRewardBps", value);
    }

    function _setHookGasLimit(uint256 value) private {
        if (value == 0 || value > MAX_HOOK_GAS) revert ResetParameterOutOfRange("hookGasLimit", value);
        _hookGasLimit = value;
        _emitParameter("hookGasLimit", value);
    }

    function _emitParameter(bytes32 name, uint256 value) private {
        emit CoordinatorParameterChanged(name, value);
        _appendAudit(AuditKind.CoordinatorParameterChanged, abi.encode(name, value));
    }
}
