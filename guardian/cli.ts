/**
 * The `cg-guardian` command line on commander: commands, options, help with examples, typo suggestions, and the
 * exit codes (0 done, 1 refused or failed, 2 bad usage). User errors are one line on stderr, never a stack trace
 * (CG_DEBUG=1 adds the stack of an unexpected error). Each command's work is in its own module.
 */
import { readFileSync } from "node:fs";

import { Command, CommanderError, Option } from "commander";

import { CGError } from "../sdk/errors.ts";
import { keysInit, keysShow, register, showConfig, start, status } from "./commands.ts";
import { doctor } from "./doctor.ts";
import { keysExport, keysImport } from "./keys.ts";
import { operatorAction, withdrawalAddressAction } from "./operator.ts";

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

const EXAMPLES = `
Examples:
  cg-guardian keys init --config guardian.env && cg-guardian start --config guardian.env
  cg-guardian register --config guardian.env --stake 1 --region eu-west --provider acme --channels email,sms,app
  cg-guardian doctor --config guardian.env
  cg-guardian unbond --all --config guardian.env
  cg-guardian keys export --config guardian.env --out guardian-keys.json

Settings come from the environment, then the --config file (.env style), then defaults; the environment wins.
Required: CG_RPC_URL, CG_DEPLOYMENT (or CG_COORDINATOR, CG_REGISTRY and CG_COMMITTEES), CG_KEYSTORE_PASSPHRASE
(or CG_KEYSTORE_PASSPHRASE_FILE). \`cg-guardian config\` shows each value and where it came from.
Operator guide: guardian/README.md. Exit codes: 0 done, 1 refused or failed, 2 bad usage.
`;

/** The command line, built fresh for each run (and for tests that check the guide's commands against it). */
export function buildProgram(run: (code: number | Promise<number>) => void): Command {
  const program = new Command("cg-guardian")
    .description("Run a Credential Guardian: the agent, its keys, its stake and its health checks.")
    .version(VERSION, "-V, --version", "print the version")
    .option("-c, --config <file>", "a .env-style settings file (the environment overrides it)")
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run cg-guardian --help for the commands)")
    .addHelpText("after", EXAMPLES)
    .exitOverride();
  const config = (cmd: Command) => cmd.optsWithGlobals().config as string | undefined;
  const json = () => new Option("--json", "print JSON");

  const keys = program.command("keys").description("the operator key and the encryption key (sealed keystores in CG_DATA_DIR)").exitOverride();
  keys
    .command("init")
    .description("create both keys, sealed with the passphrase (mode 600); prints the public parts")
    .option("--force", "replace existing keys (the old ones are lost unless exported)")
    .action((o, cmd) => run(keysInit(config(cmd), Boolean(o.force))));
  keys
    .command("show")
    .description("print the operator address and the encryption public key (no passphrase needed)")
    .action((_o, cmd) => run(keysShow(config(cmd))));
  keys
    .command("export")
    .description("write both sealed keystores as one bundle (to --out, or stdout); checks that they open first")
    .option("--out <file>", "write the bundle to this file (mode 600) instead of stdout")
    .option("--show-private-key", "ALSO PRINT THE OPERATOR'S PRIVATE KEY IN THE CLEAR (e.g. for a hardware wallet import)")
    .action((o, cmd) => run(keysExport(config(cmd), { out: o.out, showPrivateKey: Boolean(o.showPrivateKey) })));
  keys
    .command("import")
    .description("install the keys of a bundle written by `keys export` into CG_DATA_DIR, sealed with this passphrase")
    .argument("<bundle>", "the bundle file")
    .option("--bundle-passphrase-file <file>", "the bundle was sealed with another passphrase: read it from this file")
    .option("--force", "replace existing keys")
    .action((bundle, o, cmd) => run(keysImport(config(cmd), bundle, { force: Boolean(o.force), bundlePassphraseFile: o.bundlePassphraseFile })));

  program
    .command("register")
    .description("register this operator in the GuardianRegistry, staking --stake ETH")
    .requiredOption("--stake <eth>", "the stake to send, in ETH (at least the registry's minStake to be eligible)")
    .option("--metadata <uri>", "the metadata document (default: the one the agent serves at CG_PEER_PUBLIC_URL)")
    .option("--region <tag>", "a region tag such as eu-west")
    .option("--provider <tag>", "a hosting-provider tag")
    .option("--channels <kinds>", "the channel kinds this guardian delivers: email,sms,app", "email,sms,app")
    .action((o, cmd) => run(register(config(cmd), o)));
  program
    .command("stake")
    .description("add stake, in ETH, from the operator address")
    .argument("<eth>", "the amount, e.g. 0.5")
    .addOption(json())
    .action((amount, o, cmd) => run(operatorAction("stake", config(cmd), { amount, json: o.json })));
  program
    .command("unbond")
    .description("start unbonding stake (you are ineligible for new committees at once); withdraw after the delay")
    .argument("[eth]", "the amount to unbond")
    .option("--all", "unbond the whole stake")
    .addOption(json())
    .action((amount, o, cmd) => {
      if ((amount === undefined) === !o.all) throw new CGError("USAGE", "guardian unbond: give an amount of ETH or --all (not both)");
      return run(operatorAction("unbond", config(cmd), { amount, all: Boolean(o.all), json: o.json }));
    });
  program
    .command("withdraw")
    .description("pay the unbonded stake out (to the withdrawal address, if named), once the delay and the stake lock allow it")
    .addOption(json())
    .action((o, cmd) => run(operatorAction("withdraw", config(cmd), { json: o.json })));
  program
    .command("claim")
    .description("pay out the fees and prover rewards the registry holds for this operator")
    .addOption(json())
    .action((o, cmd) => run(operatorAction("claim", config(cmd), { json: o.json })));
  program
    .command("withdrawal-address")
    .description("name where withdrawals, claims and fees are paid instead of the operator address (no argument: show it)")
    .argument("[address]", "the withdrawal address (a cold wallet); a change of a named one takes effect after the unbonding delay")
    .option("--clear", "pay the operator address again")
    .addOption(json())
    .action((address, o, cmd) => run(withdrawalAddressAction(config(cmd), { address, clear: Boolean(o.clear), json: o.json })));
  program
    .command("doctor")
    .description("check config, keys, RPC, chain id, registration, attestation, stake, channels and the peer endpoint")
    .addOption(json())
    .action((o, cmd) => run(doctor(config(cmd), Boolean(o.json))));
  program
    .command("config")
    .description("print the effective configuration (no secrets) and where each value came from")
    .addOption(json())
    .action((o, cmd) => run(showConfig(config(cmd), Boolean(o.json))));
  program
    .command("start")
    .description("run the agent (SIGTERM or SIGINT stops it cleanly); one agent per data directory")
    // Idle keep-alive sockets (RPC, SMTP) must not hold a stopped daemon open.
    .action((_o, cmd) => run(start(config(cmd)).then((code) => process.exit(code))));
  program
    .command("status")
    .description("the local state: cursor, pending jobs, dead letters, ignored events")
    .addOption(json())
    .action((o, cmd) => run(status(config(cmd), Boolean(o.json))));
  return program;
}

function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed the message already
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`cg-guardian: ${message}\n`);
  if (!(e instanceof CGError) && process.env.CG_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return e instanceof CGError && e.code === "USAGE" ? 2 : 1;
}

/** Runs one command line; resolves to its exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let result: Promise<number> = Promise.resolve(0);
  const program = buildProgram((code) => {
    result = Promise.resolve(code);
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return await result;
  } catch (e) {
    return exitCodeOf(e);
  }
}

