/** cg reset: request a reset (ephemeral key sealed in a local file), assemble fragments, complete, cancel, finalize, prove. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

import { resetCoordinatorAbi } from "../../sdk/abi/index.ts";
import { type RequestState, assembleFragments, cancelReset, completeReset, finalizeReset, proveInvalidFragment, requestReset } from "../../sdk/client/index.ts";
import { type KeystoreFile, openKeystore, sealKeystore } from "../../sdk/crypto/keystore.ts";
import { CGError } from "../../sdk/errors.ts";
import { Usage, address, bytes32, integer, list, passphrase, required, str } from "../context.ts";
import type { Group } from "./types.ts";

interface StateFile {
  state: RequestState;
  ephemeral: KeystoreFile;
}

function readState(path: string, pass: string): { state: RequestState; secret: Uint8Array } {
  if (!existsSync(path)) throw new Usage(`--state ${path} does not exist (it is written by cg reset request)`);
  let file: StateFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new CGError("INVALID_STATE", `${path} is not a request state file`, { cause });
  }
  return { state: file.state, secret: openKeystore(file.ephemeral, pass, path) };
}

function fragmentsFrom(flags: Parameters<Group[string]["run"]>[0]["flags"]): string[] {
  const texts = list(flags, "fragment");
  const file = str(flags, "fragments-file");
  if (file) {
    if (!existsSync(file)) throw new Usage(`--fragments-file ${file} does not exist`);
    texts.push(...readFileSync(file, "utf8").split(/\s+/).filter(Boolean));
  }
  if (texts.length === 0) throw new Usage("give the fragments you received: --fragment <cg1.…> (repeatable) or --fragments-file <file>");
  return texts;
}

const requestId = (flags: Parameters<Group[string]["run"]>[0]["flags"]) => integer(required(flags, "request", "the request id"), "request");

export const reset: Group = {
  request: {
    summary: "ask for a reset of an account to a new controller; the ephemeral secret is kept in --state, sealed with your passphrase",
    usage: "cg reset request --account <accountId> --new-controller <address> --state <file>   (CG_PASSPHRASE or --passphrase-file)",
    example: "CG_PASSPHRASE=… cg reset request --account 0xabc… --new-controller 0x3C44… --state alice-reset.json",
    async run(ctx) {
      const path = required(ctx.flags, "state", "where to keep the request and its sealed ephemeral key");
      if (existsSync(path)) throw new Usage(`--state ${path} exists; choose another file (it may hold an open request)`);
      const pass = passphrase(ctx.flags);
      const c = await ctx.clients();
      const { state, ephemeral, gasUsed } = await requestReset(c, {
        accountId: bytes32(required(ctx.flags, "account", "the account id"), "account"),
        newController: address(required(ctx.flags, "new-controller", "the key that will control the account"), "new-controller"),
      });
      const sealed = sealKeystore("ephemeral", ephemeral.privateKey, state.ephemeralPublicKey, pass, 2 ** 14);
      ephemeral.privateKey.fill(0);
      writeFileSync(path, JSON.stringify({ state, ephemeral: sealed } satisfies StateFile, null, 2) + "\n", { mode: 0o600 });
      ctx.print(`requested reset ${state.requestId} of ${state.accountId}; guardians will deliver fragments to your channels\nstate kept in ${path}; gas ${gasUsed}`, { ...state, gasUsed });
      return 0;
    },
  },
  assemble: {
    summary: "open and check the fragments you received and combine t of them (with --complete, also submit the token)",
    usage: "cg reset assemble --state <file> --fragment <cg1.…> [--fragment …] [--fragments-file <file>] [--complete]",
    example: "cg reset assemble --state alice-reset.json --fragments-file codes.txt --complete",
    async run(ctx) {
      const { state, secret } = readState(required(ctx.flags, "state", "the file written by cg reset request"), passphrase(ctx.flags));
      const c = await ctx.clients();
      const assembled = await assembleFragments(c, state, secret, fragmentsFrom(ctx.flags));
      secret.fill(0);
      const problems = assembled.problems.map((p) => `#${p.index}${p.operator ? ` (${p.operator})` : ""}: ${p.reason}`);
      let completed: { gasUsed: bigint; transactionHash: string } | undefined;
      if (ctx.flags.complete === true) {
        ctx.progress("submitting the token");
        const receipt = await completeReset(c, state, assembled.tokenHex, assembled.groupKey);
        completed = { gasUsed: receipt.gasUsed, transactionHash: receipt.transactionHash };
      }
      ctx.print(
        [`token assembled from fragments ${assembled.used.map((i) => `#${i}`).join(", ")}`, ...problems.map((p) => `refused ${p}`), completed ? `reset ${state.requestId} approved (gas ${completed.gasUsed})` : `submit with --complete`].join("\n"),
        { requestId: state.requestId, token: assembled.tokenHex, used: assembled.used, problems: assembled.problems, completed },
      );
      return 0;
    },
  },
  cancel: {
    summary: "cancel a pending or approved reset (current controller only)",
    usage: "cg reset cancel --request <id>",
    example: "cg reset cancel --request 12 --key $ALICE_KEY",
    async run(ctx) {
      const receipt = await cancelReset(await ctx.clients(), requestId(ctx.flags));
      ctx.print(`cancelled (gas ${receipt.gasUsed})`, { cancelled: true, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  finalize: {
    summary: "move control to the new key after the security period (anyone may send it)",
    usage: "cg reset finalize --request <id>",
    example: "cg reset finalize --request 12",
    async run(ctx) {
      const receipt = await finalizeReset(await ctx.clients(), requestId(ctx.flags));
      ctx.print(`finalized (gas ${receipt.gasUsed})`, { finalized: true, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  prove: {
    summary: "prove on-chain that a guardian's fragment holds an invalid partial (it is slashed, you are rewarded)",
    usage: "cg reset prove --state <file> --index <i> --fragment <cg1.…> [--fragment …]",
    example: "cg reset prove --state alice-reset.json --index 4 --fragments-file codes.txt",
    async run(ctx) {
      const { state, secret } = readState(required(ctx.flags, "state", "the file written by cg reset request"), passphrase(ctx.flags));
      const index = Number(integer(required(ctx.flags, "index", "the guardian's index"), "index"));
      const c = await ctx.clients();
      let assembled;
      try {
        assembled = await assembleFragments(c, state, secret, fragmentsFrom(ctx.flags));
      } catch (e) {
        if (!(e instanceof CGError) || e.code !== "NOT_ENOUGH_FRAGMENTS") throw e;
        throw new CGError("NOT_ENOUGH_FRAGMENTS", `${e.message} (give every fragment you received)`);
      }
      const receipt = await proveInvalidFragment(c, state, index, assembled);
      ctx.print(`guardian #${index} proven invalid and slashed (gas ${receipt.gasUsed})`, { proven: index, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  show: {
    summary: "a request's status, deadline and commits",
    usage: "cg reset show --request <id>",
    example: "cg reset show --request 12",
    async run(ctx) {
      const c = await ctx.clients();
      const id = requestId(ctx.flags);
      const view = await c.public.readContract({ address: c.deployment.contracts.ResetCoordinator, abi: resetCoordinatorAbi, functionName: "reset", args: [id] });
      if (view.status === 0) throw new CGError("UNKNOWN_REQUEST", `no request ${id} on this deployment`);
      const names = ["none", "pending", "approved", "cancelled", "finalized", "expired"];
      const committed = [...Array(16).keys()].filter((k) => view.committed & (1 << k)).map((k) => k + 1);
      ctx.print(`request ${id}: ${names[view.status]}${view.voided ? " (void)" : ""}, deadline ${new Date(view.deadline * 1000).toISOString()}, new controller ${view.newController}, commits from ${committed.map((i) => `#${i}`).join(", ") || "nobody yet"}`, { requestId: id, ...view, status: names[view.status], committedIndices: committed });
      return 0;
    },
  },
};
