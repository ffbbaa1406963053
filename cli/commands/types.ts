import type { Context } from "../context.ts";

export interface Command {
  summary: string;
  usage: string;
  example: string;
  run(ctx: Context, args: string[]): Promise<number>;
}

export type Group = Record<string, Command>;
