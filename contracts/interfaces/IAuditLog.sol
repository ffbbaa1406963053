// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IAuditLog
/// @notice The tamper-evident log of PROTOCOL.md §10: every state change folds into
///         auditHead_n = keccak256(abi.encode(auditHead_{n−1}, n, kind, keccak256(payload))), with auditHead_0 = 0.
///         The payload of an entry is `abi.encode` of the arguments of the event emitted with it, in declaration
///         order, indexed ones included; `kind` is the position of that event's name in `AuditKind`. An auditor who
///         replays the events in log order therefore arrives at `auditHead()` and `auditLength()`.
interface IAuditLog {
    /// @notice One kind per audited event, named as the event.
    enum AuditKind {
        GuardianRegistered,
        GuardianStaked,
        GuardianUnbondingStarted,
        GuardianWithdrawn,
        GuardianAttested,
        GuardianAttestationRevoked,
        GuardianJailed,
        GuardianUnjailed,
        GuardianSlashed,
        GuardianServiceRecorded,
        /// @notice `GuardianRegistry.claim` (a prover's rewards, or the treasury's funds).
        Claimed,
        GuardianWithdrawalAddressSet,
        RegistryParameterChanged,
        AccountLinked,
        AccountRotated,
        ResetRequested,
        PartialPosted,
        ResetApproved,
        DrillVerified,
        ResetCancelled,
        ResetFinalized,
        ConsumerHookFailed,
        ProofCommitted,
        InvalidPostingProven,
        RequestSettled,
        TreasuryWithdrawn,
        CoordinatorParameterChanged,
        CommitteeProposed,
        CommitteeHandoverRequested,
        CommitteeHandoverStarted,
        CommitteeDealingPosted,
        CommitteeComplaintFiled,
        CommitteeComplaintAnswered,
        CommitteeRoundFinalized,
        CommitteeAcknowledged,
        CommitteeActivated,
        CommitteeEpochRetired,
        CommitteeRoundFailed,
        CommitteeFaultProven,
        CommitteeParametersSet,
        /// @notice OpenZeppelin `RoleGranted(role, account, sender)` of any of the three contracts.
        RoleGranted,
        /// @notice OpenZeppelin `RoleRevoked(role, account, sender)` of any of the three contracts.
        RoleRevoked
    }

    /// @notice Only the guardian registry (registry kinds) and the committee registry (committee kinds) may append
    ///         their own events; both may append their role changes.
    error AuditUnauthorizedWriter(address caller);

    /// @notice Head of the hash chain after `auditLength()` entries.
    function auditHead() external view returns (bytes32);

    /// @notice Number of entries folded so far.
    function auditLength() external view returns (uint256);

    /// @notice Appends an entry for an event the guardian registry or the committee registry emitted.
    /// @param kind An `AuditKind` of the caller's own events.
    /// @param payloadHash keccak256 of `abi.encode` of that event's arguments.
    function recordRegistryEvent(AuditKind kind, bytes32 payloadHash) external;

    /// @notice The committee registry hands over keccak256(K) when a committee's DKG round is finalized (the event
    ///         that sets it is audited through `recordRegistryEvent`), so a completion checks the group key against
    ///         the coordinator's own storage instead of calling the registry. Only the committee registry may call it.
    function recordGroupKey(uint256 committeeId, bytes32 keyHash) external;
}
