/** cg devnet: how to get a local network to point cg at. */
import type { Group } from "./types.ts";

export const devnet: Group = {
  start: {
    summary: "run a whole local guardian network and leave it running",
    usage: "npm run demo -- --keep",
    example: "npm run demo -- --keep   # then, in another terminal: cg account show <id> --deployment <file printed by the demo>",
    async run(ctx) {
      ctx.print("Start a local network with: npm run demo -- --keep\nIt prints the RPC URL, the deployment file and keys to use with cg.", { command: "npm run demo -- --keep" });
      return 0;
    },
  },
};
