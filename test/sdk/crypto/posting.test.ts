import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import { keccak256 as ethersKeccak } from "ethers";
import fc from "fast-check";
import { type Address, concat, encodeAbiParameters, hexToBytes, toBytes, toHex } from "viem";

import {
  Fr,
  G1,
  G2,
  R,
  type G1Point,
  type G2Point,
  type Posting,
  type Share,
  channelCodePreimage,
  channelCodeScalar,
  checkCode,
  combine,
  compressPosting,
  dealDkg,
  decompressPosting,
  decodeCompressedPoint,
  decodePosting,
  encodePosting,
  encodingWitness,
  fullPosting,
  g1ToEip2537,
  g2ToEip2537,
  generateChannelCode,
  hashToG1,
  hashToScalar,
  makePosting,
  openPosting,
  parseChannelCode,
  formatChannelCode,
  publicShare,
  randomScalar,
  requesterKeyHash,
  verifyPosting,
  verifySignature,
  verifyToken,
} from "../../../sdk/index.ts";
import { errorCode, message, refusal } from "../../helpers/fixtures.ts";

const chainId = 31337n;
const coordinator: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

// ───────────────────────────── fixtures ─────────────────────────────

/** A committee of n with threshold t, dealt by one DKG dealer (enough for the reset math). */
interface Committee {
  t: number;
  commitments: G2Point[];
  shares: Share[];
}

function committeeOf(n: number, t: number): Committee {
  const d = dealDkg(n, t);
  const shares = d.subShares.map((value, k) => ({ index: k + 1, value }));
  const commitments = [...d.commitments];
  d.wipe();
  return { t, commitments, shares };
}

/** The requester alice's one-time key pair (a, A = a·G1). */
function requesterKeyPair() {
  const a = randomScalar();
  return { a, A: G1.BASE.multiply(a) };
}

/** Guardian g_i's code and its scalar c_i for request `requestId`. */
function channelCodeFor(requestId: bigint, slot: number) {
  const code = generateChannelCode();
  return { code, c: channelCodeScalar(chainId, coordinator, requestId, slot, code) };
}

interface Scene {
  committee: Committee;
  m: Uint8Array;
  hm: G1Point;
  a: bigint;
  A: G1Point;
  codes: { code: Uint8Array; c: bigint }[];
  postings: Posting[];
}

/** A request served by every member of a committee of n (threshold t): each posts for alice's key. */
function scene(n: number, t: number, requestId = 1n, seed = 0): Scene {
  const committee = committeeOf(n, t);
  const m = toBytes(message(seed));
  const hm = hashToG1(m);
  const { a, A } = requesterKeyPair();
  const codes = committee.shares.map((s) => channelCodeFor(requestId, s.index));
  const postings = committee.shares.map((share, k) => makePosting({ share, hashedMessage: hm, requesterKey: A, c: codes[k].c }));
  return { committee, m, hm, a, A, codes, postings };
}


// ───────────────────────────── hashToScalar ─────────────────────────────

describe("hashToScalar and the channel-code scalar (protocol v2 §2, §6.3, §11)", () => {
  it("is RFC 9380 hash_to_field: expand_message_xmd(SHA-256) to L = 48 bytes with DST CGUARD-V02-SCALAR-‖tag, mod r", () => {
    // L = ceil((ceil(log2 r) + k) / 8) with k = 128 (RFC 9380 §5.1).
    expect(R.toString(2).length).to.equal(255);
    expect(Math.ceil((255 + 128) / 8)).to.equal(48);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom("channel-code", "x", "another-tag"), (bytes, tag) => {
        // RFC 9380 §5.2 with count = 1, m = 1: uniform_bytes = expand_message_xmd(msg, DST, L); e = OS2IP(tv) mod r.
        const uniform = expand_message_xmd(bytes, `CGUARD-V02-SCALAR-${tag}`, 48, sha256);
        const want = BigInt(toHex(uniform)) % R;
        expect(hashToScalar(tag, bytes)).to.equal(want);
      }),
      { numRuns: 50 },
    );
  });

  it("c_i hashes abi.encode(uint256 chainId, address coordinator, uint256 requestId, uint256 i) ‖ code under the tag channel-code", () => {
    const code = generateChannelCode();
    const preimage = hexToBytes(
      concat([
        encodeAbiParameters(
          [{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "uint256" }],
          [chainId, coordinator, 42n, 3n],
        ),
        toHex(code),
      ]),
    );
    expect(preimage).to.have.length(128 + 16);
    expect(channelCodePreimage(chainId, coordinator, 42n, 3, code)).to.deep.equal(preimage);
    const uniform = expand_message_xmd(preimage, "CGUARD-V02-SCALAR-channel-code", 48, sha256);
    expect(channelCodeScalar(chainId, coordinator, 42n, 3, code)).to.equal(BigInt(toHex(uniform)) % R);
  });

  it("c_i changes with the chain, the coordinator, the request, the slot and the code", () => {
    const code = generateChannelCode();
    const base = channelCodeScalar(chainId, coordinator, 42n, 3, code);
    const other = new Uint8Array(code);
    other[15] ^= 1;
    for (const c of [
      channelCodeScalar(1n, coordinator, 42n, 3, code),
      channelCodeScalar(chainId, "0x0000000000000000000000000000000000000001", 42n, 3, code),
      channelCodeScalar(chainId, coordinator, 43n, 3, code),
      channelCodeScalar(chainId, coordinator, 42n, 4, code),
      channelCodeScalar(chainId, coordinator, 42n, 3, other),
    ]) {
      expect(c).to.not.equal(base);
    }
  });

  it("c_i is the same for a code read back from its text", () => {
    const code = generateChannelCode();
    const typed = parseChannelCode(formatChannelCode(code).toLowerCase());
    expect(channelCodeScalar(chainId, coordinator, 5n, 2, typed)).to.equal(channelCodeScalar(chainId, coordinator, 5n, 2, code));
  });

  it("refuses inputs that are not what the encoding says, naming them", () => {
    const code = generateChannelCode();
    expect(refusal(() => channelCodeScalar(chainId, coordinator, 1n, 0, code)).message).to.match(/expected a slot .* got 0/);
    expect(refusal(() => channelCodeScalar(chainId, coordinator, 1n, 1, code.subarray(1))).message).to.match(/16-byte channel code, got 15 bytes/);
    expect(refusal(() => channelCodeScalar(chainId, "0x1234" as Address, 1n, 1, code)).message).to.match(/20-byte address/);
    expect(refusal(() => channelCodeScalar(-1n, coordinator, 1n, 1, code)).message).to.match(/chainId as a uint256/);
    expect(refusal(() => hashToScalar("", code)).message).to.match(/non-empty tag/);
  });
});

// ───────────────────────────── postings ─────────────────────────────

describe("verifiably encrypted partials (protocol v2 §6.4, §6.6)", () => {
  it("a posting from a member's share verifies under its public share", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1000 }), (slot, seed) => {
        const { committee, hm, A, postings } = scene(4, 3, 1n, seed);
        const PK = publicShare(committee.commitments, slot);
        expect(verifyPosting({ posting: postings[slot - 1], hashedMessage: hm, publicShare: PK, requesterKey: A })).to.equal(true);
      }),
      { numRuns: 4 },
    );
  });

  it("fails when any of C, U, V, W is tampered with", () => {
    const { committee, hm, A, postings } = scene(3, 2);
    const posting = postings[0];
    const PK = publicShare(committee.commitments, 1);
    const check = (p: Posting) => verifyPosting({ posting: p, hashedMessage: hm, publicShare: PK, requesterKey: A });
    expect(check(posting)).to.equal(true);
    expect(check({ ...posting, C: posting.C.add(G1.BASE) }), "C").to.equal(false);
    expect(check({ ...posting, U: posting.U.add(G1.BASE) }), "U").to.equal(false);
    expect(check({ ...posting, V: posting.V.add(G2.BASE) }), "V").to.equal(false);
    expect(check({ ...posting, W: posting.W.add(G1.BASE) }), "W").to.equal(false);
    // Another member's posting under this member's public share.
    expect(check(postings[1])).to.equal(false);
  });

  it("fails under another public share, another message or another requester key", () => {
    const { committee, hm, A, postings } = scene(3, 2);
    const posting = postings[0];
    const PK = publicShare(committee.commitments, 1);
    expect(verifyPosting({ posting, hashedMessage: hm, publicShare: publicShare(committee.commitments, 2), requesterKey: A })).to.equal(false);
    expect(verifyPosting({ posting, hashedMessage: hashToG1(toBytes(message(99))), publicShare: PK, requesterKey: A })).to.equal(false);
    expect(verifyPosting({ posting, hashedMessage: hm, publicShare: PK, requesterKey: requesterKeyPair().A })).to.equal(false);
  });

  it("fails, without throwing, on infinity anywhere and on A + C = O", () => {
    const { committee, hm, A, postings } = scene(3, 2);
    const posting = postings[0];
    const PK = publicShare(committee.commitments, 1);
    for (const [name, p] of [
      ["C", { ...posting, C: G1.ZERO }],
      ["U", { ...posting, U: G1.ZERO }],
      ["V", { ...posting, V: G2.ZERO }],
      ["W", { ...posting, W: G1.ZERO }],
      ["C = −A", { ...posting, C: A.negate() }],
    ] as [string, Posting][]) {
      expect(verifyPosting({ posting: p, hashedMessage: hm, publicShare: PK, requesterKey: A }), name).to.equal(false);
    }
    expect(verifyPosting({ posting, hashedMessage: hm, publicShare: G2.ZERO, requesterKey: A })).to.equal(false);
    expect(verifyPosting({ posting, hashedMessage: hm, publicShare: PK, requesterKey: G1.ZERO })).to.equal(false);
  });

  it("checks the two equations separately: errors that cancel in their plain product do not pass", () => {
    // A cheating guardian shifts V by Δ = δ·P2 and W by δ·(G1 + A + C), all of which it knows. Then
    // e(U, P2)·e(W, P2) == e(G1, V)·e(H(m), PK_i)·e(A + C, V), the two equations folded with the
    // coefficient 1, still holds (both sides move by e(G1 + A + C, Δ)), though V no longer matches U and
    // W no longer carries σ_i. So does any fold with a coefficient the guardian knows in advance.
    const { committee, hm, A, postings } = scene(3, 2);
    const posting = postings[0];
    const PK = publicShare(committee.commitments, 1);
    const delta = randomScalar();
    const forged: Posting = {
      ...posting,
      V: posting.V.add(G2.BASE.multiply(delta)),
      W: posting.W.add(G1.BASE.add(A).add(posting.C).multiply(delta)),
    };
    // The folded product holds…
    expect(foldedCheck(forged, hm, PK, A)).to.equal(true);
    // …but the separate checks refuse it.
    expect(verifyPosting({ posting: forged, hashedMessage: hm, publicShare: PK, requesterKey: A })).to.equal(false);
  });

  it("openPosting with the right a and c gives σ_i that verifies as a partial", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const { committee, hm, a, codes, postings } = scene(3, 2, 7n, seed);
        postings.forEach((posting, k) => {
          expect(checkCode(codes[k].c, posting.C)).to.equal(true);
          const sigma = openPosting({ posting, requesterSecret: a, c: codes[k].c });
          expect(verifySignature(sigma, publicShare(committee.commitments, k + 1), hm)).to.equal(true);
          expect(sigma.equals(hm.multiply(committee.shares[k].value))).to.equal(true);
        });
      }),
      { numRuns: 3 },
    );
  });

  it("with a wrong code or a wrong a, the code check fails and the opened point is not a partial", () => {
    const { committee, hm, a, codes, postings } = scene(3, 2, 7n);
    const posting = postings[0];
    const PK = publicShare(committee.commitments, 1);
    const typo = new Uint8Array(codes[0].code);
    typo[0] ^= 0x10;
    const wrongC = channelCodeScalar(chainId, coordinator, 7n, 1, typo);
    expect(checkCode(wrongC, posting.C)).to.equal(false);
    expect(checkCode(codes[1].c, posting.C), "another member's code").to.equal(false);
    expect(verifySignature(openPosting({ posting, requesterSecret: a, c: wrongC }), PK, hm)).to.equal(false);
    expect(verifySignature(openPosting({ posting, requesterSecret: randomScalar(), c: codes[0].c }), PK, hm)).to.equal(false);
  });

  it("t opened partials combine into a token that verifyToken accepts under K", () => {
    fc.assert(
      fc.property(
        fc.constantFrom({ n: 3, t: 2 }, { n: 5, t: 3 }).chain(({ n, t }) =>
          fc.record({ n: fc.constant(n), t: fc.constant(t), members: fc.shuffledSubarray([...Array(n).keys()], { minLength: t, maxLength: t }) }),
        ),
        ({ n, t, members }) => {
          const { committee, m, a, codes, postings } = scene(n, t, 9n);
          const partials = members.map((k) => ({ index: k + 1, sigma: openPosting({ posting: postings[k], requesterSecret: a, c: codes[k].c }) }));
          const token = combine(partials, t);
          expect(verifyToken(token, committee.commitments[0], m)).to.equal(true);
        },
      ),
      { numRuns: 3 },
    );
  });

  it("refuses to post when A + C is the point at infinity, and to open when a + c = 0", () => {
    const { committee, hm } = scene(3, 2);
    const c = randomScalar();
    const A = G1.BASE.multiply(Fr.neg(c));
    const e = refusal(() => makePosting({ share: committee.shares[0], hashedMessage: hm, requesterKey: A, c }));
    expect(e.code).to.equal("REQUESTER_KEY_CANCELS");
    expect(e.message).to.match(/A \+ C is the point at infinity; draw another code/);
    const { postings, a } = scene(3, 2);
    expect(errorCode(() => openPosting({ posting: postings[0], requesterSecret: a, c: Fr.neg(a) }))).to.equal("REQUESTER_KEY_CANCELS");
  });

  it("makePosting refuses bad inputs, naming them and never the secret", () => {
    const { committee, hm, A } = scene(3, 2);
    const share = committee.shares[0];
    const c = randomScalar();
    expect(refusal(() => makePosting({ share, hashedMessage: G1.ZERO, requesterKey: A, c })).message).to.equal(
      "makePosting: the hashed message H(m) is the point at infinity",
    );
    expect(refusal(() => makePosting({ share, hashedMessage: hm, requesterKey: G1.ZERO, c })).code).to.equal("POINT_AT_INFINITY");
    expect(refusal(() => makePosting({ share, hashedMessage: hm, requesterKey: A, c: 0n })).message).to.equal(
      "makePosting: expected the channel-code scalar c in [1, r-1], got a value out of range",
    );
    const e = refusal(() => makePosting({ share: { index: 1, value: R }, hashedMessage: hm, requesterKey: A, c }));
    expect(e.message).to.not.contain(R.toString());
    expect(refusal(() => makePosting({ share: { index: 33, value: 1n }, hashedMessage: hm, requesterKey: A, c })).message).to.match(/slot/);
  });

  it("refuses a requester key or posting part outside the G1 subgroup", () => {
    const { committee, hm, A, postings } = scene(3, 2);
    const outside = findPointOutsideSubgroup();
    const e = refusal(() => makePosting({ share: committee.shares[0], hashedMessage: hm, requesterKey: outside, c: randomScalar() }));
    expect(e.code).to.equal("NOT_IN_SUBGROUP");
    expect(e.message).to.equal("makePosting: the requester key A is not in the prime-order subgroup");
    const PK = publicShare(committee.commitments, 1);
    expect(verifyPosting({ posting: postings[0], hashedMessage: hm, publicShare: PK, requesterKey: outside })).to.equal(false);
    expect(verifyPosting({ posting: { ...postings[0], U: postings[0].U.add(outside) }, hashedMessage: hm, publicShare: PK, requesterKey: A })).to.equal(false);
    expect(verifyPosting({ posting: { ...postings[0], W: outside }, hashedMessage: hm, publicShare: PK, requesterKey: A })).to.equal(false);
  });

  it("travels in EIP-2537 form and decodes to the same points", () => {
    const { committee, hm, A, postings } = scene(3, 2);
    const encoded = encodePosting(postings[0]);
    expect([encoded.C, encoded.U, encoded.V, encoded.W].map((h) => (h.length - 2) / 2)).to.deep.equal([128, 128, 256, 128]);
    const decoded = decodePosting(encoded);
    expect(verifyPosting({ posting: decoded, hashedMessage: hm, publicShare: publicShare(committee.commitments, 1), requesterKey: A })).to.equal(true);
    expect(decoded.V.equals(postings[0].V)).to.equal(true);
    expect(errorCode(() => decodePosting({ ...encoded, U: toHex(new Uint8Array(128)) }))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => decodePosting({ ...encoded, V: encoded.U }))).to.equal("INVALID_LENGTH");
  });
});

/** Both §6.4 equations folded with coefficient 1, the check an accepting side must NOT use. */
function foldedCheck(p: Posting, hm: G1Point, PK: G2Point, A: G1Point): boolean {
  // e(U + W, −P2)·e(G1, V)·e(H(m), PK_i)·e(A + C, V) == 1
  const product = bls12_381.pairingBatch([
    { g1: p.U.add(p.W), g2: G2.BASE.negate() },
    { g1: G1.BASE, g2: p.V },
    { g1: hm, g2: PK },
    { g1: A.add(p.C), g2: p.V },
  ]);
  return bls12_381.fields.Fp12.eql(product, bls12_381.fields.Fp12.ONE);
}

/** A point on the G1 curve whose order is not r (the cofactor h = 0x396c8c005555e1568c00aaab0000aaab ≠ 1). */
function findPointOutsideSubgroup(): G1Point {
  const { b } = G1.CURVE();
  const Fp = bls12_381.fields.Fp;
  for (let x = 1n; ; x++) {
    const y2 = Fp.add(Fp.mul(Fp.sqr(x), x), b);
    let y: bigint;
    try {
      y = Fp.sqrt(y2);
    } catch {
      continue;
    }
    const point = G1.fromAffine({ x, y }) as G1Point;
    if (!point.isTorsionFree()) return point;
  }
}

// ───────────────────────────── compressed postings (§2, §6.4) ─────────────────────────────

const HALF_P = (bls12_381.fields.Fp.ORDER - 1n) / 2n;

/** ZCash compressed G1, written out from the affine coordinates (not through noble's toBytes). */
function zcashG1(point: G1Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = hexToBytes(toHex(x, { size: 48 }));
  out[0] |= 0x80 | (y > HALF_P ? 0x20 : 0);
  return out;
}

/** ZCash compressed G2: x.c1 ‖ x.c0, sign from y.c1 (or y.c0 when y.c1 = 0). */
function zcashG2(point: G2Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = hexToBytes(concat([toHex(x.c1, { size: 48 }), toHex(x.c0, { size: 48 })]));
  const larger = y.c1 > HALF_P || (y.c1 === 0n && y.c0 > HALF_P);
  out[0] |= 0x80 | (larger ? 0x20 : 0);
  return out;
}

/** Bytes of a compressed posting with one part replaced. */
function withPart(bytes: Uint8Array, part: "C" | "U" | "V" | "W", replacement: Uint8Array): Uint8Array {
  const offset = { C: 0, U: 48, V: 96, W: 192 }[part];
  const out = bytes.slice();
  out.set(replacement, offset);
  return out;
}

/** A G1 x (with the compression flag) for which x³ + 4 is not a square, and a point on the curve outside the subgroup. */
function badG1(): { noY: Uint8Array; outside: Uint8Array } {
  const Fp = bls12_381.fields.Fp;
  let noY: Uint8Array | undefined;
  for (let x = 1n; noY === undefined; x++) {
    // Euler's criterion: (x³ + 4)^((p − 1)/2) = −1 for a non-square.
    if (Fp.eql(Fp.pow(Fp.add(Fp.mul(Fp.sqr(x), x), 4n), HALF_P), Fp.neg(Fp.ONE))) noY = hexToBytes(toHex(x, { size: 48 }));
  }
  noY[0] |= 0x80;
  const outside = zcashG1(findPointOutsideSubgroup());
  return { noY, outside };
}

/** A G2 x with no point, and a point on the G2 curve outside the subgroup (the cofactor is huge, so the first found is). */
function badG2(): { noY: Uint8Array; outside: Uint8Array } {
  const Fp2 = bls12_381.fields.Fp2;
  const { b } = G2.CURVE();
  let noY: Uint8Array | undefined;
  let outside: Uint8Array | undefined;
  for (let k = 1n; noY === undefined || outside === undefined; k++) {
    const x = Fp2.create({ c0: k, c1: 1n });
    const y2 = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    let y;
    try {
      y = Fp2.sqrt(y2);
    } catch {
      noY ??= (() => {
        const out = hexToBytes(concat([toHex(1n, { size: 48 }), toHex(k, { size: 48 })]));
        out[0] |= 0x80;
        return out;
      })();
      continue;
    }
    const point = G2.fromAffine({ x, y }) as G2Point;
    if (!point.isTorsionFree()) outside ??= zcashG2(point);
  }
  return { noY, outside };
}

describe("compressed postings, as guardians post them (protocol v2 §2, §6.4)", () => {
  it("compressPosting is C ‖ U ‖ V ‖ W in ZCash form, 48 + 48 + 96 + 48 = 240 bytes", () => {
    const { postings } = scene(3, 2);
    for (const p of postings) {
      const bytes = compressPosting(p);
      expect(bytes).to.have.length(240);
      expect(toHex(bytes)).to.equal(toHex(concat([zcashG1(p.C), zcashG1(p.U), zcashG2(p.V), zcashG1(p.W)])));
    }
  });

  it("compressPosting checks every point of a posting it did not make: a copy with W outside the subgroup is refused", () => {
    const made = scene(3, 2).postings[0];
    const copy = { ...made };
    expect(toHex(compressPosting(copy))).to.equal(toHex(compressPosting(made)));
    expect(errorCode(() => compressPosting({ ...made, W: findPointOutsideSubgroup() }))).to.equal("NOT_IN_SUBGROUP");
  });

  it("decompress(compress(p)) = p for any points of the subgroups", () => {
    const scalar = fc.bigInt({ min: 1n, max: R - 1n });
    fc.assert(
      fc.property(scalar, scalar, scalar, scalar, (c, u, v, w) => {
        const p: Posting = { C: G1.BASE.multiply(c), U: G1.BASE.multiply(u), V: G2.BASE.multiply(v), W: G1.BASE.multiply(w) };
        const back = decompressPosting(compressPosting(p));
        expect(back.C.equals(p.C) && back.U.equals(p.U) && back.V.equals(p.V) && back.W.equals(p.W)).to.equal(true);
        expect(decompressPosting(toHex(compressPosting(p))).V.equals(p.V)).to.equal(true);
      }),
      { numRuns: 20 },
    );
  });

  it("a decompressed posting still passes the public check, with the same EIP-2537 bytes", () => {
    const { committee, hm, A, postings } = scene(3, 2);
    const back = decompressPosting(compressPosting(postings[1]));
    expect(verifyPosting({ posting: back, hashedMessage: hm, publicShare: publicShare(committee.commitments, 2), requesterKey: A })).to.equal(true);
    expect(encodePosting(back)).to.deep.equal(encodePosting(postings[1]));
  });

  it("refuses each kind of bad point, naming the point and why", () => {
    const good = compressPosting(scene(3, 2).postings[0]);
    const g1 = badG1();
    const g2 = badG2();
    const noFlag = good.slice(96, 192);
    noFlag[0] &= 0x7f;
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    const infinityWithSign = infinity.slice();
    infinityWithSign[0] = 0xe0;
    const xTooLarge = hexToBytes(toHex(bls12_381.fields.Fp.ORDER, { size: 48 }));
    xTooLarge[0] |= 0x80;
    const g2c0TooLarge = good.slice(96, 192);
    g2c0TooLarge.set(hexToBytes(toHex(bls12_381.fields.Fp.ORDER, { size: 48 })), 48);
    const cases: [Uint8Array, string, string, string][] = [
      [withPart(good, "V", noFlag), "V", "INVALID_ENCODING", "decompressPosting: V (G2) lacks the compression flag (bit 0x80 of its first byte)"],
      [withPart(good, "W", infinity), "W", "POINT_AT_INFINITY", "decompressPosting: W (G1) is the point at infinity"],
      [withPart(good, "U", infinityWithSign), "U", "INVALID_ENCODING", "decompressPosting: U (G1) has the infinity flag with a sign flag or non-zero bytes"],
      [withPart(good, "U", xTooLarge), "U", "INVALID_ENCODING", "decompressPosting: U (G1) has an x coordinate that is not below the field modulus p"],
      [withPart(good, "V", g2c0TooLarge), "V", "INVALID_ENCODING", "decompressPosting: V (G2) has an x coordinate (c0) that is not below the field modulus p"],
      [withPart(good, "C", g1.noY), "C", "NOT_ON_CURVE", "decompressPosting: C (G1) has an x for which no point is on the curve (x³ + b is not a square)"],
      [withPart(good, "W", g1.outside), "W", "NOT_IN_SUBGROUP", "decompressPosting: W (G1) is not in the prime-order subgroup"],
      [withPart(good, "V", g2.noY), "V", "NOT_ON_CURVE", "decompressPosting: V (G2) has an x for which no point is on the curve (x³ + b is not a square)"],
      [withPart(good, "V", g2.outside), "V", "NOT_IN_SUBGROUP", "decompressPosting: V (G2) is not in the prime-order subgroup"],
    ];
    for (const [bytes, point, code, text] of cases) {
      const e = refusal(() => decompressPosting(bytes));
      expect([e.code, e.message, e.details.point], text).to.deep.equal([code, text, point]);
    }
    expect(refusal(() => decompressPosting(good.subarray(0, 239))).message).to.equal(
      "decompressPosting: expected 240 bytes (C ‖ U ‖ V ‖ W = 48 + 48 + 96 + 48), got 239 bytes",
    );
    expect(errorCode(() => decompressPosting("nonsense" as `0x${string}`))).to.equal("INVALID_INPUT");
    expect(errorCode(() => compressPosting({ ...scene(3, 2).postings[0], V: G2.ZERO }))).to.equal("POINT_AT_INFINITY");
  });

  it("decodes compressed points to the same coordinates as the library (G1 and G2, both signs) and gives their EIP-2537 form", () => {
    for (let k = 0; k < 6; k++) {
      const p1 = G1.BASE.multiply(randomScalar());
      const p2 = G2.BASE.multiply(randomScalar());
      const d1 = decodeCompressedPoint(p1.toBytes(true), "G1");
      const d2 = decodeCompressedPoint(p2.toBytes(true), "G2");
      expect(d1).to.deep.equal({ kind: "point", x: p1.toAffine().x, y: p1.toAffine().y });
      expect(d2.kind === "point" && (d2.y as { c0: bigint }).c0).to.equal(p2.toAffine().y.c0);
    }
    const p = scene(3, 2).postings[1];
    const full = fullPosting(toHex(compressPosting(p)));
    expect(full).to.deep.equal({ C: toHex(g1ToEip2537(p.C)), U: toHex(g1ToEip2537(p.U)), V: toHex(g2ToEip2537(p.V)), W: toHex(g1ToEip2537(p.W)) });
  });

  it("gives a fraud proof the full form of a point outside the subgroup, and for an x with no y a witness that checks", () => {
    const good = compressPosting(scene(3, 2).postings[0]);
    const g1 = badG1();
    const outside = withPart(good, "W", g1.outside);
    const W = fullPosting(outside).W;
    const raw = decodeCompressedPoint(g1.outside, "G1");
    expect(raw.kind).to.equal("point");
    expect(W).to.equal(concat([toHex(raw.kind === "point" ? (raw.x as bigint) : 0n, { size: 64 }), toHex(raw.kind === "point" ? (raw.y as bigint) : 0n, { size: 64 })]));
    const noY = withPart(good, "C", g1.noY);
    expect(fullPosting(noY).C).to.equal(toHex(new Uint8Array(128)));
    const e = refusal(() => decompressPosting(noY));
    expect([e.details.index, e.details.kind]).to.deep.equal([0, "not on the curve"]);
    const Fp = bls12_381.fields.Fp;
    const x = BigInt(toHex(g1.noY.slice().map((b, i) => (i === 0 ? b & 0x1f : b))));
    const w = e.details.witness as bigint;
    expect(Fp.sqr(w)).to.equal(Fp.neg(Fp.add(Fp.mul(Fp.sqr(x), x), 4n)));
    expect(encodingWitness(0, w)).to.equal(encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }, { type: "uint256" }], [0n, w >> 256n, w & ((1n << 256n) - 1n)]));
    const g2 = badG2();
    const v = refusal(() => decompressPosting(withPart(good, "V", g2.noY)));
    const x2 = decodeCompressedPoint(g2.noY, "G2");
    expect(x2.kind).to.equal("not on the curve");
    expect([v.details.index, v.details.witness]).to.deep.equal([2, x2.kind === "not on the curve" ? x2.witness : undefined]);
  });

  it("requesterKeyHash(A) is keccak256 of A's 128-byte EIP-2537 form, from the point or its bytes", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: R - 1n }), (a) => {
        const A = G1.BASE.multiply(a);
        const { x, y } = A.toAffine();
        const eip = concat([toHex(x, { size: 64 }), toHex(y, { size: 64 })]);
        const want = ethersKeccak(eip);
        expect(requesterKeyHash(A)).to.equal(want);
        expect(requesterKeyHash(eip)).to.equal(want);
        expect(requesterKeyHash(hexToBytes(eip))).to.equal(want);
      }),
      { numRuns: 10 },
    );
    expect(errorCode(() => requesterKeyHash(G1.ZERO))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => requesterKeyHash(new Uint8Array(128)))).to.equal("POINT_AT_INFINITY");
    expect(errorCode(() => requesterKeyHash(new Uint8Array(48)))).to.equal("INVALID_LENGTH");
  });
});
