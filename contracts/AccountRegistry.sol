// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AuditLog} from "./AuditLog.sol";
import {IAccountRegistry} from "./interfaces/IAccountRegistry.sol";
import {ICommitteeRegistry} from "./interfaces/ICommitteeRegistry.sol";

/// @title AccountRegistry
/// @notice Accounts linked to committees (PROTOCOL.md §5); the coordinator inherits it, so one deployed contract
///         holds accounts and requests and every reset path reads account state without a cross-contract call.
/// @dev Concepts:
///  - Account key: the low 56 bits of the accountId. Storage is keyed by it, so that a request (whose first slot
///    has no room for 32 bytes) can name its account; the account's second slot holds the other 200 bits of the
///    accountId, so the full id is recovered and checked on every access. Two accountIds sharing a key cannot
///    both be linked (the second link is refused as `AccountExists`); finding a salt that collides with a given
///    account takes about 2^56 hashes and only makes that one link fail.
///  - Two slots per account: (controller, committeeId, voidBefore) and (accountId's high bits, epoch, security
///    period); the consumer hook has its own slot, written only when there is one. A link writes two fresh slots.
///  - Envelopes and sealed channel tables live only in event data; the contract checks that each holds n entries.
///  - voidBefore: requests with a smaller id are void. Request ids are global and monotonic and never reused, so
///    raising the watermark to the next request id voids every open request of the account at once, for good.
abstract contract AccountRegistry is IAccountRegistry, AuditLog {
    uint256 internal constant KEY_BITS = 56;
    uint256 internal constant KEY_MASK = (uint256(1) << KEY_BITS) - 1;

    struct Account {
        // slot 0
        address controller;
        uint32 committeeId;
        uint56 voidBefore;
        // slot 1
        uint200 idHigh;
        uint24 epoch;
        uint32 securityPeriod;
    }

    ICommitteeRegistry internal immutable _committees;
    mapping(uint256 key => Account) internal _accounts;
    mapping(uint256 key => address) internal _consumers;

    constructor(ICommitteeRegistry committees_) {
        _committees = committees_;
    }

    // ───────────────────────────── linking ─────────────────────────────

    /// @inheritdoc IAccountRegistry
    function link(
        bytes32 salt,
        uint256 committeeId,
        address controller,
        uint32 securityPeriod,
        address consumer,
        bytes calldata envelopes,
        bytes calldata sealedChannels
    ) external returns (bytes32 accountId) {
        accountId = computeAccountId(msg.sender, salt);
        uint256 key = uint256(accountId) & KEY_MASK;
        Account storage a = _accounts[key];
        if (a.idHigh != 0) revert AccountExists(accountId);
        if (controller == address(0)) revert AccountInvalidController();
        _checkSecurityPeriod(securityPeriod);
        _checkMap(committeeId, envelopes, sealedChannels);
        a.controller = controller;
        a.committeeId = uint32(committeeId);
        a.idHigh = uint200(uint256(accountId) >> KEY_BITS);
        a.epoch = 1;
        a.securityPeriod = securityPeriod;
        if (consumer != address(0)) _consumers[key] = consumer;
        emit AccountLinked(
            accountId, msg.sender, committeeId, 1, controller, consumer, securityPeriod, envelopes, sealedChannels
        );
        _appendAudit(
            AuditKind.AccountLinked,
            abi.encode(
                accountId,
                msg.sender,
                committeeId,
                uint256(1),
                controller,
                consumer,
                securityPeriod,
                envelopes,
                sealedChannels
            )
        );
    }

    /// @inheritdoc IAccountRegistry
    function rotate(bytes32 accountId, uint256 committeeId, bytes calldata envelopes, bytes calldata sealedChannels)
        external
        returns (uint256 epoch)
    {
        (, Account storage a) = _knownAccount(accountId);
        if (msg.sender != a.controller) revert AccountNotController(accountId, msg.sender);
        _checkMap(committeeId, envelopes, sealedChannels);
        epoch = a.epoch + 1;
        a.epoch = uint24(epoch);
        a.committeeId = uint32(committeeId);
        a.voidBefore = uint56(_nextRequestId());
        emit AccountRotated(accountId, committeeId, epoch, envelopes, sealedChannels);
        _appendAudit(AuditKind.AccountRotated, abi.encode(accountId, committeeId, epoch, envelopes, sealedChannels));
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IAccountRegistry
    function controllerOf(bytes32 accountId) external view returns (address) {
        Account storage a = _accounts[uint256(accountId) & KEY_MASK];
        return _isAccount(a, accountId) ? a.controller : address(0);
    }

    /// @inheritdoc IAccountRegistry
    function computeAccountId(address owner, bytes32 salt) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, owner, salt));
    }

    /// @inheritdoc IAccountRegistry
    function account(bytes32 accountId) external view returns (AccountView memory v) {
        uint256 key = uint256(accountId) & KEY_MASK;
        Account storage a = _accounts[key];
        if (!_isAccount(a, accountId)) return v;
        v = AccountView({
            controller: a.controller,
            consumer: _consumers[key],
            committeeId: a.committeeId,
            epoch: a.epoch,
            securityPeriod: a.securityPeriod,
            voidBefore: a.voidBefore
        });
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev The next request id (the watermark that voids every request made so far).
    function _nextRequestId() internal view virtual returns (uint256);

    /// @dev Reverts with `AccountSecurityPeriodOutOfRange` outside the coordinator's bounds.
    function _checkSecurityPeriod(uint32 securityPeriod) internal view virtual;

    function _knownAccount(bytes32 accountId) internal view returns (uint256 key, Account storage a) {
        key = uint256(accountId) & KEY_MASK;
        a = _accounts[key];
        if (!_isAccount(a, accountId)) revert AccountUnknown(accountId);
    }

    function _isAccount(Account storage a, bytes32 accountId) internal view returns (bool) {
        uint256 high = a.idHigh;
        return high != 0 && high == uint256(accountId) >> KEY_BITS;
    }

    function _accountId(uint256 key, Account storage a) internal view returns (bytes32) {
        return bytes32(uint256(a.idHigh) << KEY_BITS | key);
    }

    /// @dev The committee is active and each packed list has exactly one entry per member.
    function _checkMap(uint256 committeeId, bytes calldata envelopes, bytes calldata sealedChannels) private view {
        (ICommitteeRegistry.CommitteeStatus status, uint8 size,,) = _committees.committeeState(committeeId);
        if (status != ICommitteeRegistry.CommitteeStatus.Active) revert AccountCommitteeNotActive(committeeId);
        uint256 count = _countEntries(envelopes);
        if (count != size) revert AccountEntriesMismatch("envelopes", size, count);
        count = _countEntries(sealedChannels);
        if (count != size) revert AccountEntriesMismatch("sealedChannels", size, count);
    }

    /// @dev Number of entries in a packed list (2-byte big-endian length, then the entry), or type(uint256).max when
    ///      the lengths do not add up to the list's size. An empty entry counts (the SDK never makes one).
    function _countEntries(bytes calldata packed) private pure returns (uint256 count) {
        assembly ("memory-safe") {
            let offset := 0
            let size := packed.length
            for {} lt(offset, size) {} {
                if gt(add(offset, 2), size) {
                    count := not(0)
                    break
                }
                offset := add(offset, add(2, shr(240, calldataload(add(packed.offset, offset)))))
                count := add(count, 1)
            }
            if and(iszero(eq(count, not(0))), iszero(eq(offset, size))) { count := not(0) }
        }
    }
}
