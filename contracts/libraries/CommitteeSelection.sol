// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianRegistry} from "../interfaces/IGuardianRegistry.sol";

/// @title CommitteeSelection
/// @notice The handover's replacement rule (PROTOCOL.md §4), deployed once and linked into `CommitteeRegistry`
///         (DELEGATECALL keeps the registry under EIP-170's code size limit).
/// @dev From a seed no caller chooses (the registry derives it from the hash of a block mined after the handover
///      was requested, the committee, the epoch and the slot), start at a pseudo-random entry of the guardian
///      registry's list and look at up to `maxScan` entries in order; among eligible guardians that are in neither
///      the previous nor the next membership, take the first with the best spread score: 1, plus 2 for a region the
///      next membership lacks, plus 1 for a provider it lacks (a perfect score ends the scan). The scan is bounded
///      whatever the number of registered guardians.
library CommitteeSelection {
    /// @return best The replacement, or address(0) if the scanned entries hold no eligible non-member.
    /// @param registry The guardian registry (an address: library ABIs cannot name contract types portably).
    function pickReplacement(
        address registry,
        uint256 seed,
        uint256 maxScan,
        address[] memory previous,
        address[] memory next
    ) public view returns (address best) {
        IGuardianRegistry guardians = IGuardianRegistry(registry);
        uint256 count = guardians.guardianCount();
        if (count == 0) return address(0);
        uint256 n = next.length;
        bytes32[] memory regions = new bytes32[](n);
        bytes32[] memory providers = new bytes32[](n);
        for (uint256 k = 0; k < n; ++k) {
            if (next[k] != address(0)) (regions[k], providers[k]) = guardians.guardianTags(next[k]);
        }
        uint256 start = seed % count;
        uint256 scan = count < maxScan ? count : maxScan;
        uint256 bestScore = 0;
        for (uint256 k = 0; k < scan; ++k) {
            address candidate = guardians.guardianAt((start + k) % count);
            if (_contains(previous, candidate) || _contains(next, candidate) || !guardians.isEligible(candidate)) {
                continue;
            }
            (bytes32 region, bytes32 provider) = guardians.guardianTags(candidate);
            uint256 score = 1 + (_contains(regions, region) ? 0 : 2) + (_contains(providers, provider) ? 0 : 1);
            if (score > bestScore) (best, bestScore) = (candidate, score);
            if (score == 4) break;
        }
    }

    function _contains(address[] memory list, address a) private pure returns (bool) {
        for (uint256 k = 0; k < list.length; ++k) {
            if (list[k] == a) return true;
        }
        return false;
    }

    function _contains(bytes32[] memory list, bytes32 v) private pure returns (bool) {
        for (uint256 k = 0; k < list.length; ++k) {
            if (list[k] == v) return true;
        }
        return false;
    }
}
