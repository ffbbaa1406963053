#!/usr/bin/env node
/**
 * `cg-guardian` — the Credential Guardian agent and its operator's commands (`cg-guardian --help`).
 * This file only runs the command line (guardian/cli.ts) and sets the exit code.
 */
import { runCli } from "./cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
