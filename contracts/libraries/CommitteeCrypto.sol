// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "./BLS12381.sol";

/// @title CommitteeCrypto
/// @notice The BLS12-381 computations of committee rounds (PROTOCOL.md §3–§4, §8), deployed once and linked into
///         `CommitteeRegistry`: `public` functions run by DELEGATECALL, which keeps the registry under EIP-170's
///         code size limit. Each is a thin wrapper over `BLS12381`; none reverts on bad points, it reports them.
library CommitteeCrypto {
    /// @notice C_l = Σ_i D_{i,l} over the qualified dealers' commitments (§3.5); `ok` is false if a point is
    ///         malformed.
    function sumCommitments(bytes[] memory dealings) public view returns (bool ok, bytes memory commitments) {
        BLS12381.BLSError err;
        (err, commitments,) = BLS12381.trySumG2(dealings);
        ok = err == BLS12381.BLSError.None;
    }

    /// @notice C'_l = Σ_{i∈Q'} λ_i·E_{i,l} with λ_i the Lagrange coefficients at 0 over `dealers` (§4.3).
    function reshareCommitments(bytes[] memory dealings, uint256[] memory dealers)
        public
        view
        returns (bool ok, bytes memory commitments)
    {
        BLS12381.BLSError err;
        (err, commitments,) = BLS12381.tryLinearCombinationG2(dealings, BLS12381.lagrangeAtZero(dealers));
        ok = err == BLS12381.BLSError.None;
    }

    /// @notice value·P2 == Σ_l index^l·C_l (§3.3–§3.4): whether a revealed sub-share matches its dealing.
    function shareMatches(bytes memory commitments, uint256 index, uint256 value) public view returns (bool) {
        return BLS12381.tryVerifyShare(commitments, index, value) == BLS12381.BLSError.None;
    }

    /// @notice keccak256 of PK_index = Σ_l index^l·C_l in EIP-2537 form (reverts on malformed commitments).
    function publicShareHash(bytes memory commitments, uint256 index) public view returns (bytes32) {
        return keccak256(BLS12381.derivePublicShare(commitments, index));
    }

    /// @notice Whether `proof` is a valid BLS signature on `message` under PK_index of `commitments` (§3.6).
    function possessionHolds(bytes memory proof, bytes memory commitments, uint256 index, bytes32 message)
        public
        view
        returns (bool)
    {
        bytes memory publicShare = BLS12381.derivePublicShare(commitments, index);
        return BLS12381.tryVerify(proof, publicShare, BLS12381.hashToG1(message)) == BLS12381.BLSError.None;
    }
}
