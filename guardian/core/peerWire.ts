/**
 * The guardian peer API's HTTP surface (PROTOCOL.md §4.6); the request, its EIP-712 signature, the reply's sealing
 * and the combination are the SDK's (`sdk/protocol/peer.ts`). The server and client are in guardian/peer.ts.
 *
 *   POST /v2/channel-signature   `peerRequestToJson` text: {"request": {chainId, coordinator, accountId, accountEpoch,
 *                                slot, committeeId, askerKey, issuedAt}, "signature": "0x…"} (the asking operator's
 *                                EIP-712 ChannelRequest signature)
 *   200                          {"signer": <the answering member's slot>, "committeeEpoch": "<e>", "sealed": "0x…"}
 *   403                          {"error": "refused"}   (the same body for every refusal: the asker learns nothing; the
 *                                member logs the reason). Refused: a body over PEER_BODY_LIMIT bytes (by its
 *                                Content-Length before reading, else as it streams), one not received within
 *                                PEER_BODY_TIMEOUT_MS, text that is not JSON, a key missing, extra or mistyped, a
 *                                signature that does not recover, a stale or future issuedAt, another chain or
 *                                coordinator, a signer not in the slot, and a replay (see PEER_REPLAY_CACHE_SIZE)
 *   404                          {"error": "not found"}  (any other method or path)
 *   GET /.well-known/cg-guardian.json   {"operator": "0x…", "peerApi": "<public URL>"}   (the metadata document)
 */
export const PEER_PATH = "/v2/channel-signature";
export const METADATA_PATH = "/.well-known/cg-guardian.json";
/** A signed request is accepted for this long after it was issued… */
export const PEER_REQUEST_MAX_AGE_SECONDS = 300n;
/** …and this far ahead of the member's clock. */
export const PEER_REQUEST_MAX_SKEW_SECONDS = 60n;
/** Bytes of a request body; a longer one is refused before it is parsed. */
export const PEER_BODY_LIMIT = 4096;
/** A request whose body has not fully arrived this long after its headers is refused (slow senders). */
export const PEER_BODY_TIMEOUT_MS = 5_000;
/**
 * Replays: a request the member answered is remembered by its EIP-712 digest (the signed content, so a malleated
 * signature of the same request counts as the same request) until it is too old to be accepted anyway
 * (max age + skew); the same request again is refused. At most this many are remembered: past it the oldest is
 * forgotten first (only requests from members the member answered get in).
 */
export const PEER_REPLAY_CACHE_SIZE = 10_000;
