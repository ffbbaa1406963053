#!/usr/bin/env node
/**
 * `cg` — the Credential Guardians command line: accounts, resets and drills, watchers, audits, guardian operations,
 * committees.
 * Thin entry point: parses with commander (help with an example for every command, --version, suggestions for typos),
 * then delegates to cli/commands/<group>.ts. Exit codes: 0 done, 1 refused (by a check or the chain), 2 bad usage.
 */
import { readFileSync } from "node:fs";

import { Command, CommanderError, Option } from "commander";

import { CGError } from "../sdk/errors.ts";
import { account } from "./commands/account.ts";
import { audit } from "./commands/audit.ts";
import { committee } from "./commands/committee.ts";
import { guardian } from "./commands/guardian.ts";
import { reset } from "./commands/reset.ts";
import type { Command as CgCommand, Group } from "./commands/types.ts";
import { watch } from "./commands/watch.ts";
import { type Context, type Flags, makeContext } from "./context.ts";
import { explainRevert } from "./errors.ts";

const GROUPS: Record<string, { summary: string; commands: Group }> = {
  account: { summary: "compute ids, link an account to a committee, rotate it, show it", commands: account },
  reset: { summary: "request a reset or a drill, give the codes, complete, cancel, finalize, settle, follow a request", commands: reset },
  watch: { summary: "judge every posting against its public check and prove invalid ones", commands: watch },
  audit: { summary: "replay the audit chain; an account's or a guardian's history with actors, amounts, times, transactions", commands: audit },
  guardian: { summary: "guardians: list, status, register, attest, stake, unbond, withdraw", commands: guardian },
  committee: { summary: "propose committees, hand them over, follow their rounds, list and show them", commands: committee },
};

/** Options that take a value; every other `--name` a usage line shows is a switch. */
const VALUE_OPTIONS: Record<string, string> = {
  rpc: "<url>", deployment: "<file>", key: "<0x…>", salt: "<text>", committee: "<id>", channels: "<uri,…>", controller: "<address>", guardians: "<addr,…>",
  threshold: "<t>", "security-period": "<seconds>", consumer: "<address>", owner: "<address>", account: "<accountId>", "new-controller": "<address>",
  state: "<file>", "codes-file": "<file|->", code: "<cg2.…>", request: "<id>", position: "<n>", "from-block": "<n>", "passphrase-file": "<file>",
  "encryption-key": "<0x…>", metadata: "<uri>", stake: "<eth>", region: "<tag>", provider: "<tag>", amount: "<eth>", measurement: "<text>", days: "<n>",
  size: "<n>", timeout: "<seconds>",
};

const GLOBAL_OPTIONS: [string, string][] = [
  ["rpc", "JSON-RPC URL (CG_RPC_URL; default http://127.0.0.1:8545)"],
  ["deployment", "deployment file, from the folder you run cg in (CG_DEPLOYMENT; default deployments/localhost.json)"],
  ["key", "private key that signs (CG_PRIVATE_KEY)"],
];

export const VERSION: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

/** The options and positional arguments a command's usage line names, so the usage line is the one declaration. */
function declared(c: CgCommand): { args: string[]; options: string[] } {
  const head = c.usage.split("\n")[0].replace(/^cg \S+ \S+/, "");
  const args = [...head.matchAll(/(?:^|\s)<([A-Za-z]+)>/g)].filter((m) => m.index! < (head.indexOf("--") < 0 ? Infinity : head.indexOf("--"))).map((m) => m[1]);
  const options = [...new Set([...c.usage.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]))];
  return { args, options };
}

function build(out: NodeJS.WritableStream, err: NodeJS.WritableStream, done: (ctx: Context, c: CgCommand, args: string[], flags: Flags) => Promise<void>): Command {
  const program = new Command("cg")
    .description("Credential Guardians: reset an account's credential through a committee of staked guardians")
    .version(VERSION, "-v, --version", "print the version")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) })
    .exitOverride();
  const all: string[] = [];
  for (const [groupName, group] of Object.entries(GROUPS)) {
    const g = program.command(groupName).description(group.summary).showSuggestionAfterError(true).exitOverride();
    g.configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) });
    const first = Object.values(group.commands)[0];
    g.addHelpText("after", `\nExample: ${first.example}\nEvery command: cg ${groupName} <command> --help`);
    for (const [name, c] of Object.entries(group.commands)) {
      all.push(`  ${`cg ${groupName} ${name}`.padEnd(23)} ${c.summary}`);
      const [usage, ...more] = c.usage.split("\n");
      const cmd = g
        .command(name)
        .summary(c.summary)
        .usage(usage.replace(/^cg \S+ \S+ ?/, ""))
        .description([c.summary, ...more.map((l) => l.trim())].join("\n"))
        .showSuggestionAfterError(true)
        .exitOverride();
      cmd.configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) });
      const { args, options } = declared(c);
      for (const a of args) cmd.argument(`[${a}]`);
      const seen = new Set<string>();
      for (const [o, what] of GLOBAL_OPTIONS) {
        cmd.addOption(new Option(`--${o} ${VALUE_OPTIONS[o]}`, what));
        seen.add(o);
      }
      cmd.addOption(new Option("--json", "machine-readable output"));
      seen.add("json");
      for (const o of options) {
        if (seen.has(o) || o === "help") continue;
        seen.add(o);
        if (o === "code") cmd.addOption(new Option(`--code ${VALUE_OPTIONS.code}`, "a code your channel received (repeatable)").argParser((v: string, prev: string[] = []) => [...prev, v]));
        else if (o.startsWith("no-")) cmd.addOption(new Option(`--${o}`));
        else cmd.addOption(new Option(VALUE_OPTIONS[o] ? `--${o} ${VALUE_OPTIONS[o]}` : `--${o}`));
      }
      cmd.addHelpText("after", `\nExample: ${c.example}\n\nA .env file in the folder you run cg in is read too. Exit codes: 0 done, 1 refused, 2 bad usage.`);
      cmd.action(async (...params: unknown[]) => {
        const self = params[params.length - 1] as Command;
        const positional = (params.slice(0, args.length) as (string | undefined)[]).filter((x): x is string => x !== undefined);
        const flags: Flags = {};
        for (const opt of self.options as Option[]) {
          const v = self.getOptionValue(opt.attributeName());
          if (v === undefined) continue;
          const long = opt.long!.slice(2);
          flags[long] = opt.negate ? v === false : (v as string | boolean | string[]);
        }
        await done(makeContext(flags, out, err), c, positional, flags);
      });
    }
  }
  program.addHelpText("after", `\nCommands:\n${all.join("\n")}\n\nExample: cg account show 0xabc… --deployment deployments/localhost.json\nEvery command: cg <group> <command> --help`);
  return program;
}

export async function run(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let code = 0;
  let where = "cg";
  let ctx: Context | undefined;
  const program = build(out, err, async (context, c, args) => {
    ctx = context;
    where = `cg ${argv.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ")}`;
    code = await c.run(context, args);
  });
  if (argv.length === 0) {
    out.write(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return e.code === "commander.help" ? 2 : 0;
      return 2;
    }
    return report(e, where, ctx, out, err);
  }
}

/** A failure in words, on stderr (and as `{ error }` with --json): never a stack trace. */
async function report(e: unknown, where: string, ctx: Context | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const message = e instanceof CGError ? e.message : e instanceof Error ? e.message.split("\n")[0] : String(e);
  const code = e instanceof CGError ? e.code : "ERROR";
  const details = e instanceof CGError ? e.details : {};
  let explained;
  if (typeof details.error === "string") {
    const now = await ctx
      ?.clients()
      .then((c) => c.public.getBlock())
      .then((b) => Number(b.timestamp))
      .catch(() => undefined);
    explained = explainRevert(details.error, (details.args as readonly unknown[]) ?? [], now ?? Math.floor(Date.now() / 1000));
  }
  if (ctx?.json) out.write(JSON.stringify({ error: { code, message, ...(explained ? { why: explained.why, fix: explained.fix, times: explained.times } : {}) } }) + "\n");
  const lines = [`${where}: ${message}`];
  if (explained) {
    lines.push(`  why: ${explained.why}`, `  fix: ${explained.fix}`, ...explained.times.map((t) => `  ${t}`));
  }
  err.write(lines.join("\n") + "\n");
  return code === "USAGE" ? 2 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
