// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IResetCoordinator} from "../interfaces/IResetCoordinator.sol";
import {BLS12381} from "./BLS12381.sol";

/// @title CompressedPoints
/// @notice Judges a compressed posting for `proveInvalidPosting` (PROTOCOL.md §6.4, §8). Deployed once and linked
///         (its functions run by DELEGATECALL), which keeps the coordinator under the EIP-170 size limit.
/// @dev Concepts:
///  - A posting is C ‖ U ‖ V ‖ W in ZCash compressed form: G1 48 bytes, G2 96 bytes (x.c1 ‖ x.c0). The first byte's
///    top bits are flags: 0x80 compressed (required), 0x40 infinity (never valid in a posting), 0x20 sort (y is the
///    larger of ±y: for G2, decided by y.c1 unless y.c1 = 0, then by y.c0).
///  - Invalid from the bytes alone: a missing compression flag, the infinity flag, or a coordinate ≥ p.
///  - Invalid by witness: an x with no y. G1: x³ + 4 is a non-square in Fp iff −(x³ + 4) is a non-zero square
///    (p ≡ 3 mod 4, so −1 is a non-square): the prover gives w with w² = −(x³ + 4). G2: z = x³ + 4(1 + u) is a
///    non-square in Fp2 iff its norm N = z0² + z1² is a non-square in Fp: w² = −N. Field products are 768-bit
///    schoolbook products reduced by MODEXP(base, 1, p).
///  - Otherwise the prover supplies the full (EIP-2537) form of every point, which must match the bytes exactly:
///    the same x, the y whose sign the flag names, on the curve (G1ADD / G2ADD with the point at infinity checks
///    that without a subgroup check). A full form that does not match is the prover's mistake (`Mismatch`), never
///    the poster's. Points off the subgroup then fail the PAIRING precompile, whose other inputs are all known to
///    be valid: that is the poster's fault (`Invalid`).
///  - Equations, each checked alone: e(W, −P2)·e(H(m), PK_i)·e(A + C, V) == 1, then e(U, −P2)·e(G1, V) == 1. A valid
///    posting passes both, so failing either proves the posting invalid; A + C = O is invalid too (σ_i in clear).
///  - Every precompile call whose failure the input can cause gets its exact price, so a failure costs that much.
library CompressedPoints {
    /// @notice Verdicts of `judge` (plain integers: a library's external ABI has no enum type for ethers to read).
    uint8 internal constant VALID = 0;
    /// @notice The posting is proven invalid.
    uint8 internal constant INVALID = 1;
    /// @notice The proof does not match the posting (a wrong full form or witness): nothing is proven.
    uint8 internal constant MISMATCH = 2;

    uint256 internal constant POSTING_LENGTH = 240;
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 private constant HALF_HI = P_HI >> 1;
    uint256 private constant HALF_LO = (P_LO >> 1) | ((P_HI & 1) << 255);
    /// @dev The high 16 bytes of a compressed x without its three flag bits.
    uint256 private constant X_MASK = (uint256(1) << 125) - 1;
    uint256 private constant G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant G1_Y_HI = 0x08b3f481e3aaa0f1a09e30ed741d8ae4;
    uint256 private constant G1_Y_LO = 0xfcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1;
    uint256 private constant G1ADD_GAS = 375;
    uint256 private constant G2ADD_GAS = 600;
    uint256 private constant G2MUL_GAS = 22_500;
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 private constant PAIRING_BASE_GAS = 37_700;
    uint256 private constant PAIRING_PER_PAIR_GAS = 32_600;
    /// @dev Offsets of C, U, V, W in a compressed posting.
    uint256 private constant OFF_C = 0;
    uint256 private constant OFF_U = 48;
    uint256 private constant OFF_V = 96;
    uint256 private constant OFF_W = 192;

    /// @notice The verdict on `posting` (240 bytes) for message `message`, member `slot` of the epoch whose
    ///         commitments are given, and requester key A (all already checked against the chain by the caller).
    /// @param witness Empty, or abi.encode(uint256 point (0 C, 1 U, 2 V, 3 W), uint256 wHi, uint256 wLo): a square
    ///        root w = wHi·2^256 + wLo < p of −(x³ + 4) (G1) or of −N(x³ + 4(1 + u)) (G2).
    function judge(
        bytes calldata posting,
        IResetCoordinator.FullPosting calldata full,
        bytes calldata witness,
        bytes32 message,
        bytes calldata commitments,
        uint256 slot,
        bytes calldata requesterKey
    ) external view returns (uint8) {
        if (
            !_wellFormed(posting, OFF_C, false) || !_wellFormed(posting, OFF_U, false)
                || !_wellFormed(posting, OFF_V, true) || !_wellFormed(posting, OFF_W, false)
        ) return INVALID;
        if (witness.length != 0) return _hasNoY(posting, witness) ? INVALID : MISMATCH;
        if (
            !_matchesG1(posting, OFF_C, full.C) || !_matchesG1(posting, OFF_U, full.U)
                || !_matchesG2(posting, OFF_V, full.V) || !_matchesG1(posting, OFF_W, full.W)
        ) return MISMATCH;
        return _equationsHold(full, message, commitments, slot, requesterKey) ? VALID : INVALID;
    }

    // ───────────────────────────── bytes ─────────────────────────────

    /// @dev The compression flag set, the infinity flag clear, and every coordinate below p.
    function _wellFormed(bytes calldata posting, uint256 off, bool g2) private pure returns (bool) {
        uint256 flags = uint8(posting[off]);
        if (flags & 0x80 == 0 || flags & 0x40 != 0) return false;
        (uint256 hi, uint256 lo) = _x(posting, off);
        if (!_belowP(hi, lo)) return false;
        if (g2) {
            (hi, lo) = _read48(posting, off + 48);
            if (!_belowP(hi, lo)) return false;
        }
        return true;
    }

    function _read48(bytes calldata data, uint256 off) private pure returns (uint256 hi, uint256 lo) {
        assembly ("memory-safe") {
            let p := add(data.offset, off)
            hi := shr(128, calldataload(p))
            lo := calldataload(add(p, 16))
        }
    }

    /// @dev The x (or x.c1) at `off` without its flag bits.
    function _x(bytes calldata posting, uint256 off) private pure returns (uint256 hi, uint256 lo) {
        (hi, lo) = _read48(posting, off);
        hi &= X_MASK;
    }

    function _belowP(uint256 hi, uint256 lo) private pure returns (bool) {
        return hi < P_HI || (hi == P_HI && lo < P_LO);
    }

    function _aboveHalf(uint256 hi, uint256 lo) private pure returns (bool) {
        return hi > HALF_HI || (hi == HALF_HI && lo > HALF_LO);
    }

    function _sort(bytes calldata posting, uint256 off) private pure returns (bool) {
        return uint8(posting[off]) & 0x20 != 0;
    }

    /// @dev The full G1 form has exactly the compressed x, a non-zero y of the flagged sign, and is on the curve.
    function _matchesG1(bytes calldata posting, uint256 off, bytes calldata full) private view returns (bool) {
        if (full.length != 128) return false;
        (uint256 xh, uint256 xl) = _x(posting, off);
        uint256 yh;
        uint256 yl;
        bool onCurve;
        assembly ("memory-safe") {
            let f := full.offset
            if and(eq(calldataload(f), xh), eq(calldataload(add(f, 0x20)), xl)) {
                yh := calldataload(add(f, 0x40))
                yl := calldataload(add(f, 0x60))
                let ptr := mload(0x40)
                calldatacopy(ptr, f, 0x80)
                mstore(add(ptr, 0x80), 0)
                mstore(add(ptr, 0xa0), 0)
                mstore(add(ptr, 0xc0), 0)
                mstore(add(ptr, 0xe0), 0)
                onCurve := staticcall(G1ADD_GAS, 0x0b, ptr, 0x100, ptr, 0x80)
            }
        }
        return onCurve && (yh | yl) != 0 && _aboveHalf(yh, yl) == _sort(posting, off);
    }

    /// @dev As `_matchesG1` for G2: compressed x.c1 ‖ x.c0, full x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1.
    function _matchesG2(bytes calldata posting, uint256 off, bytes calldata full) private view returns (bool) {
        if (full.length != 256) return false;
        (uint256 x1h, uint256 x1l) = _x(posting, off);
        (uint256 x0h, uint256 x0l) = _read48(posting, off + 48);
        uint256 y0h;
        uint256 y0l;
        uint256 y1h;
        uint256 y1l;
        bool onCurve;
        assembly ("memory-safe") {
            let f := full.offset
            let sameX := and(
                and(eq(calldataload(f), x0h), eq(calldataload(add(f, 0x20)), x0l)),
                and(eq(calldataload(add(f, 0x40)), x1h), eq(calldataload(add(f, 0x60)), x1l))
            )
            if sameX {
                y0h := calldataload(add(f, 0x80))
                y0l := calldataload(add(f, 0xa0))
                y1h := calldataload(add(f, 0xc0))
                y1l := calldataload(add(f, 0xe0))
                let ptr := mload(0x40)
                calldatacopy(ptr, f, 0x100)
                calldatacopy(add(ptr, 0x100), calldatasize(), 0x100) // 256 zero bytes: the point at infinity
                onCurve := staticcall(G2ADD_GAS, 0x0d, ptr, 0x200, ptr, 0x100)
            }
        }
        if (!onCurve || (y0h | y0l | y1h | y1l) == 0) return false;
        bool larger = (y1h | y1l) != 0 ? _aboveHalf(y1h, y1l) : _aboveHalf(y0h, y0l);
        return larger == _sort(posting, off);
    }

    // ───────────────────────────── equations ─────────────────────────────

    function _equationsHold(
        IResetCoordinator.FullPosting calldata full,
        bytes32 message,
        bytes calldata commitments,
        uint256 slot,
        bytes calldata requesterKey
    ) private view returns (bool) {
        bytes memory hashed = BLS12381.hashToG1(message);
        bytes calldata C = full.C;
        bytes calldata V = full.V;
        bytes calldata W = full.W;
        bytes calldata U = full.U;
        uint256 input;
        assembly ("memory-safe") {
            input := mload(0x40)
        }
        // PK_i at input + 0x200 (the second pair's G2 slot).
        _storePublicShare(input + 0x200, input + 0x480, commitments, slot);
        bool ok;
        assembly ("memory-safe") {
            // A + C at input + 0x300 (the third pair's G1 slot); both are on the curve, so G1ADD succeeds.
            let key := add(input, 0x300)
            calldatacopy(key, requesterKey.offset, 0x80)
            calldatacopy(add(key, 0x80), C.offset, 0x80)
            ok := staticcall(G1ADD_GAS, 0x0b, key, 0x100, key, 0x80)
        }
        if (!ok) revert BLS12381.BLSPrecompileFailed(BLS12381.G1ADD);
        bool keyIsZero;
        assembly ("memory-safe") {
            let key := add(input, 0x300)
            keyIsZero := iszero(or(or(mload(key), mload(add(key, 0x20))), or(mload(add(key, 0x40)), mload(add(key, 0x60)))))
        }
        if (keyIsZero) return false;
        BLS12381._storeNegP2(input + 0x80);
        assembly ("memory-safe") {
            // W ‖ −P2 ‖ H(m) ‖ PK_i ‖ (A + C) ‖ V
            calldatacopy(input, W.offset, 0x80)
            mcopy(add(input, 0x180), add(hashed, 0x20), 0x80)
            calldatacopy(add(input, 0x380), V.offset, 0x100)
            ok := staticcall(add(PAIRING_BASE_GAS, mul(3, PAIRING_PER_PAIR_GAS)), 0x0f, input, 0x480, 0x00, 0x20)
            ok := and(ok, eq(mload(0x00), 1))
        }
        if (!ok) return false;
        assembly ("memory-safe") {
            // U ‖ −P2 ‖ G1 ‖ V (−P2 is still in place)
            calldatacopy(input, U.offset, 0x80)
            mstore(add(input, 0x180), G1_X_HI)
            mstore(add(input, 0x1a0), G1_X_LO)
            mstore(add(input, 0x1c0), G1_Y_HI)
            mstore(add(input, 0x1e0), G1_Y_LO)
            calldatacopy(add(input, 0x200), V.offset, 0x100)
            ok := staticcall(add(PAIRING_BASE_GAS, mul(2, PAIRING_PER_PAIR_GAS)), 0x0f, input, 0x300, 0x00, 0x20)
            ok := and(ok, eq(mload(0x00), 1))
        }
        return ok;
    }

    /// @dev Writes PK_i = C_0 + Σ_{l=1}^{t−1} i^l·C_l (256 bytes) at `out`, using scratch from `scratch`: C_0 needs no
    ///      multiplication, so the G2MSM takes t − 1 terms (for t = 3 one G2MSM of two terms, 45,000 gas, and one
    ///      G2ADD, 600, instead of a G2MSM of three, 62,302). The commitments match the committee registry's hash, so
    ///      they were checked (in the subgroup) when the epoch was finalized; a failure here is the precompile's.
    function _storePublicShare(uint256 out, uint256 scratch, bytes calldata commitments, uint256 slot) private view {
        uint256 k = commitments.length / 256;
        bool ok = k != 0 && commitments.length == k * 256;
        if (ok && k == 1) {
            assembly ("memory-safe") {
                calldatacopy(out, commitments.offset, 0x100)
            }
            return;
        }
        address failed = BLS12381.G2MSM;
        assembly ("memory-safe") {
            // scratch: C_0 ‖ S ‖ terms, S = Σ_{l≥1} i^l·C_l
            let terms := add(scratch, 0x200)
            let dst := terms
            let scalar := 1
            for { let l := 1 } lt(l, k) { l := add(l, 1) } {
                scalar := mulmod(scalar, slot, R)
                calldatacopy(dst, add(commitments.offset, mul(l, 0x100)), 0x100)
                mstore(add(dst, 0x100), scalar)
                dst := add(dst, 0x120)
            }
            if ok {
                // (k − 1)·22,500 bounds the G2MSM price (its discount factors never exceed 1).
                ok := staticcall(mul(sub(k, 1), G2MUL_GAS), 0x0e, terms, mul(sub(k, 1), 0x120), add(scratch, 0x100), 0x100)
            }
            if ok {
                failed := 0x0d
                calldatacopy(scratch, commitments.offset, 0x100)
                ok := staticcall(G2ADD_GAS, 0x0d, scratch, 0x200, out, 0x100)
            }
        }
        if (!ok) revert BLS12381.BLSPrecompileFailed(failed);
    }

    // ───────────────────────────── no square root ─────────────────────────────

    /// @dev The witness shows that the named point's x has no y: w² + z ≡ 0 (G1, z = x³ + 4) or w² + N ≡ 0 (G2,
    ///      N the norm of x³ + 4(1 + u)), with z or N non-zero and w < p.
    function _hasNoY(bytes calldata posting, bytes calldata witness) private view returns (bool) {
        if (witness.length != 96) return false;
        (uint256 point, uint256 wh, uint256 wl) = abi.decode(witness, (uint256, uint256, uint256));
        if (point > 3 || !_belowP(wh, wl)) return false;
        uint256 zh;
        uint256 zl;
        if (point == 2) {
            (uint256 x1h, uint256 x1l) = _x(posting, OFF_V);
            (uint256 x0h, uint256 x0l) = _read48(posting, OFF_V + 48);
            (zh, zl) = _g2Norm(x0h, x0l, x1h, x1l);
        } else {
            (uint256 xh, uint256 xl) = _x(posting, point == 0 ? OFF_C : point == 1 ? OFF_U : OFF_W);
            (uint256 sh, uint256 sl) = _mul(xh, xl, xh, xl);
            (zh, zl) = _mul(sh, sl, xh, xl);
            (zh, zl) = _add(zh, zl, 0, 4);
        }
        if ((zh | zl) == 0) return false;
        (uint256 qh, uint256 ql) = _mul(wh, wl, wh, wl);
        (qh, ql) = _add(qh, ql, zh, zl);
        return (qh | ql) == 0;
    }

    /// @dev N(x³ + 4(1 + u)) = z0² + z1² for x = x0 + x1·u, u² = −1.
    function _g2Norm(uint256 x0h, uint256 x0l, uint256 x1h, uint256 x1l) private view returns (uint256, uint256) {
        // x² = (x0² − x1²) + 2·x0·x1·u
        (uint256 ah, uint256 al) = _mul(x0h, x0l, x0h, x0l);
        (uint256 bh, uint256 bl) = _mul(x1h, x1l, x1h, x1l);
        (uint256 a0h, uint256 a0l) = _sub(ah, al, bh, bl);
        (uint256 ch, uint256 cl) = _mul(x0h, x0l, x1h, x1l);
        (uint256 a1h, uint256 a1l) = _add(ch, cl, ch, cl);
        // x³ = x²·x = (a0·x0 − a1·x1) + (a0·x1 + a1·x0)·u, then + 4 + 4u
        (ah, al) = _mul(a0h, a0l, x0h, x0l);
        (bh, bl) = _mul(a1h, a1l, x1h, x1l);
        (uint256 z0h, uint256 z0l) = _sub(ah, al, bh, bl);
        (z0h, z0l) = _add(z0h, z0l, 0, 4);
        (ah, al) = _mul(a0h, a0l, x1h, x1l);
        (bh, bl) = _mul(a1h, a1l, x0h, x0l);
        (uint256 z1h, uint256 z1l) = _add(ah, al, bh, bl);
        (z1h, z1l) = _add(z1h, z1l, 0, 4);
        (ah, al) = _mul(z0h, z0l, z0h, z0l);
        (bh, bl) = _mul(z1h, z1l, z1h, z1l);
        return _add(ah, al, bh, bl);
    }

    // ───────────────────────────── Fp arithmetic (values hi·2^256 + lo, reduced) ─────────────────────────────

    function _mul(uint256 ah, uint256 al, uint256 bh, uint256 bl) private view returns (uint256, uint256) {
        (uint256 h0, uint256 l0) = _mul512(al, bl);
        (uint256 h1, uint256 l1) = _mul512(ah, bl);
        (uint256 h2, uint256 l2) = _mul512(al, bh);
        unchecked {
            uint256 w1 = h0 + l1;
            uint256 carry = w1 < l1 ? 1 : 0;
            uint256 t = w1 + l2;
            if (t < l2) ++carry;
            // ah, bh < 2^125: the 768-bit product's top word cannot overflow.
            return _reduce(ah * bh + h1 + h2 + carry, t, l0);
        }
    }

    function _add(uint256 ah, uint256 al, uint256 bh, uint256 bl) private view returns (uint256, uint256) {
        unchecked {
            uint256 lo = al + bl;
            uint256 hi = ah + bh + (lo < bl ? 1 : 0);
            return _reduce(0, hi, lo);
        }
    }

    function _sub(uint256 ah, uint256 al, uint256 bh, uint256 bl) private view returns (uint256, uint256) {
        if ((bh | bl) == 0) return (ah, al);
        unchecked {
            // p − b, b < p
            uint256 nl = P_LO - bl;
            uint256 nh = P_HI - bh - (bl > P_LO ? 1 : 0);
            return _add(ah, al, nh, nl);
        }
    }

    function _mul512(uint256 a, uint256 b) private pure returns (uint256 hi, uint256 lo) {
        assembly ("memory-safe") {
            let mm := mulmod(a, b, not(0))
            lo := mul(a, b)
            hi := sub(sub(mm, lo), lt(mm, lo))
        }
    }

    /// @dev (w2·2^512 + w1·2^256 + w0) mod p with MODEXP(base, 1, p).
    function _reduce(uint256 w2, uint256 w1, uint256 w0) private view returns (uint256 hi, uint256 lo) {
        bool ok;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 96)
            mstore(add(ptr, 0x20), 1)
            mstore(add(ptr, 0x40), 48)
            mstore(add(ptr, 0x60), w2)
            mstore(add(ptr, 0x80), w1)
            mstore(add(ptr, 0xa0), w0)
            mstore8(add(ptr, 0xc0), 1)
            mstore(add(ptr, 0xc1), shl(128, P_HI))
            mstore(add(ptr, 0xd1), P_LO)
            ok := staticcall(gas(), 0x05, ptr, 0xf1, ptr, 0x30)
            hi := shr(128, mload(ptr))
            lo := mload(add(ptr, 0x10))
        }
        if (!ok) revert BLS12381.BLSPrecompileFailed(BLS12381.MODEXP);
    }
}
