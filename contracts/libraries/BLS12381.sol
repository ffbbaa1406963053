// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title BLS12381
/// @notice The on-chain half of the scheme CG-BLS12381G1-v2 (PROTOCOL.md §2), over the EIP-2537 precompiles.
/// @dev Concepts:
///  - Tokens, partial tokens and hashed messages live in G1; keys and Feldman commitments live in G2.
///  - Every point is `bytes` in EIP-2537 form: G1 = 128 bytes (x ‖ y), G2 = 256 bytes (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1),
///    each Fp element 64 bytes big-endian whose first 16 bytes are zero.
///  - Hash to G1 is RFC 9380 `BLS12381G1_XMD:SHA-256_SSWU_RO_`: expand_message_xmd with the SHA-256 precompile,
///    hash_to_field (count 2, L = 64) reduced mod p by Barrett reduction, two MAP_FP_TO_G1 calls and one G1ADD.
///  - Verification is one PAIRING call: e(σ, −P2) · e(H(m), K) == 1. The precompile checks that every input is
///    on its curve and in its subgroup, so the happy path pays for nothing else.
///  - Why an input was refused (encoding, curve, subgroup) is worked out only after a precompile call failed,
///    so valid inputs never pay for the diagnosis.
///  - A failing EIP-2537 call consumes all the gas handed to it. Every call whose failure can be caused by the
///    caller's input is given its exact price (or an upper bound of it), so a refused input costs a bounded
///    amount and the `try…` forms can return instead of burning the transaction.
///  - Functions come in pairs: `tryX` returns a `BLSError`, `X` reverts with the matching custom error.
library BLS12381 {
    /// @notice Outcome of a `try…` function.
    enum BLSError {
        None,
        InvalidLength,
        InvalidFieldElement,
        PointNotOnCurve,
        PointNotInSubgroup,
        PointAtInfinity,
        SignatureInvalid,
        ShareInvalid
    }

    /// @notice A point had the wrong number of bytes for its group.
    error BLSInvalidPointLength(uint256 expected, uint256 actual);
    /// @notice A coordinate was not a canonical Fp element (non-zero padding or not below p).
    error BLSInvalidFieldElement(bytes point);
    /// @notice The point does not satisfy its curve equation.
    error BLSPointNotOnCurve(bytes point);
    /// @notice The point is on the curve but outside the prime-order subgroup.
    error BLSPointNotInSubgroup(bytes point);
    /// @notice The point at infinity was given where a real point is required.
    error BLSPointAtInfinity(bytes point);
    /// @notice The pairing equation does not hold: the signature is not the key's signature on the message.
    error BLSSignatureInvalid(bytes signature);
    /// @notice expand_message_xmd was asked for 0 or more than 8160 bytes (RFC 9380 §5.3.1: ell ≤ 255).
    error BLSExpandLengthOutOfRange(uint256 lenInBytes);
    /// @notice A list of G2 commitments was empty or not a whole number of 256-byte points.
    error BLSInvalidCommitments(uint256 length);
    /// @notice Shamir share indices start at 1; index 0 is the secret itself.
    error BLSInvalidShareIndex(uint256 index);
    /// @notice A Feldman share does not match its commitments: value·P2 ≠ Σ_l index^l·C_l.
    error BLSShareInvalid(uint256 index, uint256 value);
    /// @notice Lagrange coefficients need distinct non-zero indices.
    error BLSInvalidLagrangeIndices(uint256 index);
    /// @notice A precompile that cannot fail on valid input failed (out of gas, or a chain without EIP-2537).
    error BLSPrecompileFailed(address precompile);

    /// @notice Domain separation tag of CG-BLS12381G1-v2 (PROTOCOL.md §2); the TypeScript constant is spelled identically.
    bytes internal constant DST = "CGUARD-V02-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";

    // The DST as two words for the fixed-DST hash: DST[0:32], and DST[32:52] ‖ I2OSP(52, 1) (DST_prime's tail).
    bytes32 private constant DST_W0 = "CGUARD-V02-CS01-with-BLS12381G1_";
    bytes32 private constant DST_W1 = "XMD:SHA-256_SSWU_RO_\x34";

    uint256 internal constant G1_POINT_LENGTH = 128;
    uint256 internal constant G2_POINT_LENGTH = 256;

    // EIP-2537 precompile addresses, and the two used by hash to G1.
    address internal constant SHA256 = address(0x02);
    address internal constant G1ADD = address(0x0b);
    address internal constant G1MSM = address(0x0c);
    address internal constant G2ADD = address(0x0d);
    address internal constant G2MSM = address(0x0e);
    address internal constant PAIRING = address(0x0f);
    address internal constant MAP_FP_TO_G1 = address(0x10);
    address internal constant MODEXP = address(0x05);

    // EIP-2537 prices: a call given exactly this much gas succeeds on valid input.
    uint256 private constant G1ADD_GAS = 375;
    uint256 private constant G2ADD_GAS = 600;
    uint256 private constant G1MUL_GAS = 12_000; // G1MSM with k = 1 (discount 1000/1000)
    uint256 private constant G2MUL_GAS = 22_500; // G2MSM with k = 1; k·22_500 bounds any k (discounts ≤ 1000/1000)
    uint256 private constant PAIRING_BASE_GAS = 37_700;
    uint256 private constant PAIRING_PER_PAIR_GAS = 32_600;

    // The base field modulus p split at 256 bits: p = P_HI · 2^256 + P_LO, P_HI < 2^128.
    // p = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    // μ = floor(2^512 / p), for the Barrett reduction of hash_to_field outputs (132 bits).
    uint256 private constant MU = 0x9d835d2f3cc9e45ce28101b0cc7a6ba29;
    // The scalar field order r.
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    // −P2, the negated G2 generator, in EIP-2537 form (x.c0, x.c1, y.c0, y.c1; computed with @noble/curves as
    // bls12_381.G2.Point.BASE.negate(), and checked in the tests against the TypeScript constant).
    uint256 private constant NEG_P2_X0_HI = 0x024aa2b2f08f0a91260805272dc51051;
    uint256 private constant NEG_P2_X0_LO = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    uint256 private constant NEG_P2_X1_HI = 0x13e02b6052719f607dacd3a088274f65;
    uint256 private constant NEG_P2_X1_LO = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    uint256 private constant NEG_P2_Y0_HI = 0x0d1b3cc2c7027888be51d9ef691d77bc;
    uint256 private constant NEG_P2_Y0_LO = 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    uint256 private constant NEG_P2_Y1_HI = 0x13fa4d4a0ad8b1ce186ed5061789213d;
    uint256 private constant NEG_P2_Y1_LO = 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    // ───────────────────────────── hash to G1 (RFC 9380) ─────────────────────────────

    /// @notice RFC 9380 §5.3.1 expand_message_xmd with SHA-256.
    /// @dev DSTs longer than 255 bytes are first hashed as in §5.3.3. The output is a fresh `bytes` of `lenInBytes`.
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        internal
        view
        returns (bytes memory uniform)
    {
        // Step 1-3: ell = ceil(len_in_bytes / b_in_bytes), ABORT if ell > 255 (or len_in_bytes > 65535).
        if (lenInBytes == 0 || lenInBytes > 255 * 32) revert BLSExpandLengthOutOfRange(lenInBytes);
        // §5.3.3: DST = H("H2C-OVERSIZE-DST-" ‖ DST) when it is longer than 255 bytes.
        if (dst.length > 255) dst = abi.encodePacked(sha256(abi.encodePacked("H2C-OVERSIZE-DST-", dst)));
        bool ok = true;
        assembly ("memory-safe") {
            let dstLen := mload(dst)
            let msgLen := mload(message)
            let ell := div(add(lenInBytes, 31), 32)

            // Output buffer, rounded up to whole words while it is written.
            uniform := mload(0x40)
            mstore(uniform, lenInBytes)
            let buf := add(add(uniform, 0x20), mul(ell, 0x20))

            // Steps 4-6: msg_prime = Z_pad(64 zero bytes) ‖ msg ‖ I2OSP(len_in_bytes, 2) ‖ I2OSP(0, 1) ‖ DST_prime,
            // DST_prime = DST ‖ I2OSP(len(DST), 1).
            mstore(buf, 0)
            mstore(add(buf, 0x20), 0)
            mcopy(add(buf, 0x40), add(message, 0x20), msgLen)
            let p := add(add(buf, 0x40), msgLen)
            mstore(p, shl(240, lenInBytes)) // I2OSP(len_in_bytes, 2), then I2OSP(0, 1) from the zero fill
            mcopy(add(p, 3), add(dst, 0x20), dstLen)
            mstore8(add(add(p, 3), dstLen), dstLen)
            let msgPrimeLen := sub(add(add(p, 4), dstLen), buf)

            // Step 7: b_0 = H(msg_prime).
            ok := and(ok, staticcall(gas(), 0x02, buf, msgPrimeLen, 0x00, 0x20))
            let b0 := mload(0x00)

            // Steps 8-10: b_1 = H(b_0 ‖ I2OSP(1, 1) ‖ DST_prime), b_i = H(strxor(b_0, b_(i−1)) ‖ I2OSP(i, 1) ‖ DST_prime).
            // The input is rebuilt in place over msg_prime, which is at least as long.
            let inLen := add(34, dstLen)
            mcopy(add(buf, 33), add(dst, 0x20), dstLen)
            mstore8(add(add(buf, 33), dstLen), dstLen)
            let prev := 0
            for { let i := 1 } iszero(gt(i, ell)) { i := add(i, 1) } {
                mstore(buf, xor(b0, prev))
                mstore8(add(buf, 32), i)
                let dstWord := add(uniform, mul(i, 0x20))
                ok := and(ok, staticcall(gas(), 0x02, buf, inLen, dstWord, 0x20))
                prev := mload(dstWord)
            }
            // Steps 11-12: uniform_bytes = b_1 ‖ … ‖ b_ell, truncated to len_in_bytes.
            mstore(0x40, add(add(uniform, 0x20), and(add(lenInBytes, 31), not(31))))
        }
        if (!ok) revert BLSPrecompileFailed(SHA256);
    }

    /// @notice RFC 9380 §5.2 hash_to_field with count = 2, m = 1, L = 64: two Fp elements in EIP-2537 form.
    /// @return u 128 bytes: u0 ‖ u1, each 64 bytes big-endian.
    function hashToField(bytes memory message, bytes memory dst) internal view returns (bytes memory u) {
        bytes memory uniform = expandMessageXmd(message, dst, 128);
        uint256 a0;
        uint256 b0;
        uint256 a1;
        uint256 b1;
        assembly ("memory-safe") {
            a0 := mload(add(uniform, 0x20))
            b0 := mload(add(uniform, 0x40))
            a1 := mload(add(uniform, 0x60))
            b1 := mload(add(uniform, 0x80))
        }
        (uint256 h0, uint256 l0) = reduceModP(a0, b0);
        (uint256 h1, uint256 l1) = reduceModP(a1, b1);
        u = abi.encodePacked(h0, l0, h1, l1);
    }

    /// @notice OS2IP of 64 bytes, reduced mod p (RFC 9380 §5.2 step 6): (a·2^256 + b) mod p as two words (hi, lo),
    ///         which are also the two words of the EIP-2537 encoding of the result.
    /// @dev Barrett reduction with μ = floor(2^512 / p) and shift 380: q̂ = floor(floor(V / 2^380)·μ / 2^132)
    ///      satisfies q − 2 ≤ q̂ ≤ q for q = floor(V / p), so V − q̂·p < 3p and at most two subtractions of p
    ///      remain. Bounds: V / 2^380 < 2^132 and μ < 2^132, so their product needs the 512-bit (mul, mulmod) pair;
    ///      q̂ ≤ μ and μ·P_HI < 2^256, so q̂·P_HI fits one word; V − q̂·p < 3p < 2^383, so `hi` < 2^127 throughout.
    ///      Costs about 200 gas against 600 for a MODEXP call (EIP-7883 prices).
    function reduceModP(uint256 a, uint256 b) internal pure returns (uint256 hi, uint256 lo) {
        assembly ("memory-safe") {
            let t := shr(124, a) // floor(V / 2^380)
            let pl := mul(t, MU)
            let pm := mulmod(t, MU, not(0))
            let ph := sub(sub(pm, pl), lt(pm, pl))
            let q := or(shl(124, ph), shr(132, pl)) // floor(t·μ / 2^132)
            // q·p = (q·P_HI + hi(q·P_LO))·2^256 + lo(q·P_LO)
            let l1 := mul(q, P_LO)
            let m1 := mulmod(q, P_LO, not(0))
            let h1 := sub(sub(m1, l1), lt(m1, l1))
            lo := sub(b, l1)
            hi := sub(sub(a, add(mul(q, P_HI), h1)), lt(b, l1))
            // At most two more subtractions of p.
            if or(gt(hi, P_HI), and(eq(hi, P_HI), iszero(lt(lo, P_LO)))) {
                hi := sub(sub(hi, P_HI), lt(lo, P_LO))
                lo := sub(lo, P_LO)
            }
            if or(gt(hi, P_HI), and(eq(hi, P_HI), iszero(lt(lo, P_LO)))) {
                hi := sub(sub(hi, P_HI), lt(lo, P_LO))
                lo := sub(lo, P_LO)
            }
        }
    }

    /// @notice RFC 9380 §3 hash_to_curve for BLS12381G1_XMD:SHA-256_SSWU_RO_ (§8.8.1) with any DST.
    /// @return point 128-byte EIP-2537 G1 point: map_to_curve(u0) + map_to_curve(u1) (clear_cofactor is done by the precompile).
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        bytes memory u = hashToField(message, dst);
        bool ok;
        address failed = MAP_FP_TO_G1;
        assembly ("memory-safe") {
            point := mload(0x40)
            mstore(point, 128)
            let q := add(point, 0xa0) // Q0 ‖ Q1, 256 bytes of scratch past the result
            mstore(0x40, q)
            // Q0 = map_to_curve(u0), Q1 = map_to_curve(u1); u is always below p, so these cannot fail on input.
            ok := staticcall(gas(), 0x10, add(u, 0x20), 0x40, q, 0x80)
            ok := and(ok, staticcall(gas(), 0x10, add(u, 0x60), 0x40, add(q, 0x80), 0x80))
            if ok {
                failed := 0x0b
                // P = Q0 + Q1
                ok := staticcall(gas(), 0x0b, q, 0x100, add(point, 0x20), 0x80)
            }
        }
        if (!ok) revert BLSPrecompileFailed(failed);
    }

    /// @notice H(m) of the protocol: hash to G1 of the 32 bytes of a BLS message with the protocol's DST.
    /// @dev The same steps as `hashToG1(bytes, bytes)` for a 32-byte message and the fixed 52-byte DST, laid out
    ///      in one assembly block with the DST written from two constant words. Tests check it against that
    ///      general path and against the noble-curves library.
    function hashToG1(bytes32 message) internal view returns (bytes memory point) {
        uint256 out;
        assembly ("memory-safe") {
            point := mload(0x40)
            mstore(point, 128)
            out := add(point, 0x20)
            mstore(0x40, add(point, 0xa0))
        }
        if (!_hashToG1At(message, out, out + 0x80)) revert BLSPrecompileFailed(MAP_FP_TO_G1);
    }

    /// @dev Writes H(message) (128 bytes) at memory `out`, using 0x180 bytes of scratch from `scratch`, which must
    ///      lie past the free memory pointer and not overlap `out`.
    function _hashToG1At(bytes32 message, uint256 out, uint256 scratch) private view returns (bool ok) {
        uint256 b1;
        uint256 b2;
        uint256 b3;
        uint256 b4;
        assembly ("memory-safe") {
            let buf := scratch
            // §5.3.1 steps 4-7: b_0 = H(Z_pad ‖ m ‖ I2OSP(128, 2) ‖ I2OSP(0, 1) ‖ DST ‖ I2OSP(52, 1)), 152 bytes.
            mstore(buf, 0)
            mstore(add(buf, 0x20), 0)
            mstore(add(buf, 0x40), message)
            mstore(add(buf, 0x60), shl(240, 128))
            mstore(add(buf, 0x63), DST_W0)
            mstore(add(buf, 0x83), DST_W1)
            ok := staticcall(gas(), 0x02, buf, 152, 0x00, 0x20)
            let b0 := mload(0x00)

            // Steps 8-10: b_i = H(strxor(b_0, b_(i−1)) ‖ I2OSP(i, 1) ‖ DST_prime), 86 bytes each.
            mstore(buf, b0)
            mstore8(add(buf, 0x20), 1)
            mstore(add(buf, 0x21), DST_W0)
            mstore(add(buf, 0x41), DST_W1)
            ok := and(ok, staticcall(gas(), 0x02, buf, 86, 0x00, 0x20))
            b1 := mload(0x00)
            mstore(buf, xor(b0, b1))
            mstore8(add(buf, 0x20), 2)
            ok := and(ok, staticcall(gas(), 0x02, buf, 86, 0x00, 0x20))
            b2 := mload(0x00)
            mstore(buf, xor(b0, b2))
            mstore8(add(buf, 0x20), 3)
            ok := and(ok, staticcall(gas(), 0x02, buf, 86, 0x00, 0x20))
            b3 := mload(0x00)
            mstore(buf, xor(b0, b3))
            mstore8(add(buf, 0x20), 4)
            ok := and(ok, staticcall(gas(), 0x02, buf, 86, 0x00, 0x20))
            b4 := mload(0x00)
        }
        // §5.2: u0 = OS2IP(b_1 ‖ b_2) mod p, u1 = OS2IP(b_3 ‖ b_4) mod p.
        (uint256 u0h, uint256 u0l) = reduceModP(b1, b2);
        (uint256 u1h, uint256 u1l) = reduceModP(b3, b4);
        assembly ("memory-safe") {
            let u := scratch
            let q := add(scratch, 0x80) // Q0 ‖ Q1
            mstore(u, u0h)
            mstore(add(u, 0x20), u0l)
            mstore(add(u, 0x40), u1h)
            mstore(add(u, 0x60), u1l)
            // §3: P = map_to_curve(u0) + map_to_curve(u1); the precompile also clears the cofactor.
            ok := and(ok, staticcall(gas(), 0x10, u, 0x40, q, 0x80))
            ok := and(ok, staticcall(gas(), 0x10, add(u, 0x40), 0x40, add(q, 0x80), 0x80))
            ok := and(ok, staticcall(gas(), 0x0b, q, 0x100, out, 0x80))
        }
    }

    // ───────────────────────────── verification ─────────────────────────────

    /// @notice Checks e(signature, P2) == e(hashedMessage, publicKey) with one PAIRING call.
    /// @param signature G1 point (a token or a partial token).
    /// @param publicKey G2 point (the group key K or a public share PK_i).
    /// @param hashedMessage G1 point H(m).
    function tryVerify(bytes memory signature, bytes memory publicKey, bytes memory hashedMessage)
        internal
        view
        returns (BLSError err)
    {
        (err,) = _verify(signature, publicKey, hashedMessage);
    }

    /// @notice As `tryVerify`, reverting with the custom error that names the refused input.
    function verify(bytes memory signature, bytes memory publicKey, bytes memory hashedMessage) internal view {
        _requireLength(signature, G1_POINT_LENGTH);
        _requireLength(publicKey, G2_POINT_LENGTH);
        _requireLength(hashedMessage, G1_POINT_LENGTH);
        (BLSError err, bytes memory culprit) = _verify(signature, publicKey, hashedMessage);
        if (err != BLSError.None) _revert(err, culprit);
    }

    /// @notice Verifies a reset token σ against the group key K for the 32-byte message m (PROTOCOL.md §4.7).
    function tryVerifyToken(bytes memory sigma, bytes memory groupKey, bytes32 message)
        internal
        view
        returns (BLSError)
    {
        return tryVerify(sigma, groupKey, hashToG1(message));
    }

    /// @notice As `tryVerifyToken`, reverting with the custom error that names the refused input.
    function verifyToken(bytes memory sigma, bytes memory groupKey, bytes32 message) internal view {
        verify(sigma, groupKey, hashToG1(message));
    }

    /// @notice `tryVerifyToken` for points still in calldata: they are copied straight into the PAIRING input
    ///         and H(m) is written in place, so the happy path makes no intermediate copies. This is the form
    ///         the coordinator uses.
    function tryVerifyTokenCalldata(bytes calldata sigma, bytes calldata groupKey, bytes32 message)
        internal
        view
        returns (BLSError)
    {
        if (sigma.length != G1_POINT_LENGTH || groupKey.length != G2_POINT_LENGTH) return BLSError.InvalidLength;
        uint256 input;
        assembly ("memory-safe") {
            input := mload(0x40)
            // σ ‖ −P2 ‖ H(m) ‖ K
            calldatacopy(input, sigma.offset, 0x80)
            calldatacopy(add(input, 0x200), groupKey.offset, 0x100)
        }
        _storeNegP2(input + 0x80);
        if (!_hashToG1At(message, input + 0x180, input + 0x300)) revert BLSPrecompileFailed(MAP_FP_TO_G1);
        bool holds;
        assembly ("memory-safe") {
            let sigmaSet := or(or(mload(input), mload(add(input, 0x20))), or(mload(add(input, 0x40)), mload(add(input, 0x60))))
            let k := add(input, 0x200)
            let keySet := or(
                or(or(mload(k), mload(add(k, 0x20))), or(mload(add(k, 0x40)), mload(add(k, 0x60)))),
                or(or(mload(add(k, 0x80)), mload(add(k, 0xa0))), or(mload(add(k, 0xc0)), mload(add(k, 0xe0))))
            )
            if and(iszero(iszero(sigmaSet)), iszero(iszero(keySet))) {
                holds := staticcall(add(PAIRING_BASE_GAS, mul(2, PAIRING_PER_PAIR_GAS)), 0x0f, input, 0x300, 0x00, 0x20)
                holds := and(holds, eq(mload(0x00), 1))
            }
        }
        if (holds) return BLSError.None;
        // Refused: work out why on the general path (copies are fine off the happy path).
        return tryVerify(sigma, groupKey, hashToG1(message));
    }

    /// @notice As `tryVerifyTokenCalldata`, reverting with the custom error that names the refused input.
    function verifyTokenCalldata(bytes calldata sigma, bytes calldata groupKey, bytes32 message) internal view {
        if (tryVerifyTokenCalldata(sigma, groupKey, message) != BLSError.None) {
            verifyToken(sigma, groupKey, message); // reverts with the precise error
        }
    }

    /// @notice Checks a partial token σ_i of share index i against the Feldman commitments (PROTOCOL.md §5):
    ///         PK_i = Σ_j i^j·C_j, then e(σ_i, P2) == e(H(m), PK_i).
    function tryVerifyPartial(bytes memory sigmaI, bytes memory commitments, uint256 index, bytes32 message)
        internal
        view
        returns (BLSError err)
    {
        bytes memory publicShare;
        (err, publicShare,) = _derivePublicShare(commitments, index);
        if (err == BLSError.None) err = tryVerify(sigmaI, publicShare, hashToG1(message));
    }

    /// @notice As `tryVerifyPartial`, reverting with the custom error that names the refused input.
    function verifyPartial(bytes memory sigmaI, bytes memory commitments, uint256 index, bytes32 message)
        internal
        view
    {
        verify(sigmaI, derivePublicShare(commitments, index), hashToG1(message));
    }

    // ───────────────────────────── Feldman ─────────────────────────────

    /// @notice PK_i = Σ_{j=0}^{t−1} i^j · C_j with one G2MSM call (PROTOCOL.md §3.7).
    /// @param commitments C_0 ‖ … ‖ C_{t−1}, each a 256-byte EIP-2537 G2 point.
    /// @param index The 1-based share index i.
    function tryDerivePublicShare(bytes memory commitments, uint256 index)
        internal
        view
        returns (BLSError err, bytes memory publicShare)
    {
        (err, publicShare,) = _derivePublicShare(commitments, index);
    }

    /// @notice As `tryDerivePublicShare`, reverting with the custom error that names the refused commitment.
    function derivePublicShare(bytes memory commitments, uint256 index) internal view returns (bytes memory) {
        (BLSError err, bytes memory publicShare, bytes memory culprit) = _derivePublicShare(commitments, index);
        if (err != BLSError.None) _revert(err, culprit);
        return publicShare;
    }

    /// @notice Feldman check of a (sub-)share: value·P2 == Σ_l index^l·C_l (PROTOCOL.md §3.3), with one G2MSM of
    ///         t + 1 points whose result must be the point at infinity: Σ_l index^l·C_l + (r − value)·P2 = O.
    /// @dev A value outside [1, r − 1] is `ShareInvalid` (the protocol's scalars are never 0). Malformed
    ///      commitments are diagnosed like `derivePublicShare` does.
    function tryVerifyShare(bytes memory commitments, uint256 index, uint256 value)
        internal
        view
        returns (BLSError err)
    {
        (err,) = _verifyShare(commitments, index, value);
    }

    /// @notice As `tryVerifyShare`, reverting with `BLSShareInvalid` or the error naming the refused commitment.
    function verifyShare(bytes memory commitments, uint256 index, uint256 value) internal view {
        (BLSError err, bytes memory culprit) = _verifyShare(commitments, index, value);
        if (err == BLSError.ShareInvalid) revert BLSShareInvalid(index, value);
        if (err != BLSError.None) _revert(err, culprit);
    }

    /// @notice Σ_i points_i for equally long lists of G2 points: entry l of the result is Σ_i C_{i,l} (the DKG's
    ///         committee commitments C_l = Σ_{i∈Q} D_{i,l}, PROTOCOL.md §3.5), with G2ADD (600 gas each).
    /// @dev G2ADD checks that every input is on the curve, not that it is in the subgroup: callers sum
    ///      commitments that every honest recipient has checked in full off-chain (a dealing with a point outside
    ///      the subgroup draws complaints, and the answer check below refuses it).
    /// @param lists Each entry is k concatenated 256-byte G2 points (k ≥ 1, the same for all entries).
    function trySumG2(bytes[] memory lists) internal view returns (BLSError err, bytes memory sum, bytes memory culprit) {
        uint256 count = lists.length;
        if (count == 0) revert BLSInvalidCommitments(0);
        uint256 len = lists[0].length;
        if (len == 0 || len % G2_POINT_LENGTH != 0) revert BLSInvalidCommitments(len);
        sum = new bytes(len);
        for (uint256 i = 0; i < count; ++i) {
            bytes memory list = lists[i];
            if (list.length != len) revert BLSInvalidCommitments(list.length);
            for (uint256 off = 0; off < len; off += G2_POINT_LENGTH) {
                bool ok;
                assembly ("memory-safe") {
                    let buf := mload(0x40)
                    mcopy(buf, add(add(sum, 0x20), off), 0x100)
                    mcopy(add(buf, 0x100), add(add(list, 0x20), off), 0x100)
                    ok := staticcall(G2ADD_GAS, 0x0d, buf, 0x200, add(add(sum, 0x20), off), 0x100)
                }
                if (!ok) {
                    culprit = _slice(list, off, G2_POINT_LENGTH);
                    err = _diagnose(culprit, true);
                    if (err == BLSError.None) revert BLSPrecompileFailed(G2ADD);
                    return (err, "", culprit);
                }
            }
        }
    }

    /// @notice Σ_i scalars_i·lists_i entry by entry: entry l of the result is Σ_i scalars_i·C_{i,l}, one G2MSM
    ///         of `lists.length` points per entry (the handover's C'_l = Σ_{i∈Q'} λ_i·E_{i,l}, PROTOCOL.md §4.3).
    ///         The precompile checks every point, subgroup included.
    function tryLinearCombinationG2(bytes[] memory lists, uint256[] memory scalars)
        internal
        view
        returns (BLSError err, bytes memory result, bytes memory culprit)
    {
        uint256 count = lists.length;
        if (count == 0 || scalars.length != count) revert BLSInvalidCommitments(count);
        uint256 len = lists[0].length;
        if (len == 0 || len % G2_POINT_LENGTH != 0) revert BLSInvalidCommitments(len);
        for (uint256 i = 1; i < count; ++i) {
            if (lists[i].length != len) revert BLSInvalidCommitments(lists[i].length);
        }
        result = new bytes(len);
        for (uint256 off = 0; off < len; off += G2_POINT_LENGTH) {
            bool ok;
            assembly ("memory-safe") {
                let input := mload(0x40)
                let dst := input
                for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                    let list := mload(add(add(lists, 0x20), mul(i, 0x20)))
                    mcopy(dst, add(add(list, 0x20), off), 0x100)
                    mstore(add(dst, 0x100), mload(add(add(scalars, 0x20), mul(i, 0x20))))
                    dst := add(dst, 0x120)
                }
                // count·22,500 bounds the G2MSM price for any count (its discount factors never exceed 1).
                ok := staticcall(mul(count, G2MUL_GAS), 0x0e, input, mul(count, 0x120), add(add(result, 0x20), off), 0x100)
            }
            if (!ok) {
                for (uint256 i = 0; i < count; ++i) {
                    culprit = _slice(lists[i], off, G2_POINT_LENGTH);
                    err = _diagnose(culprit, true);
                    if (err != BLSError.None) return (err, "", culprit);
                }
                revert BLSPrecompileFailed(G2MSM);
            }
        }
    }

    // ───────────────────────────── scalars mod r ─────────────────────────────

    /// @notice λ_i = Π_{j≠i} j / (j − i) mod r, the Lagrange coefficients at 0 over distinct non-zero indices
    ///         (PROTOCOL.md §4.3). One MODEXP inverts the product of all denominators (Montgomery's trick); the
    ///         rest is mulmod.
    function lagrangeAtZero(uint256[] memory indices) internal view returns (uint256[] memory lambdas) {
        uint256 k = indices.length;
        lambdas = new uint256[](k);
        uint256[] memory dens = new uint256[](k);
        uint256[] memory prefix = new uint256[](k);
        uint256 acc = 1;
        for (uint256 a = 0; a < k; ++a) {
            uint256 i = indices[a];
            if (i == 0 || i >= R) revert BLSInvalidLagrangeIndices(i);
            uint256 num = 1;
            uint256 den = 1;
            for (uint256 b = 0; b < k; ++b) {
                if (a == b) continue;
                uint256 j = indices[b];
                if (j == i) revert BLSInvalidLagrangeIndices(i);
                num = mulmod(num, j, R);
                den = mulmod(den, addmod(j, R - i, R), R);
            }
            lambdas[a] = num;
            dens[a] = den;
            prefix[a] = acc; // Π_{b<a} den_b
            acc = mulmod(acc, den, R);
        }
        uint256 inv = inverseModR(acc);
        for (uint256 a = k; a > 0; --a) {
            // inv = (Π_{b<a} den_b)^−1 on entry
            uint256 denInv = mulmod(inv, prefix[a - 1], R);
            inv = mulmod(inv, dens[a - 1], R);
            lambdas[a - 1] = mulmod(lambdas[a - 1], denInv, R);
        }
    }

    /// @notice x^(r−2) mod r with the MODEXP precompile: the inverse of a non-zero x mod the prime r.
    function inverseModR(uint256 x) internal view returns (uint256 inv) {
        if (x % R == 0) revert BLSInvalidLagrangeIndices(0);
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x20)
            mstore(add(p, 0x20), 0x20)
            mstore(add(p, 0x40), 0x20)
            mstore(add(p, 0x60), x)
            mstore(add(p, 0x80), sub(R, 2))
            mstore(add(p, 0xa0), R)
            ok := staticcall(gas(), 0x05, p, 0xc0, p, 0x20)
            inv := mload(p)
        }
        if (!ok) revert BLSPrecompileFailed(MODEXP);
    }

    // ───────────────────────────── point checks ─────────────────────────────

    /// @notice Full check of a G1 point: length, canonical coordinates, on curve, in subgroup, not infinity.
    /// @dev Costs one G1MSM (12,000 gas) for the subgroup check; the pairing does this for free, so only use
    ///      it where a point is stored or emitted without being paired.
    function tryValidateG1(bytes memory point) internal view returns (BLSError) {
        if (point.length != G1_POINT_LENGTH) return BLSError.InvalidLength;
        if (_isZero(point)) return BLSError.PointAtInfinity;
        return _diagnose(point, false);
    }

    /// @notice Full check of a G2 point (see `tryValidateG1`); the subgroup check is one G2MSM (22,500 gas).
    function tryValidateG2(bytes memory point) internal view returns (BLSError) {
        if (point.length != G2_POINT_LENGTH) return BLSError.InvalidLength;
        if (_isZero(point)) return BLSError.PointAtInfinity;
        return _diagnose(point, true);
    }

    /// @notice As `tryValidateG1`, reverting with the matching custom error.
    function validateG1(bytes memory point) internal view {
        _requireLength(point, G1_POINT_LENGTH);
        BLSError err = tryValidateG1(point);
        if (err != BLSError.None) _revert(err, point);
    }

    /// @notice As `tryValidateG2`, reverting with the matching custom error.
    function validateG2(bytes memory point) internal view {
        _requireLength(point, G2_POINT_LENGTH);
        BLSError err = tryValidateG2(point);
        if (err != BLSError.None) _revert(err, point);
    }

    /// @notice True for the all-zero encoding, EIP-2537's point at infinity (of either group).
    function isInfinity(bytes memory point) internal pure returns (bool) {
        return _isZero(point);
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _verify(bytes memory signature, bytes memory publicKey, bytes memory hashedMessage)
        private
        view
        returns (BLSError, bytes memory)
    {
        if (signature.length != G1_POINT_LENGTH) return (BLSError.InvalidLength, signature);
        if (publicKey.length != G2_POINT_LENGTH) return (BLSError.InvalidLength, publicKey);
        if (hashedMessage.length != G1_POINT_LENGTH) return (BLSError.InvalidLength, hashedMessage);
        if (_isZero(signature)) return (BLSError.PointAtInfinity, signature);
        if (_isZero(publicKey)) return (BLSError.PointAtInfinity, publicKey);

        bool success;
        bool holds;
        uint256 input;
        assembly ("memory-safe") {
            input := mload(0x40)
        }
        _storeNegP2(input + 0x80);
        assembly ("memory-safe") {
            // Pairing input (768 bytes): σ ‖ −P2 ‖ H(m) ‖ K.
            mcopy(input, add(signature, 0x20), 0x80)
            mcopy(add(input, 0x180), add(hashedMessage, 0x20), 0x80)
            mcopy(add(input, 0x200), add(publicKey, 0x20), 0x100)
            // Exactly the EIP-2537 price of two pairs, so that a refused input does not burn the caller's gas.
            success := staticcall(add(PAIRING_BASE_GAS, mul(2, PAIRING_PER_PAIR_GAS)), 0x0f, input, 0x300, 0x00, 0x20)
            holds := and(success, eq(mload(0x00), 1))
        }
        if (holds) return (BLSError.None, "");
        if (success) return (BLSError.SignatureInvalid, signature);
        // The call failed: some input is malformed. Find which, in argument order.
        BLSError err = _diagnose(signature, false);
        if (err != BLSError.None) return (err, signature);
        err = _diagnose(publicKey, true);
        if (err != BLSError.None) return (err, publicKey);
        err = _diagnose(hashedMessage, false);
        if (err != BLSError.None) return (err, hashedMessage);
        revert BLSPrecompileFailed(PAIRING);
    }

    function _derivePublicShare(bytes memory commitments, uint256 index)
        private
        view
        returns (BLSError, bytes memory publicShare, bytes memory culprit)
    {
        uint256 len = commitments.length;
        if (len == 0 || len % G2_POINT_LENGTH != 0) revert BLSInvalidCommitments(len);
        if (index == 0) revert BLSInvalidShareIndex(index);
        uint256 k = len / G2_POINT_LENGTH;
        bool success;
        uint256 input;
        assembly ("memory-safe") {
            publicShare := mload(0x40)
            mstore(publicShare, 0x100)
            input := add(publicShare, 0x120)
            mstore(0x40, input)
        }
        _storeFeldmanTerms(input, commitments, index);
        assembly ("memory-safe") {
            // k·22,500 bounds the G2MSM price for any k (its discount factors never exceed 1).
            success := staticcall(mul(k, G2MUL_GAS), 0x0e, input, mul(k, 0x120), add(publicShare, 0x20), 0x100)
        }
        if (success) return (BLSError.None, publicShare, "");
        (BLSError err, bytes memory c) = _diagnoseCommitments(commitments);
        return (err, "", c);
    }

    function _verifyShare(bytes memory commitments, uint256 index, uint256 value)
        private
        view
        returns (BLSError, bytes memory culprit)
    {
        uint256 len = commitments.length;
        if (len == 0 || len % G2_POINT_LENGTH != 0) revert BLSInvalidCommitments(len);
        if (index == 0) revert BLSInvalidShareIndex(index);
        if (value == 0 || value >= R) return (BLSError.ShareInvalid, "");
        uint256 k = len / G2_POINT_LENGTH;
        bool success;
        bool isZero;
        uint256 input;
        assembly ("memory-safe") {
            input := mload(0x40)
        }
        // G2MSM input: (C_l, index^l) for l < k, then (−P2, value): Σ index^l·C_l − value·P2 = O exactly when the
        // share is right.
        _storeFeldmanTerms(input, commitments, index);
        uint256 dst = input + k * 0x120;
        _storeNegP2(dst);
        assembly ("memory-safe") {
            mstore(add(dst, 0x100), value)
            let points := add(k, 1)
            let out := add(dst, 0x120)
            // points·22,500 bounds the G2MSM price (its discount factors never exceed 1).
            success := staticcall(mul(points, G2MUL_GAS), 0x0e, input, mul(points, 0x120), out, 0x100)
            if success {
                isZero := iszero(
                    or(
                        or(or(mload(out), mload(add(out, 0x20))), or(mload(add(out, 0x40)), mload(add(out, 0x60)))),
                        or(or(mload(add(out, 0x80)), mload(add(out, 0xa0))), or(mload(add(out, 0xc0)), mload(add(out, 0xe0))))
                    )
                )
            }
        }
        if (success) return (isZero ? BLSError.None : BLSError.ShareInvalid, "");
        return _diagnoseCommitments(commitments);
    }

    /// @dev After a G2MSM over `commitments` failed: the first commitment refused and why (a failure with every
    ///      commitment valid means the precompile itself failed).
    function _diagnoseCommitments(bytes memory commitments) private view returns (BLSError, bytes memory culprit) {
        for (uint256 off = 0; off < commitments.length; off += G2_POINT_LENGTH) {
            culprit = _slice(commitments, off, G2_POINT_LENGTH);
            BLSError err = _diagnose(culprit, true);
            if (err != BLSError.None) return (err, culprit);
        }
        revert BLSPrecompileFailed(G2MSM);
    }

    /// @dev Writes the G2MSM terms of Σ_l index^l·C_l at `dst`: k pairs (C_l: 256 bytes, index^l mod r: 32 bytes), in
    ///      scratch memory past the free pointer (never allocated).
    function _storeFeldmanTerms(uint256 dst, bytes memory commitments, uint256 index) private pure {
        assembly ("memory-safe") {
            let k := div(mload(commitments), 0x100)
            let src := add(commitments, 0x20)
            let scalar := 1
            for { let l := 0 } lt(l, k) { l := add(l, 1) } {
                mcopy(dst, add(src, mul(l, 0x100)), 0x100)
                mstore(add(dst, 0x100), scalar)
                scalar := mulmod(scalar, index, R)
                dst := add(dst, 0x120)
            }
        }
    }

    /// @dev Writes −P2 (256 bytes, EIP-2537) at `ptr`, in scratch memory past the free pointer (never allocated).
    function _storeNegP2(uint256 ptr) internal pure {
        assembly ("memory-safe") {
            mstore(ptr, NEG_P2_X0_HI)
            mstore(add(ptr, 0x20), NEG_P2_X0_LO)
            mstore(add(ptr, 0x40), NEG_P2_X1_HI)
            mstore(add(ptr, 0x60), NEG_P2_X1_LO)
            mstore(add(ptr, 0x80), NEG_P2_Y0_HI)
            mstore(add(ptr, 0xa0), NEG_P2_Y0_LO)
            mstore(add(ptr, 0xc0), NEG_P2_Y1_HI)
            mstore(add(ptr, 0xe0), NEG_P2_Y1_LO)
        }
    }

    /// @dev Why a point of the right length was refused, or `None` if it is a valid subgroup point or infinity.
    ///      Each step costs at most one bounded precompile call.
    function _diagnose(bytes memory point, bool g2) private view returns (BLSError) {
        uint256 limbs = point.length / 64;
        for (uint256 k = 0; k < limbs; ++k) {
            if (!_isFieldElement(point, k * 64)) return BLSError.InvalidFieldElement;
        }
        bool onCurve;
        bool inSubgroup;
        assembly ("memory-safe") {
            let len := mload(point)
            let buf := mload(0x40)
            // P + O: the ADD precompiles check the curve equation (not the subgroup).
            mcopy(buf, add(point, 0x20), len)
            for { let o := 0 } lt(o, len) { o := add(o, 0x20) } { mstore(add(add(buf, len), o), 0) }
            switch g2
            case 0 { onCurve := staticcall(G1ADD_GAS, 0x0b, buf, 0x100, buf, 0x80) }
            default { onCurve := staticcall(G2ADD_GAS, 0x0d, buf, 0x200, buf, 0x100) }
            if onCurve {
                // 1·P: the MSM precompiles check subgroup membership.
                mcopy(buf, add(point, 0x20), len)
                mstore(add(buf, len), 1)
                switch g2
                case 0 { inSubgroup := staticcall(G1MUL_GAS, 0x0c, buf, 0xa0, buf, 0x80) }
                default { inSubgroup := staticcall(G2MUL_GAS, 0x0e, buf, 0x120, buf, 0x100) }
            }
        }
        if (!onCurve) return BLSError.PointNotOnCurve;
        if (!inSubgroup) return BLSError.PointNotInSubgroup;
        return BLSError.None;
    }

    /// @dev The 64 bytes at `offset` are a canonical Fp element: x < p (which implies 16 leading zero bytes).
    function _isFieldElement(bytes memory point, uint256 offset) private pure returns (bool valid) {
        assembly ("memory-safe") {
            let hi := mload(add(add(point, 0x20), offset))
            let lo := mload(add(add(point, 0x40), offset))
            valid := or(lt(hi, P_HI), and(eq(hi, P_HI), lt(lo, P_LO)))
        }
    }

    function _isZero(bytes memory data) private pure returns (bool zero) {
        assembly ("memory-safe") {
            let acc := 0
            let end := add(add(data, 0x20), mload(data))
            for { let p := add(data, 0x20) } lt(p, end) { p := add(p, 0x20) } { acc := or(acc, mload(p)) }
            zero := iszero(acc)
        }
    }

    function _slice(bytes memory data, uint256 start, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            mcopy(add(out, 0x20), add(add(data, 0x20), start), len)
        }
    }

    function _requireLength(bytes memory point, uint256 expected) private pure {
        if (point.length != expected) revert BLSInvalidPointLength(expected, point.length);
    }

    /// @dev Lengths are checked (and reverted on) before `_revert` is reached.
    function _revert(BLSError err, bytes memory culprit) private pure {
        if (err == BLSError.InvalidFieldElement) revert BLSInvalidFieldElement(culprit);
        if (err == BLSError.PointNotOnCurve) revert BLSPointNotOnCurve(culprit);
        if (err == BLSError.PointNotInSubgroup) revert BLSPointNotInSubgroup(culprit);
        if (err == BLSError.PointAtInfinity) revert BLSPointAtInfinity(culprit);
        revert BLSSignatureInvalid(culprit);
    }
}
