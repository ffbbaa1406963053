/**
 * The guardian peer API (PROTOCOL.md §4.6): channels follow the slot. A newcomer in slot j learns an account's
 * channel URI_j by opening the sealed channel entry sealed_j with σ on id_j, combined from t partial signatures:
 * its own and those of other members of the active epoch, which it asks over this API.
 *
 * Server: answers only an asker that signed its request (EIP-712, operator key), is on-chain the member in slot j of
 * the account's committee at its active epoch, and names its registered HPKE key; the answer is this member's
 * partial signature on id_j sealed to that key. Every refusal is the same 403 body, so nobody else learns anything.
 * Client: reads the sealed entry from the account's link or rotation event, asks the other members (endpoints from
 * their registry metadata documents), checks each partial against that member's public share, combines t, opens.
 *
 * Lazy: a member asks on the first delivery for an account whose envelope it cannot open (it joined the slot after
 * the link); nothing per account touches the chain.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";

import type { Logger } from "pino";
import { type Address, type Chain, type Hex, type LocalAccount, type PublicClient, getAbiItem, hashTypedData, toHex } from "viem";

import { committeeRegistryAbi, guardianRegistryAbi, resetCoordinatorAbi } from "../sdk/abi/index.ts";
import type { G2Point } from "../sdk/crypto/bls.ts";
import { hpkePublicKey } from "../sdk/crypto/hpke.ts";
import { publicShare } from "../sdk/crypto/threshold.ts";
import { channelIdentity } from "../sdk/encoding/messages.ts";
import { CGError } from "../sdk/errors.ts";
import { decodeCommitments } from "../sdk/crypto/dkg.ts";
import { unpackEntries } from "../sdk/protocol/account.ts";
import { type PeerReplyInput, type PeerRequest, peerPartial, peerRequestFromJson, peerRequestToJson, peerRequestTypedData, recoverChannel, sealPeerReply, signPeerRequest, verifyPeerRequest } from "../sdk/protocol/peer.ts";
import type { GuardianConfig } from "./config.ts";
import { METADATA_PATH, PEER_BODY_LIMIT, PEER_BODY_TIMEOUT_MS, PEER_PATH, PEER_REPLAY_CACHE_SIZE, PEER_REQUEST_MAX_AGE_SECONDS, PEER_REQUEST_MAX_SKEW_SECONDS } from "./core/peerWire.ts";
import type { Store } from "./store.ts";

const LINKED = getAbiItem({ abi: resetCoordinatorAbi, name: "AccountLinked" });
const ROTATED = getAbiItem({ abi: resetCoordinatorAbi, name: "AccountRotated" });
const REGISTERED = getAbiItem({ abi: guardianRegistryAbi, name: "GuardianRegistered" });
const PEER_TIMEOUT_MS = 5_000;

export interface PeerDeps {
  config: GuardianConfig;
  store: Store;
  operator: LocalAccount;
  hpkeSecret: Uint8Array;
  log: Logger;
  publicClient: PublicClient;
  chain: Chain;
  /** Shorter timeouts than the defaults (tests). */
  timeouts?: { headersMs?: number; bodyMs?: number };
}

/** The keys of a request body, exactly (a key missing or added is refused). */
const BODY_KEYS = ["request", "signature"];
const REQUEST_KEYS: Record<string, "string" | "number"> = {
  chainId: "string",
  coordinator: "string",
  accountId: "string",
  accountEpoch: "string",
  slot: "number",
  committeeId: "string",
  askerKey: "string",
  issuedAt: "string",
};

/** Why a request was refused (logged by the member; the asker only ever sees "refused"). */
class Refusal extends Error {}

export class PeerApi {
  readonly #d: PeerDeps;
  #server?: Server;
  /** Peer endpoints by operator, from their metadata documents. */
  readonly #endpoints = new Map<string, string>();
  /** Decoded commitments and public shares by committee epoch (its commitments and size), oldest first. */
  readonly #keys = new Map<string, { commitments: G2Point[]; publicShares: G2Point[] }>();
  /** Requests answered or being answered, by EIP-712 digest, until they are too old to be accepted (ms). */
  readonly #answered = new Map<Hex, number>();

  constructor(deps: PeerDeps) {
    this.#d = deps;
  }

  get #chainId(): bigint {
    return BigInt(this.#d.chain.id);
  }

  // ───────────────────────────── server ─────────────────────────────

  async listen(): Promise<number> {
    const peer = this.#d.config.peer!;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#serve(req, res);
    const headersMs = this.#d.timeouts?.headersMs ?? 10_000;
    // Node checks its header and request timeouts at this interval (30 s by default): slow senders are cut in time.
    const options = { maxHeaderSize: 8_192, connectionsCheckingInterval: Math.min(1_000, headersMs) };
    this.#server = peer.allowHttp && (peer.tlsCert === undefined || peer.tlsKey === undefined)
      ? createHttpServer(options, handler)
      : createHttpsServer({ ...options, cert: readFileSync(peer.tlsCert!), key: readFileSync(peer.tlsKey!) }, handler);
    this.#server.headersTimeout = headersMs;
    this.#server.requestTimeout = headersMs + (this.#d.timeouts?.bodyMs ?? PEER_BODY_TIMEOUT_MS) + 1_000;
    this.#server.keepAliveTimeout = 5_000;
    // What node:http refuses before a request reaches #serve (headers too large or malformed, too slow): logged, and a
    // bare 400-class answer without detail.
    this.#server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      const code = typeof err.code === "string" ? err.code : "HTTP_PARSE_ERROR";
      this.#d.log.warn({ reason: code }, "peer request refused");
      const status = code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    });
    return new Promise((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen(peer.port, peer.host, () => {
        const a = this.#server!.address();
        resolve(typeof a === "object" && a ? a.port : peer.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => {
      if (!this.#server) return r();
      this.#server.close(() => r());
      this.#server.closeAllConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown, close = false): void => {
      res.writeHead(status, { "content-type": "application/json", ...(close ? { connection: "close" } : {}) }).end(JSON.stringify(body));
    };
    try {
      if (req.method === "GET" && req.url === METADATA_PATH) {
        return json(200, { operator: this.#d.operator.address, peerApi: this.#d.config.peer!.publicUrl });
      }
      if (req.method !== "POST" || req.url !== PEER_PATH) {
        this.#d.log.warn({ reason: "wrong method or path" }, "peer request refused");
        // The body is not read: the connection closes after the answer.
        return json(404, { error: "not found" }, true);
      }
      const text = await readBody(req, PEER_BODY_LIMIT, this.#d.timeouts?.bodyMs ?? PEER_BODY_TIMEOUT_MS);
      const reply = await this.answer(text);
      return json(200, reply);
    } catch (e) {
      // Our own refusals and the SDK's input checks name what is wrong with the request (never a secret: the request
      // carries none, and they describe values by type and length); anything else is logged by its kind only.
      const reason = e instanceof Refusal || e instanceof CGError ? e.message.slice(0, 300) : "internal error";
      this.#d.log.warn({ reason }, "peer request refused");
      if (!res.headersSent) json(403, { error: "refused" }, !req.complete);
      // A body not (fully) read: the connection closes once the answer is out.
      if (!req.complete) res.once("finish", () => req.socket.destroy());
    }
  }

  /** Checks a request body and answers it, or throws `Refusal`/`CGError` (the caller sends the uniform 403). */
  async answer(text: string): Promise<{ signer: number; committeeEpoch: string; sealed: Hex }> {
    const { config } = this.#d;
    checkShape(text);
    const signed = peerRequestFromJson(text);
    const r = signed.request;
    if (r.chainId !== this.#chainId || r.coordinator.toLowerCase() !== config.coordinator.toLowerCase()) throw new Refusal("another deployment");
    const asker = await verifyPeerRequest(signed, { now: BigInt(Math.floor(Date.now() / 1000)), maxAgeSeconds: PEER_REQUEST_MAX_AGE_SECONDS, maxSkewSeconds: PEER_REQUEST_MAX_SKEW_SECONDS });
    const digest = hashTypedData(peerRequestTypedData(r));
    this.#reserve(digest, r.issuedAt);
    try {
      return await this.#answerChecked(r, asker);
    } catch (e) {
      this.#answered.delete(digest); // not answered: the asker may send it again (e.g. after an RPC failure here)
      throw e;
    }
  }

  /** Refuses a request already answered (or being answered) and remembers this one until it is too old anyway. */
  #reserve(digest: Hex, issuedAt: bigint): void {
    const now = Date.now();
    const until = this.#answered.get(digest);
    if (until !== undefined && until > now) throw new Refusal("replay of a request already answered");
    if (this.#answered.size >= PEER_REPLAY_CACHE_SIZE) {
      for (const [d, t] of this.#answered) if (t <= now) this.#answered.delete(d);
      for (const d of this.#answered.keys()) {
        if (this.#answered.size < PEER_REPLAY_CACHE_SIZE) break;
        this.#answered.delete(d);
      }
    }
    this.#answered.set(digest, Number(issuedAt + PEER_REQUEST_MAX_AGE_SECONDS + 1n) * 1000);
  }

  async #answerChecked(r: PeerRequest, asker: Address): Promise<{ signer: number; committeeEpoch: string; sealed: Hex }> {
    const { config, publicClient, store } = this.#d;
    const account = await publicClient.readContract({ address: config.coordinator, abi: resetCoordinatorAbi, functionName: "account", args: [r.accountId] });
    if (account.epoch !== r.accountEpoch || account.committeeId !== r.committeeId) throw new Refusal("not the account's current epoch and committee");
    const committee = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "committee", args: [r.committeeId] });
    const epoch = committee.activeEpoch;
    const members = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "members", args: [r.committeeId, epoch] });
    if (members[r.slot - 1]?.operator.toLowerCase() !== asker.toLowerCase()) throw new Refusal("the asker does not hold the slot at the active epoch");
    const mine = store.getCommitteeShare(r.committeeId.toString(), Number(epoch));
    if (mine === undefined || mine.slot === r.slot) throw new Refusal("this guardian holds no other slot of the active epoch");
    const registered = await publicClient.readContract({ address: config.registry, abi: guardianRegistryAbi, functionName: "guardian", args: [asker] });
    if (registered.encryptionKey.toLowerCase() !== r.askerKey.toLowerCase()) throw new Refusal("the key is not the asker's registered key");
    const partial = peerPartial({ index: mine.slot, value: mine.share }, channelIdentity(this.#chainId, config.coordinator, r.accountId, r.accountEpoch, r.slot));
    const sealed = await sealPeerReply(r.askerKey, { ...r, signer: mine.slot }, partial.sigma);
    this.#d.log.info({ accountId: r.accountId, accountEpoch: r.accountEpoch.toString(), slot: r.slot, asker }, "peer request answered");
    return { signer: mine.slot, committeeEpoch: epoch.toString(), sealed: toHex(sealed) };
  }

  // ───────────────────────────── client ─────────────────────────────

  /**
   * Learns slot `slot`'s channel URI of `accountId` at `accountEpoch` from the other members of the active epoch of
   * `committeeId` (this guardian must hold the slot there). Throws CHANNEL_RETRY while too few answer.
   */
  async learnChannel(accountId: Hex, accountEpoch: bigint, committeeId: bigint, slot: number): Promise<string> {
    const { config, publicClient, store, log } = this.#d;
    const committee = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "committee", args: [committeeId] });
    const epoch = committee.activeEpoch;
    const mine = store.getCommitteeShare(committeeId.toString(), Number(epoch));
    if (mine === undefined || mine.slot !== slot) throw new CGError("NOT_A_MEMBER", `this guardian does not hold slot ${slot} of committee ${committeeId} at epoch ${epoch}`);
    const sealedChannel = await this.#sealedEntry(accountId, accountEpoch, slot);
    const members = await publicClient.readContract({ address: config.committees, abi: committeeRegistryAbi, functionName: "members", args: [committeeId, epoch] });
    const askerKey = toHex(hpkePublicKey(this.#d.hpkeSecret));
    const request: PeerRequest = { chainId: this.#chainId, coordinator: config.coordinator, accountId, accountEpoch, slot, committeeId, askerKey, issuedAt: BigInt(Math.floor(Date.now() / 1000)) };
    const body = peerRequestToJson(await signPeerRequest(this.#d.operator, request));
    const answers = await Promise.allSettled(
      members.map(async (m, k): Promise<PeerReplyInput> => {
        const signer = k + 1;
        if (signer === slot) {
          // This member's own partial goes through the same open-and-check path as the others'.
          const own = peerPartial({ index: mine.slot, value: mine.share }, channelIdentity(this.#chainId, config.coordinator, accountId, accountEpoch, slot));
          return { signer, operator: m.operator, sealed: await sealPeerReply(askerKey, { ...request, signer }, own.sigma) };
        }
        const endpoint = await this.#endpoint(m.operator);
        const res = await fetch(endpoint + PEER_PATH, { method: "POST", headers: { "content-type": "application/json" }, body, redirect: "manual", signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
        if (res.status !== 200) throw new CGError("PEER_REFUSED", `slot ${signer} answered ${res.status}`);
        const reply = (await res.json()) as { signer?: unknown; committeeEpoch?: unknown; sealed?: unknown };
        if (reply.signer !== signer || reply.committeeEpoch !== epoch.toString() || typeof reply.sealed !== "string") {
          throw new CGError("PEER_REFUSED", `slot ${signer} answered for another slot or epoch`);
        }
        return { signer, operator: m.operator, sealed: reply.sealed as Hex };
      }),
    );
    const replies = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    const failed = answers.flatMap((a, k) => (a.status === "rejected" ? [`slot ${k + 1}: ${a.reason instanceof Error ? a.reason.message.slice(0, 120) : String(a.reason)}`] : []));
    const { commitments, publicShares } = this.#committeeKeys(mine.commitments as Hex, members.length);
    let uri: string;
    try {
      ({ uri } = await recoverChannel({
        privateKey: this.#d.hpkeSecret,
        chainId: this.#chainId,
        coordinator: config.coordinator,
        accountId,
        accountEpoch,
        slot,
        t: commitments.length,
        groupKey: commitments[0],
        publicShares,
        replies,
        sealedChannel,
      }));
    } catch (e) {
      throw new CGError("CHANNEL_RETRY", `channel of slot ${slot} not learned yet: ${e instanceof Error ? e.message : String(e)}${failed.length ? ` (${failed.join("; ")})` : ""}`);
    }
    store.putChannel(accountId, accountEpoch, slot, uri, "peers");
    log.info({ accountId, accountEpoch: accountEpoch.toString(), slot, answered: replies.length - 1 }, "channel learned from peers");
    return uri;
  }

  /**
   * The commitments of a committee epoch, decoded (each G2 point checked), and PK_1 … PK_n derived from them: the same
   * for every account the newcomer learns, so kept for the last few epochs instead of derived per account.
   */
  #committeeKeys(commitmentsHex: Hex, n: number): { commitments: G2Point[]; publicShares: G2Point[] } {
    const key = `${commitmentsHex.toLowerCase()}:${n}`;
    let keys = this.#keys.get(key);
    if (keys === undefined) {
      const commitments = decodeCommitments(commitmentsHex);
      keys = { commitments, publicShares: Array.from({ length: n }, (_, k) => publicShare(commitments, k + 1)) };
      if (this.#keys.size >= 8) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(key, keys);
    }
    return keys;
  }

  /** sealed_j from the account's link or rotation event at `accountEpoch`. */
  async #sealedEntry(accountId: Hex, accountEpoch: bigint, slot: number): Promise<Hex> {
    const { config, publicClient } = this.#d;
    const range = { address: config.coordinator, args: { accountId }, fromBlock: config.startBlock, toBlock: "latest" } as const;
    const [linked, rotated] = await Promise.all([publicClient.getLogs({ ...range, event: LINKED }), publicClient.getLogs({ ...range, event: ROTATED })]);
    const entry = [...linked, ...rotated].find((l) => l.args.epoch === accountEpoch);
    if (entry === undefined) throw new CGError("CHANNEL_RETRY", `no link or rotation of the account at epoch ${accountEpoch} found`);
    const sealed = unpackEntries(entry.args.sealedChannels!)[slot - 1];
    if (sealed === undefined) throw new CGError("INVALID_ENCODING", `the account has no sealed channel for slot ${slot}`);
    return sealed;
  }

  /** A member's peer endpoint: the `peerApi` of the metadata document its registration names. */
  async #endpoint(operator: Address): Promise<string> {
    const cached = this.#endpoints.get(operator.toLowerCase());
    if (cached) return cached;
    const { config, publicClient } = this.#d;
    const logs = await publicClient.getLogs({ address: config.registry, event: REGISTERED, args: { operator }, fromBlock: config.startBlock, toBlock: "latest" });
    const uri = logs.at(-1)?.args.metadataURI;
    if (!uri) throw new CGError("PEER_UNKNOWN", `${operator} has no registration with metadata`);
    const allowHttp = config.peer?.allowHttp ?? false;
    if (!(uri.startsWith("https://") || (allowHttp && uri.startsWith("http://")))) throw new CGError("PEER_UNKNOWN", `${operator}'s metadata URI is not https`);
    const res = await fetch(uri, { redirect: "manual", signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
    if (res.status !== 200) throw new CGError("PEER_UNKNOWN", `${operator}'s metadata document answered ${res.status}`);
    const text = await res.text();
    const peerApi = (JSON.parse(text.slice(0, 16_384)) as { peerApi?: unknown }).peerApi;
    if (typeof peerApi !== "string" || !(peerApi.startsWith("https://") || (allowHttp && peerApi.startsWith("http://")))) {
      throw new CGError("PEER_UNKNOWN", `${operator}'s metadata names no usable peerApi`);
    }
    const endpoint = peerApi.replace(/\/$/, "");
    this.#endpoints.set(operator.toLowerCase(), endpoint);
    return endpoint;
  }
}

/** The request's JSON has exactly the keys of a request, each of its type (values are the SDK's to check). */
function checkShape(text: string): void {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Refusal("the body is not JSON");
  }
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObject(raw)) throw new Refusal("the body is not a JSON object");
  const keys = Object.keys(raw);
  if (keys.length !== BODY_KEYS.length || !BODY_KEYS.every((k) => keys.includes(k))) throw new Refusal("the body's keys are not request and signature");
  const r = raw.request;
  if (!isObject(r)) throw new Refusal("request is not an object");
  const names = Object.keys(r);
  const missing = Object.keys(REQUEST_KEYS).filter((k) => !names.includes(k));
  const extra = names.filter((k) => !(k in REQUEST_KEYS));
  if (missing.length > 0) throw new Refusal(`request lacks ${missing.join(", ")}`);
  if (extra.length > 0) throw new Refusal(`request has ${extra.length} unknown key(s)`);
  for (const [k, type] of Object.entries(REQUEST_KEYS)) if (typeof r[k] !== type) throw new Refusal(`request.${k} is not a ${type}`);
  if (typeof raw.signature !== "string") throw new Refusal("signature is not a string");
}

/** The body as text: refused past `limit` bytes (a larger Content-Length before any is read) or after `timeoutMs`. */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && !(/^[0-9]{1,12}$/.test(declared) && Number(declared) <= limit)) {
    return Promise.reject(new Refusal(`a body of ${/^[0-9]{1,12}$/.test(declared) ? declared : "unreadable length"} bytes, over the ${limit}-byte limit`));
  }
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const done = (e: Error | undefined) => {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onAborted);
      if (e) {
        req.pause();
        reject(e);
      } else resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onData = (d: Buffer) => {
      size += d.length;
      if (size > limit) done(new Refusal(`a body over the ${limit}-byte limit`));
      else chunks.push(d);
    };
    const onEnd = () => done(undefined);
    const onError = () => done(new Refusal("the connection failed while the body was read"));
    const onAborted = () => done(new Refusal("the asker closed the connection before the body was complete"));
    const timer = setTimeout(() => done(new Refusal(`the body was not received within ${timeoutMs} ms`)), timeoutMs);
    req.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onAborted);
  });
}
