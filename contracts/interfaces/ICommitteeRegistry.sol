// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IStakeLock} from "./IStakeLock.sol";

/// @title ICommitteeRegistry
/// @notice Committees of Credential Guardians sharing one BLS key K (PROTOCOL.md §3–§4, §8): formed by an on-chain
///         Joint-Feldman DKG, handed over to new members by resharing the same K, faults provable by anyone.
///         A committee's rounds are numbered by epoch: epoch 1 is its formation (a DKG); epoch e + 1 is a handover
///         from the active epoch e. An epoch number is never reused: a failed handover's epoch is skipped.
///         Slots are 1-based; a handover keeps every member in its slot and puts each replacement in the slot of
///         the member it replaces.
interface ICommitteeRegistry is IStakeLock {
    enum CommitteeStatus {
        None,
        Forming,
        Active,
        Failed
    }

    /// @notice Where a round (a DKG or a handover) stands.
    enum RoundPhase {
        None,
        Dealing, // dealings, complaints and answers, until finalized
        Acknowledging, // finalized: members acknowledge with proofs of possession
        Active, // the committee's serving epoch
        Retired, // handed over: its shares never serve again
        Failed
    }

    /// @notice Why a round failed.
    enum RoundFailure {
        TooFewQualifiedDealers,
        NotFinalizedInTime,
        NotAcknowledgedInTime,
        GroupKeyAtInfinity // the qualified dealings sum to K = O: no key to share
    }

    /// @notice The provable faults of PROTOCOL.md §8 (DKG and handover).
    enum CommitteeFault {
        WrongAnswer, // the revealed sub-share does not match the dealer's commitments
        UnansweredComplaint, // a complaint still open when the answer window closed
        ReshareKeyMismatch, // a reshare dealing whose E_{i,0} is not the dealer's public share PK_i
        InvalidPossession // an acknowledgement whose proof of possession does not verify under PK_i
    }

    struct CommitteeView {
        CommitteeStatus status;
        uint8 size;
        uint8 threshold; // of the active epoch (of the forming one before activation)
        uint256 activeEpoch; // 0 until formed
        uint256 lastEpoch; // the newest round's epoch
        uint64 activatedAt; // when the active epoch became active
        bytes32 groupKeyHash; // keccak256(K), K = C_0 in 256-byte EIP-2537 form; 0 until the DKG is finalized
        bytes32 commitmentsHash; // of the active epoch
        uint32 laggards; // continuing members that let the last handover fail unacknowledged: the next one replaces them
    }

    struct RoundView {
        RoundPhase phase;
        uint8 threshold;
        uint256 sourceEpoch; // 0 for a DKG; the epoch whose members deal, for a handover
        uint64 dealDeadline;
        uint64 complaintDeadline; // complaints until then (the dealing phase ends early once every dealer dealt)
        uint64 answerDeadline;
        uint64 finalizedAt;
        uint64 ackDeadline; // 0 until finalized
        uint64 expiresAt; // after this, `expire` fails the round (0 once it ended)
        uint32 dealt; // bit s − 1 set: the dealer in slot s dealt
        uint32 disqualified;
        uint32 complained; // dealers with at least one open complaint
        uint32 acknowledged;
        uint32 replaced; // slots whose member this handover replaces
        uint32 possessionProven; // slots whose proof of possession was proven invalid
        bytes32 commitmentsHash; // keccak256(C_0 ‖ … ‖ C_{t−1}), set when finalized
    }

    struct Member {
        address operator;
        uint32 since; // the epoch it joined the committee
    }

    /// @notice One acknowledgement as its event recorded it (for `proveInvalidPossession`).
    struct Acknowledgement {
        uint8 slot;
        address operator;
        bytes32 proofHash; // keccak256 of the 128-byte proof
    }

    /// @notice Bounded parameters (see the setters' bounds in the implementation).
    struct Parameters {
        uint32 dealWindow;
        uint32 complaintWindow;
        uint32 answerWindow;
        uint32 ackWindow;
        uint32 maxEpochAge;
        uint32 releaseDelay;
        uint256 slashAmount;
        uint256 proverRewardBps;
    }

    error CommitteeInvalidSize(uint256 size, uint256 threshold);
    error CommitteeUnknown(uint256 committeeId);
    error CommitteeNotActive(uint256 committeeId, CommitteeStatus status);
    error CommitteeWrongPhase(uint256 committeeId, uint256 epoch, RoundPhase phase);
    error CommitteeNotMember(uint256 committeeId, uint256 epoch, uint256 slot, address caller);
    error CommitteeAlreadyDealt(uint256 committeeId, uint256 epoch, uint256 dealer);
    error CommitteeNotDealt(uint256 committeeId, uint256 epoch, uint256 dealer);
    error CommitteeDealingMalformed(uint256 commitmentsLength, uint256 sealedSharesLength);
    error CommitteeDealingMismatch(uint256 committeeId, uint256 epoch, uint256 dealer);
    error CommitteeDealingClosed(uint256 committeeId, uint256 epoch, uint64 deadline);
    error CommitteeComplaintsClosed(uint256 committeeId, uint256 epoch, uint64 deadline);
    error CommitteeAlreadyComplained(uint256 committeeId, uint256 epoch, uint256 dealer, uint256 recipient);
    error CommitteeNoComplaint(uint256 committeeId, uint256 epoch, uint256 dealer, uint256 recipient);
    error CommitteeAnswersClosed(uint256 committeeId, uint256 epoch, uint64 deadline);
    error CommitteeDealerDisqualified(uint256 committeeId, uint256 epoch, uint256 dealer);
    error CommitteeTooEarly(uint256 committeeId, uint256 epoch, uint64 notBefore);
    error CommitteeAlreadyAcknowledged(uint256 committeeId, uint256 epoch, uint256 slot);
    error CommitteeAcknowledgementsClosed(uint256 committeeId, uint256 epoch, uint64 deadline);
    error CommitteeInvalidProofLength(uint256 length);
    error CommitteeWrongCommitments(uint256 committeeId, uint256 epoch);
    error CommitteeReshareKeyMismatch(uint256 committeeId, uint256 epoch);
    error CommitteeHandoverInProgress(uint256 committeeId, uint256 epoch);
    error CommitteeHandoverNotDue(uint256 committeeId, uint64 dueAt);
    error CommitteeNoHandoverRequested(uint256 committeeId);
    error CommitteeDrawNotReady(uint256 committeeId, uint64 drawBlock);
    error CommitteeNoReplacement(uint256 committeeId, uint256 slot);
    error CommitteeInvalidSlots(uint256 committeeId, uint256 slots);
    error CommitteeFaultNotProven(uint256 committeeId, uint256 epoch, uint256 slot);
    error CommitteeNotAcknowledged(uint256 committeeId, uint256 epoch, uint256 slot);
    error CommitteeWrongHistory(uint256 committeeId, uint256 epoch);
    error CommitteeParameterOutOfRange(bytes32 name, uint256 value);

    /// @notice A committee was proposed; its members deal for epoch 1 until `dealDeadline`.
    event CommitteeProposed(
        uint256 indexed committeeId, address indexed proposer, address[] members, uint8 threshold, uint64 dealDeadline
    );
    /// @notice A handover to `epoch` started: `members` (slot order) receive the reshared key from the members of
    ///         `sourceEpoch`; `replaced` has bit s − 1 set for every slot that changes hands.
    event CommitteeHandoverStarted(
        uint256 indexed committeeId,
        uint256 indexed epoch,
        uint256 sourceEpoch,
        uint8 threshold,
        uint32 replaced,
        address[] members,
        uint64 dealDeadline
    );
    /// @notice Dealer `dealer` posted its Feldman commitments (t × 256-byte EIP-2537 G2) and its sub-shares, each
    ///         sealed with HPKE to the recipient in that slot (n × 80 bytes, slot order).
    event CommitteeDealingPosted(
        uint256 indexed committeeId, uint256 indexed epoch, uint8 dealer, bytes commitments, bytes sealedShares
    );
    event CommitteeComplaintFiled(uint256 indexed committeeId, uint256 indexed epoch, uint8 dealer, uint8 recipient);
    /// @notice The dealer revealed the sub-share; `valid` says whether it matched its commitments.
    event CommitteeComplaintAnswered(
        uint256 indexed committeeId, uint256 indexed epoch, uint8 dealer, uint8 recipient, uint256 subShare, bool valid
    );
    /// @notice The round's commitments are fixed: C_l = Σ_{i∈Q} D_{i,l} (DKG) or Σ_{i∈Q'} λ_i·E_{i,l} (handover).
    event CommitteeRoundFinalized(uint256 indexed committeeId, uint256 indexed epoch, uint32 qualified, bytes commitments);
    event CommitteeAcknowledged(
        uint256 indexed committeeId, uint256 indexed epoch, uint8 slot, address operator, bytes proof
    );
    event CommitteeActivated(
        uint256 indexed committeeId, uint256 indexed epoch, bytes32 groupKeyHash, bytes32 commitmentsHash
    );
    event CommitteeEpochRetired(uint256 indexed committeeId, uint256 indexed epoch);
    event CommitteeRoundFailed(uint256 indexed committeeId, uint256 indexed epoch, RoundFailure reason);
    /// @notice A fault was proven (a dealer fault also disqualifies the dealer) and the operator slashed.
    event CommitteeFaultProven(
        uint256 indexed committeeId,
        uint256 indexed epoch,
        uint8 slot,
        address indexed operator,
        CommitteeFault fault,
        address prover,
        uint256 slashed
    );
    /// @notice A handover to `epoch` was requested; its replacements are drawn from the hash of block `drawBlock`
    ///         (`drawReplacements`, anyone, once that block is mined).
    event CommitteeHandoverRequested(
        uint256 indexed committeeId, uint256 indexed epoch, uint32 replaced, uint8 threshold, uint64 drawBlock
    );
    event CommitteeParametersSet(Parameters parameters);

    /// @notice Proposes a committee of eligible, distinct `members` with threshold `threshold`
    ///         (2 ≤ t ≤ n ≤ 32, t > n/2) and opens its DKG (epoch 1). Anyone may propose.
    function propose(address[] calldata members, uint8 threshold) external returns (uint256 committeeId);

    /// @notice Posts the caller's dealing for round `epoch` as the dealer in `dealer` (its slot in the dealing
    ///         epoch). Only a hash of `commitments` is stored; the data lives in the event.
    function deal(uint256 committeeId, uint256 epoch, uint8 dealer, bytes calldata commitments, bytes calldata sealedShares)
        external;

    /// @notice The member in slot `recipient` complains that its sub-share from `dealer` does not open or verify.
    function complain(uint256 committeeId, uint256 epoch, uint8 dealer, uint8 recipient) external;

    /// @notice The accused dealer reveals `subShare`; the contract checks it against `commitments` (the dealing's).
    ///         A wrong value disqualifies and slashes the dealer at once.
    function answer(
        uint256 committeeId,
        uint256 epoch,
        uint8 dealer,
        uint8 recipient,
        uint256 subShare,
        bytes calldata commitments
    ) external;

    /// @notice Anyone, after the complaint window (and the answer window if a complaint is open): disqualifies and
    ///         slashes dealers with unanswered complaints, then fixes the commitments from the qualified dealers'
    ///         `dealings` (indexed by dealer slot − 1; entries not needed may be empty). Fails the round if fewer
    ///         than t dealers qualify. For a handover, reverts with `CommitteeReshareKeyMismatch` if C'_0 ≠ K: a
    ///         dealing with E_{i,0} ≠ PK_i must then be proven first (`proveReshareKeyMismatch`).
    function finalize(uint256 committeeId, uint256 epoch, bytes[] calldata dealings) external;

    /// @notice The member in `slot` acknowledges its share with a proof of possession (a BLS signature with its share
    ///         on `ackMessage`); the last acknowledgement activates the epoch.
    function acknowledge(uint256 committeeId, uint256 epoch, uint8 slot, bytes calldata proof) external;

    /// @notice Anyone: fails a round that missed its finalization or acknowledgement deadline. A failed formation
    ///         fails the committee; a failed handover leaves the active epoch in charge.
    function expire(uint256 committeeId, uint256 epoch) external;

    /// @notice Anyone: requests a handover of an active committee, replacing every member that is no longer
    ///         eligible or let the last handover fail by not acknowledging it, or, if there is none and the epoch
    ///         is older than `maxEpochAge`, the longest-serving member.
    ///         The replacements are drawn by `drawReplacements` from the hash of a block `DRAW_DELAY` blocks later,
    ///         which nobody knows when the request is made.
    function startHandover(uint256 committeeId) external returns (uint256 epoch);

    /// @notice Governance: requests a handover replacing the members in `slots` (bit s − 1 for slot s; may be 0)
    ///         with a new threshold (`threshold` > n/2).
    function forceHandover(uint256 committeeId, uint32 slots, uint8 threshold) external returns (uint256 epoch);

    /// @notice Anyone, once the draw block is mined: draws the requested handover's replacements from registered
    ///         eligible guardians (preferring new regions, then new providers) and opens its round. If the draw
    ///         block is more than 256 blocks old, a new draw block is set instead.
    function drawReplacements(uint256 committeeId) external returns (uint256 epoch);

    /// @notice Anyone, at any time after it was posted: proves that `dealer`'s reshare dealing has E_{i,0} ≠ PK_i;
    ///         disqualifies (while the round deals) and slashes it.
    /// @param dealing The dealing's commitments as posted.
    /// @param sourceCommitments The source epoch's commitments.
    function proveReshareKeyMismatch(
        uint256 committeeId,
        uint256 epoch,
        uint8 dealer,
        bytes calldata dealing,
        bytes calldata sourceCommitments
    ) external;

    /// @notice Anyone: proves that the proof of possession acknowledged by `slot` does not verify under its public
    ///         share PK_slot of `epoch`'s commitments; slashes the member that posted it.
    /// @param history Every acknowledgement of the round in order (from `CommitteeAcknowledged`), replayed against
    ///        the stored digest; it names the operator and the proof's hash.
    function proveInvalidPossession(
        uint256 committeeId,
        uint256 epoch,
        uint8 slot,
        bytes calldata proof,
        bytes calldata commitments,
        Acknowledgement[] calldata history
    ) external;

    function committee(uint256 committeeId) external view returns (CommitteeView memory);

    /// @notice The committee's first storage slot, for the coordinator's cheap checks (one SLOAD).
    function committeeState(uint256 committeeId)
        external
        view
        returns (CommitteeStatus status, uint8 size, uint8 threshold, uint32 activeEpoch);

    /// @notice The active epoch and the operator in `slot` of it (zero when the committee is not active or the slot
    ///         is out of range): the check of every posting (two SLOADs).
    function activeMember(uint256 committeeId, uint256 slot) external view returns (uint32 activeEpoch, address operator);

    /// @notice keccak256(K) of the committee (0 until its DKG is finalized).
    function groupKeyHash(uint256 committeeId) external view returns (bytes32);

    /// @notice keccak256(C_0 ‖ … ‖ C_{t−1}) of `epoch`'s round once finalized (kept after the epoch retires), else 0.
    function commitmentsHash(uint256 committeeId, uint256 epoch) external view returns (bytes32);

    function round(uint256 committeeId, uint256 epoch) external view returns (RoundView memory);

    /// @notice The members of the active epoch (the forming one before activation) or of the handover in progress,
    ///         in slot order; other epochs' memberships are in events (`CommitteeProposed`, `CommitteeHandoverStarted`).
    function members(uint256 committeeId, uint256 epoch) external view returns (Member[] memory);

    function dealingHash(uint256 committeeId, uint256 epoch, uint256 dealer) external view returns (bytes32);

    /// @notice Bit r − 1 set: the recipient in slot r has an open complaint against `dealer`.
    function complaints(uint256 committeeId, uint256 epoch, uint256 dealer) external view returns (uint32);

    /// @notice The message member `slot` of `epoch` signs to acknowledge (PROTOCOL.md §11).
    function ackMessage(uint256 committeeId, uint256 epoch, uint256 slot) external view returns (bytes32);

    function committeeCount() external view returns (uint256);

    function parameters() external view returns (Parameters memory);
}
