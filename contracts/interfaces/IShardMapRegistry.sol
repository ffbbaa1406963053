// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IShardMapRegistry
/// @notice Links accounts to guardian committees (PROTOCOL.md §3). Storage keeps only what later checks need —
///         the controller, each map's group-key hash and a hash over committee and commitments; commitments,
///         envelopes and the sealed channel table live in the `ShardMapLinked` event.
interface IShardMapRegistry {
    enum ShardMapStatus {
        None,
        Pending,
        Active,
        Retired,
        Superseded
    }

    /// @notice What the owner's client sends to link an account or rotate its map.
    /// @param securityPeriod Seconds during which the controller can cancel an approved reset.
    /// @param threshold t: partials needed for a token.
    /// @param committee The n guardian operators, in share-index order (g_1 … g_n).
    /// @param commitments C_0 ‖ … ‖ C_{t−1}, each a 256-byte EIP-2537 G2 point; C_0 is the group key K.
    /// @param envelopes n HPKE envelopes, the i-th sealed to g_i (PROTOCOL.md §3.4), packed: each entry is a 2-byte
    ///        big-endian length followed by the entry (cheaper in calldata and event data than `bytes[]`).
    /// @param sealedChannels n sealed channel-table entries (PROTOCOL.md §3.5), packed the same way.
    struct ShardMapParams {
        uint32 securityPeriod;
        uint8 threshold;
        address[] committee;
        bytes commitments;
        bytes envelopes;
        bytes sealedChannels;
    }

    struct AccountView {
        address controller;
        address consumer;
        uint32 activeMapId;
        uint32 pendingMapId;
        uint8 openRequests;
    }

    struct ShardMapView {
        bytes32 accountId;
        uint64 epoch;
        ShardMapStatus status;
        uint8 threshold;
        uint8 size;
        uint16 acknowledged;
        uint32 securityPeriod;
        uint8 generation;
        uint40 linkedAt;
        bytes32 groupKeyHash;
        bytes32 mapHash;
    }

    error ShardMapUnknownAccount(bytes32 accountId);
    error ShardMapAccountExists(bytes32 accountId);
    error ShardMapUnknownMap(uint256 mapId);
    error ShardMapNotController(bytes32 accountId, address caller);
    error ShardMapThresholdOutOfRange(uint256 threshold, uint256 size);
    error ShardMapLengthMismatch(bytes32 field, uint256 expected, uint256 actual);
    error ShardMapGroupKeyAtInfinity();
    error ShardMapSecurityPeriodOutOfRange(uint256 securityPeriod);
    error ShardMapNotPending(uint256 mapId, ShardMapStatus status);
    error ShardMapNotActive(uint256 mapId, ShardMapStatus status);
    error ShardMapWrongCommittee(uint256 mapId);
    error ShardMapIndexOutOfRange(uint256 mapId, uint256 index);
    error ShardMapNotMember(uint256 mapId, uint256 index, address caller);
    error ShardMapAlreadyAcknowledged(uint256 mapId, uint256 index);

    event ShardMapLinked(
        bytes32 indexed accountId,
        uint256 indexed mapId,
        uint256 epoch,
        address controller,
        address consumer,
        uint32 securityPeriod,
        uint8 threshold,
        address[] committee,
        bytes commitments,
        bytes envelopes,
        bytes sealedChannels
    );
    event ShardMapAcknowledged(
        bytes32 indexed accountId, uint256 indexed mapId, uint8 index, address guardian, bytes possessionProof
    );
    event ShardMapActivated(bytes32 indexed accountId, uint256 indexed mapId, uint256 epoch);
    event ShardMapRetired(bytes32 indexed accountId, uint256 indexed mapId, uint256 epoch);

    /// @notice Links a new account controlled by msg.sender: accountId = keccak256(abi.encode(chainId, msg.sender, salt)).
    /// @param consumer Optional `ICredentialConsumer` hook called when a reset of this account is finalized.
    function link(bytes32 salt, address consumer, ShardMapParams calldata params)
        external
        returns (bytes32 accountId, uint256 mapId);

    /// @notice The controller deals a new key to a new committee at the next epoch; the current map stays active
    ///         until the new one is acknowledged by all its members, then retires.
    function rotate(bytes32 accountId, ShardMapParams calldata params) external returns (uint256 mapId);

    /// @notice Member `index` of a pending map acknowledges its verified share with a proof of possession (a BLS
    ///         signature with s_i on the acknowledgement message, checkable against PK_i; PROTOCOL.md §3.7).
    /// @param commitmentsHash keccak256 of the map's commitments, as in its `ShardMapLinked` event.
    function acknowledge(
        uint256 mapId,
        uint8 index,
        address[] calldata committee,
        bytes32 commitmentsHash,
        bytes calldata possessionProof
    ) external;

    function controllerOf(bytes32 accountId) external view returns (address);

    function computeAccountId(address owner, bytes32 salt) external view returns (bytes32);

    function account(bytes32 accountId) external view returns (AccountView memory);

    function shardMap(uint256 mapId) external view returns (ShardMapView memory);

    /// @notice keccak256(abi.encode(keccak256(abi.encodePacked(committee)), commitmentsHash)), what `mapHash` stores.
    function computeMapHash(address[] calldata committee, bytes32 commitmentsHash) external pure returns (bytes32);
}
