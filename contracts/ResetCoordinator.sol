// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {AccountRegistry} from "./AccountRegistry.sol";
import {IAuditLog} from "./interfaces/IAuditLog.sol";
import {ICommitteeRegistry} from "./interfaces/ICommitteeRegistry.sol";
import {IGuardianRegistry} from "./interfaces/IGuardianRegistry.sol";
import {IResetCoordinator} from "./interfaces/IResetCoordinator.sol";
import {BLS12381} from "./libraries/BLS12381.sol";
import {CompressedPoints} from "./libraries/CompressedPoints.sol";
import {ProtocolMessages} from "./libraries/ProtocolMessages.sol";

/// @title ResetCoordinator
/// @notice Resets and drills (PROTOCOL.md §6–§8) over the accounts it inherits, and the audit log (§10).
///         Not upgradeable.
/// @dev Concepts:
///  - Request: two slots, both written when it is made. `Request` packs the new controller, the deadline (expiry
///    while pending, executableAt once approved), a state byte (status, approved and settled flags) and the
///    account key. `Postings` packs the posting digest (192 bits), the `posted` slot bitmap and its committee
///    epoch. Everything else (the requester key, the fee, the postings themselves) is in event data.
///  - Digest: d_0 = uint192(keccak256(abi.encode(m, fee))) pins the request's message and fee, so settlement and
///    fraud proofs can take the request's fields (`RequestContext`) from the caller and check them;
///    d_k = uint192(keccak256(abi.encode(d_{k−1}, slot, committeeEpoch, guardian, message, keccak256(posting)))).
///  - Postings are not verified when posted; a posting carries the message its member computed and is only ever
///    paid, counted or judged against the true m of its request (a posting for another m is simply ignored).
///  - Spam: no cap on open requests; each request pays the fee, which pays the members whose postings stand.
///  - Voidness: a request is void when its id is below the account's `voidBefore` (finalization and rotation set
///    it to the next request id). Expiry and voidness are derived, never written.
///  - Fraud proofs are commit-reveal: the commitment binds the prover, and must be at least one block old.
///  - Reentrancy: entry points that call out are `nonReentrant` (transient storage); the consumer hook is called
///    last with bounded gas, its failure only reported; fee transfers have bounded gas and copy no return data, a
///    failure goes to the treasury.
contract ResetCoordinator is IResetCoordinator, AccountRegistry, AccessControl, ReentrancyGuardTransient {
    uint256 public constant MAX_REQUEST_FEE = 1 ether;
    uint32 public constant MIN_REQUEST_LIFETIME = 10 minutes;
    uint32 public constant MAX_REQUEST_LIFETIME = 30 days;
    uint32 public constant MIN_DISPUTE_WINDOW = 10 minutes;
    uint32 public constant MAX_DISPUTE_WINDOW = 30 days;
    uint32 public constant MAX_SECURITY_PERIOD = 90 days;
    uint256 public constant MAX_SLASH_AMOUNT = 1_000 ether;
    uint256 public constant MAX_PROVER_REWARD_BPS = 5_000;
    uint256 public constant MAX_HOOK_GAS = 1_000_000;
    /// @notice Gas handed to each fee transfer in `settle`; a recipient that needs more forfeits its fee to the treasury.
    uint256 public constant FEE_TRANSFER_GAS = 30_000;
    uint256 private constant HOOK_GAS_RESERVE = 5_000;
    uint8 private constant STATUS_MASK = 0x0f;
    uint8 private constant APPROVED_FLAG = 0x40;
    uint8 private constant SETTLED_FLAG = 0x80;
    /// @dev keccak256("PartialPosted(uint256,uint8,uint32,address,bytes32,bytes)"): the event is logged in assembly (the tests
    ///      decode every PartialPosted through the ABI).
    bytes32 private constant PARTIAL_POSTED_TOPIC = 0x30d79ade9bcaaa66cff36fa32b1e1763ab4cb5b2ee3e5b3a81299b1731e651d6;

    struct Request {
        address newController;
        uint32 deadline;
        uint8 state;
        uint56 accountKey;
    }

    struct Postings {
        uint192 digest;
        uint32 posted;
        uint32 postingEpoch;
    }

    /// @dev What `requestReset` and `link` read, in one slot.
    struct Policy {
        uint64 fee;
        uint32 lifetime;
        uint32 disputeWindow;
        uint56 lastRequestId;
        uint32 minSecurityPeriod;
        uint32 maxSecurityPeriod;
    }

    /// @notice Constructor parameters (each bounded; see the setters).
    struct Parameters {
        uint256 requestFee;
        uint32 requestLifetime;
        uint32 disputeWindow;
        uint32 minSecurityPeriod;
        uint32 maxSecurityPeriod;
        uint256 slashAmount;
        uint256 proverRewardBps;
        uint256 hookGasLimit;
    }

    IGuardianRegistry private immutable _guardianRegistry;
    Policy private _policy;
    mapping(uint256 requestId => Request) private _requests;
    mapping(uint256 requestId => Postings) private _postings;
    /// @dev Proven postings: bit (position % 256) of word (position / 256).
    mapping(uint256 requestId => mapping(uint256 word => uint256)) private _proven;
    mapping(bytes32 commitment => uint256 blockNumber) private _proofCommitments;
    /// @dev keccak256(K) per committee, as the committee registry set it (`recordGroupKey`): a completion reads it
    ///      with one SLOAD instead of a cold call to the registry.
    mapping(uint256 committeeId => bytes32) private _groupKeyHashes;
    uint256 private _treasury;
    /// @dev Slash amount, prover reward and hook gas share one slot: a fraud proof reads the first two with one SLOAD.
    uint128 private _slashAmount;
    uint16 private _proverRewardBps;
    uint32 private _hookGasLimit;

    constructor(address admin, IGuardianRegistry guardianRegistry_, ICommitteeRegistry committees_, Parameters memory p)
        AccountRegistry(committees_)
    {
        _guardianRegistry = guardianRegistry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRequestFee(p.requestFee);
        _setRequestLifetime(p.requestLifetime);
        _setDisputeWindow(p.disputeWindow);
        _setSecurityPeriodBounds(p.minSecurityPeriod, p.maxSecurityPeriod);
        _setSlashAmount(p.slashAmount);
        _setProverRewardBps(p.proverRewardBps);
        _setHookGasLimit(p.hookGasLimit);
    }

    // ───────────────────────────── requests ─────────────────────────────

    /// @inheritdoc IResetCoordinator
    function requestReset(bytes32 accountId, address newController, bytes calldata requesterKey)
        external
        payable
        returns (uint256)
    {
        if (newController == address(0)) revert ResetInvalidNewController();
        return _request(accountId, newController, requesterKey);
    }

    /// @inheritdoc IResetCoordinator
    function requestDrill(bytes32 accountId, bytes calldata requesterKey) external payable returns (uint256) {
        return _request(accountId, address(0), requesterKey);
    }

    /// @inheritdoc IResetCoordinator
    function postPartial(PostingInput calldata posting) external {
        (bytes24 head, uint64 n) = _auditState();
        (head, n) = _post(posting, head, n);
        _setAuditState(head, n);
    }

    /// @inheritdoc IResetCoordinator
    function postPartials(PostingInput[] calldata postings) external {
        (bytes24 head, uint64 n) = _auditState();
        for (uint256 k = 0; k < postings.length; ++k) {
            (head, n) = _post(postings[k], head, n);
        }
        _setAuditState(head, n);
    }

    /// @inheritdoc IResetCoordinator
    function completeReset(uint256 requestId, bytes32 requesterKeyHash, bytes calldata sigma, bytes calldata groupKey)
        external
    {
        // No reentrancy guard: the only calls are a view of the committee registry and precompiles.
        Request storage r = _requests[requestId];
        (uint256 state, uint256 deadline) = (r.state, r.deadline);
        _requireStatus(requestId, state, ResetStatus.Pending);
        if (block.timestamp > deadline) revert ResetExpired(requestId, uint64(deadline));
        uint256 key = r.accountKey;
        Account storage a = _accounts[key];
        if (requestId < a.voidBefore) revert ResetVoided(requestId);
        uint256 committeeId = a.committeeId;
        if (_calldataHash(groupKey) != _groupKeyHashes[committeeId]) revert ResetWrongGroupKey(requestId);
        bytes32 accountId = _accountId(key, a);
        address newController = r.newController;
        bytes32 message = ProtocolMessages.resetMessage(
            block.chainid, address(this), requestId, accountId, a.epoch, committeeId, newController, requesterKeyHash
        );
        BLS12381.verifyTokenCalldata(sigma, groupKey, message);

        if (newController == address(0)) {
            r.state = uint8(ResetStatus.DrillVerified);
            emit DrillVerified(requestId, accountId);
            _appendAudit(AuditKind.DrillVerified, abi.encode(requestId, accountId));
            return;
        }
        uint32 executableAt;
        unchecked {
            executableAt = uint32(block.timestamp) + a.securityPeriod; // ≤ now + 90 days: no overflow before 2106
        }
        (r.state, r.deadline) = (uint8(ResetStatus.Approved) | APPROVED_FLAG, executableAt);
        emit ResetApproved(requestId, accountId, executableAt);
        _appendAudit(AuditKind.ResetApproved, abi.encode(requestId, accountId, uint64(executableAt)));
    }

    /// @inheritdoc IResetCoordinator
    function cancelReset(uint256 requestId) external {
        // No reentrancy guard: no external call.
        Request storage r = _requests[requestId];
        uint256 state = r.state;
        ResetStatus status = _status(state);
        if (status != ResetStatus.Approved) _requireStatus(requestId, state, ResetStatus.Pending);
        if (status == ResetStatus.Approved && block.timestamp >= r.deadline) {
            revert ResetSecurityPeriodOver(requestId, r.deadline);
        }
        uint256 key = r.accountKey;
        Account storage a = _accounts[key];
        if (requestId < a.voidBefore) revert ResetVoided(requestId);
        if (msg.sender != a.controller) revert ResetNotController(requestId, msg.sender);
        r.state = uint8((state & ~uint256(STATUS_MASK)) | uint8(ResetStatus.Cancelled));
        bytes32 accountId = _accountId(key, a);
        emit ResetCancelled(requestId, accountId, msg.sender);
        _appendAudit(AuditKind.ResetCancelled, abi.encode(requestId, accountId, msg.sender));
    }

    /// @inheritdoc IResetCoordinator
    function finalizeReset(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        (uint256 state, uint256 deadline, address newController) = (r.state, r.deadline, r.newController);
        if (state != 0 && newController == address(0)) revert ResetIsDrill(requestId);
        _requireStatus(requestId, state, ResetStatus.Approved);
        uint256 key = r.accountKey;
        Account storage a = _accounts[key];
        if (requestId < a.voidBefore) revert ResetVoided(requestId);
        if (block.timestamp < deadline) revert ResetSecurityPeriodActive(requestId, uint64(deadline));
        address oldController = a.controller;
        // Every request made so far (this one included) is void from here on: nothing the old controller or
        // anyone else had in flight can complete or finalize later.
        (a.controller, a.voidBefore) = (newController, _policy.lastRequestId + 1);
        r.state = uint8((state & ~uint256(STATUS_MASK)) | uint8(ResetStatus.Finalized));
        bytes32 accountId = _accountId(key, a);
        emit ResetFinalized(requestId, accountId, oldController, newController);
        _appendAudit(AuditKind.ResetFinalized, abi.encode(requestId, accountId, oldController, newController));
        _callConsumer(requestId, key, accountId, oldController, newController);
    }

    // ───────────────────────────── accountability ─────────────────────────────

    /// @inheritdoc IResetCoordinator
    function commitProof(bytes32 commitment) external {
        // The earliest block counts: re-committing the same value (e.g. copied from the mempool) changes nothing.
        if (_proofCommitments[commitment] == 0) _proofCommitments[commitment] = block.number;
        emit ProofCommitted(msg.sender, commitment);
        _appendAudit(AuditKind.ProofCommitted, abi.encode(msg.sender, commitment));
    }

    /// @inheritdoc IResetCoordinator
    function proveInvalidPosting(
        uint256 requestId,
        RequestContext calldata context,
        PostingRecord[] calldata history,
        uint256 position,
        bytes calldata posting,
        FullPosting calldata full,
        bytes calldata encodingWitness,
        bytes calldata commitments,
        bytes calldata requesterKey,
        bytes32 salt
    ) external nonReentrant {
        Request storage r = _requests[requestId];
        if (r.state == 0) revert ResetUnknownRequest(requestId);
        bytes32 commitment = keccak256(abi.encode(msg.sender, requestId, position, salt));
        uint256 committedAt = _proofCommitments[commitment];
        if (committedAt == 0 || committedAt >= block.number) revert ResetProofNotCommitted(msg.sender);
        bytes32 message = _checkHistory(requestId, r, context, history);
        if (position >= history.length) revert ResetWrongPostingHistory(requestId);
        PostingRecord calldata record = history[position];
        // A posting made for another message (e.g. a request id re-created by a reorg) is never judged here.
        if (record.message != message || _calldataHash(posting) != record.postingHash) {
            revert ResetPostingMismatch(requestId, position);
        }
        if (_calldataHash(requesterKey) != context.requesterKeyHash) revert ResetWrongContext(requestId);
        if (_isProven(requestId, position)) revert ResetPostingAlreadyProven(requestId, position);
        if (_calldataHash(commitments) != _committees.commitmentsHash(context.committeeId, record.committeeEpoch)) {
            revert ResetWrongContext(requestId);
        }
        uint8 verdict = CompressedPoints.judge(
            posting, full, encodingWitness, message, commitments, record.slot, requesterKey
        );
        if (verdict == CompressedPoints.VALID) revert ResetPostingValid(requestId, position);
        if (verdict == CompressedPoints.MISMATCH) revert ResetPostingMismatch(requestId, position);

        delete _proofCommitments[commitment];
        _proven[requestId][position >> 8] |= uint256(1) << (position & 0xff);
        address guardian = record.guardian;
        // A guardian is never paid for its own fault (as in the committee registry): its reward goes to the treasury.
        uint256 rewardBps = msg.sender == guardian ? 0 : _proverRewardBps;
        uint256 slashed = _guardianRegistry.slash(guardian, _slashAmount, msg.sender, rewardBps);
        emit InvalidPostingProven(requestId, position, record.slot, guardian, msg.sender, slashed);
        _appendAudit(
            AuditKind.InvalidPostingProven, abi.encode(requestId, position, record.slot, guardian, msg.sender, slashed)
        );
    }

    /// @inheritdoc IResetCoordinator
    function settle(uint256 requestId, RequestContext calldata context, PostingRecord[] calldata history)
        external
        nonReentrant
    {
        Request storage r = _requests[requestId];
        uint256 state = r.state;
        if (state == 0) revert ResetUnknownRequest(requestId);
        if (state & SETTLED_FLAG != 0) revert ResetAlreadySettled(requestId);
        uint256 settleableAt = uint256(r.deadline) + _policy.disputeWindow;
        if (block.timestamp <= settleableAt) revert ResetNotSettleable(requestId, uint64(settleableAt));
        bytes32 message = _checkHistory(requestId, r, context, history);
        r.state = uint8(state | SETTLED_FLAG);

        uint256 committeeId = context.committeeId;
        (, uint256 size,, uint256 activeEpoch) = _committees.committeeState(committeeId);
        uint256 share = context.fee / size;
        (uint32 served, uint256 epoch, uint256 paid) = _payStanding(requestId, message, history, share);
        uint256 toTreasury = context.fee - paid;
        uint32 missed;
        // A miss only for a request that stayed pending until it expired (not completed, cancelled or voided), and
        // only against the membership of the newest epoch with a standing posting of the request's message (its
        // members that still hold their slot: earlier holders are not stored). With no such posting the membership
        // the request was meant for is not known (it is not recorded at request time), so nobody is charged.
        if (epoch != 0 && _status(state) == ResetStatus.Pending && requestId >= _accounts[r.accountKey].voidBefore) {
            missed = _recordMisses(requestId, committeeId, activeEpoch, epoch, served);
        }
        _treasury += toTreasury;
        emit RequestSettled(requestId, share, served, missed, toTreasury);
        _appendAudit(AuditKind.RequestSettled, abi.encode(requestId, share, served, missed, toTreasury));
    }

    // ───────────────────────────── audit ─────────────────────────────

    /// @inheritdoc IAuditLog
    function recordRegistryEvent(AuditKind kind, bytes32 payloadHash) external {
        bool allowed = msg.sender == address(_guardianRegistry)
            ? kind <= AuditKind.RegistryParameterChanged || kind >= AuditKind.RoleGranted
            : msg.sender == address(_committees) && kind >= AuditKind.CommitteeProposed;
        if (!allowed) revert AuditUnauthorizedWriter(msg.sender);
        _appendAudit(kind, payloadHash);
    }

    /// @inheritdoc IAuditLog
    function recordGroupKey(uint256 committeeId, bytes32 keyHash) external {
        if (msg.sender != address(_committees)) revert AuditUnauthorizedWriter(msg.sender);
        _groupKeyHashes[committeeId] = keyHash;
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IResetCoordinator
    function reset(uint256 requestId) external view returns (ResetView memory v) {
        Request storage r = _requests[requestId];
        uint256 state = r.state;
        if (state == 0) return v;
        Postings storage p = _postings[requestId];
        Account storage a = _accounts[r.accountKey];
        ResetStatus status = _status(state);
        bool approved = state & APPROVED_FLAG != 0;
        v = ResetView({
            status: status,
            drill: r.newController == address(0),
            expired: status == ResetStatus.Pending && block.timestamp > r.deadline,
            voided: requestId < a.voidBefore,
            settled: state & SETTLED_FLAG != 0,
            accountId: _accountId(r.accountKey, a),
            newController: r.newController,
            expiresAt: approved ? 0 : r.deadline,
            executableAt: approved ? r.deadline : 0,
            posted: p.posted,
            postingEpoch: p.postingEpoch,
            postingDigest: bytes32(uint256(p.digest))
        });
    }

    /// @inheritdoc IResetCoordinator
    function resetMessage(uint256 requestId, bytes32 requesterKeyHash) external view returns (bytes32) {
        Request storage r = _requests[requestId];
        if (r.state == 0) revert ResetUnknownRequest(requestId);
        Account storage a = _accounts[r.accountKey];
        return ProtocolMessages.resetMessage(
            block.chainid,
            address(this),
            requestId,
            _accountId(r.accountKey, a),
            a.epoch,
            a.committeeId,
            r.newController,
            requesterKeyHash
        );
    }

    /// @inheritdoc IResetCoordinator
    function nextRequestId() external view returns (uint256) {
        return _nextRequestId();
    }

    function guardianRegistry() external view returns (IGuardianRegistry) {
        return _guardianRegistry;
    }

    function committeeRegistry() external view returns (ICommitteeRegistry) {
        return _committees;
    }

    /// @notice Fees booked to the treasury and not yet withdrawn.
    function treasuryBalance() external view returns (uint256) {
        return _treasury;
    }

    function parameters() external view returns (Parameters memory) {
        Policy memory p = _policy;
        return Parameters({
            requestFee: p.fee,
            requestLifetime: p.lifetime,
            disputeWindow: p.disputeWindow,
            minSecurityPeriod: p.minSecurityPeriod,
            maxSecurityPeriod: p.maxSecurityPeriod,
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

    function setDisputeWindow(uint32 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeWindow(value);
        _syncUnbondingFloor();
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

    /// @notice Tells the guardian registry that unbonding must outlast a request lifetime, the longest security
    ///         period and the dispute window. Called by the deployment once the registry has granted this contract
    ///         SLASHER_ROLE, and by the setters. Refused (`unbondingFloor`) above the committee registry's release
    ///         delay, so a member handed over stays bonded at least as long.
    function syncUnbondingFloor() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _syncUnbondingFloor();
    }

    /// @notice Sends `amount` of the treasury's fees (those not paid to guardians) to `to`.
    function withdrawTreasury(address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (amount > _treasury) revert ResetParameterOutOfRange("amount", amount);
        _treasury -= amount;
        emit TreasuryWithdrawn(to, amount);
        _appendAudit(AuditKind.TreasuryWithdrawn, abi.encode(to, amount));
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ResetTransferFailed(to, amount);
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _request(bytes32 accountId, address newController, bytes calldata requesterKey)
        private
        returns (uint256 requestId)
    {
        (uint256 key, Account storage a) = _knownAccount(accountId);
        Policy memory policy = _policy;
        uint256 fee = policy.fee;
        if (msg.value != fee) revert ResetWrongFee(fee, msg.value);
        bytes32 requesterKeyHash = _checkRequesterKey(requesterKey);
        requestId = policy.lastRequestId + 1;
        _policy.lastRequestId = uint56(requestId);
        uint32 expiresAt = uint32(block.timestamp) + policy.lifetime;
        (uint256 epoch, uint256 committeeId) = (a.epoch, a.committeeId);
        bytes32 message = ProtocolMessages.resetMessage(
            block.chainid, address(this), requestId, accountId, epoch, committeeId, newController, requesterKeyHash
        );
        _requests[requestId] = Request(newController, expiresAt, uint8(ResetStatus.Pending), uint56(key));
        _postings[requestId] = Postings(uint192(uint256(keccak256(abi.encode(message, fee)))), 0, 0);
        bool drill = newController == address(0);
        emit ResetRequested(requestId, accountId, committeeId, epoch, newController, drill, requesterKey, expiresAt, fee);
        _appendAudit(
            AuditKind.ResetRequested,
            abi.encode(
                requestId, accountId, committeeId, epoch, newController, drill, requesterKey, uint64(expiresAt), fee
            )
        );
    }

    /// @dev A = a·G1: 128 bytes, not the point at infinity, in the subgroup (one G1MSM by 1 checks encoding, curve
    ///      and subgroup). Returns keccak256(A).
    function _checkRequesterKey(bytes calldata requesterKey) private view returns (bytes32 keyHash) {
        bool ok;
        assembly ("memory-safe") {
            if eq(requesterKey.length, 0x80) {
                let p := mload(0x40)
                calldatacopy(p, requesterKey.offset, 0x80)
                keyHash := keccak256(p, 0x80)
                let set := or(or(mload(p), mload(add(p, 0x20))), or(mload(add(p, 0x40)), mload(add(p, 0x60))))
                mstore(add(p, 0x80), 1)
                // exactly the G1MSM price of one point, so a refused key costs only that
                if set { ok := staticcall(12000, 0x0c, p, 0xa0, p, 0x80) }
            }
        }
        if (!ok) revert ResetInvalidRequesterKey();
    }

    function _post(PostingInput calldata input, bytes24 head, uint64 n) private returns (bytes24, uint64) {
        uint256 requestId = input.requestId;
        bytes calldata posting = input.posting;
        if (posting.length != CompressedPoints.POSTING_LENGTH) revert ResetPostingMalformed(posting.length);
        Request storage r = _requests[requestId];
        (uint256 state, uint256 deadline) = (r.state, r.deadline);
        _requireStatus(requestId, state, ResetStatus.Pending);
        if (block.timestamp > deadline) revert ResetExpired(requestId, uint64(deadline));
        Account storage a = _accounts[r.accountKey];
        (uint256 committeeId, uint256 voidBefore) = (a.committeeId, a.voidBefore);
        if (requestId < voidBefore) revert ResetVoided(requestId);
        uint256 slot = input.slot;
        uint32 committeeEpoch = input.committeeEpoch;
        (uint32 activeEpoch, address member) = _committees.activeMember(committeeId, slot);
        if (committeeEpoch != activeEpoch) revert ResetEpochNotActive(requestId, committeeEpoch);
        if (member != msg.sender) revert ResetNotMember(requestId, slot, msg.sender);

        Postings storage p = _postings[requestId];
        (uint256 digest, uint32 posted, uint32 postingEpoch) = (p.digest, p.posted, p.postingEpoch);
        // Epochs only move forward: a posting at a newer epoch starts a new bitmap.
        if (committeeEpoch != postingEpoch) (posted, postingEpoch) = (0, committeeEpoch);
        uint32 bit = uint32(uint256(1) << (slot - 1)); // slot ≤ n ≤ 32: checked by the membership test above
        if (posted & bit != 0) revert ResetAlreadyPosted(requestId, slot, committeeEpoch);
        bytes32 message = input.message;
        bytes32 postingHash = _calldataHash(posting);
        assembly ("memory-safe") {
            // uint192(keccak256(abi.encode(digest, slot, committeeEpoch, msg.sender, message, postingHash)))
            let q := mload(0x40)
            mstore(q, digest)
            mstore(add(q, 0x20), slot)
            mstore(add(q, 0x40), committeeEpoch)
            mstore(add(q, 0x60), caller())
            mstore(add(q, 0x80), message)
            mstore(add(q, 0xa0), postingHash)
            digest := and(keccak256(q, 0xc0), 0xffffffffffffffffffffffffffffffffffffffffffffffff)
        }
        (p.digest, p.posted, p.postingEpoch) = (uint192(digest), posted | bit, postingEpoch);
        bytes32 payloadHash;
        assembly ("memory-safe") {
            // One buffer for both: abi.encode(requestId, slot, committeeEpoch, caller, message, posting) is hashed for
            // the audit log, and from its second word (with the bytes offset 0xc0 rewritten to 0xa0) it is exactly
            // the data of PartialPosted(requestId indexed, slot, committeeEpoch, guardian, message, posting).
            let q := mload(0x40)
            mstore(q, requestId)
            mstore(add(q, 0x20), slot)
            mstore(add(q, 0x40), committeeEpoch)
            mstore(add(q, 0x60), caller())
            mstore(add(q, 0x80), message)
            mstore(add(q, 0xa0), 0xc0)
            mstore(add(q, 0xc0), 240)
            calldatacopy(add(q, 0xe0), posting.offset, 240)
            mstore(add(q, 0x1d0), 0) // zero padding of the last word (240 = 7·32 + 16)
            payloadHash := keccak256(q, 0x1e0)
            mstore(add(q, 0xa0), 0xa0)
            log2(add(q, 0x20), 0x1c0, PARTIAL_POSTED_TOPIC, requestId)
        }
        return _foldAudit(head, n, AuditKind.PartialPosted, payloadHash);
    }

    /// @dev Recomputes m from the context, checks the context against the request and the history against the
    ///      stored digest (from d_0 = keccak256(m, fee)); returns m. A context that is wrong in a field the request
    ///      slot does not hold (epoch, committee, requester key hash, fee) shows as a wrong history.
    function _checkHistory(
        uint256 requestId,
        Request storage r,
        RequestContext calldata context,
        PostingRecord[] calldata history
    ) private view returns (bytes32 message) {
        if (uint256(context.accountId) & KEY_MASK != r.accountKey || context.newController != r.newController) {
            revert ResetWrongContext(requestId);
        }
        message = ProtocolMessages.resetMessage(
            block.chainid,
            address(this),
            requestId,
            context.accountId,
            context.accountEpoch,
            context.committeeId,
            context.newController,
            context.requesterKeyHash
        );
        uint256 d = uint192(uint256(keccak256(abi.encode(message, context.fee))));
        for (uint256 k = 0; k < history.length; ++k) {
            PostingRecord calldata h = history[k];
            d = uint192(
                uint256(keccak256(abi.encode(d, h.slot, h.committeeEpoch, h.guardian, h.message, h.postingHash)))
            );
        }
        if (d != _postings[requestId].digest) revert ResetWrongPostingHistory(requestId);
    }

    /// @dev Pays fee / n once per slot to each standing posting of the true message (at any epoch), and counts it
    ///      served. Returns the slots served, the newest epoch with such a posting (0 if none), and the total paid.
    function _payStanding(uint256 requestId, bytes32 message, PostingRecord[] calldata history, uint256 share)
        private
        returns (uint32 served, uint256 epoch, uint256 paid)
    {
        for (uint256 k = 0; k < history.length; ++k) {
            PostingRecord calldata record = history[k];
            if (record.message != message || _isProven(requestId, k)) continue;
            uint32 bit = uint32(1) << (record.slot - 1);
            if (record.committeeEpoch > epoch) epoch = record.committeeEpoch;
            if (served & bit != 0) continue;
            served |= bit;
            // The registry says where the guardian's fees go (its withdrawal address, or itself).
            if (_sendFee(_guardianRegistry.recordService(record.guardian, requestId, true), share)) paid += share;
        }
    }

    /// @dev Counts a miss for every member of `epoch` that still holds its slot and whose slot was not served (at
    ///      any epoch).
    function _recordMisses(
        uint256 requestId,
        uint256 committeeId,
        uint256 activeEpoch,
        uint256 epoch,
        uint32 served
    ) private returns (uint32 missed) {
        ICommitteeRegistry.Member[] memory members = _committees.members(committeeId, activeEpoch);
        for (uint256 s = 1; s <= members.length; ++s) {
            uint32 bit = uint32(uint256(1) << (s - 1)); // s ≤ n ≤ 32
            if (served & bit != 0 || members[s - 1].since > epoch) continue;
            missed |= bit;
            _guardianRegistry.recordService(members[s - 1].operator, requestId, false);
        }
    }

    /// @dev Sends a fee with `FEE_TRANSFER_GAS`; the return data is not copied, so a recipient cannot make the
    ///      settlement pay for copying a large return into memory.
    function _sendFee(address to, uint256 amount) private returns (bool ok) {
        uint256 gasLimit = FEE_TRANSFER_GAS;
        assembly ("memory-safe") {
            ok := call(gasLimit, to, amount, 0, 0, 0, 0)
        }
    }

    function _isProven(uint256 requestId, uint256 position) private view returns (bool) {
        return _proven[requestId][position >> 8] & (uint256(1) << (position & 0xff)) != 0;
    }

    function _status(uint256 state) private pure returns (ResetStatus) {
        return ResetStatus(state & STATUS_MASK);
    }

    function _requireStatus(uint256 requestId, uint256 state, ResetStatus expected) private pure {
        ResetStatus status = _status(state);
        if (status == expected) return;
        if (status == ResetStatus.None) revert ResetUnknownRequest(requestId);
        if (expected == ResetStatus.Pending) revert ResetNotPending(requestId, status);
        revert ResetNotApproved(requestId, status);
    }

    function _calldataHash(bytes calldata data) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, data.offset, data.length)
            h := keccak256(p, data.length)
        }
    }

    function _callConsumer(
        uint256 requestId,
        uint256 key,
        bytes32 accountId,
        address oldController,
        address newController
    ) private {
        address consumer = _consumers[key];
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
        if (!ok) {
            emit ConsumerHookFailed(requestId, consumer);
            _appendAudit(AuditKind.ConsumerHookFailed, abi.encode(requestId, consumer));
        }
    }

    function _nextRequestId() internal view override returns (uint256) {
        return uint256(_policy.lastRequestId) + 1;
    }

    function _checkSecurityPeriod(uint32 securityPeriod) internal view override {
        Policy storage p = _policy;
        if (securityPeriod < p.minSecurityPeriod || securityPeriod > p.maxSecurityPeriod) {
            revert AccountSecurityPeriodOutOfRange(securityPeriod);
        }
    }

    /// @dev Role changes fold into the audit log like every other state change, except those of the constructor
    ///      (as in the two registries, whose constructors run before the audit log accepts their entries): an
    ///      auditor skips role events emitted by a contract's creation transaction.
    function _grantRole(bytes32 role, address account_) internal override returns (bool granted) {
        granted = super._grantRole(role, account_);
        if (granted && address(this).code.length != 0) _appendAudit(AuditKind.RoleGranted, abi.encode(role, account_, _msgSender()));
    }

    function _revokeRole(bytes32 role, address account_) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account_);
        if (revoked) _appendAudit(AuditKind.RoleRevoked, abi.encode(role, account_, _msgSender()));
    }

    /// @dev The floor is also the least a committee member must stay bonded after a handover: refused above the
    ///      committee registry's release delay (raise that first), which in turn refuses to go below the floor.
    function _syncUnbondingFloor() private {
        Policy memory p = _policy;
        uint64 floor = uint64(p.lifetime) + p.maxSecurityPeriod + p.disputeWindow;
        if (floor > _committees.parameters().releaseDelay) revert ResetParameterOutOfRange("unbondingFloor", floor);
        _guardianRegistry.setMinUnbondingDelay(floor);
    }

    function _setRequestFee(uint256 value) private {
        if (value == 0 || value > MAX_REQUEST_FEE) revert ResetParameterOutOfRange("requestFee", value);
        _policy.fee = uint64(value);
        _emitParameter("requestFee", value);
    }

    function _setRequestLifetime(uint32 value) private {
        if (value < MIN_REQUEST_LIFETIME || value > MAX_REQUEST_LIFETIME) {
            revert ResetParameterOutOfRange("requestLifetime", value);
        }
        _policy.lifetime = value;
        _emitParameter("requestLifetime", value);
    }

    function _setDisputeWindow(uint32 value) private {
        if (value < MIN_DISPUTE_WINDOW || value > MAX_DISPUTE_WINDOW) {
            revert ResetParameterOutOfRange("disputeWindow", value);
        }
        _policy.disputeWindow = value;
        _emitParameter("disputeWindow", value);
    }

    function _setSecurityPeriodBounds(uint32 minValue, uint32 maxValue) private {
        if (minValue == 0 || minValue > maxValue) revert ResetParameterOutOfRange("minSecurityPeriod", minValue);
        if (maxValue > MAX_SECURITY_PERIOD) revert ResetParameterOutOfRange("maxSecurityPeriod", maxValue);
        (_policy.minSecurityPeriod, _policy.maxSecurityPeriod) = (minValue, maxValue);
        _emitParameter("minSecurityPeriod", minValue);
        _emitParameter("maxSecurityPeriod", maxValue);
    }

    function _setSlashAmount(uint256 value) private {
        if (value == 0 || value > MAX_SLASH_AMOUNT) revert ResetParameterOutOfRange("slashAmount", value);
        _slashAmount = uint128(value);
        _emitParameter("slashAmount", value);
    }

    function _setProverRewardBps(uint256 value) private {
        if (value > MAX_PROVER_REWARD_BPS) revert ResetParameterOutOfRange("proverRewardBps", value);
        _proverRewardBps = uint16(value);
        _emitParameter("proverRewardBps", value);
    }

    function _setHookGasLimit(uint256 value) private {
        if (value == 0 || value > MAX_HOOK_GAS) revert ResetParameterOutOfRange("hookGasLimit", value);
        _hookGasLimit = uint32(value);
        _emitParameter("hookGasLimit", value);
    }

    function _emitParameter(bytes32 name, uint256 value) private {
        emit CoordinatorParameterChanged(name, value);
        _appendAudit(AuditKind.CoordinatorParameterChanged, abi.encode(name, value));
    }
}
