/**
 * The guardian peer API's HTTP surface (PROTOCOL.md §4.6); the request, its EIP-712 signature, the reply's sealing
 * and the combination are the SDK's (`sdk/protocol/peer.ts`). The server and client are in guardian/peer.ts.
 *
 *   POST /v2/channel-signature   `peerRequestToJson` text: {"request": {chainId, coordinator, accountId, accountEpoch,
 *                                slot, committeeId, askerKey, issuedAt}, "signature": "0x…"} (the asking operator's
 *                                EIP-712 ChannelRequest signature)
 *   200                          {"signer": <the answering member's slot>, "committeeEpoch": "<e>", "sealed": "0x…"}
 *   403                          {"error": "refused"}   (the same body for every refusal: the asker learns nothing)
 *   GET /.well-known/cg-guardian.json   {"operator": "0x…", "peerApi": "<public URL>"}   (the metadata document)
 */
export const PEER_PATH = "/v2/channel-signature";
export const METADATA_PATH = "/.well-known/cg-guardian.json";
/** A signed request is accepted for this long after it was issued… */
export const PEER_REQUEST_MAX_AGE_SECONDS = 300n;
/** …and this far ahead of the member's clock. */
export const PEER_REQUEST_MAX_SKEW_SECONDS = 60n;
export const PEER_BODY_LIMIT = 4096;
