import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { parse } from "dotenv";
import type { Command } from "commander";

import { buildProgram } from "../../guardian/cli.ts";
import { SETTING_NAMES } from "../../guardian/config.ts";
import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), "utf8");

/** The `npx cg-guardian …` command lines of a text (code blocks and inline code), without trailing comments. */
function commandLines(text: string): string[] {
  return [...text.matchAll(/npx (?:--no-install )?cg-guardian ([^`\n#]*)/g)].map((m) => m[1].trim()).filter((l) => /^[a-z]/.test(l) && !l.startsWith("<command>"));
}

/** Checks one command line against the command-line parser: the command exists and knows every option given. */
function check(program: Command, line: string): void {
  const words = line.split(/\s+/);
  let command = program;
  let k = 0;
  for (; k < words.length && !words[k].startsWith("-"); k++) {
    const sub = command.commands.find((c) => c.name() === words[k]);
    if (!sub) break; // an argument
    command = sub;
  }
  expect(command, `"${line}" names a command`).to.not.equal(program);
  const known = new Set([...command.options, ...program.options].flatMap((o) => [o.long, o.short]).filter(Boolean));
  known.add("--help");
  for (const w of words.slice(k)) if (w.startsWith("--")) expect(known.has(w.split("=")[0]), `"${line}": ${w} is an option of ${command.name()}`).to.equal(true);
  for (const required of command.options.filter((o) => o.mandatory)) expect(words, `"${line}" gives ${required.long}`).to.include(required.long);
}

describe("the operator guide, the example settings file and the systemd unit", function () {
  const program = buildProgram(() => {});

  it("every `npx cg-guardian` command of the operator guide is a command of the CLI with options it knows", function () {
    const lines = commandLines(read("guardian/README.md"));
    expect(lines.length).to.be.greaterThan(10);
    for (const line of lines) check(program, line);
    // Every command the CLI has is in the guide.
    const documented = new Set(lines.map((l) => l.split(/\s+/).slice(0, 2).join(" ")));
    for (const c of program.commands) {
      const names = c.commands.length > 0 ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()];
      for (const n of names) expect([...documented].some((d) => d === n || d.startsWith(`${n} `) || d.split(" ")[0] === n), `the guide shows \`${n}\``).to.equal(true);
    }
  });

  it("the example settings file and the guide's settings use only settings the agent reads", function () {
    const example = parse(read("guardian/deploy/guardian.env.example"));
    expect(Object.keys(example)).to.include.members(["CG_RPC_URL", "CG_DEPLOYMENT", "CG_DATA_DIR", "CG_KEYSTORE_PASSPHRASE_FILE", "CG_PEER_PUBLIC_URL"]);
    for (const key of Object.keys(example)) expect(SETTING_NAMES, key).to.include(key);
    for (const [, key] of read("guardian/README.md").matchAll(/\b(CG_[A-Z_]+)=/g)) expect(SETTING_NAMES, key).to.include(key);
  });

  it("the systemd unit starts the agent with a known command, as an unprivileged user, restarting on failure", function () {
    const unit = read("guardian/deploy/cg-guardian.service");
    const exec = /^ExecStart=.*npx --no-install cg-guardian (.*)$/m.exec(unit);
    expect(exec, "ExecStart runs cg-guardian").to.not.equal(null);
    check(program, exec![1]);
    expect(exec![1]).to.match(/^start --config \/etc\/cg-guardian\/guardian\.env$/);
    expect(unit).to.match(/^User=cg-guardian$/m);
    expect(unit).to.match(/^Restart=on-failure$/m);
    expect(unit).to.match(/^ReadWritePaths=\/var\/lib\/cg-guardian$/m);
    expect(parse(read("guardian/deploy/guardian.env.example")).CG_DATA_DIR).to.equal("/var/lib/cg-guardian");
  });
});
