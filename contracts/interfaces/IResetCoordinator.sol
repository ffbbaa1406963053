// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IResetCoordinator
/// @notice The reset lifecycle of PROTOCOL.md §4–§5: request, share commits, completion with a threshold-BLS token,
///         security period with cancellation, finalization, fraud proofs, fees and service counters.
interface IResetCoordinator {
    enum ResetStatus {
        None,
        Pending,
        Approved,
        Cancelled,
        Finalized,
        Expired
    }

    /// @notice A commit of partial σ_i's hash by member `index`.
    struct ShareCommit {
        uint256 requestId;
        uint8 index;
        bytes32 commitment;
    }

    /// @notice The committee of a request's map, as the callers that need it pass it (checked against `mapHash`).
    struct Committee {
        address[] members;
        bytes32 commitmentsHash;
    }

    /// @notice Commits of msg.sender to requests that share one shard map (so one committee check covers them).
    struct CommitGroup {
        Committee committee;
        ShareCommit[] commits;
    }

    /// @notice One entry of a request's commit history, in commit order (from `ShareCommitted` events).
    struct CommitRecord {
        uint8 index;
        bytes32 commitment;
    }

    struct ResetView {
        ResetStatus status;
        address newController;
        uint32 mapId;
        uint32 deadline;
        uint8 generation;
        bool voided;
        uint256 fee;
        uint16 committed;
        uint16 feesClaimed;
        bool serviceRecorded;
        bytes32 commitDigest;
    }

    error ResetUnknownRequest(uint256 requestId);
    error ResetFeeTooLow(uint256 required, uint256 paid);
    error ResetTooManyOpenRequests(bytes32 accountId, uint256 cap);
    error ResetInvalidNewController();
    error ResetInvalidEphemeralKey();
    error ResetNotPending(uint256 requestId, ResetStatus status);
    error ResetNotApproved(uint256 requestId, ResetStatus status);
    error ResetExpired(uint256 requestId, uint64 expiredAt);
    error ResetNotExpired(uint256 requestId, uint64 expiresAt);
    error ResetVoided(uint256 requestId);
    error ResetEpochRetired(uint256 requestId, uint256 mapId);
    error ResetWrongGroupKey(uint256 requestId);
    error ResetNotController(uint256 requestId, address caller);
    error ResetSecurityPeriodActive(uint256 requestId, uint64 executableAt);
    error ResetSecurityPeriodOver(uint256 requestId, uint64 executableAt);
    error ResetAlreadyCommitted(uint256 requestId, uint8 index);
    error ResetWrongCommitHistory(uint256 requestId);
    error ResetShareNotCommitted(uint256 requestId, uint8 index);
    error ResetShareValid(uint256 requestId, uint8 index);
    error ResetWrongCommitments(uint256 requestId);
    error ResetNotClosed(uint256 requestId, ResetStatus status);
    error ResetFeeAlreadyClaimed(uint256 requestId, uint8 index);
    error ResetServiceAlreadyRecorded(uint256 requestId);
    error ResetParameterOutOfRange(bytes32 name, uint256 value);
    error ResetTransferFailed(address to, uint256 amount);

    event ResetRequested(
        uint256 indexed requestId,
        bytes32 indexed accountId,
        uint256 mapId,
        uint256 epoch,
        address newController,
        bytes32 ephemeralKey,
        uint64 expiresAt,
        uint256 fee
    );
    event ShareCommitted(uint256 indexed requestId, uint8 index, address guardian, bytes32 commitment);
    event ResetApproved(uint256 indexed requestId, bytes32 accountId, uint64 executableAt);
    event ResetCancelled(uint256 indexed requestId, bytes32 indexed accountId, address by);
    event ResetFinalized(
        uint256 indexed requestId, bytes32 indexed accountId, address oldController, address newController
    );
    event ResetLapsed(uint256 indexed requestId, bytes32 indexed accountId);
    event InvalidShareProven(uint256 indexed requestId, uint8 index, address guardian, address prover, uint256 slashed);
    event CoordinatorParameterChanged(bytes32 indexed name, uint256 value);
    event ConsumerHookFailed(uint256 indexed requestId, address consumer);
    event FeeClaimed(uint256 indexed requestId, uint8 index, address guardian, uint256 amount);

    /// @notice Opens a reset of `accountId` to `newController`; `ephemeralKey` is the X25519 key fragments are
    ///         sealed to. Anyone may call it with at least the request fee.
    function requestReset(bytes32 accountId, address newController, bytes32 ephemeralKey)
        external
        payable
        returns (uint256 requestId);

    /// @notice Records h_i for one request; msg.sender must be member `index` of the request's committee.
    function commitShare(ShareCommit calldata commit, Committee calldata committee) external;

    /// @notice Records several commits of msg.sender in one transaction, grouped by shard map; the audit log is
    ///         written once for the whole batch.
    function commitShares(CommitGroup[] calldata groups) external;

    /// @notice Checks the token σ against K and the request's message (PROTOCOL.md §4.7) and approves the reset.
    /// @param accountId The request's account, as in `ResetRequested` (bound by the token).
    /// @param ephemeralKey The request's ephemeral key (bound by the token and by the stored commit digest).
    function completeReset(
        uint256 requestId,
        bytes32 accountId,
        bytes32 ephemeralKey,
        bytes calldata sigma,
        bytes calldata groupKey
    ) external;

    /// @notice The account's controller cancels a pending reset, or an approved one before it becomes executable.
    function cancelReset(uint256 requestId) external;

    /// @notice After the security period, anyone moves control to the new controller; the account's other open
    ///         requests become void and its consumer hook (if any) is called.
    function finalizeReset(uint256 requestId) external;

    /// @notice Closes a pending request past its expiry, freeing its place under the open-request cap.
    function expireReset(uint256 requestId) external;

    /// @notice Proves that member `index` committed an invalid partial: slashes it and rewards msg.sender.
    /// @param history Every commit of the request in order (from `ShareCommitted` events).
    function proveInvalidShare(
        uint256 requestId,
        uint8 index,
        bytes calldata sigmaI,
        bytes32 ephemeralKey,
        bytes calldata commitments,
        address[] calldata committee,
        CommitRecord[] calldata history
    ) external;

    /// @notice Pays member `index` its part of the fee of an approved or finalized request it committed to
    ///         before approval (fee / number of such members). Anyone may trigger it; the ETH goes to the member.
    function claimFee(uint256 requestId, uint8 index, Committee calldata committee) external;

    /// @notice Once a request is closed, adds served / missed to each member's counters in the guardian registry.
    function recordService(uint256 requestId, Committee calldata committee) external;

    function reset(uint256 requestId) external view returns (ResetView memory);

    function resetMessage(uint256 requestId, bytes32 ephemeralKey) external view returns (bytes32);

    function nextRequestId() external view returns (uint256);
}
