// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AuditLog} from "./AuditLog.sol";
import {IGuardianRegistry} from "./interfaces/IGuardianRegistry.sol";
import {IShardMapRegistry} from "./interfaces/IShardMapRegistry.sol";

/// @title ShardMapRegistry
/// @notice Accounts and their shard maps (PROTOCOL.md §3); the coordinator inherits it, so one deployed contract
///         answers both roles and every reset path reads account state without a cross-contract call.
/// @dev Concepts:
///  - Account: its controller, the active map, a pending map (a link or rotation awaiting acknowledgements), the
///    number of open requests (the spam cap), and an optional consumer hook.
///  - Shard map (one per account epoch, numbered globally by `mapId`): stores only the account, keccak256(C_0)
///    (checked at completion), `mapHash` = keccak256(abi.encode(keccak256(abi.encodePacked(committee)),
///    keccak256(commitments))) (checked whenever a caller names the committee or the commitments), and a packed
///    slot of epoch, t, n, acknowledgement bitmap, status, security period and generation.
///  - Activation: a map becomes Active when every member has acknowledged; the previous active map is Retired in
///    the same transaction and the account's open requests are dropped (they belonged to the retired epoch).
///  - Generation: finalizing a reset increments the active map's generation, which voids every other request made
///    under the previous generation without iterating over them.
///  - Every read of an account's active key goes through `_activeMap`, the single place a later batch-root
///    handover (PROTOCOL.md §8) would answer from.
abstract contract ShardMapRegistry is IShardMapRegistry, AuditLog {
    uint256 internal constant MAX_COMMITTEE_SIZE = 16;
    uint256 internal constant G2_POINT_LENGTH = 256;
    uint256 internal constant POSSESSION_PROOF_LENGTH = 128;

    struct Account {
        address controller;
        uint32 activeMapId;
        uint32 pendingMapId;
        uint8 openRequests;
    }

    struct ShardMap {
        bytes32 accountId;
        bytes32 groupKeyHash;
        bytes32 mapHash;
        uint64 epoch;
        uint8 threshold;
        uint8 size;
        uint16 acknowledged;
        ShardMapStatus status;
        uint32 securityPeriod;
        uint8 generation;
        uint40 linkedAt;
    }

    IGuardianRegistry internal immutable _guardianRegistry;
    mapping(bytes32 accountId => Account) internal _accounts;
    mapping(bytes32 accountId => address) internal _consumers;
    mapping(uint256 mapId => ShardMap) internal _maps;
    uint32 internal _mapCount;
    uint32 internal _minSecurityPeriod;
    uint32 internal _maxSecurityPeriod;

    constructor(IGuardianRegistry guardianRegistry) {
        _guardianRegistry = guardianRegistry;
    }

    // ───────────────────────────── linking ─────────────────────────────

    /// @inheritdoc IShardMapRegistry
    function link(bytes32 salt, address consumer, ShardMapParams calldata params)
        external
        returns (bytes32 accountId, uint256 mapId)
    {
        accountId = computeAccountId(msg.sender, salt);
        Account storage a = _accounts[accountId];
        if (a.controller != address(0)) revert ShardMapAccountExists(accountId);
        a.controller = msg.sender;
        if (consumer != address(0)) _consumers[accountId] = consumer;
        mapId = _createMap(accountId, 1, params);
        a.pendingMapId = uint32(mapId);
        _emitLinked(accountId, mapId, 1, msg.sender, consumer, params);
    }

    /// @inheritdoc IShardMapRegistry
    function rotate(bytes32 accountId, ShardMapParams calldata params) external returns (uint256 mapId) {
        Account storage a = _knownAccount(accountId);
        if (msg.sender != a.controller) revert ShardMapNotController(accountId, msg.sender);
        uint256 latest = a.pendingMapId != 0 ? a.pendingMapId : a.activeMapId;
        if (a.pendingMapId != 0) _maps[a.pendingMapId].status = ShardMapStatus.Superseded;
        uint64 epoch = _maps[latest].epoch + 1;
        mapId = _createMap(accountId, epoch, params);
        a.pendingMapId = uint32(mapId);
        _emitLinked(accountId, mapId, epoch, a.controller, _consumers[accountId], params);
    }

    /// @inheritdoc IShardMapRegistry
    function acknowledge(
        uint256 mapId,
        uint8 index,
        address[] calldata committee,
        bytes32 commitmentsHash,
        bytes calldata possessionProof
    ) external {
        ShardMap storage m = _maps[mapId];
        if (m.status != ShardMapStatus.Pending) {
            if (m.status == ShardMapStatus.None) revert ShardMapUnknownMap(mapId);
            revert ShardMapNotPending(mapId, m.status);
        }
        _requireMember(m, mapId, index, committee, commitmentsHash);
        uint16 bit = uint16(1) << (index - 1);
        if (m.acknowledged & bit != 0) revert ShardMapAlreadyAcknowledged(mapId, index);
        if (possessionProof.length != POSSESSION_PROOF_LENGTH) {
            revert ShardMapLengthMismatch("possessionProof", POSSESSION_PROOF_LENGTH, possessionProof.length);
        }
        uint16 acknowledged = m.acknowledged | bit;
        m.acknowledged = acknowledged;
        bytes32 accountId = m.accountId;
        emit ShardMapAcknowledged(accountId, mapId, index, msg.sender, possessionProof);
        _appendAudit(
            AuditKind.ShardMapAcknowledged, abi.encode(accountId, mapId, index, msg.sender, possessionProof)
        );
        if (acknowledged == (uint16(1) << m.size) - 1) _activate(accountId, mapId, m);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IShardMapRegistry
    function controllerOf(bytes32 accountId) external view returns (address) {
        return _accounts[accountId].controller;
    }

    /// @inheritdoc IShardMapRegistry
    function computeAccountId(address owner, bytes32 salt) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, owner, salt));
    }

    /// @inheritdoc IShardMapRegistry
    function account(bytes32 accountId) external view returns (AccountView memory) {
        Account storage a = _accounts[accountId];
        return AccountView({
            controller: a.controller,
            consumer: _consumers[accountId],
            activeMapId: a.activeMapId,
            pendingMapId: a.pendingMapId,
            openRequests: a.openRequests
        });
    }

    /// @inheritdoc IShardMapRegistry
    function shardMap(uint256 mapId) external view returns (ShardMapView memory) {
        ShardMap storage m = _maps[mapId];
        return ShardMapView({
            accountId: m.accountId,
            epoch: m.epoch,
            status: m.status,
            threshold: m.threshold,
            size: m.size,
            acknowledged: m.acknowledged,
            securityPeriod: m.securityPeriod,
            generation: m.generation,
            linkedAt: m.linkedAt,
            groupKeyHash: m.groupKeyHash,
            mapHash: m.mapHash
        });
    }

    /// @inheritdoc IShardMapRegistry
    function computeMapHash(address[] calldata committee, bytes32 commitmentsHash) public pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(abi.encodePacked(committee)), commitmentsHash));
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _knownAccount(bytes32 accountId) internal view returns (Account storage a) {
        a = _accounts[accountId];
        if (a.controller == address(0)) revert ShardMapUnknownAccount(accountId);
    }

    /// @dev The account's active map: the one lookup a handover batch root would later answer (PROTOCOL.md §8).
    function _activeMap(Account storage a) internal view returns (uint256 mapId, ShardMap storage m) {
        mapId = a.activeMapId;
        m = _maps[mapId];
        if (mapId == 0) revert ShardMapNotActive(a.pendingMapId, _maps[a.pendingMapId].status);
    }

    /// @dev Checks that `committee` and `commitmentsHash` are the map's and that msg.sender is member `index`.
    function _requireMember(
        ShardMap storage m,
        uint256 mapId,
        uint8 index,
        address[] calldata committee,
        bytes32 commitmentsHash
    ) internal view {
        if (computeMapHash(committee, commitmentsHash) != m.mapHash) revert ShardMapWrongCommittee(mapId);
        if (index == 0 || index > committee.length) revert ShardMapIndexOutOfRange(mapId, index);
        if (committee[index - 1] != msg.sender) revert ShardMapNotMember(mapId, index, msg.sender);
    }

    function _createMap(bytes32 accountId, uint64 epoch, ShardMapParams calldata p) private returns (uint256 mapId) {
        uint256 n = p.committee.length;
        uint256 t = p.threshold;
        // 2 ≤ t ≤ n ≤ 16; a 1-of-1 map is accepted on-chain, tools only build it behind an explicit flag.
        if (n == 0 || n > MAX_COMMITTEE_SIZE || t == 0 || t > n || (t == 1 && n != 1)) {
            revert ShardMapThresholdOutOfRange(t, n);
        }
        if (p.commitments.length != t * G2_POINT_LENGTH) {
            revert ShardMapLengthMismatch("commitments", t * G2_POINT_LENGTH, p.commitments.length);
        }
        uint256 envelopes = _countEntries(p.envelopes);
        if (envelopes != n) revert ShardMapLengthMismatch("envelopes", n, envelopes);
        uint256 sealedChannels = _countEntries(p.sealedChannels);
        if (sealedChannels != n) revert ShardMapLengthMismatch("sealedChannels", n, sealedChannels);
        if (p.securityPeriod < _minSecurityPeriod || p.securityPeriod > _maxSecurityPeriod) {
            revert ShardMapSecurityPeriodOutOfRange(p.securityPeriod);
        }
        bytes calldata groupKey = p.commitments[:G2_POINT_LENGTH];
        if (_isZero(groupKey)) revert ShardMapGroupKeyAtInfinity();
        _guardianRegistry.requireEligibleCommittee(p.committee);

        mapId = ++_mapCount;
        ShardMap storage m = _maps[mapId];
        m.accountId = accountId;
        m.groupKeyHash = keccak256(groupKey);
        m.mapHash = computeMapHash(p.committee, keccak256(p.commitments));
        m.epoch = epoch;
        m.threshold = uint8(t);
        m.size = uint8(n);
        m.status = ShardMapStatus.Pending;
        m.securityPeriod = p.securityPeriod;
        m.linkedAt = uint40(block.timestamp);
    }

    function _emitLinked(
        bytes32 accountId,
        uint256 mapId,
        uint256 epoch,
        address controller,
        address consumer,
        ShardMapParams calldata p
    ) private {
        emit ShardMapLinked(
            accountId,
            mapId,
            epoch,
            controller,
            consumer,
            p.securityPeriod,
            p.threshold,
            p.committee,
            p.commitments,
            p.envelopes,
            p.sealedChannels
        );
        _appendAudit(
            AuditKind.ShardMapLinked,
            abi.encode(
                accountId,
                mapId,
                epoch,
                controller,
                consumer,
                p.securityPeriod,
                p.threshold,
                p.committee,
                p.commitments,
                p.envelopes,
                p.sealedChannels
            )
        );
    }

    function _activate(bytes32 accountId, uint256 mapId, ShardMap storage m) private {
        Account storage a = _accounts[accountId];
        uint256 previous = a.activeMapId;
        m.status = ShardMapStatus.Active;
        a.activeMapId = uint32(mapId);
        a.pendingMapId = 0;
        a.openRequests = 0; // requests of the retired epoch can never complete
        emit ShardMapActivated(accountId, mapId, m.epoch);
        _appendAudit(AuditKind.ShardMapActivated, abi.encode(accountId, mapId, uint256(m.epoch)));
        if (previous != 0) {
            ShardMap storage old = _maps[previous];
            old.status = ShardMapStatus.Retired;
            emit ShardMapRetired(accountId, previous, old.epoch);
            _appendAudit(AuditKind.ShardMapRetired, abi.encode(accountId, previous, uint256(old.epoch)));
        }
    }

    /// @dev Number of entries in a packed list (2-byte big-endian length, then the entry), or type(uint256).max when
    ///      the lengths do not add up to the list's size.
    function _countEntries(bytes calldata packed) private pure returns (uint256 count) {
        uint256 offset = 0;
        uint256 size = packed.length;
        while (offset < size) {
            if (offset + 2 > size) return type(uint256).max;
            offset += 2 + (uint256(uint8(packed[offset])) << 8 | uint256(uint8(packed[offset + 1])));
            ++count;
        }
        if (offset != size) return type(uint256).max;
    }

    function _isZero(bytes calldata data) private pure returns (bool zero) {
        assembly ("memory-safe") {
            let acc := 0
            for { let o := 0 } lt(o, data.length) { o := add(o, 0x20) } { acc := or(acc, calldataload(add(data.offset, o))) }
            zero := iszero(acc)
        }
    }
}
