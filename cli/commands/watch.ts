/** cg watch: judge every posting against the public check of §6.4 and prove invalid ones (no secret needed). */
import { type JudgedPosting, proveInvalidPosting, scanPostings } from "../../sdk/client/index.ts";
import { type Context, Usage, integer, required, str } from "../context.ts";
import type { Group } from "./types.ts";

function line(p: JudgedPosting): string {
  const who = `slot ${p.slot} (${p.guardian}), epoch ${p.committeeEpoch}`;
  return `request ${p.requestId} posting ${p.position}: ${who}: ${p.verdict}${p.check && p.verdict !== "standing" ? ` — ${p.check}` : ""}`;
}

function optionalRequest(ctx: Context): bigint | undefined {
  const raw = str(ctx.flags, "request");
  return raw === undefined ? undefined : integer(raw, "request");
}

export const watch: Group = {
  scan: {
    summary: "judge every posting (of one request, or of all since --from-block) against its public check; with --prove, prove each invalid one",
    usage: "cg watch scan [--request <id>] [--from-block <n>] [--prove]   (--prove needs --key: the reward goes to it)",
    example: "cg watch scan --prove --key $WATCHER_KEY",
    async run(ctx) {
      const fromFlag = str(ctx.flags, "from-block");
      const c = await ctx.clients();
      const judged = await scanPostings(c, { requestId: optionalRequest(ctx), from: fromFlag === undefined ? undefined : integer(fromFlag, "from-block") }, (s) => ctx.progress(s));
      const invalid = judged.filter((p) => p.verdict === "invalid");
      const proofs = [];
      if (ctx.flags.prove === true) {
        for (const p of invalid) proofs.push(await proveInvalidPosting(c, { requestId: p.requestId, position: p.position }, (s) => ctx.progress(s)));
      }
      const lines = [
        ...judged.map(line),
        `${judged.length} posting${judged.length === 1 ? "" : "s"}, ${invalid.length} invalid`,
        ...proofs.map((p) => `proven: request ${p.requestId} posting ${p.position}, slot ${p.slot} (${p.guardian}) slashed ${p.slashed} wei; gas ${p.gasUsed}`),
      ];
      ctx.print(lines.join("\n"), { postings: judged.map(({ posting: _posting, ...p }) => p), proofs });
      return 0;
    },
  },
  prove: {
    summary: "prove one posting invalid on-chain (commit, wait a block, reveal): its guardian is slashed, you are rewarded",
    usage: "cg watch prove --request <id> --position <n>   (--key: the prover, who gets the reward)",
    example: "cg watch prove --request 7 --position 3 --key $WATCHER_KEY",
    async run(ctx) {
      const requestId = integer(required(ctx.flags, "request", "the request id"), "request");
      const positionRaw = required(ctx.flags, "position", "the posting's position in the request's history (cg watch scan shows it)");
      const position = Number(integer(positionRaw, "position"));
      if (!Number.isSafeInteger(position)) throw new Usage(`--position expects a small whole number, got ${JSON.stringify(positionRaw)}`);
      const p = await proveInvalidPosting(await ctx.clients(), { requestId, position }, (s) => ctx.progress(s));
      ctx.print(`proven: the posting of slot ${p.slot} (${p.guardian}) fails — ${p.check}\nslashed ${p.slashed} wei; gas ${p.gasUsed}`, p);
      return 0;
    },
  },
};
