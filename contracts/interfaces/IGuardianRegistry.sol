// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IStakeLock} from "./IStakeLock.sol";

/// @title IGuardianRegistry
/// @notice Credential Guardians: registration with region and provider tags, native-ETH stake with an unbonding
///         delay and a lock while the stake backs a committee membership, EIP-712 attestations, jailing, slashing by
///         the coordinator's fraud proofs, and per-guardian service counters (PROTOCOL.md §6).
interface IGuardianRegistry {
    /// @notice What a guardian looks like to the rest of the system.
    struct GuardianView {
        bool registered;
        bool jailed;
        uint8 channelKinds;
        bytes32 encryptionKey;
        bytes32 region;
        bytes32 provider;
        uint256 stake;
        uint256 unbonding;
        uint64 unbondingReadyAt;
        uint64 attestationExpiresAt;
        bytes32 measurement;
        uint64 attestationNonce;
        uint64 served;
        uint64 missed;
        bool eligible;
        /// @notice Where `withdraw`, `claim` and the coordinator's fees pay now (zero: the operator itself).
        address withdrawalAddress;
    }

    /// @notice EIP-712 `GuardianAttestation(address operator,bytes32 encryptionKey,bytes32 measurement,uint64 expiresAt,uint64 nonce)`.
    struct GuardianAttestation {
        address operator;
        bytes32 encryptionKey;
        bytes32 measurement;
        uint64 expiresAt;
        uint64 nonce;
    }

    error GuardianAlreadyRegistered(address operator);
    error GuardianNotRegistered(address operator);
    error GuardianInvalidEncryptionKey();
    error GuardianInvalidChannelKinds(uint8 channelKinds);
    error GuardianZeroAmount();
    error GuardianInsufficientStake(address operator, uint256 available, uint256 requested);
    error GuardianUnbondingNotReady(address operator, uint64 readyAt);
    error GuardianNothingToWithdraw(address operator);
    error GuardianAttestationExpired(uint64 expiresAt);
    error GuardianAttestationBadNonce(address operator, uint64 expected, uint64 given);
    error GuardianAttestationKeyMismatch(address operator);
    error GuardianAttestationUnauthorized(address signer);
    error GuardianNotEligible(address operator);
    error GuardianDuplicateMember(address operator);
    error GuardianParameterOutOfRange(bytes32 name, uint256 value);
    error GuardianTransferFailed(address to, uint256 amount);
    error GuardianCoordinatorNotSet();
    /// @notice `withdraw` while the stake lock still holds the operator's stake (a committee membership, or the
    ///         dispute windows of its last epoch); it can withdraw from `lockedUntil` on.
    error GuardianStakeLocked(address operator, uint64 lockedUntil);
    /// @notice `cancelWithdrawalAddressChange` by someone other than the operator's withdrawal address in effect (or
    ///         for an operator that has none).
    error GuardianNotWithdrawalAddress(address operator, address caller);
    /// @notice `guardianAt` past the end of the registration list.
    error GuardianIndexOutOfRange(uint256 index, uint256 count);

    event GuardianRegistered(
        address indexed operator,
        bytes32 encryptionKey,
        string metadataURI,
        bytes32 region,
        bytes32 provider,
        uint8 channelKinds
    );
    event GuardianStaked(address indexed operator, uint256 amount, uint256 totalStake);
    event GuardianUnbondingStarted(address indexed operator, uint256 amount, uint64 readyAt);
    event GuardianWithdrawn(address indexed operator, uint256 amount);
    event GuardianAttested(
        address indexed operator, bytes32 measurement, uint64 expiresAt, uint64 nonce, address attester
    );
    event GuardianAttestationRevoked(address indexed operator, address by);
    event GuardianJailed(address indexed operator, address by);
    event GuardianUnjailed(address indexed operator, address by);
    event GuardianSlashed(address indexed operator, uint256 amount, address prover, uint256 reward);
    event GuardianServiceRecorded(address indexed operator, uint256 indexed requestId, bool served);
    /// @notice `account` claimed `amount`: its prover rewards, plus the treasury's funds when it is the treasury.
    event Claimed(address indexed account, uint256 amount);
    /// @notice From `effectiveAt` on, `operator`'s withdrawals, claims and fees are paid to `withdrawalAddress`
    ///         (zero: the operator itself); replaces any change scheduled before.
    event GuardianWithdrawalAddressSet(address indexed operator, address withdrawalAddress, uint64 effectiveAt);
    event RegistryParameterChanged(bytes32 indexed name, uint256 value);

    /// @notice Registers msg.sender as a guardian operator; any ETH sent is staked.
    /// @param encryptionKey The guardian's X25519 HPKE public key.
    /// @param metadataURI Where the operator describes itself.
    /// @param region A region tag (e.g. "eu-west") for committee spread.
    /// @param provider A hosting-provider tag for committee spread.
    /// @param channelKinds Bitmask of deliverable channels: 1 email, 2 SMS, 4 app.
    function register(
        bytes32 encryptionKey,
        string calldata metadataURI,
        bytes32 region,
        bytes32 provider,
        uint8 channelKinds
    ) external payable;

    /// @notice Adds msg.value to msg.sender's stake.
    function stake() external payable;

    /// @notice Moves `amount` of stake into unbonding; it can be withdrawn after `unbondingDelay`.
    function startUnbonding(uint256 amount) external;

    /// @notice Withdraws stake whose unbonding delay has passed, unless the stake lock still holds it
    ///         (`GuardianStakeLocked`); pays the operator's withdrawal address, or the operator if it named none.
    function withdraw() external;

    /// @notice Names where msg.sender's (a registered operator's) withdrawals, claims and fees are paid; the zero
    ///         address pays the operator itself. With none named yet it takes effect at once; otherwise it takes
    ///         effect `unbondingDelay` from now (the address in effect is paid until then and can cancel the change
    ///         with `cancelWithdrawalAddressChange`). A later call replaces a change not yet in effect.
    function setWithdrawalAddress(address withdrawalAddress) external;

    /// @notice Cancels a change of `operator`'s withdrawal address that is not yet in effect. Only the withdrawal
    ///         address in effect may call it (`GuardianNotWithdrawalAddress`); emits `GuardianWithdrawalAddressSet`
    ///         naming it, in effect now.
    function cancelWithdrawalAddressChange(address operator) external;

    /// @notice `operator`'s withdrawal address in effect now (zero: the operator itself), and a change scheduled
    ///         for `nextFrom` (zero: none).
    function withdrawalAddress(address operator) external view returns (address current, address next, uint64 nextFrom);

    /// @notice Records an attestation signed by an `ATTESTER_ROLE` holder; anyone may submit it.
    function attest(GuardianAttestation calldata attestation, bytes calldata signature) external;

    /// @notice Revokes a guardian's current attestation (attesters only) and consumes its nonce, so no attestation
    ///         signed before the revocation can be submitted afterwards.
    function revokeAttestation(address operator) external;

    /// @notice Jails or unjails a guardian (governance); a jailed guardian is not eligible.
    function setJailed(address operator, bool jailed) external;

    /// @notice Takes up to `amount` from the operator's stake and unbonding funds; `rewardBps` of it becomes
    ///         claimable by `prover`, the rest goes to the treasury. Coordinator only (`SLASHER_ROLE`).
    function slash(address operator, uint256 amount, address prover, uint256 rewardBps)
        external
        returns (uint256 slashed);

    /// @notice The coordinator's request lifetime plus its longest security period plus its dispute window (a
    ///         posting stays provable and its fee unpaid until then); the unbonding delay must stay above it.
    ///         Coordinator only.
    function setMinUnbondingDelay(uint64 value) external;

    /// @notice Adds one served or missed request to the operator's counters. Coordinator only.
    /// @return payee Where the operator's fee for the request is to be paid: its withdrawal address, or itself.
    function recordService(address operator, uint256 requestId, bool served) external returns (address payee);

    /// @notice Reverts with `GuardianNotEligible` or `GuardianDuplicateMember` unless every member is eligible and
    ///         they are distinct.
    function requireEligibleCommittee(address[] calldata committee) external view;

    /// @notice Registered, stake ≥ minStake, attestation unexpired, not jailed, nothing unbonding.
    function isEligible(address operator) external view returns (bool);

    function guardian(address operator) external view returns (GuardianView memory);

    /// @notice The region and provider tags `operator` registered with (zero for an unregistered address).
    function guardianTags(address operator) external view returns (bytes32 region, bytes32 provider);

    /// @notice Number of operators that ever registered (registrations are never removed).
    function guardianCount() external view returns (uint256);

    /// @notice The operator that registered `index`-th (0-based, in registration order).
    function guardianAt(uint256 index) external view returns (address);

    function minStake() external view returns (uint256);

    function unbondingDelay() external view returns (uint64);

    /// @notice The floor the coordinator pushed: its request lifetime plus its longest security period plus its
    ///         dispute window. The unbonding delay stays above it, and the committee registry's release delay at or
    ///         above it.
    function minUnbondingDelay() external view returns (uint64);

    /// @notice ETH `account` can claim: its prover rewards, plus the treasury's funds when it is the treasury.
    function claimable(address account) external view returns (uint256);

    /// @notice Where slashed stake that is not a prover's reward goes.
    function treasury() external view returns (address);

    /// @notice Moves the treasury (governance, `DEFAULT_ADMIN_ROLE`); funds the previous treasury had not claimed
    ///         move with it. Emits `RegistryParameterChanged("treasury", uint160(newTreasury))`.
    /// @param newTreasury The new treasury, not the zero address.
    function setTreasury(address newTreasury) external;

    /// @notice The contract that says until when an operator's stake must stay (zero address: no lock).
    function stakeLock() external view returns (IStakeLock);

    /// @notice Sets the stake lock once (governance, `DEFAULT_ADMIN_ROLE`); from then on `withdraw` refuses while
    ///         `block.timestamp < lock.stakeLockedUntil(operator)`. Emits `RegistryParameterChanged("stakeLock", …)`.
    /// @param lock The committee contract that owns memberships, not the zero address.
    function setStakeLock(IStakeLock lock) external;

    /// @notice Sends msg.sender's claimable ETH to its withdrawal address if it is an operator that named one, else
    ///         to msg.sender.
    function claim() external;
}
