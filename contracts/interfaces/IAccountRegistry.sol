// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IAccountRegistry
/// @notice Accounts linked to committees (PROTOCOL.md §5). A link is one transaction, active at once, and costs no
///         guardian a transaction: the committee already holds its shares. Storage keeps only what later checks
///         need (controller, committee, account epoch, security period, consumer, the request watermark); the
///         channel envelopes and the sealed channel table live in event data.
interface IAccountRegistry {
    struct AccountView {
        address controller;
        address consumer;
        uint256 committeeId;
        /// @notice The account epoch: 1 at link, +1 at each rotation; bound by every reset message and channel id.
        uint256 epoch;
        uint32 securityPeriod;
        /// @notice Requests with an id below this are void (set by a finalized reset and by a rotation).
        uint256 voidBefore;
    }

    error AccountUnknown(bytes32 accountId);
    error AccountExists(bytes32 accountId);
    error AccountNotController(bytes32 accountId, address caller);
    error AccountInvalidController();
    error AccountCommitteeNotActive(uint256 committeeId);
    /// @param field "envelopes" or "sealedChannels"; expected = the committee size n.
    error AccountEntriesMismatch(bytes32 field, uint256 expected, uint256 actual);
    error AccountSecurityPeriodOutOfRange(uint256 securityPeriod);

    /// @param envelopes n HPKE envelopes, the j-th sealed to slot j's member (PROTOCOL.md §5.2), packed: each entry a
    ///        2-byte big-endian length followed by the entry.
    /// @param sealedChannels n sealed channel-table entries (PROTOCOL.md §5.3), packed the same way.
    event AccountLinked(
        bytes32 indexed accountId,
        address indexed owner,
        uint256 indexed committeeId,
        uint256 epoch,
        address controller,
        address consumer,
        uint32 securityPeriod,
        bytes envelopes,
        bytes sealedChannels
    );

    /// @notice The controller moved the account to `committeeId` at `epoch`; every open request became void.
    event AccountRotated(
        bytes32 indexed accountId, uint256 indexed committeeId, uint256 epoch, bytes envelopes, bytes sealedChannels
    );

    /// @notice Links a new account owned by msg.sender: accountId = keccak256(abi.encode(chainId, msg.sender, salt)).
    /// @param consumer Optional `ICredentialConsumer` hook called when a reset of this account is finalized.
    function link(
        bytes32 salt,
        uint256 committeeId,
        address controller,
        uint32 securityPeriod,
        address consumer,
        bytes calldata envelopes,
        bytes calldata sealedChannels
    ) external returns (bytes32 accountId);

    /// @notice The controller moves the account to an active committee (possibly the same one) at epoch + 1, with
    ///         new envelopes and table; the account's open requests become void.
    function rotate(bytes32 accountId, uint256 committeeId, bytes calldata envelopes, bytes calldata sealedChannels)
        external
        returns (uint256 epoch);

    function controllerOf(bytes32 accountId) external view returns (address);

    function computeAccountId(address owner, bytes32 salt) external view returns (bytes32);

    function account(bytes32 accountId) external view returns (AccountView memory);
}
