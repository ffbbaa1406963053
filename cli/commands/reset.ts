/**
 * cg reset: request a reset or a drill (the one-time requester secret `a` is kept in --state, a 0600 file, sealed with
 * your passphrase), collect the codes your channels received, complete, cancel, finalize, settle, and follow a
 * request's status and postings.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

import type { Hex } from "viem";

import {
  type ResetRequest,
  assembleReset,
  cancelReset,
  checkCodes,
  completeReset,
  finalizeReset,
  readCodes,
  requestDrill,
  newRequesterKey,
  requestReset,
  requesterKeyFrom,
  resetInfo,
  resetRequest,
  settleRequest,
} from "../../sdk/client/index.ts";
import { resetCoordinatorAbi } from "../../sdk/abi/index.ts";
import { scalarFromBytes, scalarToBytes } from "../../sdk/crypto/bls.ts";
import { type KeystoreFile, openKeystore, sealKeystore } from "../../sdk/crypto/keystore.ts";
import { formatCodeMessage, parseCodeMessage } from "../../sdk/encoding/channelCode.ts";
import { CGError } from "../../sdk/errors.ts";
import { type Context, Usage, address, bytes32, integer, newFilePath, newPassphrase, passphrase, required, str, userPath } from "../context.ts";
import type { Group } from "./types.ts";

/** Scrypt cost of the requester secret's seal: the file lives for one request. */
const SCRYPT_N = 2 ** 14;

interface StateFile {
  version: 2;
  /** Absent until the request's transaction is confirmed: the secret is sealed before anything is sent. */
  request?: Record<keyof ResetRequest, string | number | boolean>;
  /** What was about to be sent, so an unconfirmed request can be found again by its requester key. */
  pending?: { accountId: Hex; requesterKey: Hex; drill: boolean; txHash?: Hex };
  /** a, sealed with the passphrase. */
  requesterSecret: KeystoreFile;
  /** The codes received so far (`cg2.…` text): secret until the reset completes, like the file. */
  codes: string[];
}

function encodeRequest(r: ResetRequest): NonNullable<StateFile["request"]> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])) as NonNullable<StateFile["request"]>;
}

function decodeRequest(raw: NonNullable<StateFile["request"]>): ResetRequest {
  const big = (k: keyof ResetRequest) => BigInt(raw[k] as string);
  return {
    chainId: Number(raw.chainId),
    coordinator: raw.coordinator as Hex,
    requestId: big("requestId"),
    accountId: raw.accountId as Hex,
    accountEpoch: big("accountEpoch"),
    committeeId: big("committeeId"),
    newController: raw.newController as Hex,
    drill: raw.drill === true,
    requesterKey: raw.requesterKey as Hex,
    expiresAt: big("expiresAt"),
    fee: big("fee"),
    blockNumber: big("blockNumber"),
  };
}

function readState(given: string): StateFile {
  const path = userPath(given);
  if (!existsSync(path)) throw new Usage(`--state ${path} does not exist (cg reset request or cg reset drill writes it)`);
  let file: StateFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new CGError("INVALID_STATE", `${path} is not a request state file (not JSON)`, { cause });
  }
  if (file?.version !== 2 || (typeof file.request !== "object" && typeof file.pending !== "object") || !Array.isArray(file.codes)) {
    throw new CGError("INVALID_STATE", `${path} is not a version-2 request state file (written by cg reset request or cg reset drill)`);
  }
  return file;
}

/** Writes the state file whole or not at all (a temporary file renamed over it), mode 0600. */
function writeState(path: string, file: StateFile): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  renameSync(temporary, path);
}

function statePath(ctx: Context): string {
  return userPath(required(ctx.flags, "state", "the request state file written by cg reset request or cg reset drill"));
}

/** The request this deployment's state file is for, refusing a file made on another deployment. */
async function stateRequest(ctx: Context, file: StateFile, path: string): Promise<ResetRequest> {
  const c = await ctx.clients();
  if (!file.request) {
    // Sealed before sending; find the request by its requester key, which only this file's secret matches.
    const found = file.pending ? await findRequest(c, file.pending.accountId, file.pending.requesterKey) : undefined;
    if (!found) {
      throw new CGError("INVALID_STATE", `${path} holds the sealed secret of a request that is not on-chain (not sent, refused, or not mined yet${file.pending?.txHash ? `: transaction ${file.pending.txHash}` : ""}); request again with a new --state file`);
    }
    file.request = encodeRequest(found);
    delete file.pending;
    writeState(path, file);
  }
  const request = decodeRequest(file.request);
  if (request.chainId !== c.deployment.chainId || request.coordinator.toLowerCase() !== c.deployment.contracts.ResetCoordinator.toLowerCase()) {
    throw new CGError("INVALID_STATE", `${path} holds request ${request.requestId} of chain ${request.chainId} at ${request.coordinator}, not of this deployment`);
  }
  return request;
}

/** Codes from --code (repeatable) and --codes-file (one or more per line; "-" reads standard input). */
function codeTexts(ctx: Context): string[] {
  const v = ctx.flags.code;
  const texts = v === undefined || typeof v === "boolean" ? [] : Array.isArray(v) ? [...v] : [v];
  const given = str(ctx.flags, "codes-file");
  const file = given === undefined || given === "-" ? given : userPath(given);
  if (file) {
    if (file !== "-" && !existsSync(file)) throw new Usage(`--codes-file ${file} does not exist`);
    texts.push(...readFileSync(file === "-" ? 0 : file, "utf8").split(/\r?\n/).map((l) => l.trim()).filter(Boolean));
  }
  return texts;
}

async function requestFlag(ctx: Context): Promise<bigint> {
  const state = str(ctx.flags, "state");
  const raw = str(ctx.flags, "request");
  if (raw === undefined && state) {
    const file = readState(state);
    return file.request ? decodeRequest(file.request).requestId : (await stateRequest(ctx, file, userPath(state))).requestId;
  }
  return integer(required(ctx.flags, "request", "the request id (or --state <file>)"), "request");
}

/** The request of `accountId` whose requester key is `requesterKey`, from the `ResetRequested` events. */
async function findRequest(c: Awaited<ReturnType<Context["clients"]>>, accountId: Hex, requesterKey: Hex): Promise<ResetRequest | undefined> {
  const logs = await c.public.getContractEvents({ address: c.deployment.contracts.ResetCoordinator, abi: resetCoordinatorAbi, eventName: "ResetRequested", args: { accountId }, fromBlock: BigInt(c.deployment.deploymentBlock) });
  const log = logs.find((l) => (l.args.requesterKey as string).toLowerCase() === requesterKey.toLowerCase());
  return log ? resetRequest(c, log.args.requestId!) : undefined;
}

/** Refusals that happen before a transaction is broadcast: nothing was spent, so the sealed file is removed again. */
const NOT_SENT = new Set(["TX_REFUSED", "UNFUNDED", "NO_WALLET", "UNKNOWN_ACCOUNT", "INVALID_INPUT"]);

async function open(ctx: Context, drill: boolean): Promise<number> {
  // Every input first: nothing is sent, and nothing written, until each one is known to be good.
  const path = newFilePath(ctx.flags, "state", "the file that will keep the request's one-time secret, sealed with your passphrase");
  const accountId = bytes32(required(ctx.flags, "account", "the account id"), "account");
  const newController = drill ? undefined : address(required(ctx.flags, "new-controller", "the address that will control the account"), "new-controller");
  if (newController && /^0x0{40}$/.test(newController)) throw new Usage("--new-controller expects a real address, not the zero address (a drill has none: cg reset drill)");
  const pass = newPassphrase(ctx.flags);
  const c = await ctx.clients();
  if (!c.wallet) throw new Usage("this sends a paid request: give the key that pays (--key or CG_PRIVATE_KEY)");
  const account = await c.public.readContract({ address: c.deployment.contracts.ResetCoordinator, abi: resetCoordinatorAbi, functionName: "account", args: [accountId] });
  if (/^0x0{40}$/.test(account.controller)) throw new CGError("UNKNOWN_ACCOUNT", `account ${accountId} is not linked on this deployment`);

  // The secret is on disk, sealed, before the paid transaction: a crash after sending cannot lose it.
  const requesterKey = newRequesterKey();
  const secret = scalarToBytes(requesterKey.secret);
  const file: StateFile = { version: 2, pending: { accountId, requesterKey: requesterKey.publicKey, drill }, requesterSecret: sealKeystore("requester", secret, requesterKey.publicKey, pass, SCRYPT_N), codes: [] };
  secret.fill(0);
  writeState(path, file);
  ctx.progress(`requester secret sealed in ${path}; sending the request`);
  let opened;
  try {
    opened = drill ? await requestDrill(c, { accountId, requesterKey }) : await requestReset(c, { accountId, newController: newController!, requesterKey });
  } catch (e) {
    if (e instanceof CGError && NOT_SENT.has(e.code)) rmSync(path, { force: true });
    else if (e instanceof CGError) throw new CGError(e.code, `${e.message}; the requester secret stays sealed in ${path} (cg reset status --state ${path} finds the request once it is mined)`, { cause: e, details: e.details });
    throw e;
  }
  file.request = encodeRequest(opened.request);
  delete file.pending;
  writeState(path, file);
  const r = opened.request;
  const what = drill ? `drill ${r.requestId} of ${r.accountId}` : `reset ${r.requestId} of ${r.accountId} to ${r.newController}`;
  ctx.print(
    `requested ${what}\ncommittee ${r.committeeId}, account epoch ${r.accountEpoch}; expires ${new Date(Number(r.expiresAt) * 1000).toISOString()}\neach guardian sends a code cg2.${r.requestId}.<slot>.<code> to its channel: give them to cg reset codes --state ${path}\nrequester secret sealed in ${path}; gas ${opened.gasUsed}`,
    { ...r, state: path, gasUsed: opened.gasUsed, txHash: opened.txHash },
  );
  return 0;
}

export const reset: Group = {
  request: {
    summary: "ask for a reset of an account to a new controller; the one-time requester secret is kept in --state (0600, sealed with your passphrase)",
    usage: "cg reset request --account <accountId> --new-controller <address> --state <file>   (CG_PASSPHRASE or --passphrase-file)",
    example: "CG_PASSPHRASE=… cg reset request --account 0xabc… --new-controller 0x3C44… --state alice-reset.json",
    run: (ctx) => open(ctx, false),
  },
  drill: {
    summary: "run a drill: a request served and verified like a reset, never approved or finalized (proves every channel and guardian works)",
    usage: "cg reset drill --account <accountId> --state <file>   (CG_PASSPHRASE or --passphrase-file)",
    example: "CG_PASSPHRASE=… cg reset drill --account 0xabc… --state alice-drill.json",
    run: (ctx) => open(ctx, true),
  },
  codes: {
    summary: "give the codes your channels received (typed, pasted, or in a link); each is checked against its guardian's on-chain posting and kept in --state",
    usage: "cg reset codes --state <file> --code <cg2.…> [--code …] [--codes-file <file>|-]",
    example: "cg reset codes --state alice-reset.json --code cg2.7.3.8ZK1-4TQM-…",
    async run(ctx) {
      const path = statePath(ctx);
      const file = readState(path);
      const request = await stateRequest(ctx, file, path);
      const texts = codeTexts(ctx);
      if (texts.length === 0) throw new Usage("give the codes you received: --code <cg2.…> (repeatable) or --codes-file <file> (- for standard input)");
      const { codes, problems } = readCodes(texts);
      const checks = await checkCodes(await ctx.clients(), request, codes);
      const kept = new Map(file.codes.map((t) => [t, parseCodeMessage(t)] as const));
      codes.forEach((m, k) => {
        if (m.requestId !== request.requestId) return;
        const text = formatCodeMessage(m);
        if (checks[k].ok || checks[k].detail.includes("has not posted yet")) kept.set(text, m);
      });
      file.codes = [...kept.keys()];
      writeState(path, file);
      const info = await resetInfo(await ctx.clients(), request.requestId);
      const matched = new Set(checks.filter((x) => x.ok).map((x) => x.slot));
      const lines = [
        ...problems,
        ...checks.map((x) => `slot ${x.slot}: ${x.ok ? "ok, " : ""}${x.detail}`),
        `${file.codes.length} code${file.codes.length === 1 ? "" : "s"} kept for request ${request.requestId}; ${info.threshold ? `${info.threshold} needed` : "no posting yet"}${matched.size >= info.threshold && info.threshold ? ": complete it with cg reset complete --state " + path : ""}`,
      ];
      ctx.print(lines.join("\n"), { requestId: request.requestId, checks, problems, kept: file.codes.length, threshold: info.threshold });
      return problems.length || checks.some((x) => !x.ok && !x.detail.includes("has not posted yet")) ? 1 : 0;
    },
  },
  complete: {
    summary: "decrypt and verify the partials of the codes kept (and any given), combine t of one committee epoch, and submit the token",
    usage: "cg reset complete --state <file> [--code <cg2.…> …] [--codes-file <file>|-]   (CG_PASSPHRASE or --passphrase-file)",
    example: "CG_PASSPHRASE=… cg reset complete --state alice-reset.json",
    async run(ctx) {
      const path = statePath(ctx);
      const file = readState(path);
      const request = await stateRequest(ctx, file, path);
      const { codes, problems } = readCodes([...file.codes, ...codeTexts(ctx)]);
      if (codes.length === 0) throw new Usage(`no codes kept in ${path}: give them with --code or cg reset codes first`);
      const secretBytes = openKeystore(file.requesterSecret, passphrase(ctx.flags), path);
      const secret = scalarFromBytes(secretBytes, "the requester secret");
      secretBytes.fill(0);
      if (requesterKeyFrom(secret).publicKey.toLowerCase() !== request.requesterKey.toLowerCase()) {
        throw new CGError("INVALID_STATE", `${path}: the sealed requester secret does not match request ${request.requestId}'s requester key`);
      }
      const c = await ctx.clients();
      const assembled = await assembleReset(c, request, secret, codes);
      ctx.progress(`token combined from slots ${assembled.used.join(", ")} of committee epoch ${assembled.committeeEpoch}; submitting`);
      const receipt = await completeReset(c, request, assembled);
      const outcome = request.drill ? `drill ${request.requestId} verified: every guardian whose code was used serves, and the channels reach you` : `reset ${request.requestId} approved: it can be finalized after the security period (the controller may cancel until then)`;
      ctx.print([...problems, ...assembled.problems.map((p) => `not used: ${p}`), outcome, `gas ${receipt.gasUsed}`].join("\n"), {
        requestId: request.requestId,
        drill: request.drill,
        used: assembled.used,
        committeeEpoch: assembled.committeeEpoch,
        problems: [...problems, ...assembled.problems],
        gasUsed: receipt.gasUsed,
        txHash: receipt.transactionHash,
      });
      return 0;
    },
  },
  status: {
    summary: "a request's status, expiry, postings by slot and epoch, and what comes next",
    usage: "cg reset status --request <id> | --state <file>",
    example: "cg reset status --request 12",
    async run(ctx) {
      const info = await resetInfo(await ctx.clients(), await requestFlag(ctx));
      const r = info.request;
      const flags = [info.voided ? "void" : "", info.expired ? "expired" : "", info.settled ? "settled" : ""].filter(Boolean);
      const lines = [
        `request ${r.requestId}: ${r.drill ? "drill" : "reset"} of ${r.accountId}${r.drill ? "" : ` to ${r.newController}`}`,
        `status ${info.status}${flags.length ? ` (${flags.join(", ")})` : ""}; expires ${info.expiresAt.toISOString()}${info.executableAt ? `; executable from ${info.executableAt.toISOString()}` : ""}`,
        `committee ${r.committeeId}, account epoch ${r.accountEpoch}; ${info.postedSlots.length} of ${info.threshold || "?"} needed posted under epoch ${info.postingEpoch || "—"}`,
        ...info.postings.map((p) => `  posting ${p.position}: slot ${p.slot} (${p.guardian}), epoch ${p.committeeEpoch}, block ${p.blockNumber}${p.proven ? ", proven invalid" : ""}`),
      ];
      ctx.print(lines.join("\n"), { ...info, request: r, postings: info.postings.map(({ posting: _posting, ...p }) => p) });
      return 0;
    },
  },
  cancel: {
    summary: "cancel a pending reset, or an approved one before it is executable (the account's controller only)",
    usage: "cg reset cancel --request <id> | --state <file>",
    example: "cg reset cancel --request 12 --key $ALICE_KEY",
    async run(ctx) {
      const id = await requestFlag(ctx);
      const receipt = await cancelReset(await ctx.clients(), id);
      ctx.print(`request ${id} cancelled (gas ${receipt.gasUsed})`, { requestId: id, cancelled: true, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  finalize: {
    summary: "move control to the new controller after the security period (anyone may send it)",
    usage: "cg reset finalize --request <id> | --state <file>",
    example: "cg reset finalize --request 12",
    async run(ctx) {
      const id = await requestFlag(ctx);
      const receipt = await finalizeReset(await ctx.clients(), id);
      ctx.print(`request ${id} finalized: the new controller controls the account; its other requests are void (gas ${receipt.gasUsed})`, { requestId: id, finalized: true, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  settle: {
    summary: "after expiry and the dispute window, pay the standing postings and record liveness (anyone may send it)",
    usage: "cg reset settle --request <id> | --state <file>",
    example: "cg reset settle --request 12",
    async run(ctx) {
      const id = await requestFlag(ctx);
      const receipt = await settleRequest(await ctx.clients(), id);
      ctx.print(`request ${id} settled (gas ${receipt.gasUsed})`, { requestId: id, settled: true, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
};
