#!/usr/bin/env node
/**
 * `guardian` — the Credential Guardian agent.
 *
 *   guardian keys init --config guardian.env     create the operator key and the HPKE key (encrypted keystores)
 *   guardian keys show --config guardian.env     print the public parts
 *   guardian register --config guardian.env --stake 1 [--metadata https://…] --region eu --provider acme --channels email,sms,app
 *   guardian start --config guardian.env         run the agent (SIGTERM stops it cleanly)
 *   guardian status --config guardian.env [--json]   cursor, pending work, dead letters
 *
 * This file parses arguments and delegates; see guardian/commands.ts.
 */
import { parseArgs } from "node:util";

import { CGError } from "../sdk/errors.ts";
import { keysInit, keysShow, register, start, status } from "./commands.ts";

const HELP = `guardian — run a Credential Guardian

Usage:
  guardian keys init --config <file> [--force]
  guardian keys show --config <file>
  guardian register --config <file> --stake <eth> [--metadata <uri>] [--region <tag>] [--provider <tag>] [--channels email,sms,app]
  guardian start --config <file>
  guardian status --config <file> [--json]

--config names a .env-style file; CG_* environment variables override it. Required: CG_RPC_URL, CG_DEPLOYMENT
(or CG_COORDINATOR, CG_REGISTRY and CG_COMMITTEES), CG_KEYSTORE_PASSPHRASE (or CG_KEYSTORE_PASSPHRASE_FILE). See guardian/README.md.

Example:
  guardian keys init --config guardian.env && guardian start --config guardian.env
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      json: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      stake: { type: "string" },
      metadata: { type: "string" },
      region: { type: "string" },
      provider: { type: "string" },
      channels: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, sub] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(HELP);
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case "keys":
      if (sub === "init") return keysInit(values.config, values.force);
      if (sub === "show") return keysShow(values.config);
      throw new CGError("USAGE", `guardian keys: expected init or show, got ${sub ?? "nothing"}`);
    case "register":
      return register(values.config, values);
    case "start": {
      const code = await start(values.config);
      // Idle keep-alive sockets (RPC, SMTP) must not hold a stopped daemon open.
      process.exit(code);
    }
    case "status":
      return status(values.config, values.json);
    default:
      throw new CGError("USAGE", `unknown command "${command}"; run guardian --help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const message = e instanceof CGError ? e.message : e instanceof Error ? e.message : String(e);
    process.stderr.write(`guardian: ${message}\n`);
    process.exitCode = e instanceof CGError && e.code === "USAGE" ? 2 : 1;
  },
);
