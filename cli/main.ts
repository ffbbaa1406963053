#!/usr/bin/env node
/**
 * `cg` — the Credential Guardians command line: accounts, resets and drills, watchers, audits, guardian operations,
 * committees.
 * Thin entry point: parses, then delegates to cli/commands/<group>.ts.
 */
import { parseArgs } from "node:util";

import { CGError } from "../sdk/errors.ts";
import { account } from "./commands/account.ts";
import { audit } from "./commands/audit.ts";
import { committee } from "./commands/committee.ts";
import { devnet } from "./commands/devnet.ts";
import { guardian } from "./commands/guardian.ts";
import { reset } from "./commands/reset.ts";
import type { Group } from "./commands/types.ts";
import { watch } from "./commands/watch.ts";
import { type Flags, makeContext } from "./context.ts";

const GROUPS: Record<string, Group> = { account, reset, watch, audit, guardian, committee, devnet };

const STRING_OPTIONS = [
  "rpc", "deployment", "key", "salt", "committee", "channels", "controller", "guardians", "threshold", "security-period", "consumer",
  "owner", "account", "new-controller", "state", "codes-file", "request", "position", "from-block", "passphrase-file",
  "encryption-key", "metadata", "stake", "region", "provider", "amount", "measurement", "days", "size", "timeout",
];

const GLOBAL = `Global options: --rpc <url> (CG_RPC_URL), --deployment <file> (CG_DEPLOYMENT), --key <0x…> (CG_PRIVATE_KEY),
--json (machine-readable output), --help. A .env file in the current folder is read too.`;

function help(): string {
  const lines = ["cg — Credential Guardians", "", "Usage: cg <group> <command> [options]", ""];
  for (const [name, group] of Object.entries(GROUPS)) {
    lines.push(`${name}:`);
    for (const [cmd, c] of Object.entries(group)) lines.push(`  ${`cg ${name} ${cmd}`.padEnd(23)} ${c.summary}`);
  }
  lines.push("", GLOBAL, "", "Example: cg account show 0xabc… --deployment deployments/localhost.json", "Every command: cg <group> <command> --help");
  return lines.join("\n") + "\n";
}

function commandHelp(group: string, name: string, c: Group[string]): string {
  return `cg ${group} ${name} — ${c.summary}\n\nUsage: ${c.usage}\n\nExample: ${c.example}\n\n${GLOBAL}\n`;
}

export async function run(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: "string" as const }])),
        code: { type: "string", multiple: true },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        prove: { type: "boolean" },
        "no-wait": { type: "boolean" },
      },
    });
  } catch (e) {
    err.write(`cg: ${(e as Error).message}\n`);
    return 2;
  }
  const flags = parsed.values as Flags;
  const [groupName, commandName, ...rest] = parsed.positionals;
  const group = groupName ? GROUPS[groupName] : undefined;
  if (!group) {
    if (groupName && !flags.help) {
      err.write(`cg: unknown group "${groupName}"\n\n${help()}`);
      return 2;
    }
    out.write(help());
    return groupName || flags.help ? 0 : 2;
  }
  const command = commandName ? group[commandName] : undefined;
  if (!command) {
    const names = Object.keys(group).join(", ");
    if (commandName && !flags.help) {
      err.write(`cg ${groupName}: unknown command "${commandName}" (one of ${names})\n`);
      return 2;
    }
    out.write(Object.entries(group).map(([n, c]) => commandHelp(groupName, n, c)).join("\n"));
    return flags.help ? 0 : 2;
  }
  if (flags.help) {
    out.write(commandHelp(groupName, commandName, command));
    return 0;
  }
  const ctx = makeContext(flags, out, err);
  try {
    return await command.run(ctx, rest);
  } catch (e) {
    const message = e instanceof CGError ? e.message : e instanceof Error ? e.message.split("\n")[0] : String(e);
    const code = e instanceof CGError ? e.code : "ERROR";
    if (ctx.json) out.write(JSON.stringify({ error: { code, message } }) + "\n");
    err.write(`cg ${groupName} ${commandName}: ${message}\n`);
    return code === "USAGE" ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
