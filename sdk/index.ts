/** Credential Guardians protocol library: cryptography, encodings, contract bindings (`abi/`) and protocol steps; client flows are in `client/`. */
export * from "./errors.ts";
export * from "./crypto/constants.ts";
export * from "./crypto/bls.ts";
export * from "./crypto/threshold.ts";
export * from "./crypto/dkg.ts";
export * from "./crypto/hpke.ts";
export * from "./crypto/channelTable.ts";
export * from "./crypto/keystore.ts";
export * from "./encoding/messages.ts";
export * from "./protocol/account.ts";
export * from "./protocol/peer.ts";
export * from "./protocol/reset.ts";
export * from "./protocol/audit.ts";
export * from "./abi/index.ts";
export * from "./crypto/posting.ts";
export * from "./encoding/channelCode.ts";
