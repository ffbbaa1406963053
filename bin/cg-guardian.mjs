#!/usr/bin/env node
// `cg-guardian`: the guardian agent and operator command line (guardian/main.ts) under the project's Node 24.
import { runEntry } from "./run.mjs";

runEntry("guardian/main.ts");
