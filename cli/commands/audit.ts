/** cg audit: replay the audit hash chain; the history of an account or a guardian (actor, amounts in ETH, time, transaction). */
import { type AuditRow, auditedEvents, describeHistory, historyOf, replayAuditLog } from "../../sdk/client/index.ts";
import { type Context, Usage } from "../context.ts";
import type { Group } from "./types.ts";

const CSV_COLUMNS = ["time", "block", "transaction", "actor", "event", "amounts_eth", "details"] as const;

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** RFC 4180 CSV: one header line, one line per event; amounts as `name=ETH` pairs, details as `name=value` pairs. */
export function auditCsv(rows: readonly AuditRow[]): string {
  const pairs = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join("; ");
  const lines = rows.map((r) => [r.time ?? "", r.block?.toString() ?? "", r.transaction ?? "", r.actor ?? "", r.event, pairs(r.amountsEth), pairs(r.details)].map(csvCell).join(","));
  return [CSV_COLUMNS.join(","), ...lines].join("\r\n") + "\r\n";
}

function humanLine(r: AuditRow): string {
  const amounts = Object.entries(r.amountsEth).map(([k, v]) => `${k} ${v} ETH`);
  const time = r.time ? r.time.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "time unknown";
  return `${time}  ${r.event.padEnd(22)} by ${r.actor ?? "?"}${amounts.length ? `  ${amounts.join(", ")}` : ""}  tx ${r.transaction ?? "?"}`;
}

function output(ctx: Context, rows: AuditRow[], out: (text: string) => void): void {
  if (ctx.flags.csv === true) out(auditCsv(rows));
  else ctx.print(rows.map(humanLine).join("\n") || "no events", rows);
}

function history(kind: "account" | "guardian"): Group[string] {
  return {
    summary: `every audited event that concerns ${kind === "account" ? "an account (and its requests)" : "a guardian"}: time, actor, amounts in ETH, transaction`,
    usage: `cg audit ${kind} <${kind === "account" ? "accountId" : "address"}> [--json | --csv]`,
    example: `cg audit ${kind} ${kind === "account" ? "0xabc…" : "0x976EA74026E726554dB657fA54763abd0C3a0aa9"} --csv > history.csv`,
    async run(ctx, args) {
      const subject = args[0];
      const shape = kind === "account" ? /^0x[0-9a-fA-F]{64}$/ : /^0x[0-9a-fA-F]{40}$/;
      if (!subject || !shape.test(subject)) {
        throw new Usage(`cg audit ${kind}: expected the ${kind === "account" ? "account id (32 bytes of 0x-hex)" : "guardian's address"}, got ${subject === undefined ? "nothing" : JSON.stringify(subject.slice(0, 20))}`);
      }
      if (ctx.flags.csv === true && ctx.json) throw new Usage("give --json or --csv, not both");
      const c = await ctx.clients();
      const rows = await describeHistory(c, historyOf(await auditedEvents(c), subject as `0x${string}`));
      output(ctx, rows, (text) => ctx.write(text));
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
