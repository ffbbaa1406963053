/** Runs `cg` in-process, as a user would from a shell, and captures stdout, stderr, the exit code and the JSON output. */
import { Writable } from "node:stream";

import { run } from "../../cli/main.ts";

export function sink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
}

export async function cg(...argv: string[]): Promise<{ code: number; out: string; err: string; json: any }> {
  const out = sink();
  const err = sink();
  const code = await run(argv, out.stream, err.stream);
  let json;
  try {
    json = JSON.parse(out.text());
  } catch {
    json = undefined;
  }
  return { code, out: out.text(), err: err.text(), json };
}
