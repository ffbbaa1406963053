/**
 * Constants of the scheme CG-BLS12381G1-v2 (PROTOCOL.md §2–§4, §9), defined once.
 * The Solidity side spells the DST identically (contracts/libraries/BLS12381.sol); a test checks both agree.
 */

export const SCHEME = "CG-BLS12381G1-v2";

/** RFC 9380 suite of the hash to G1. */
export const HASH_TO_G1_SUITE = "BLS12381G1_XMD:SHA-256_SSWU_RO_";

/** Domain separation tag for every BLS message of the protocol (PROTOCOL.md §2). */
export const DST = "CGUARD-V02-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";

/** Domain tags: keccak256 of these ASCII strings head the abi-encoded messages (PROTOCOL.md §11). */
export const TAG = {
  /** v2 reset message m (PROTOCOL v2 §6.2, §11). */
  reset: "CGUARD-V02/reset",
  /** v2 channel identity id_j (PROTOCOL v2 §5.3, §11). */
  channel: "CGUARD-V02/channel",
  /** v2 committee acknowledgement (PROTOCOL v2 §3.6, §11). */
  committeeAck: "CGUARD-V02/ack",
} as const;

/** HPKE `info` prefixes and the channel-table HKDF info (PROTOCOL.md §5, §11). */
export const INFO = {
  channelKey: "CGUARD-V02/channel-key",
  /** v2 DKG and reshare sub-shares (PROTOCOL v2 §3.2, §4.1, §11). */
  subShare: "CGUARD-V02/subshare",
  /** v2 channel envelope sealed to slot j's member at link or rotation (PROTOCOL v2 §5.2, §11). */
  channelEnvelope: "CGUARD-V02/channel",
  /** v2 guardian peer API: a member's partial signature on id_j sealed to the asker (PROTOCOL v2 §4.6, §11). */
  peerSignature: "CGUARD-V02/peer-signature",
} as const;

/** RFC 9180 suite: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305. */
export const HPKE_SUITE = {
  mode: "base",
  kem: "DHKEM(X25519, HKDF-SHA256)",
  kdf: "HKDF-SHA256",
  aead: "ChaCha20-Poly1305",
} as const;


export const G1_COMPRESSED_LENGTH = 48;
export const G2_COMPRESSED_LENGTH = 96;
export const G1_EIP2537_LENGTH = 128;
export const G2_EIP2537_LENGTH = 256;
export const FP_EIP2537_LENGTH = 64;
export const SCALAR_LENGTH = 32;
export const X25519_KEY_LENGTH = 32;

/** HPKE encapsulated key (32) + ChaCha20-Poly1305 over a 32-byte scalar (32 + 16 tag): a sealed DKG sub-share. */
export const SEALED_SUBSHARE_LENGTH = 32 + 32 + 16;

/** Committee bounds (DKG, reshare): 2 ≤ t ≤ n ≤ 32 and t > n/2 (PROTOCOL v2 §3.1). */
export const MIN_THRESHOLD = 2;
export const COMMITTEE_MAX_SIZE = 32;

/** hashToScalar(tag, bytes): RFC 9380 hash_to_field into F_r with DST = this prefix ‖ tag (PROTOCOL v2 §2). */
export const SCALAR_DST_PREFIX = "CGUARD-V02-SCALAR-";
/** Tags of hashToScalar; the channel-code scalar c_i of PROTOCOL v2 §6.3. */
export const SCALAR_TAG = { channelCode: "channel-code" } as const;
/** RFC 9380 security parameter of hashToScalar: L = ceil((255 + 128) / 8) = 48 bytes per scalar. */
export const SCALAR_HASH_SECURITY_BITS = 128;
export const SCALAR_HASH_LENGTH = 48;

/** A channel code: 16 random bytes (PROTOCOL v2 §6.3, §6.5). */
export const CHANNEL_CODE_LENGTH = 16;
/** A posting as guardians post it: C ‖ U ‖ V ‖ W ZCash-compressed, 48 + 48 + 96 + 48 bytes (PROTOCOL v2 §2, §6.4). */
export const POSTING_COMPRESSED_LENGTH = 240;

/** Text form of a delivered code: `cg2.<requestId>.<slot>.<code>` (PROTOCOL v2 §6.5). */
export const CODE_MESSAGE_PREFIX = "cg2";
