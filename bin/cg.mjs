#!/usr/bin/env node
// `cg`: the Credential Guardians command line (cli/main.ts) under the project's Node 24.
import { runEntry } from "./run.mjs";

runEntry("cli/main.ts");
