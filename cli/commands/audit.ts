/** cg audit: replay the audit hash chain; the history of an account or a guardian. */
import { auditedEvents, historyOf, replayAuditLog } from "../../sdk/client/index.ts";
import { Usage } from "../context.ts";
import type { Group } from "./types.ts";

function history(kind: "account" | "guardian"): Group[string] {
  return {
    summary: `every audited event that concerns ${kind === "account" ? "an account (and its requests)" : "a guardian"}`,
    usage: `cg audit ${kind} <${kind === "account" ? "accountId" : "address"}>`,
    example: `cg audit ${kind} ${kind === "account" ? "0xabc…" : "0x976EA74026E726554dB657fA54763abd0C3a0aa9"}`,
    async run(ctx, args) {
      const subject = args[0];
      if (!subject || !/^0x[0-9a-fA-F]+$/.test(subject)) throw new Usage(`cg audit ${kind}: give the ${kind === "account" ? "account id" : "guardian address"}`);
      const entries = historyOf(await auditedEvents(await ctx.clients()), subject as `0x${string}`);
      ctx.print(entries.map((e) => `${e.where}: ${e.event}`).join("\n") || "no events", entries);
      return 0;
    },
  };
}

export const audit: Group = {
  replay: {
    summary: "replay every audited event and compare with the on-chain audit head",
    usage: "cg audit replay",
    example: "cg audit replay --json",
    async run(ctx) {
      const r = await replayAuditLog(await ctx.clients());
      ctx.print(r.message, { matches: true, length: r.length, head: r.head });
      return 0;
    },
  },
  account: history("account"),
  guardian: history("guardian"),
};
