// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAuditLog} from "./interfaces/IAuditLog.sol";
import {IGuardianRegistry} from "./interfaces/IGuardianRegistry.sol";
import {IStakeLock} from "./interfaces/IStakeLock.sol";

/// @title GuardianRegistry
/// @notice Staked, attested Credential Guardians (PROTOCOL.md §6).
/// @dev Concepts:
///  - Registration: operator address (msg.sender), X25519 HPKE key, metadata URI, region/provider tags (stored, for
///    committee spread), channel kinds. Operators are enumerable in registration order (append-only).
///  - Stake: native ETH. `startUnbonding` moves stake into one unbonding bucket that `withdraw` releases after
///    `unbondingDelay`; unbonding funds stay slashable until withdrawn. The delay is bounded below by the
///    coordinator's longest request lifetime plus its longest security period (checked when either changes), so no
///    guardian leaves before its faults become provable.
///  - Stake lock: once governance sets it, the committee contract (`IStakeLock`) says until when an operator's
///    stake must stay; `withdraw` refuses before that time. Unbonding stays allowed: it is what makes a member
///    ineligible and starts its handover, and the unbonding funds stay here and slashable meanwhile.
///  - Attestation: EIP-712 `GuardianAttestation` signed by an `ATTESTER_ROLE` holder, bound to the registered key,
///    with an expiry and a per-operator nonce (each nonce used once, in order); revocable by any attester, and a
///    revocation consumes the current nonce, so nothing signed before it can be submitted after it.
///  - Eligible = registered, stake ≥ `minStake`, attestation unexpired, not jailed, nothing unbonding.
///  - Slashing only by `SLASHER_ROLE` (the coordinator's fraud proofs), from stake first, then from unbonding funds;
///    the prover's reward and the treasury's part become claimable (pull payments). The treasury is set by
///    governance and its unclaimed funds follow it when it moves.
///  - Withdrawal address: an operator may name where `withdraw` and `claim` pay (and the coordinator its fees), so a
///    hot operator key on a server need not be where the money ends up. The first one takes effect at once (until
///    then the operator key is paid anyway); a change of a named one takes effect `unbondingDelay` later, and the
///    address in effect can cancel it meanwhile, so a stolen operator key cannot redirect funds unnoticed.
///  - Every state change emits its event and is folded into the coordinator's audit log.
contract GuardianRegistry is IGuardianRegistry, AccessControl, EIP712, ReentrancyGuardTransient {
    /// @dev keccak256("ATTESTER_ROLE")
    bytes32 public constant ATTESTER_ROLE = keccak256("ATTESTER_ROLE");
    /// @dev keccak256("SLASHER_ROLE")
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @dev keccak256("GuardianAttestation(address operator,bytes32 encryptionKey,bytes32 measurement,uint64 expiresAt,uint64 nonce)")
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "GuardianAttestation(address operator,bytes32 encryptionKey,bytes32 measurement,uint64 expiresAt,uint64 nonce)"
    );

    uint8 internal constant CHANNEL_KINDS_MASK = 0x07; // email | SMS | app
    uint256 public constant MAX_MIN_STAKE = 1_000 ether;
    uint64 public constant MAX_UNBONDING_DELAY = 365 days;

    /// @dev Slot 0 holds everything eligibility needs (stake, unbonding, attestation expiry, registered, jailed), so
    ///      checking a committee costs one cold read per member. uint96 holds any amount of ETH that exists
    ///      (2^96 wei ≈ 7.9e10 ETH).
    struct Guardian {
        // slot 0
        uint96 stake;
        uint96 unbonding;
        uint40 attestationExpiresAt;
        bool registered;
        bool jailed;
        // slot 1
        bytes32 encryptionKey;
        // slot 2
        uint40 unbondingReadyAt;
        uint64 attestationNonce; // next nonce to accept
        uint32 served;
        uint32 missed;
        uint8 channelKinds;
        // slot 3
        bytes32 measurement;
        // slots 4, 5
        bytes32 region;
        bytes32 provider;
        // slot 6: where payouts go (zero: the operator)
        address withdrawalAddress;
        // slot 7: a change of it, in effect from `nextWithdrawalFrom` on (zero: none scheduled)
        address nextWithdrawalAddress;
        uint40 nextWithdrawalFrom;
    }

    IAuditLog private _audit;
    /// @dev Slashed stake not paid as a reward, claimable by whoever is the treasury. It shares `_audit`'s slot, which
    ///      every audited call reads anyway and which is never zero once the registry is in use: a slash then
    ///      rewrites a warm non-zero slot instead of paying for a fresh one (uint96 holds more ether than exists).
    uint96 private _treasuryFunds;
    IStakeLock private _stakeLock;
    address private _treasury;
    uint256 private _minStake;
    uint64 private _unbondingDelay;
    uint64 private _minUnbondingDelay;
    mapping(address operator => Guardian) private _guardians;
    address[] private _operators; // registration order, append-only
    mapping(address account => uint256) private _claimable;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (governance).
    /// @param treasury_ Receives the slashed stake that is not a prover's reward; governance can move it.
    constructor(address admin, address treasury_, uint256 minStake_, uint64 unbondingDelay_)
        EIP712("CredentialGuardians", "1")
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (treasury_ == address(0)) revert GuardianParameterOutOfRange("treasury", 0);
        _treasury = treasury_;
        if (minStake_ == 0 || minStake_ > MAX_MIN_STAKE) revert GuardianParameterOutOfRange("minStake", minStake_);
        if (unbondingDelay_ == 0 || unbondingDelay_ > MAX_UNBONDING_DELAY) {
            revert GuardianParameterOutOfRange("unbondingDelay", unbondingDelay_);
        }
        _minStake = minStake_;
        _unbondingDelay = unbondingDelay_;
    }

    // ───────────────────────────── wiring and governance ─────────────────────────────

    /// @notice Sets the audit log (the coordinator) once; also grants it SLASHER_ROLE.
    function setCoordinator(address coordinator_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_audit) != address(0) || coordinator_ == address(0)) {
            revert GuardianParameterOutOfRange("coordinator", uint160(coordinator_));
        }
        _audit = IAuditLog(coordinator_);
        _grantRole(SLASHER_ROLE, coordinator_);
    }

    /// @inheritdoc IGuardianRegistry
    function setStakeLock(IStakeLock lock) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_stakeLock) != address(0) || address(lock) == address(0)) {
            revert GuardianParameterOutOfRange("stakeLock", uint160(address(lock)));
        }
        _stakeLock = lock;
        _emitParameter("stakeLock", uint160(address(lock)));
    }

    /// @inheritdoc IGuardianRegistry
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert GuardianParameterOutOfRange("treasury", 0);
        _treasury = newTreasury;
        _emitParameter("treasury", uint160(newTreasury));
    }

    function setMinStake(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (value == 0 || value > MAX_MIN_STAKE) revert GuardianParameterOutOfRange("minStake", value);
        _minStake = value;
        _emitParameter("minStake", value);
    }

    function setUnbondingDelay(uint64 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (value <= _minUnbondingDelay || value > MAX_UNBONDING_DELAY) {
            revert GuardianParameterOutOfRange("unbondingDelay", value);
        }
        _unbondingDelay = value;
        _emitParameter("unbondingDelay", value);
    }

    /// @notice The coordinator states its request lifetime plus its longest security period plus its dispute
    ///         window; the unbonding delay must stay above it.
    function setMinUnbondingDelay(uint64 value) external onlyRole(SLASHER_ROLE) {
        if (value >= _unbondingDelay) revert GuardianParameterOutOfRange("minUnbondingDelay", value);
        _minUnbondingDelay = value;
        _emitParameter("minUnbondingDelay", value);
    }

    // ───────────────────────────── operators ─────────────────────────────

    /// @inheritdoc IGuardianRegistry
    function register(
        bytes32 encryptionKey,
        string calldata metadataURI,
        bytes32 region,
        bytes32 provider,
        uint8 channelKinds
    ) external payable {
        Guardian storage g = _guardians[msg.sender];
        if (g.registered) revert GuardianAlreadyRegistered(msg.sender);
        if (encryptionKey == bytes32(0)) revert GuardianInvalidEncryptionKey();
        if (channelKinds == 0 || channelKinds & ~CHANNEL_KINDS_MASK != 0) revert GuardianInvalidChannelKinds(channelKinds);
        g.registered = true;
        g.encryptionKey = encryptionKey;
        g.channelKinds = channelKinds;
        g.region = region;
        g.provider = provider;
        _operators.push(msg.sender);
        emit GuardianRegistered(msg.sender, encryptionKey, metadataURI, region, provider, channelKinds);
        _record(
            IAuditLog.AuditKind.GuardianRegistered,
            abi.encode(msg.sender, encryptionKey, metadataURI, region, provider, channelKinds)
        );
        if (msg.value > 0) _addStake(g, msg.value);
    }

    /// @inheritdoc IGuardianRegistry
    function stake() external payable {
        Guardian storage g = _registered(msg.sender);
        if (msg.value == 0) revert GuardianZeroAmount();
        _addStake(g, msg.value);
    }

    /// @inheritdoc IGuardianRegistry
    function startUnbonding(uint256 amount) external {
        Guardian storage g = _registered(msg.sender);
        if (amount == 0) revert GuardianZeroAmount();
        if (amount > g.stake) revert GuardianInsufficientStake(msg.sender, g.stake, amount);
        g.stake -= uint96(amount);
        g.unbonding += uint96(amount);
        uint64 readyAt = uint64(block.timestamp) + _unbondingDelay;
        g.unbondingReadyAt = uint40(readyAt);
        emit GuardianUnbondingStarted(msg.sender, amount, readyAt);
        _record(IAuditLog.AuditKind.GuardianUnbondingStarted, abi.encode(msg.sender, amount, readyAt));
    }

    /// @inheritdoc IGuardianRegistry
    function withdraw() external nonReentrant {
        Guardian storage g = _registered(msg.sender);
        uint256 amount = g.unbonding;
        if (amount == 0) revert GuardianNothingToWithdraw(msg.sender);
        if (block.timestamp < g.unbondingReadyAt) revert GuardianUnbondingNotReady(msg.sender, g.unbondingReadyAt);
        IStakeLock lock = _stakeLock;
        if (address(lock) != address(0)) {
            uint64 lockedUntil = lock.stakeLockedUntil(msg.sender);
            if (block.timestamp < lockedUntil) revert GuardianStakeLocked(msg.sender, lockedUntil);
        }
        g.unbonding = 0;
        emit GuardianWithdrawn(msg.sender, amount);
        _record(IAuditLog.AuditKind.GuardianWithdrawn, abi.encode(msg.sender, amount));
        _send(_payee(msg.sender), amount);
    }

    /// @inheritdoc IGuardianRegistry
    function setWithdrawalAddress(address withdrawalAddress_) external {
        Guardian storage g = _registered(msg.sender);
        // None named yet: the operator key is paid anyway, so naming one at once takes nothing from anybody.
        uint256 from = _withdrawalAddress(g) == address(0) ? block.timestamp : block.timestamp + _unbondingDelay;
        _scheduleWithdrawalAddress(g, msg.sender, withdrawalAddress_, from);
    }

    /// @inheritdoc IGuardianRegistry
    function cancelWithdrawalAddressChange(address operator) external {
        Guardian storage g = _registered(operator);
        address current = _withdrawalAddress(g);
        if (current == address(0) || msg.sender != current) revert GuardianNotWithdrawalAddress(operator, msg.sender);
        _scheduleWithdrawalAddress(g, operator, current, block.timestamp);
    }

    /// @inheritdoc IGuardianRegistry
    function attest(GuardianAttestation calldata a, bytes calldata signature) external {
        Guardian storage g = _registered(a.operator);
        if (a.expiresAt <= block.timestamp) revert GuardianAttestationExpired(a.expiresAt);
        if (a.nonce != g.attestationNonce) revert GuardianAttestationBadNonce(a.operator, g.attestationNonce, a.nonce);
        if (a.encryptionKey != g.encryptionKey) revert GuardianAttestationKeyMismatch(a.operator);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(_attestationDigest(a), signature);
        if (err != ECDSA.RecoverError.NoError || !hasRole(ATTESTER_ROLE, signer)) {
            revert GuardianAttestationUnauthorized(signer);
        }
        g.attestationNonce = a.nonce + 1;
        g.attestationExpiresAt = uint40(a.expiresAt);
        g.measurement = a.measurement;
        emit GuardianAttested(a.operator, a.measurement, a.expiresAt, a.nonce, signer);
        _record(IAuditLog.AuditKind.GuardianAttested, abi.encode(a.operator, a.measurement, a.expiresAt, a.nonce, signer));
    }

    /// @inheritdoc IGuardianRegistry
    function revokeAttestation(address operator) external onlyRole(ATTESTER_ROLE) {
        Guardian storage g = _registered(operator);
        g.attestationExpiresAt = 0;
        // Consume the nonce: an attestation signed before the revocation (a renewal not yet submitted) names it
        // and is refused from now on; the attester signs a new one with the next nonce.
        ++g.attestationNonce;
        emit GuardianAttestationRevoked(operator, msg.sender);
        _record(IAuditLog.AuditKind.GuardianAttestationRevoked, abi.encode(operator, msg.sender));
    }

    /// @inheritdoc IGuardianRegistry
    function setJailed(address operator, bool jailed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setJailed(_registered(operator), operator, jailed);
    }

    // ───────────────────────────── coordinator ─────────────────────────────

    /// @inheritdoc IGuardianRegistry
    function slash(address operator, uint256 amount, address prover, uint256 rewardBps)
        external
        onlyRole(SLASHER_ROLE)
        returns (uint256 slashed)
    {
        Guardian storage g = _registered(operator);
        // Take from active stake first, then from unbonding funds.
        uint256 fromStake = amount < g.stake ? amount : g.stake;
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < g.unbonding ? rest : g.unbonding;
        g.stake -= uint96(fromStake);
        g.unbonding -= uint96(fromUnbonding);
        slashed = fromStake + fromUnbonding;
        uint256 reward = slashed * rewardBps / 10_000;
        _claimable[prover] += reward;
        _treasuryFunds += uint96(slashed - reward);
        emit GuardianSlashed(operator, slashed, prover, reward);
        _record(IAuditLog.AuditKind.GuardianSlashed, abi.encode(operator, slashed, prover, reward));
        if (!g.jailed) _setJailed(g, operator, true);
    }

    /// @inheritdoc IGuardianRegistry
    function recordService(address operator, uint256 requestId, bool served)
        external
        onlyRole(SLASHER_ROLE)
        returns (address payee)
    {
        Guardian storage g = _guardians[operator];
        payee = _payee(operator);
        if (served) ++g.served;
        else ++g.missed;
        emit GuardianServiceRecorded(operator, requestId, served);
        _record(IAuditLog.AuditKind.GuardianServiceRecorded, abi.encode(operator, requestId, served));
    }

    // ───────────────────────────── claims ─────────────────────────────

    /// @inheritdoc IGuardianRegistry
    function claim() external nonReentrant {
        uint256 amount = _claimable[msg.sender];
        _claimable[msg.sender] = 0;
        if (msg.sender == _treasury) {
            amount += _treasuryFunds;
            _treasuryFunds = 0;
        }
        if (amount == 0) revert GuardianNothingToWithdraw(msg.sender);
        emit Claimed(msg.sender, amount);
        _record(IAuditLog.AuditKind.Claimed, abi.encode(msg.sender, amount));
        _send(_payee(msg.sender), amount);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IGuardianRegistry
    function requireEligibleCommittee(address[] calldata committee) external view {
        uint256 n = committee.length;
        for (uint256 i = 0; i < n; ++i) {
            address member = committee[i];
            if (!_isEligible(_guardians[member])) revert GuardianNotEligible(member);
            for (uint256 j = 0; j < i; ++j) {
                if (committee[j] == member) revert GuardianDuplicateMember(member);
            }
        }
    }

    /// @inheritdoc IGuardianRegistry
    function isEligible(address operator) external view returns (bool) {
        return _isEligible(_guardians[operator]);
    }

    /// @inheritdoc IGuardianRegistry
    function guardian(address operator) external view returns (GuardianView memory v) {
        Guardian storage g = _guardians[operator];
        v = GuardianView({
            registered: g.registered,
            jailed: g.jailed,
            channelKinds: g.channelKinds,
            encryptionKey: g.encryptionKey,
            region: g.region,
            provider: g.provider,
            stake: g.stake,
            unbonding: g.unbonding,
            unbondingReadyAt: g.unbondingReadyAt,
            attestationExpiresAt: g.attestationExpiresAt,
            measurement: g.measurement,
            attestationNonce: g.attestationNonce,
            served: g.served,
            missed: g.missed,
            eligible: _isEligible(g),
            withdrawalAddress: _withdrawalAddress(g)
        });
    }

    /// @inheritdoc IGuardianRegistry
    function withdrawalAddress(address operator)
        external
        view
        returns (address current, address next, uint64 nextFrom)
    {
        Guardian storage g = _guardians[operator];
        current = _withdrawalAddress(g);
        if (g.nextWithdrawalFrom > block.timestamp) (next, nextFrom) = (g.nextWithdrawalAddress, g.nextWithdrawalFrom);
    }

    /// @inheritdoc IGuardianRegistry
    function guardianTags(address operator) external view returns (bytes32 region, bytes32 provider) {
        Guardian storage g = _guardians[operator];
        return (g.region, g.provider);
    }

    /// @inheritdoc IGuardianRegistry
    function guardianCount() external view returns (uint256) {
        return _operators.length;
    }

    /// @inheritdoc IGuardianRegistry
    function guardianAt(uint256 index) external view returns (address) {
        uint256 count = _operators.length;
        if (index >= count) revert GuardianIndexOutOfRange(index, count);
        return _operators[index];
    }

    function minStake() external view returns (uint256) {
        return _minStake;
    }

    function unbondingDelay() external view returns (uint64) {
        return _unbondingDelay;
    }

    /// @inheritdoc IGuardianRegistry
    function minUnbondingDelay() external view returns (uint64) {
        return _minUnbondingDelay;
    }

    /// @inheritdoc IGuardianRegistry
    function claimable(address account) external view returns (uint256) {
        return _claimable[account] + (account == _treasury ? _treasuryFunds : 0);
    }

    /// @inheritdoc IGuardianRegistry
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IGuardianRegistry
    function stakeLock() external view returns (IStakeLock) {
        return _stakeLock;
    }

    /// @notice The EIP-712 digest an attester signs for `a`.
    function attestationDigest(GuardianAttestation calldata a) external view returns (bytes32) {
        return _attestationDigest(a);
    }

    function coordinator() external view returns (address) {
        return address(_audit);
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _attestationDigest(GuardianAttestation calldata a) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, a.operator, a.encryptionKey, a.measurement, a.expiresAt, a.nonce))
        );
    }

    function _isEligible(Guardian storage g) private view returns (bool) {
        return g.registered && !g.jailed && g.unbonding == 0 && g.stake >= _minStake
            && g.attestationExpiresAt > block.timestamp;
    }

    /// @dev The withdrawal address in effect now (zero: the operator).
    function _withdrawalAddress(Guardian storage g) private view returns (address) {
        uint256 from = g.nextWithdrawalFrom;
        return from != 0 && block.timestamp >= from ? g.nextWithdrawalAddress : g.withdrawalAddress;
    }

    /// @dev Where `operator`'s withdrawals, claims and fees are paid.
    function _payee(address operator) private view returns (address) {
        address a = _withdrawalAddress(_guardians[operator]);
        return a == address(0) ? operator : a;
    }

    /// @dev Payouts go to `to` from `from` on (`block.timestamp`: at once); replaces any change still scheduled.
    function _scheduleWithdrawalAddress(Guardian storage g, address operator, address to, uint256 from) private {
        if (from == block.timestamp) {
            g.withdrawalAddress = to;
            (g.nextWithdrawalAddress, g.nextWithdrawalFrom) = (address(0), 0);
        } else {
            g.withdrawalAddress = _withdrawalAddress(g); // a change already in effect becomes the current one
            (g.nextWithdrawalAddress, g.nextWithdrawalFrom) = (to, uint40(from));
        }
        emit GuardianWithdrawalAddressSet(operator, to, uint64(from));
        _record(IAuditLog.AuditKind.GuardianWithdrawalAddressSet, abi.encode(operator, to, uint64(from)));
    }

    function _registered(address operator) private view returns (Guardian storage g) {
        g = _guardians[operator];
        if (!g.registered) revert GuardianNotRegistered(operator);
    }

    function _addStake(Guardian storage g, uint256 amount) private {
        g.stake += uint96(amount);
        emit GuardianStaked(msg.sender, amount, g.stake);
        _record(IAuditLog.AuditKind.GuardianStaked, abi.encode(msg.sender, amount, uint256(g.stake)));
    }

    function _setJailed(Guardian storage g, address operator, bool jailed) private {
        g.jailed = jailed;
        if (jailed) {
            emit GuardianJailed(operator, msg.sender);
            _record(IAuditLog.AuditKind.GuardianJailed, abi.encode(operator, msg.sender));
        } else {
            emit GuardianUnjailed(operator, msg.sender);
            _record(IAuditLog.AuditKind.GuardianUnjailed, abi.encode(operator, msg.sender));
        }
    }

    function _emitParameter(bytes32 name, uint256 value) private {
        emit RegistryParameterChanged(name, value);
        _record(IAuditLog.AuditKind.RegistryParameterChanged, abi.encode(name, value));
    }

    /// @dev Folds an event into the coordinator's audit log. Nothing changes state before the coordinator is wired.
    /// @dev Role changes fold into the audit log once the coordinator is wired (the constructor's grant is visible
    ///      in its `RoleGranted` event only; `setCoordinator`'s grant of SLASHER_ROLE is the first audited one).
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && address(_audit) != address(0)) {
            _record(IAuditLog.AuditKind.RoleGranted, abi.encode(role, account, _msgSender()));
        }
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && address(_audit) != address(0)) {
            _record(IAuditLog.AuditKind.RoleRevoked, abi.encode(role, account, _msgSender()));
        }
    }

    function _record(IAuditLog.AuditKind kind, bytes memory payload) private {
        if (address(_audit) == address(0)) revert GuardianCoordinatorNotSet();
        _audit.recordRegistryEvent(kind, keccak256(payload));
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert GuardianTransferFailed(to, amount);
    }
}
