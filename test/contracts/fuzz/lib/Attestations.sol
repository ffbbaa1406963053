// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {GuardianRegistry} from "../../../../contracts/GuardianRegistry.sol";
import {IGuardianRegistry} from "../../../../contracts/interfaces/IGuardianRegistry.sol";
import {vm} from "./Vm.sol";

/// @notice The attestation the suites give a guardian (its HPKE key stand-in, a fixed measurement, the registry's
///         current nonce for it), and its signature by a given key as `attest` takes it (r ‖ s ‖ v).
library Attestations {
    function forGuardian(GuardianRegistry registry, address g, uint64 expiresAt) internal view returns (IGuardianRegistry.GuardianAttestation memory) {
        return IGuardianRegistry.GuardianAttestation({
            operator: g,
            encryptionKey: keccak256(abi.encode("hpke", g)),
            measurement: bytes32("guardian-agent v0.1.0"),
            expiresAt: expiresAt,
            nonce: registry.guardian(g).attestationNonce
        });
    }

    function sign(GuardianRegistry registry, IGuardianRegistry.GuardianAttestation memory a, uint256 key) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, registry.attestationDigest(a));
        return abi.encodePacked(r, s, v);
    }
}
