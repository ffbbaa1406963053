// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IResetCoordinator
/// @notice Resets and drills of PROTOCOL.md §6–§8: requests with a one-time requester key A, verifiably encrypted
///         partials posted on-chain by the committee, completion with the threshold token, the security period,
///         finalization, fraud proofs that need no secret, settlement of fees and liveness.
/// @dev Points: `requesterKey`, `groupKey`, `sigma` and full postings are EIP-2537 (G1 128 bytes, G2 256 bytes);
///      a posting as guardians post it is compressed (ZCash): C ‖ U ‖ V ‖ W = 48 + 48 + 96 + 48 = 240 bytes.
interface IResetCoordinator {
    /// @notice A request is Pending until completed (Approved, or DrillVerified for a drill), Cancelled by the
    ///         controller, or Finalized. Expiry (pending past `expiresAt`) and voidness (id below the account's
    ///         `voidBefore`) are derived, never written.
    enum ResetStatus {
        None,
        Pending,
        Approved,
        Cancelled,
        Finalized,
        DrillVerified
    }

    /// @notice One posting as a member sends it (PROTOCOL.md §6.4).
    /// @param message The reset message m the member computed from the request's event (bound into the posting
    ///        record: a posting is only ever judged, paid or counted against the message it was made for).
    /// @param posting C_i ‖ U_i ‖ V_i ‖ W_i, compressed (240 bytes).
    struct PostingInput {
        uint256 requestId;
        uint8 slot;
        uint32 committeeEpoch;
        bytes32 message;
        bytes posting;
    }

    /// @notice One entry of a request's posting history, in posting order (from `PartialPosted` events).
    struct PostingRecord {
        uint8 slot;
        uint32 committeeEpoch;
        address guardian;
        bytes32 message;
        bytes32 postingHash;
    }

    /// @notice The request's fields from its `ResetRequested` event; the contract recomputes m from them and checks
    ///         them against the seed of the posting digest, d_0 = uint192(keccak256(abi.encode(m, fee))).
    struct RequestContext {
        bytes32 accountId;
        uint256 accountEpoch;
        uint256 committeeId;
        address newController;
        bytes32 requesterKeyHash;
        uint256 fee;
    }

    /// @notice The full (EIP-2537) form of a compressed posting, supplied only by a fraud proof; the contract checks
    ///         it against the exact posted bytes. For a posting whose bytes decode to no point at all, see
    ///         `proveInvalidPosting`'s `encodingWitness`.
    struct FullPosting {
        bytes C;
        bytes U;
        bytes V;
        bytes W;
    }

    struct ResetView {
        ResetStatus status;
        bool drill;
        bool expired;
        bool voided;
        bool settled;
        bytes32 accountId;
        address newController;
        /// @notice Until the request is approved: when it expires (0 once approved).
        uint64 expiresAt;
        /// @notice Once approved: the time from which it may be finalized.
        uint64 executableAt;
        /// @notice Slots that posted under `postingEpoch` (bit j−1 for slot j).
        uint32 posted;
        uint32 postingEpoch;
        /// @notice d_k = uint192(keccak256(abi.encode(d_{k−1}, slot, committeeEpoch, guardian, message,
        ///         keccak256(posting)))) over the postings in order, from d_0 = uint192(keccak256(abi.encode(m, fee))).
        bytes32 postingDigest;
    }

    error ResetUnknownRequest(uint256 requestId);
    error ResetWrongFee(uint256 required, uint256 paid);
    error ResetInvalidNewController();
    error ResetInvalidRequesterKey();
    error ResetNotPending(uint256 requestId, ResetStatus status);
    error ResetNotApproved(uint256 requestId, ResetStatus status);
    error ResetExpired(uint256 requestId, uint64 expiredAt);
    error ResetVoided(uint256 requestId);
    error ResetIsDrill(uint256 requestId);
    error ResetWrongGroupKey(uint256 requestId);
    error ResetNotController(uint256 requestId, address caller);
    error ResetSecurityPeriodActive(uint256 requestId, uint64 executableAt);
    error ResetSecurityPeriodOver(uint256 requestId, uint64 executableAt);
    error ResetPostingMalformed(uint256 length);
    error ResetNotMember(uint256 requestId, uint256 slot, address caller);
    error ResetEpochNotActive(uint256 requestId, uint256 committeeEpoch);
    error ResetAlreadyPosted(uint256 requestId, uint256 slot, uint256 committeeEpoch);
    error ResetWrongPostingHistory(uint256 requestId);
    error ResetWrongContext(uint256 requestId);
    error ResetPostingMismatch(uint256 requestId, uint256 position);
    error ResetPostingValid(uint256 requestId, uint256 position);
    error ResetPostingAlreadyProven(uint256 requestId, uint256 position);
    error ResetProofNotCommitted(address prover);
    error ResetNotSettleable(uint256 requestId, uint64 settleableAt);
    error ResetAlreadySettled(uint256 requestId);
    error ResetParameterOutOfRange(bytes32 name, uint256 value);
    error ResetTransferFailed(address to, uint256 amount);

    /// @param drill True for a drill (newController is zero): served and verified, never approved or finalized.
    event ResetRequested(
        uint256 indexed requestId,
        bytes32 indexed accountId,
        uint256 indexed committeeId,
        uint256 accountEpoch,
        address newController,
        bool drill,
        bytes requesterKey,
        uint64 expiresAt,
        uint256 fee
    );
    /// @param posting The compressed posting, as posted.
    event PartialPosted(
        uint256 indexed requestId, uint8 slot, uint32 committeeEpoch, address guardian, bytes32 message, bytes posting
    );
    event ResetApproved(uint256 indexed requestId, bytes32 indexed accountId, uint64 executableAt);
    event DrillVerified(uint256 indexed requestId, bytes32 indexed accountId);
    event ResetCancelled(uint256 indexed requestId, bytes32 indexed accountId, address by);
    event ResetFinalized(
        uint256 indexed requestId, bytes32 indexed accountId, address oldController, address newController
    );
    event ConsumerHookFailed(uint256 indexed requestId, address consumer);
    event ProofCommitted(address indexed prover, bytes32 commitment);
    event InvalidPostingProven(
        uint256 indexed requestId, uint256 position, uint8 slot, address guardian, address prover, uint256 slashed
    );
    /// @param paid Fee paid to each standing poster (fee / n); `served` and `missed` are slot bitmaps.
    ///        `served`: slots with a standing posting of the request's message, at any committee epoch.
    ///        `missed`: for a request that stayed pending until it expired, the slots not served whose holder at the
    ///        newest epoch with a standing posting of the message still holds them; 0 when no such posting exists.
    event RequestSettled(uint256 indexed requestId, uint256 paid, uint32 served, uint32 missed, uint256 toTreasury);
    event TreasuryWithdrawn(address indexed to, uint256 amount);
    event CoordinatorParameterChanged(bytes32 indexed name, uint256 value);

    /// @notice Opens a reset of `accountId` to `newController`; anyone may call it with exactly the request fee.
    /// @param requesterKey A = a·G1 (EIP-2537, in the subgroup, not infinity); `a` stays in the requesting client.
    function requestReset(bytes32 accountId, address newController, bytes calldata requesterKey)
        external
        payable
        returns (uint256 requestId);

    /// @notice Opens a drill of `accountId` (PROTOCOL.md §7): a request with newController = 0.
    function requestDrill(bytes32 accountId, bytes calldata requesterKey) external payable returns (uint256 requestId);

    /// @notice Member `slot` of the committee's active epoch posts its verifiably encrypted partial.
    function postPartial(PostingInput calldata posting) external;

    /// @notice Several postings of msg.sender in one transaction (across requests); the audit log is written once.
    function postPartials(PostingInput[] calldata postings) external;

    /// @notice Checks σ under K for the request's message (one PAIRING call): approves a reset (executable after the
    ///         security period) or records a drill as verified.
    /// @param groupKey K (EIP-2537 G2), checked against the committee's group-key hash.
    function completeReset(uint256 requestId, bytes32 requesterKeyHash, bytes calldata sigma, bytes calldata groupKey)
        external;

    /// @notice The account's controller cancels a pending request, or an approved one before it is executable.
    function cancelReset(uint256 requestId) external;

    /// @notice After the security period, anyone moves control to the new controller; every other request of the
    ///         account becomes void and its consumer hook (if any) is called with bounded gas.
    function finalizeReset(uint256 requestId) external;

    /// @notice First step of a fraud proof: commit to keccak256(abi.encode(prover, requestId, position, salt)).
    ///         The reward goes only to a prover whose commitment is at least one block old, so a proof copied from
    ///         the mempool earns nothing.
    function commitProof(bytes32 commitment) external;

    /// @notice Proves that the posting at `position` of the request's history fails the public check of §6.4
    ///         (or is not a valid encoding of points in the subgroup); slashes exactly its guardian and rewards
    ///         msg.sender, unless msg.sender is that guardian (then the treasury gets it all). No secret is revealed; an honest posting can never be proven invalid.
    /// @param commitments The committee epoch's Feldman commitments C_0 ‖ … ‖ C_{t−1} (PK_i is computed from them).
    /// @param requesterKey A (EIP-2537), hashed and compared with the context.
    /// @param posting The compressed posting as posted (its hash is in the history).
    /// @param full The points' full form; ignored when `encodingWitness` shows the encoding itself is invalid.
    /// @param encodingWitness Empty, or a witness that one compressed point of the posting decodes to no curve point.
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
    ) external;

    /// @notice After `deadline + disputeWindow` (the deadline is expiresAt, or executableAt once approved: no posting
    ///         is accepted after completion, so that is never earlier than the last posting): pays fee / n to each member whose posting for the request's
    ///         message stands (at most one per slot, at any epoch), counts it served in the guardian registry, counts a
    ///         miss only for a request that stayed pending until it expired, against the members of the newest epoch
    ///         with a standing posting of its message whose slot was not served (none if there is no such posting),
    ///         and books the rest to the treasury.
    function settle(uint256 requestId, RequestContext calldata context, PostingRecord[] calldata history) external;

    function reset(uint256 requestId) external view returns (ResetView memory);

    /// @notice m of PROTOCOL.md §6.2 for a request, recomputed from storage and the requester key's hash.
    function resetMessage(uint256 requestId, bytes32 requesterKeyHash) external view returns (bytes32);

    function nextRequestId() external view returns (uint256);
}
