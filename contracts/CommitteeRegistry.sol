// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAuditLog} from "./interfaces/IAuditLog.sol";
import {ICommitteeRegistry} from "./interfaces/ICommitteeRegistry.sol";
import {IGuardianRegistry} from "./interfaces/IGuardianRegistry.sol";
import {IStakeLock} from "./interfaces/IStakeLock.sol";
import {CommitteeCrypto} from "./libraries/CommitteeCrypto.sol";
import {CommitteeSelection} from "./libraries/CommitteeSelection.sol";
import {ProtocolMessages} from "./libraries/ProtocolMessages.sol";

/// @title CommitteeRegistry
/// @notice Committees of guardians sharing one BLS key K (PROTOCOL.md §3–§4, §8). Not upgradeable.
/// @dev Concepts:
///  - Committee: n members in slots 1…n, threshold t, the hash of K (fixed by its DKG, never changed), its active
///    epoch. Members of every epoch are stored (one slot each: operator and the epoch it joined).
///  - Round: the DKG of epoch 1, or a handover to a new epoch. Dealers are the round's own members (DKG) or the
///    members of the source epoch (handover); recipients are the round's members. A round stores its phase,
///    deadlines, bitmaps (dealt, disqualified, complained, acknowledged, replaced) and, once finalized, the hash of
///    its commitments; dealings live in events and only their hashes are stored. Callers that need dealings or
///    commitments pass them and the contract checks them against the stored hashes.
///  - Phases: dealing until every dealer dealt or `dealDeadline`; complaints until `complaintDeadline`
///    (= end of dealing + complaintWindow); answers until `answerDeadline`; `finalize` by anyone after the
///    complaint window (after the answer window if a complaint is open); acknowledgements until `ackDeadline`; the
///    last one activates. The windows are copied into the round when it opens, so governance changes only apply
///    to later rounds.
///  - Enforcement on-chain: a DKG's C_l = Σ_{i∈Q} D_{i,l} and a handover's C'_l = Σ_{i∈Q'} λ_i·E_{i,l} with
///    C'_0 = K are computed here, never posted; answers are checked against the dealer's commitments with G2MSM.
///    Faults that need no window (a wrong answer) are slashed at once; an unanswered complaint when the round is
///    finalized or expires; a reshare dealing with E_{i,0} ≠ PK_i and an invalid proof of possession by proofs
///    anyone may submit. Proofs of possession are not verified when posted (a pairing per acknowledgement);
///    they are folded into a digest so that an invalid one is provable.
///  - Replacement rule (`CommitteeSelection`): `startHandover` records the request and a draw block DRAW_DELAY
///    blocks ahead; `drawReplacements` seeds from that block's hash a starting point in the registry's list of
///    guardians; the first eligible non-member with the best spread score (new region 2, new provider 1) within
///    `MAX_SCAN` entries is taken. Nobody knows the seed when the request is made and whoever draws cannot change
///    it; the draw block's proposer can only withhold that block.
///  - Stake lock (`IStakeLock`): a member's stake stays in the registry while it sits in a forming, active or
///    incoming membership, and for `releaseDelay` after it has been handed over (its epoch's dispute windows);
///    `releaseDelay` is never below the guardian registry's `minUnbondingDelay` (the coordinator's dispute horizon).
///  - Every state change emits its event and is folded into the coordinator's audit log.
contract CommitteeRegistry is ICommitteeRegistry, AccessControl, ReentrancyGuardTransient {
    uint256 public constant MAX_SIZE = 32;
    uint256 public constant MIN_THRESHOLD = 2;
    /// @notice A handover's finalization runs t G2MSMs of t points with t² commitments in calldata; t ≤ 24 keeps it
    ///         well under the 16,777,216 gas a transaction may use (EIP-7825).
    uint256 public constant MAX_THRESHOLD = 24;
    /// @notice Replacements are drawn from the hash of a block this far after the request, unknown when it is made.
    uint256 public constant DRAW_DELAY = 2;
    /// @notice How many registry entries a replacement draw looks at, at most.
    uint256 public constant MAX_SCAN = 32;
    uint32 public constant MIN_WINDOW = 30 seconds;
    /// @notice An accused dealer always has at least this long to answer, however late a complaint comes.
    uint32 public constant MIN_ANSWER_WINDOW = 1 hours;
    uint32 public constant MAX_WINDOW = 30 days;
    uint32 public constant MIN_EPOCH_AGE = 1 days;
    uint32 public constant MAX_EPOCH_AGE = 3650 days;
    uint32 public constant MIN_RELEASE_DELAY = 1 hours;
    uint32 public constant MAX_RELEASE_DELAY = 365 days;
    uint256 public constant MAX_SLASH_AMOUNT = 1_000 ether;
    uint256 public constant MAX_PROVER_REWARD_BPS = 5_000;

    /// @dev Per-byte length of a sealed sub-share: X25519 encapsulated key (32) ‖ ChaCha20-Poly1305(32-byte scalar).
    uint256 public constant SEALED_SUBSHARE_LENGTH = 80;
    uint256 private constant G2_LENGTH = 256;
    uint256 private constant G1_LENGTH = 128;

    struct Committee {
        // slot 0
        CommitteeStatus status;
        uint8 size;
        uint8 threshold;
        uint32 activeEpoch;
        uint32 lastEpoch;
        uint40 activatedAt;
        uint32 drawReplaced; // a requested handover: the slots that leave, drawn at `drawBlock`
        uint8 drawThreshold;
        uint40 drawBlock; // 0 when no handover is requested
        uint32 laggards; // continuing members that did not acknowledge the last handover: the next one replaces them
        // slot 1
        bytes32 groupKeyHash;
    }

    struct Round {
        // slot 0
        RoundPhase phase;
        uint8 threshold;
        uint32 sourceEpoch;
        uint40 dealDeadline;
        uint40 dealEnd; // when the last dealer dealt, 0 until then
        uint40 finalizedAt;
        uint32 dealt;
        uint32 disqualified;
        // slot 1
        uint32 complained;
        uint32 acknowledged;
        uint32 replaced;
        uint32 possessionProven;
        uint32 complaintWindow;
        uint32 answerWindow;
        uint32 ackWindow;
        // slot 2
        bytes32 commitmentsHash;
        // slot 3: d_k = keccak256(abi.encode(d_{k−1}, slot, operator, keccak256(proof))) over the acknowledgements
        bytes32 possessionDigest;
    }

    struct Lock {
        uint32 memberships;
        uint64 releaseAt;
    }

    IGuardianRegistry private immutable _guardians;
    IAuditLog private immutable _auditLog;

    Parameters private _params;
    uint256 private _committeeCount;
    mapping(uint256 committeeId => Committee) private _committees;
    mapping(uint256 committeeId => mapping(uint256 epoch => Round)) private _rounds;
    /// @dev The current membership (the forming one, then the active one), and the replacements of a handover in
    ///      progress (only its replaced slots). Older memberships live in events.
    mapping(uint256 committeeId => mapping(uint256 slot => Member)) private _members;
    mapping(uint256 committeeId => mapping(uint256 slot => address)) private _incoming;
    mapping(uint256 committeeId => mapping(uint256 epoch => mapping(uint256 dealer => bytes32))) private _dealings;
    mapping(uint256 committeeId => mapping(uint256 epoch => mapping(uint256 dealer => uint32))) private _complaints;
    mapping(address operator => Lock) private _locks;

    constructor(address admin, IGuardianRegistry guardianRegistry_, IAuditLog auditLog_, Parameters memory p) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _guardians = guardianRegistry_;
        _auditLog = auditLog_;
        // The initial values are checked like later changes, but not audited: the coordinator accepts this
        // contract's entries only once it has been wired (`parameters()` shows them).
        _checkParameters(p);
        _params = p;
    }

    // ───────────────────────────── formation (§3) ─────────────────────────────

    /// @inheritdoc ICommitteeRegistry
    function propose(address[] calldata members_, uint8 threshold) external nonReentrant returns (uint256 committeeId) {
        uint256 n = members_.length;
        _checkSize(n, threshold);
        _guardians.requireEligibleCommittee(members_);
        committeeId = ++_committeeCount;
        _committees[committeeId] = Committee({
            status: CommitteeStatus.Forming,
            size: uint8(n),
            threshold: threshold,
            activeEpoch: 0,
            lastEpoch: 1,
            activatedAt: 0,
            drawReplaced: 0,
            drawThreshold: 0,
            drawBlock: 0,
            laggards: 0,
            groupKeyHash: bytes32(0)
        });
        for (uint256 s = 1; s <= n; ++s) {
            _members[committeeId][s] = Member(members_[s - 1], 1);
            _lock(members_[s - 1]);
        }
        uint64 dealDeadline = _openRound(committeeId, 1, threshold, 0, 0);
        emit CommitteeProposed(committeeId, msg.sender, members_, threshold, dealDeadline);
        _audit(
            IAuditLog.AuditKind.CommitteeProposed, abi.encode(committeeId, msg.sender, members_, threshold, dealDeadline)
        );
    }

    /// @inheritdoc ICommitteeRegistry
    function deal(uint256 committeeId, uint256 epoch, uint8 dealer, bytes calldata commitments, bytes calldata sealedShares)
        external
    {
        Round storage r = _round(committeeId, epoch, RoundPhase.Dealing);
        uint256 n = _committees[committeeId].size;
        _requireDealer(committeeId, epoch, dealer, n);
        if (block.timestamp > r.dealDeadline) revert CommitteeDealingClosed(committeeId, epoch, r.dealDeadline);
        if (commitments.length != uint256(r.threshold) * G2_LENGTH || sealedShares.length != n * SEALED_SUBSHARE_LENGTH)
        {
            revert CommitteeDealingMalformed(commitments.length, sealedShares.length);
        }
        uint32 bit = _bit(dealer);
        uint32 dealt = r.dealt;
        if (dealt & bit != 0) revert CommitteeAlreadyDealt(committeeId, epoch, dealer);
        dealt |= bit;
        r.dealt = dealt;
        if (dealt == _mask(n)) r.dealEnd = uint40(block.timestamp);
        _dealings[committeeId][epoch][dealer] = keccak256(commitments);
        emit CommitteeDealingPosted(committeeId, epoch, dealer, commitments, sealedShares);
        _audit(
            IAuditLog.AuditKind.CommitteeDealingPosted,
            abi.encode(committeeId, epoch, dealer, commitments, sealedShares)
        );
    }

    /// @inheritdoc ICommitteeRegistry
    function complain(uint256 committeeId, uint256 epoch, uint8 dealer, uint8 recipient) external {
        Round storage r = _round(committeeId, epoch, RoundPhase.Dealing);
        uint256 n = _committees[committeeId].size;
        _requireRecipient(committeeId, epoch, r, recipient, n);
        uint64 closes = _complaintDeadline(r);
        if (block.timestamp > closes) revert CommitteeComplaintsClosed(committeeId, epoch, closes);
        uint32 dealerBit = _dealerBit(committeeId, epoch, r, dealer, n);
        uint32 open = _complaints[committeeId][epoch][dealer];
        uint32 bit = _bit(recipient);
        if (open & bit != 0) revert CommitteeAlreadyComplained(committeeId, epoch, dealer, recipient);
        _complaints[committeeId][epoch][dealer] = open | bit;
        r.complained |= dealerBit;
        emit CommitteeComplaintFiled(committeeId, epoch, dealer, recipient);
        _audit(IAuditLog.AuditKind.CommitteeComplaintFiled, abi.encode(committeeId, epoch, dealer, recipient));
    }

    /// @inheritdoc ICommitteeRegistry
    function answer(
        uint256 committeeId,
        uint256 epoch,
        uint8 dealer,
        uint8 recipient,
        uint256 subShare,
        bytes calldata commitments
    ) external nonReentrant {
        Round storage r = _round(committeeId, epoch, RoundPhase.Dealing);
        uint256 n = _committees[committeeId].size;
        address dealerOperator = _requireDealer(committeeId, epoch, dealer, n);
        uint64 closes = _answerDeadline(r);
        if (block.timestamp > closes) revert CommitteeAnswersClosed(committeeId, epoch, closes);
        uint32 dealerBit = _dealerBit(committeeId, epoch, r, dealer, n);
        uint32 open = _complaints[committeeId][epoch][dealer];
        uint32 bit = recipient == 0 || recipient > n ? 0 : _bit(recipient);
        if (open & bit == 0) revert CommitteeNoComplaint(committeeId, epoch, dealer, recipient);
        if (keccak256(commitments) != _dealings[committeeId][epoch][dealer]) {
            revert CommitteeDealingMismatch(committeeId, epoch, dealer);
        }
        bool valid = CommitteeCrypto.shareMatches(commitments, recipient, subShare);
        open &= ~bit;
        _complaints[committeeId][epoch][dealer] = open;
        if (open == 0) r.complained &= ~dealerBit;
        emit CommitteeComplaintAnswered(committeeId, epoch, dealer, recipient, subShare, valid);
        _audit(
            IAuditLog.AuditKind.CommitteeComplaintAnswered,
            abi.encode(committeeId, epoch, dealer, recipient, subShare, valid)
        );
        // The complaint and the answer prove the fault together: the complainer is the prover.
        if (!valid) _disqualify(committeeId, epoch, r, dealer, dealerOperator, CommitteeFault.WrongAnswer, _recipient(committeeId, r, recipient));
    }

    /// @inheritdoc ICommitteeRegistry
    function finalize(uint256 committeeId, uint256 epoch, bytes[] calldata dealings) external nonReentrant {
        Round storage r = _round(committeeId, epoch, RoundPhase.Dealing);
        Committee storage c = _committees[committeeId];
        uint64 notBefore = _complaintDeadline(r);
        if (block.timestamp <= notBefore) revert CommitteeTooEarly(committeeId, epoch, notBefore);
        if (r.complained != 0) {
            notBefore = _answerDeadline(r);
            if (block.timestamp <= notBefore) revert CommitteeTooEarly(committeeId, epoch, notBefore);
            _settleComplaints(committeeId, epoch, r, c.size);
        }
        uint32 qualified = r.dealt & ~r.disqualified;
        // A DKG needs t dealers; a handover needs the source epoch's t, whose shares lie on a degree t − 1 polynomial.
        uint256 t = r.sourceEpoch == 0 ? r.threshold : c.threshold;
        if (_popcount(qualified) < t) {
            _fail(committeeId, epoch, r, RoundFailure.TooFewQualifiedDealers);
            return;
        }
        bytes memory commitments;
        bool ok;
        if (r.sourceEpoch == 0) {
            // §3.5: C_l = Σ_{i∈Q} D_{i,l}, K = C_0.
            (ok, commitments) = CommitteeCrypto.sumCommitments(_selectDealings(committeeId, epoch, qualified, dealings));
            if (!ok) revert CommitteeWrongCommitments(committeeId, epoch);
            bytes32 keyHash = _hashPrefix(commitments, G2_LENGTH);
            // keccak256 of 256 zero bytes, the EIP-2537 point at infinity
            if (keyHash == 0xd397b3b043d87fcd6fad1291ff0bfd16401c274896d8c63a923727f077b8e0b5) {
                _fail(committeeId, epoch, r, RoundFailure.GroupKeyAtInfinity);
                return;
            }
            c.groupKeyHash = keyHash;
            _auditLog.recordGroupKey(committeeId, keyHash);
        } else {
            // §4.3: Q' = the t qualified dealers with the lowest old indices; C'_l = Σ λ_i·E_{i,l}; C'_0 = K.
            qualified = _lowestBits(qualified, t);
            uint256[] memory indices = new uint256[](t);
            uint256 k = 0;
            for (uint256 s = 1; k < t; ++s) {
                if (qualified & _bit(s) != 0) indices[k++] = s;
            }
            (ok, commitments) =
                CommitteeCrypto.reshareCommitments(_selectDealings(committeeId, epoch, qualified, dealings), indices);
            if (!ok) revert CommitteeWrongCommitments(committeeId, epoch);
            if (_hashPrefix(commitments, G2_LENGTH) != c.groupKeyHash) {
                revert CommitteeReshareKeyMismatch(committeeId, epoch);
            }
        }
        r.commitmentsHash = keccak256(commitments);
        r.phase = RoundPhase.Acknowledging;
        r.finalizedAt = uint40(block.timestamp);
        emit CommitteeRoundFinalized(committeeId, epoch, qualified, commitments);
        _audit(IAuditLog.AuditKind.CommitteeRoundFinalized, abi.encode(committeeId, epoch, qualified, commitments));
    }

    /// @inheritdoc ICommitteeRegistry
    function acknowledge(uint256 committeeId, uint256 epoch, uint8 slot, bytes calldata proof) external nonReentrant {
        Round storage r = _round(committeeId, epoch, RoundPhase.Acknowledging);
        uint256 n = _committees[committeeId].size;
        _requireRecipient(committeeId, epoch, r, slot, n);
        uint64 closes = _ackDeadline(r);
        if (block.timestamp > closes) revert CommitteeAcknowledgementsClosed(committeeId, epoch, closes);
        if (proof.length != G1_LENGTH) revert CommitteeInvalidProofLength(proof.length);
        uint32 bit = _bit(slot);
        uint32 acknowledged = r.acknowledged;
        if (acknowledged & bit != 0) revert CommitteeAlreadyAcknowledged(committeeId, epoch, slot);
        acknowledged |= bit;
        r.acknowledged = acknowledged;
        r.possessionDigest = keccak256(abi.encode(r.possessionDigest, slot, msg.sender, keccak256(proof)));
        emit CommitteeAcknowledged(committeeId, epoch, slot, msg.sender, proof);
        _audit(IAuditLog.AuditKind.CommitteeAcknowledged, abi.encode(committeeId, epoch, slot, msg.sender, proof));
        if (acknowledged == _mask(n)) _activate(committeeId, epoch, r);
    }

    /// @inheritdoc ICommitteeRegistry
    function expire(uint256 committeeId, uint256 epoch) external nonReentrant {
        Round storage r = _rounds[committeeId][epoch];
        RoundPhase phase = r.phase;
        if (phase != RoundPhase.Dealing && phase != RoundPhase.Acknowledging) {
            if (phase == RoundPhase.None) revert CommitteeUnknown(committeeId);
            revert CommitteeWrongPhase(committeeId, epoch, phase);
        }
        uint64 deadline = _expiresAt(r);
        if (block.timestamp <= deadline) revert CommitteeTooEarly(committeeId, epoch, deadline);
        if (phase == RoundPhase.Dealing && r.complained != 0) {
            _settleComplaints(committeeId, epoch, r, _committees[committeeId].size);
        }
        _fail(
            committeeId,
            epoch,
            r,
            phase == RoundPhase.Dealing ? RoundFailure.NotFinalizedInTime : RoundFailure.NotAcknowledgedInTime
        );
    }

    // ───────────────────────────── handover (§4) ─────────────────────────────

    /// @inheritdoc ICommitteeRegistry
    function startHandover(uint256 committeeId) external nonReentrant returns (uint256) {
        Committee storage c = _activeCommittee(committeeId);
        uint256 n = c.size;
        uint32 leaving = 0;
        uint256 longest = 0;
        uint256 longestSince = type(uint256).max;
        for (uint256 s = 1; s <= n; ++s) {
            Member storage m = _members[committeeId][s];
            if (!_guardians.isEligible(m.operator)) leaving |= _bit(s);
            if (m.since < longestSince) (longest, longestSince) = (s, m.since);
        }
        // Members that let the last handover fail by not acknowledging leave too, so none can block rotation.
        leaving |= c.laggards;
        if (leaving == 0) {
            uint64 due = uint64(c.activatedAt) + _params.maxEpochAge;
            if (block.timestamp < due) revert CommitteeHandoverNotDue(committeeId, due);
            leaving = _bit(longest); // the seed's periodic rotation: the longest-serving member leaves
        }
        return _requestDraw(committeeId, c, leaving, c.threshold);
    }

    /// @inheritdoc ICommitteeRegistry
    function drawReplacements(uint256 committeeId) external nonReentrant returns (uint256 epoch) {
        Committee storage c = _activeCommittee(committeeId);
        uint256 drawBlock = c.drawBlock;
        if (drawBlock == 0) revert CommitteeNoHandoverRequested(committeeId);
        if (block.number <= drawBlock) revert CommitteeDrawNotReady(committeeId, uint64(drawBlock));
        bytes32 seed = blockhash(drawBlock);
        if (seed == bytes32(0)) {
            // More than 256 blocks late: the hash is gone; draw from a new future block instead.
            uint32 replaced = c.drawReplaced;
            uint8 threshold = c.drawThreshold;
            c.drawBlock = 0;
            return _requestDraw(committeeId, c, replaced, threshold);
        }
        (uint32 leaving, uint8 t) = (c.drawReplaced, c.drawThreshold);
        (c.drawReplaced, c.drawThreshold, c.drawBlock) = (0, 0, 0);
        return _startHandover(committeeId, c, leaving, t, seed);
    }

    /// @inheritdoc ICommitteeRegistry
    function forceHandover(uint256 committeeId, uint32 slots, uint8 threshold)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        nonReentrant
        returns (uint256)
    {
        Committee storage c = _activeCommittee(committeeId);
        if (slots & ~_mask(c.size) != 0) revert CommitteeInvalidSlots(committeeId, slots);
        _checkSize(c.size, threshold);
        return _requestDraw(committeeId, c, slots, threshold);
    }

    // ───────────────────────────── accountability (§8) ─────────────────────────────

    /// @inheritdoc ICommitteeRegistry
    function proveReshareKeyMismatch(
        uint256 committeeId,
        uint256 epoch,
        uint8 dealer,
        bytes calldata dealing,
        bytes calldata sourceCommitments
    ) external nonReentrant {
        Round storage r = _rounds[committeeId][epoch];
        uint256 source = r.sourceEpoch;
        if (source == 0) revert CommitteeWrongPhase(committeeId, epoch, r.phase);
        uint256 n = _committees[committeeId].size;
        _dealerBit(committeeId, epoch, r, dealer, n);
        address operator = _dealerOf(committeeId, epoch, r, dealer);
        if (keccak256(dealing) != _dealings[committeeId][epoch][dealer]) {
            revert CommitteeDealingMismatch(committeeId, epoch, dealer);
        }
        if (keccak256(sourceCommitments) != _rounds[committeeId][source].commitmentsHash) {
            revert CommitteeWrongCommitments(committeeId, source);
        }
        if (keccak256(dealing[:G2_LENGTH]) == CommitteeCrypto.publicShareHash(sourceCommitments, dealer)) {
            revert CommitteeFaultNotProven(committeeId, epoch, dealer);
        }
        _disqualify(committeeId, epoch, r, dealer, operator, CommitteeFault.ReshareKeyMismatch, msg.sender);
    }

    /// @inheritdoc ICommitteeRegistry
    function proveInvalidPossession(
        uint256 committeeId,
        uint256 epoch,
        uint8 slot,
        bytes calldata proof,
        bytes calldata commitments,
        Acknowledgement[] calldata history
    ) external nonReentrant {
        Round storage r = _rounds[committeeId][epoch];
        if (r.acknowledged & (slot == 0 || slot > MAX_SIZE ? 0 : _bit(slot)) == 0) {
            revert CommitteeNotAcknowledged(committeeId, epoch, slot);
        }
        // Replay the acknowledgements against the stored digest; the entry of `slot` names its operator and proof.
        bytes32 digest;
        address operator;
        bytes32 proofHash;
        for (uint256 k = 0; k < history.length; ++k) {
            Acknowledgement calldata a = history[k];
            digest = keccak256(abi.encode(digest, a.slot, a.operator, a.proofHash));
            if (a.slot == slot) (operator, proofHash) = (a.operator, a.proofHash);
        }
        if (digest != r.possessionDigest) revert CommitteeWrongHistory(committeeId, epoch);
        if (proofHash == bytes32(0) || keccak256(proof) != proofHash) {
            revert CommitteeNotAcknowledged(committeeId, epoch, slot);
        }
        if (r.possessionProven & _bit(slot) != 0) revert CommitteeFaultNotProven(committeeId, epoch, slot);
        if (keccak256(commitments) != r.commitmentsHash) revert CommitteeWrongCommitments(committeeId, epoch);
        bytes32 message = ProtocolMessages.committeeAckMessage(block.chainid, address(this), committeeId, epoch, slot);
        if (CommitteeCrypto.possessionHolds(proof, commitments, slot, message)) {
            revert CommitteeFaultNotProven(committeeId, epoch, slot);
        }
        r.possessionProven |= _bit(slot); // proven once
        _slash(committeeId, epoch, slot, operator, CommitteeFault.InvalidPossession, msg.sender);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IStakeLock
    function stakeLockedUntil(address operator) external view returns (uint64) {
        Lock storage l = _locks[operator];
        return l.memberships > 0 ? type(uint64).max : l.releaseAt;
    }

    /// @inheritdoc ICommitteeRegistry
    function committee(uint256 committeeId) external view returns (CommitteeView memory v) {
        Committee storage c = _committees[committeeId];
        v = CommitteeView({
            status: c.status,
            size: c.size,
            threshold: c.threshold,
            activeEpoch: c.activeEpoch,
            lastEpoch: c.lastEpoch,
            activatedAt: c.activatedAt,
            groupKeyHash: c.groupKeyHash,
            commitmentsHash: _rounds[committeeId][c.activeEpoch].commitmentsHash,
            laggards: c.laggards
        });
    }

    /// @inheritdoc ICommitteeRegistry
    function committeeState(uint256 committeeId)
        external
        view
        returns (CommitteeStatus status, uint8 size, uint8 threshold, uint32 activeEpoch)
    {
        Committee storage c = _committees[committeeId];
        return (c.status, c.size, c.threshold, c.activeEpoch);
    }

    /// @inheritdoc ICommitteeRegistry
    function activeMember(uint256 committeeId, uint256 slot) external view returns (uint32 activeEpoch, address operator) {
        Committee storage c = _committees[committeeId];
        activeEpoch = c.activeEpoch;
        if (c.status == CommitteeStatus.Active && slot != 0 && slot <= c.size) {
            operator = _members[committeeId][slot].operator;
        }
    }

    /// @inheritdoc ICommitteeRegistry
    function groupKeyHash(uint256 committeeId) external view returns (bytes32) {
        return _committees[committeeId].groupKeyHash;
    }

    /// @inheritdoc ICommitteeRegistry
    function commitmentsHash(uint256 committeeId, uint256 epoch) external view returns (bytes32) {
        return _rounds[committeeId][epoch].commitmentsHash;
    }

    /// @inheritdoc ICommitteeRegistry
    function round(uint256 committeeId, uint256 epoch) external view returns (RoundView memory v) {
        Round storage r = _rounds[committeeId][epoch];
        v = RoundView({
            phase: r.phase,
            threshold: r.threshold,
            sourceEpoch: r.sourceEpoch,
            dealDeadline: r.dealDeadline,
            complaintDeadline: _complaintDeadline(r),
            answerDeadline: _answerDeadline(r),
            finalizedAt: r.finalizedAt,
            ackDeadline: r.finalizedAt == 0 ? 0 : _ackDeadline(r),
            expiresAt: r.phase == RoundPhase.Dealing || r.phase == RoundPhase.Acknowledging ? _expiresAt(r) : 0,
            dealt: r.dealt,
            disqualified: r.disqualified,
            complained: r.complained,
            acknowledged: r.acknowledged,
            replaced: r.replaced,
            possessionProven: r.possessionProven,
            commitmentsHash: r.commitmentsHash
        });
    }

    /// @inheritdoc ICommitteeRegistry
    function members(uint256 committeeId, uint256 epoch) external view returns (Member[] memory list) {
        Committee storage c = _committees[committeeId];
        Round storage r = _rounds[committeeId][epoch];
        bool current = epoch != 0 && (epoch == c.activeEpoch || (c.status == CommitteeStatus.Forming && epoch == 1));
        bool pending = epoch == c.lastEpoch && (r.phase == RoundPhase.Dealing || r.phase == RoundPhase.Acknowledging);
        if (!current && !pending) revert CommitteeWrongPhase(committeeId, epoch, r.phase);
        uint256 n = c.size;
        list = new Member[](n);
        for (uint256 s = 1; s <= n; ++s) {
            address incoming = pending && r.sourceEpoch != 0 && r.replaced & _bit(s) != 0 ? _incoming[committeeId][s] : address(0);
            list[s - 1] = incoming != address(0) ? Member(incoming, uint32(epoch)) : _members[committeeId][s];
        }
    }

    /// @inheritdoc ICommitteeRegistry
    function dealingHash(uint256 committeeId, uint256 epoch, uint256 dealer) external view returns (bytes32) {
        return _dealings[committeeId][epoch][dealer];
    }

    /// @inheritdoc ICommitteeRegistry
    function complaints(uint256 committeeId, uint256 epoch, uint256 dealer) external view returns (uint32) {
        return _complaints[committeeId][epoch][dealer];
    }

    /// @inheritdoc ICommitteeRegistry
    function ackMessage(uint256 committeeId, uint256 epoch, uint256 slot) external view returns (bytes32) {
        return ProtocolMessages.committeeAckMessage(block.chainid, address(this), committeeId, epoch, slot);
    }

    /// @inheritdoc ICommitteeRegistry
    function committeeCount() external view returns (uint256) {
        return _committeeCount;
    }

    /// @inheritdoc ICommitteeRegistry
    function parameters() external view returns (Parameters memory) {
        return _params;
    }

    function guardianRegistry() external view returns (IGuardianRegistry) {
        return _guardians;
    }

    // ───────────────────────────── governance ─────────────────────────────

    /// @notice Sets every parameter at once (each within its bounds); running rounds keep the windows they opened with.
    function setParameters(Parameters calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkParameters(p);
        _params = p;
        emit CommitteeParametersSet(p);
        _audit(IAuditLog.AuditKind.CommitteeParametersSet, abi.encode(p));
    }

    // ───────────────────────────── internals: rounds ─────────────────────────────

    /// @dev Opens round `epoch` with the current windows; returns its dealing deadline.
    function _openRound(uint256 committeeId, uint256 epoch, uint8 threshold, uint256 sourceEpoch, uint32 replaced)
        private
        returns (uint64 dealDeadline)
    {
        Parameters storage p = _params;
        dealDeadline = uint64(block.timestamp) + p.dealWindow;
        Round storage r = _rounds[committeeId][epoch];
        r.phase = RoundPhase.Dealing;
        r.threshold = threshold;
        r.sourceEpoch = uint32(sourceEpoch);
        r.dealDeadline = uint40(dealDeadline);
        r.replaced = replaced;
        r.complaintWindow = p.complaintWindow;
        r.answerWindow = p.answerWindow;
        r.ackWindow = p.ackWindow;
    }

    /// @dev Records a handover of `replaced` with threshold `threshold`, to be drawn from the hash of a block
    ///      DRAW_DELAY blocks ahead; returns the epoch it will open.
    function _requestDraw(uint256 committeeId, Committee storage c, uint32 replaced, uint8 threshold)
        private
        returns (uint256 epoch)
    {
        RoundPhase last = _rounds[committeeId][c.lastEpoch].phase;
        if (c.drawBlock != 0 || (last != RoundPhase.Active && last != RoundPhase.Failed)) {
            revert CommitteeHandoverInProgress(committeeId, c.lastEpoch);
        }
        uint64 drawBlock = uint64(block.number + DRAW_DELAY);
        (c.drawReplaced, c.drawThreshold, c.drawBlock) = (replaced, threshold, uint40(drawBlock));
        epoch = c.lastEpoch + 1;
        emit CommitteeHandoverRequested(committeeId, epoch, replaced, threshold, drawBlock);
        _audit(
            IAuditLog.AuditKind.CommitteeHandoverRequested,
            abi.encode(committeeId, epoch, replaced, threshold, drawBlock)
        );
    }

    function _startHandover(uint256 committeeId, Committee storage c, uint32 replaced, uint8 threshold, bytes32 seed)
        private
        returns (uint256 epoch)
    {
        uint256 source = c.activeEpoch;
        epoch = c.lastEpoch + 1;
        c.lastEpoch = uint32(epoch);
        uint256 n = c.size;
        address[] memory previous = new address[](n);
        address[] memory next = new address[](n);
        for (uint256 s = 1; s <= n; ++s) {
            address operator = _members[committeeId][s].operator;
            previous[s - 1] = operator;
            if (replaced & _bit(s) == 0) next[s - 1] = operator;
        }
        for (uint256 s = 1; s <= n; ++s) {
            if (replaced & _bit(s) == 0) continue;
            address pick = _pickReplacement(committeeId, epoch, s, seed, previous, next);
            next[s - 1] = pick;
            _incoming[committeeId][s] = pick;
            _lock(pick);
        }
        uint64 dealDeadline = _openRound(committeeId, epoch, threshold, source, replaced);
        emit CommitteeHandoverStarted(committeeId, epoch, source, threshold, replaced, next, dealDeadline);
        _audit(
            IAuditLog.AuditKind.CommitteeHandoverStarted,
            abi.encode(committeeId, epoch, source, threshold, replaced, next, dealDeadline)
        );
    }

    /// @dev The replacement for `slot`, drawn by `CommitteeSelection` from a block hash unknown when it was requested.
    function _pickReplacement(
        uint256 committeeId,
        uint256 epoch,
        uint256 slot,
        bytes32 blockHash,
        address[] memory previous,
        address[] memory next
    ) private view returns (address pick) {
        uint256 seed = uint256(keccak256(abi.encode(blockHash, committeeId, epoch, slot)));
        pick = CommitteeSelection.pickReplacement(address(_guardians), seed, MAX_SCAN, previous, next);
        if (pick == address(0)) revert CommitteeNoReplacement(committeeId, slot);
    }

    function _activate(uint256 committeeId, uint256 epoch, Round storage r) private {
        Committee storage c = _committees[committeeId];
        uint256 source = r.sourceEpoch;
        if (source != 0) {
            // §4.4: the old epoch is retired; the members who left stay bonded for its dispute windows.
            _rounds[committeeId][source].phase = RoundPhase.Retired;
            uint32 replaced = r.replaced;
            uint64 releaseAt = uint64(block.timestamp) + _params.releaseDelay;
            for (uint256 s = 1; s <= c.size; ++s) {
                if (replaced & _bit(s) == 0) continue;
                _unlock(_members[committeeId][s].operator, releaseAt);
                _members[committeeId][s] = Member(_incoming[committeeId][s], uint32(epoch));
                delete _incoming[committeeId][s];
            }
            emit CommitteeEpochRetired(committeeId, source);
            _audit(IAuditLog.AuditKind.CommitteeEpochRetired, abi.encode(committeeId, source));
        }
        r.phase = RoundPhase.Active;
        c.status = CommitteeStatus.Active;
        c.laggards = 0;
        c.activeEpoch = uint32(epoch);
        c.threshold = r.threshold;
        c.activatedAt = uint40(block.timestamp);
        (bytes32 keyHash, bytes32 cHash) = (c.groupKeyHash, r.commitmentsHash);
        emit CommitteeActivated(committeeId, epoch, keyHash, cHash);
        _audit(IAuditLog.AuditKind.CommitteeActivated, abi.encode(committeeId, epoch, keyHash, cHash));
    }

    /// @dev A failed formation fails the committee and releases its members; a failed handover releases only the
    ///      incoming members and leaves the active epoch in charge (§4.5).
    function _fail(uint256 committeeId, uint256 epoch, Round storage r, RoundFailure reason) private {
        r.phase = RoundPhase.Failed;
        Committee storage c = _committees[committeeId];
        uint256 n = c.size;
        uint32 incoming = r.sourceEpoch == 0 ? _mask(n) : r.replaced;
        if (r.sourceEpoch == 0) c.status = CommitteeStatus.Failed;
        else if (reason == RoundFailure.NotAcknowledgedInTime) c.laggards = _mask(n) & ~r.replaced & ~r.acknowledged;
        for (uint256 s = 1; s <= n; ++s) {
            if (incoming & _bit(s) == 0) continue;
            if (r.sourceEpoch == 0) {
                _unlock(_members[committeeId][s].operator, uint64(block.timestamp));
            } else {
                _unlock(_incoming[committeeId][s], uint64(block.timestamp));
                delete _incoming[committeeId][s];
            }
        }
        emit CommitteeRoundFailed(committeeId, epoch, reason);
        _audit(IAuditLog.AuditKind.CommitteeRoundFailed, abi.encode(committeeId, epoch, reason));
    }

    /// @dev Every dealer with a complaint still open when the answer window closed is disqualified and slashed.
    function _settleComplaints(uint256 committeeId, uint256 epoch, Round storage r, uint256 n) private {
        uint32 complained = r.complained;
        for (uint256 s = 1; s <= n; ++s) {
            if (complained & _bit(s) == 0) continue;
            // The lowest complainer proved it (the complaint stood unanswered).
            uint32 open = _complaints[committeeId][epoch][s];
            uint256 complainer = 1;
            while (open & _bit(complainer) == 0) ++complainer;
            _disqualify(
                committeeId,
                epoch,
                r,
                uint8(s),
                _members[committeeId][s].operator,
                CommitteeFault.UnansweredComplaint,
                _recipient(committeeId, r, complainer)
            );
        }
    }

    function _disqualify(
        uint256 committeeId,
        uint256 epoch,
        Round storage r,
        uint8 dealer,
        address operator,
        CommitteeFault fault,
        address prover
    ) private {
        uint32 bit = _bit(dealer);
        r.disqualified |= bit;
        r.complained &= ~bit;
        _slash(committeeId, epoch, dealer, operator, fault, prover);
    }

    /// @dev A guardian never earns a reward for a fault of its own: its "proof" pays the treasury only.
    function _slash(uint256 committeeId, uint256 epoch, uint8 slot, address operator, CommitteeFault fault, address prover)
        private
    {
        uint256 rewardBps = prover == operator ? 0 : _params.proverRewardBps;
        uint256 slashed = _guardians.slash(operator, _params.slashAmount, prover, rewardBps);
        emit CommitteeFaultProven(committeeId, epoch, slot, operator, fault, prover, slashed);
        _audit(IAuditLog.AuditKind.CommitteeFaultProven, abi.encode(committeeId, epoch, slot, operator, fault, prover, slashed));
    }

    /// @dev The operator in recipient slot `slot` of round `r` (its replacement if the round replaces that slot).
    function _recipient(uint256 committeeId, Round storage r, uint256 slot) private view returns (address) {
        return r.sourceEpoch != 0 && r.replaced & _bit(slot) != 0
            ? _incoming[committeeId][slot]
            : _members[committeeId][slot].operator;
    }

    /// @dev The dealings of the dealers in `selected`, in slot order, each checked against its stored hash.
    function _selectDealings(uint256 committeeId, uint256 epoch, uint32 selected, bytes[] calldata dealings)
        private
        view
        returns (bytes[] memory lists)
    {
        lists = new bytes[](_popcount(selected));
        uint256 k = 0;
        for (uint256 s = 1; k < lists.length; ++s) {
            if (selected & _bit(s) == 0) continue;
            if (s > dealings.length || keccak256(dealings[s - 1]) != _dealings[committeeId][epoch][s]) {
                revert CommitteeDealingMismatch(committeeId, epoch, s);
            }
            lists[k++] = dealings[s - 1];
        }
    }

    // ───────────────────────────── internals: checks ─────────────────────────────

    function _round(uint256 committeeId, uint256 epoch, RoundPhase expected) private view returns (Round storage r) {
        r = _rounds[committeeId][epoch];
        RoundPhase phase = r.phase;
        if (phase != expected) {
            if (phase == RoundPhase.None) revert CommitteeUnknown(committeeId);
            revert CommitteeWrongPhase(committeeId, epoch, phase);
        }
    }

    function _activeCommittee(uint256 committeeId) private view returns (Committee storage c) {
        c = _committees[committeeId];
        if (c.status != CommitteeStatus.Active) {
            if (c.status == CommitteeStatus.None) revert CommitteeUnknown(committeeId);
            revert CommitteeNotActive(committeeId, c.status);
        }
    }

    /// @dev Reverts unless msg.sender is the dealer in `slot`: a member of the current membership (the forming one
    ///      for a DKG, the active one for a handover).
    function _requireDealer(uint256 committeeId, uint256 epoch, uint256 slot, uint256 n)
        private
        view
        returns (address operator)
    {
        operator = slot == 0 || slot > n ? address(0) : _members[committeeId][slot].operator;
        if (operator != msg.sender || operator == address(0)) {
            revert CommitteeNotMember(committeeId, epoch, slot, msg.sender);
        }
    }

    /// @dev Reverts unless msg.sender is the recipient in `slot` of round `r` (its replacement if a handover
    ///      replaces that slot).
    function _requireRecipient(uint256 committeeId, uint256 epoch, Round storage r, uint256 slot, uint256 n)
        private
        view
    {
        address operator = slot != 0 && slot <= n ? _recipient(committeeId, r, slot) : address(0);
        if (operator != msg.sender || operator == address(0)) {
            revert CommitteeNotMember(committeeId, epoch, slot, msg.sender);
        }
    }

    /// @dev The operator that dealt in slot `dealer` of handover round `r`: the current membership holds it until the
    ///      round activates with that slot replaced, or a later epoch takes over; then the proof comes too late.
    function _dealerOf(uint256 committeeId, uint256 epoch, Round storage r, uint256 dealer) private view returns (address) {
        RoundPhase phase = r.phase;
        if (phase == RoundPhase.Retired || (phase == RoundPhase.Active && r.replaced & _bit(dealer) != 0)) {
            revert CommitteeWrongPhase(committeeId, epoch, phase);
        }
        return _members[committeeId][dealer].operator;
    }

    /// @dev The bit of a dealer that dealt and is not disqualified.
    function _dealerBit(uint256 committeeId, uint256 epoch, Round storage r, uint256 dealer, uint256 n)
        private
        view
        returns (uint32 bit)
    {
        bit = dealer == 0 || dealer > n ? 0 : _bit(dealer);
        if (r.dealt & bit == 0) revert CommitteeNotDealt(committeeId, epoch, dealer);
        if (r.disqualified & bit != 0) revert CommitteeDealerDisqualified(committeeId, epoch, dealer);
    }

    function _complaintDeadline(Round storage r) private view returns (uint64) {
        uint64 dealClose = r.dealEnd != 0 ? r.dealEnd : r.dealDeadline;
        return dealClose + r.complaintWindow;
    }

    function _answerDeadline(Round storage r) private view returns (uint64) {
        return _complaintDeadline(r) + r.answerWindow;
    }

    function _ackDeadline(Round storage r) private view returns (uint64) {
        return uint64(r.finalizedAt) + r.ackWindow;
    }

    /// @dev After this, `expire` fails the round: one acknowledgement window past the answer deadline while it is
    ///      not finalized, the acknowledgement deadline once it is.
    function _expiresAt(Round storage r) private view returns (uint64) {
        return r.phase == RoundPhase.Dealing ? _answerDeadline(r) + r.ackWindow : _ackDeadline(r);
    }

    function _checkSize(uint256 n, uint256 t) private pure {
        if (n > MAX_SIZE || t < MIN_THRESHOLD || t > MAX_THRESHOLD || t > n || 2 * t <= n) revert CommitteeInvalidSize(n, t);
    }

    // ───────────────────────────── internals: locks, audit, bits ─────────────────────────────

    function _lock(address operator) private {
        ++_locks[operator].memberships;
    }

    function _unlock(address operator, uint64 releaseAt) private {
        Lock storage l = _locks[operator];
        --l.memberships;
        if (releaseAt > l.releaseAt) l.releaseAt = releaseAt;
    }

    /// @dev Role changes fold into the audit log; those made while constructing (before the coordinator accepts
    ///      this contract's entries) are visible in `RoleGranted` events only.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && address(this).code.length != 0) {
            _audit(IAuditLog.AuditKind.RoleGranted, abi.encode(role, account, _msgSender()));
        }
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked) _audit(IAuditLog.AuditKind.RoleRevoked, abi.encode(role, account, _msgSender()));
    }

    function _audit(IAuditLog.AuditKind kind, bytes memory payload) private {
        _auditLog.recordRegistryEvent(kind, keccak256(payload));
    }

    function _hashPrefix(bytes memory data, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(data, 0x20), len)
        }
    }

    function _bit(uint256 slot) private pure returns (uint32) {
        return uint32(1) << uint32(slot - 1);
    }

    function _mask(uint256 n) private pure returns (uint32) {
        return uint32((uint256(1) << n) - 1);
    }

    function _popcount(uint32 x) private pure returns (uint256 count) {
        while (x != 0) {
            x &= x - 1;
            ++count;
        }
    }

    /// @dev The lowest `t` set bits of `bits` (it has at least t).
    function _lowestBits(uint32 bits, uint256 t) private pure returns (uint32 out) {
        for (uint256 k = 0; k < t; ++k) {
            uint32 low = bits & (~bits + 1);
            out |= low;
            bits &= ~low;
        }
    }

    // ───────────────────────────── internals: parameters ─────────────────────────────

    function _checkParameters(Parameters memory p) private view {
        _checkWindow("dealWindow", p.dealWindow);
        _checkWindow("complaintWindow", p.complaintWindow);
        if (p.answerWindow < MIN_ANSWER_WINDOW || p.answerWindow > MAX_WINDOW) {
            revert CommitteeParameterOutOfRange("answerWindow", p.answerWindow);
        }
        _checkWindow("ackWindow", p.ackWindow);
        if (p.maxEpochAge < MIN_EPOCH_AGE || p.maxEpochAge > MAX_EPOCH_AGE) {
            revert CommitteeParameterOutOfRange("maxEpochAge", p.maxEpochAge);
        }
        // A member handed over stays bonded until the last request it could have posted for is past its dispute
        // window: at least the coordinator's request lifetime + longest security period + dispute window, the floor
        // it pushes to the guardian registry (which refuses a floor above this delay in turn).
        if (
            p.releaseDelay < MIN_RELEASE_DELAY || p.releaseDelay > MAX_RELEASE_DELAY
                || p.releaseDelay < _guardians.minUnbondingDelay()
        ) {
            revert CommitteeParameterOutOfRange("releaseDelay", p.releaseDelay);
        }
        if (p.slashAmount == 0 || p.slashAmount > MAX_SLASH_AMOUNT) {
            revert CommitteeParameterOutOfRange("slashAmount", p.slashAmount);
        }
        if (p.proverRewardBps > MAX_PROVER_REWARD_BPS) {
            revert CommitteeParameterOutOfRange("proverRewardBps", p.proverRewardBps);
        }
    }

    function _checkWindow(bytes32 name, uint32 value) private pure {
        if (value < MIN_WINDOW || value > MAX_WINDOW) revert CommitteeParameterOutOfRange(name, value);
    }

}
