// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../../../../contracts/libraries/BLS12381.sol";
import {Fixtures} from "./Fixtures.sol";

/// @title TestBls
/// @notice What the suites compute on the fly from the fixtures' secrets (PROTOCOL.md §6.4): scalar products and sums
///         with the EIP-2537 precompiles, H(m) with the contracts' own hash to G1, and the ZCash compressed form.
///         Test code only: nothing here is constant-time or checks its inputs beyond what the precompiles do.
library TestBls {
    uint256 internal constant R = BLS12381.R;
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 private constant HALF_HI = P_HI >> 1;
    uint256 private constant HALF_LO = (P_LO >> 1) | ((P_HI & 1) << 255);

    /// @notice The posting's parts, EIP-2537, and its compressed 240 bytes.
    struct Posting {
        bytes C;
        bytes U;
        bytes V;
        bytes W;
        bytes compressed;
    }

    /// @notice A scalar in [1, r − 1] from a seed.
    function scalar(bytes32 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("cg-fuzz/scalar", seed))) % (R - 1) + 1;
    }

    function mulG1(bytes memory point, uint256 k) internal view returns (bytes memory out) {
        out = _call(address(0x0c), abi.encodePacked(point, k), 128);
    }

    function mulG2(bytes memory point, uint256 k) internal view returns (bytes memory out) {
        out = _call(address(0x0e), abi.encodePacked(point, k), 256);
    }

    function addG1(bytes memory a, bytes memory b) internal view returns (bytes memory out) {
        out = _call(address(0x0b), abi.encodePacked(a, b), 128);
    }

    function hashToG1(bytes32 message) internal view returns (bytes memory) {
        return BLS12381.hashToG1(message);
    }

    /// @notice s·H(m): a partial signature (or, with the group secret, the token σ = k·H(m)).
    function sign(uint256 secret, bytes32 message) internal view returns (bytes memory) {
        return mulG1(hashToG1(message), secret);
    }

    /// @notice Member's honest posting: σ = s·H(m), U = ρ·G1, V = ρ·G2, W = σ + ρ·(A + C), C = c·G1.
    function posting(uint256 share, bytes32 message, bytes memory requesterKey, uint256 c, uint256 rho)
        internal
        view
        returns (Posting memory p)
    {
        p.C = mulG1(Fixtures.P1, c);
        p.U = mulG1(Fixtures.P1, rho);
        p.V = mulG2(Fixtures.P2, rho);
        p.W = addG1(sign(share, message), mulG1(addG1(requesterKey, p.C), rho));
        compress(p);
    }

    function compress(Posting memory p) internal pure {
        p.compressed = abi.encodePacked(compressG1(p.C), compressG1(p.U), compressG2(p.V), compressG1(p.W));
    }

    /// @notice ZCash compressed G1 (48 bytes): x with 0x80 and, when y > (p − 1)/2, 0x20.
    function compressG1(bytes memory point) internal pure returns (bytes memory out) {
        (uint256 xHi, uint256 xLo) = _field(point, 0);
        (uint256 yHi, uint256 yLo) = _field(point, 64);
        uint256 flags = 0x80 | (_aboveHalf(yHi, yLo) ? 0x20 : 0);
        out = abi.encodePacked(uint128(xHi | (flags << 120)), xLo);
    }

    /// @notice ZCash compressed G2 (96 bytes): x.c1 ‖ x.c0, flags on the first byte; the sort bit from y.c1, or from
    ///         y.c0 when y.c1 = 0.
    function compressG2(bytes memory point) internal pure returns (bytes memory out) {
        (uint256 x0Hi, uint256 x0Lo) = _field(point, 0);
        (uint256 x1Hi, uint256 x1Lo) = _field(point, 64);
        (uint256 y0Hi, uint256 y0Lo) = _field(point, 128);
        (uint256 y1Hi, uint256 y1Lo) = _field(point, 192);
        bool large = y1Hi == 0 && y1Lo == 0 ? _aboveHalf(y0Hi, y0Lo) : _aboveHalf(y1Hi, y1Lo);
        uint256 flags = 0x80 | (large ? 0x20 : 0);
        out = abi.encodePacked(uint128(x1Hi | (flags << 120)), x1Lo, uint128(x0Hi), x0Lo);
    }

    /// @notice −P for a G1 point (r − 1 times it).
    function negG1(bytes memory point) internal view returns (bytes memory) {
        return mulG1(point, R - 1);
    }

    function _field(bytes memory point, uint256 offset) private pure returns (uint256 hi, uint256 lo) {
        assembly ("memory-safe") {
            hi := mload(add(add(point, 0x20), offset))
            lo := mload(add(add(point, 0x40), offset))
        }
    }

    function _aboveHalf(uint256 hi, uint256 lo) private pure returns (bool) {
        return hi > HALF_HI || (hi == HALF_HI && lo > HALF_LO);
    }

    function _call(address precompile, bytes memory input, uint256 outLength) private view returns (bytes memory out) {
        bool ok;
        (ok, out) = precompile.staticcall(input);
        require(ok && out.length == outLength, "TestBls: precompile failed");
    }
}
