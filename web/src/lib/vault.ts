/**
 * Where the page keeps a request's one-time secret `a` and the codes received so far: IndexedDB, each value sealed
 * with AES-256-GCM under one non-extractable WebCrypto key that is itself stored in IndexedDB (as a CryptoKey, which
 * the browser keeps without ever giving script its bytes). The record's id is the AES-GCM additional data, so a sealed
 * value cannot be moved to another request's record.
 *
 * What this protects against: a copy of the browser profile's files or of the IndexedDB data read outside the
 * browser (the key's bytes are not in a form script can export), a value swapped between records, and a closed
 * tab (the request can be resumed). What it does not: script running on this page's origin (an injected script or a
 * malicious extension can ask the browser to decrypt, as the page does), malware on the device, or a person using
 * the unlocked browser profile. The secret is useless without t of the owner's codes, and the codes alone are
 * useless without it (PROTOCOL.md §6). Once the request settles, `eraseSecret` removes the secret and the codes.
 */
import { type Hex, bytesToHex, hexToBytes, numberToHex } from "viem";

const DB = "cg-reset-page";
const VERSION = 1;

export interface SavedRequest {
  /** `<chainId>:<coordinator>:<requestId>` once the request is on-chain; `pending:<A>` before. */
  id: string;
  chainId: number;
  coordinator: Hex;
  requestId?: string;
  accountId: Hex;
  newController: Hex;
  /** A (EIP-2537), public. */
  requesterKey: Hex;
  createdAt: number;
  /** Absent once the request has settled (finalized, cancelled, verified, expired or void): it can serve no more. */
  secret?: Sealed;
  codes?: Sealed;
  /** When the secret and codes were erased (ms). */
  erasedAt?: number;
}

interface Sealed {
  iv: Uint8Array;
  data: ArrayBuffer;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("keys")) db.createObjectStore("keys");
      if (!db.objectStoreNames.contains("requests")) db.createObjectStore("requests", { keyPath: "id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`the browser's storage (IndexedDB) could not be opened: ${req.error?.message ?? "unknown error"}`));
  });
}

async function tx<T>(store: string, mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(store, mode);
      const req = run(t.objectStore(store));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(new Error(`the browser's storage refused to ${mode === "readonly" ? "read" : "save"}: ${t.error?.message ?? "unknown error"}`));
    });
  } finally {
    db.close();
  }
}

/** The sealing key: created once, non-extractable, kept in IndexedDB. */
async function sealingKey(): Promise<CryptoKey> {
  const found = await tx<CryptoKey | undefined>("keys", "readonly", (s) => s.get("seal"));
  if (found) return found;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  await tx("keys", "readwrite", (s) => s.put(key, "seal"));
  // Two tabs may race to create it: whichever was stored last is the one both use from now on.
  return (await tx<CryptoKey | undefined>("keys", "readonly", (s) => s.get("seal")))!;
}

async function seal(id: string, plain: Uint8Array): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(id) }, await sealingKey(), plain as BufferSource);
  return { iv, data };
}

async function unseal(id: string, sealed: Sealed): Promise<Uint8Array> {
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv as BufferSource, additionalData: new TextEncoder().encode(id) }, await sealingKey(), sealed.data));
  } catch {
    throw new Error("the secret saved in this browser could not be opened (its sealing key is gone or the record was altered)");
  }
}

export function recordId(chainId: number, coordinator: string, requestId: bigint | string): string {
  return `${chainId}:${coordinator.toLowerCase()}:${requestId}`;
}

/** Saves `a` before the request is sent, so a tab closed while the wallet confirms loses nothing. */
export async function savePending(o: { chainId: number; coordinator: Hex; accountId: Hex; newController: Hex; requesterKey: Hex; secret: bigint }): Promise<string> {
  const id = `pending:${o.requesterKey}`;
  const secret = await seal(id, hexToBytes(numberToHex(o.secret, { size: 32 })));
  const rec: SavedRequest = { id, chainId: o.chainId, coordinator: o.coordinator, accountId: o.accountId, newController: o.newController, requesterKey: o.requesterKey, createdAt: Date.now(), secret };
  await tx("requests", "readwrite", (s) => s.put(rec));
  return id;
}

/** Files a pending record under its on-chain request id (re-sealed under the new id). */
export async function confirmPending(pendingId: string, requestId: bigint): Promise<SavedRequest> {
  const rec = await tx<SavedRequest | undefined>("requests", "readonly", (s) => s.get(pendingId));
  if (!rec?.secret) throw new Error("the pending request's record is gone from this browser");
  const secret = await unseal(pendingId, rec.secret);
  const id = recordId(rec.chainId, rec.coordinator, requestId);
  const next: SavedRequest = { ...rec, id, requestId: requestId.toString(), secret: await seal(id, secret) };
  await tx("requests", "readwrite", (s) => s.put(next));
  await tx("requests", "readwrite", (s) => s.delete(pendingId));
  return next;
}

export async function listSaved(): Promise<SavedRequest[]> {
  const all = await tx<SavedRequest[]>("requests", "readonly", (s) => s.getAll());
  return all.sort((x, y) => y.createdAt - x.createdAt);
}

export async function getSaved(id: string): Promise<SavedRequest | undefined> {
  return tx<SavedRequest | undefined>("requests", "readonly", (s) => s.get(id));
}

export async function forget(id: string): Promise<void> {
  await tx("requests", "readwrite", (s) => s.delete(id));
}

export async function secretOf(rec: SavedRequest): Promise<bigint> {
  if (!rec.secret) throw new Error("this browser erased the request's one-time secret when the request settled");
  return BigInt(bytesToHex(await unseal(rec.id, rec.secret)));
}

/** Erases a settled request's secret and codes, keeping the record (its ids, public) so the page can still list it. */
export async function eraseSecret(id: string): Promise<void> {
  const rec = await getSaved(id);
  if (!rec || !rec.secret) return;
  const { secret: _secret, codes: _codes, ...kept } = rec;
  await tx("requests", "readwrite", (s) => s.put({ ...kept, erasedAt: Date.now() }));
}

export async function codesOf(rec: SavedRequest): Promise<string[]> {
  if (!rec.codes) return [];
  return JSON.parse(new TextDecoder().decode(await unseal(rec.id, rec.codes))) as string[];
}

export async function saveCodes(id: string, codes: readonly string[]): Promise<void> {
  const rec = await getSaved(id);
  if (!rec?.secret) return;
  const sealed = await seal(id, new TextEncoder().encode(JSON.stringify(codes)));
  await tx("requests", "readwrite", (s) => s.put({ ...rec, codes: sealed }));
}
