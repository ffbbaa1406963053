/** Credential Guardians protocol library: cryptography, encodings and (later) contract bindings and client flows. */
export * from "./errors.ts";
export * from "./crypto/constants.ts";
export * from "./crypto/bls.ts";
export * from "./crypto/threshold.ts";
export * from "./crypto/dkg.ts";
export * from "./crypto/hpke.ts";
export * from "./crypto/channelTable.ts";
export * from "./crypto/keystore.ts";
export * from "./encoding/messages.ts";
export * from "./encoding/fragment.ts";
export * from "./protocol/shardMap.ts";
export * from "./protocol/account.ts";
export * from "./protocol/reset.ts";
export * from "./protocol/audit.ts";
export * from "./abi/index.ts";
export * from "./crypto/posting.ts";
export * from "./encoding/channelCode.ts";
