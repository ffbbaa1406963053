/** cg account: compute ids, link an account to a committee (one transaction), rotate it, show it. */
import { accountIdOf, accountInfo, linkAccount, rotateAccount, saltFromText, securityPeriodBounds } from "../../sdk/client/index.ts";
import { type Context, Usage, address, bytes32, integer, list, required, str } from "../context.ts";
import { parseChannel } from "../../sdk/protocol/account.ts";
import type { Group } from "./types.ts";

const DEFAULT_SECURITY_PERIOD = 86_400;

function committeeFlag(ctx: Context): bigint {
  const raw = required(ctx.flags, "committee", "the id of an active committee (cg committee list shows them)");
  if (!/^[1-9][0-9]*$/.test(raw)) throw new Usage(`--committee expects a committee id (a whole number ≥ 1), got ${JSON.stringify(raw.slice(0, 20))}`);
  return BigInt(raw);
}

function channelsFlag(ctx: Context): string[] {
  const channels = list(ctx.flags, "channels");
  if (channels.length === 0) throw new Usage("--channels is required: one channel URI per committee slot, in slot order (mailto:…, sms:+…, https://…)");
  channels.forEach((uri, k) => {
    try {
      parseChannel(uri, `--channels: slot ${k + 1}`);
    } catch (e) {
      throw new Usage(e instanceof Error ? e.message : String(e));
    }
  });
  return channels;
}

function accountArg(args: string[], command: string): `0x${string}` {
  if (args[0] === undefined) throw new Usage(`cg account ${command}: expected the account id (32 bytes of 0x-hex), got nothing`);
  return bytes32(args[0], "accountId");
}

export const account: Group = {
  id: {
    summary: "compute the account id of an owner and a salt",
    usage: "cg account id --owner <address> --salt <text>",
    example: "cg account id --owner 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --salt alice-wallet",
    async run(ctx) {
      const owner = address(required(ctx.flags, "owner", "the address that links the account"), "owner");
      const salt = saltFromText(required(ctx.flags, "salt", "the text given at link time"));
      const id = accountIdOf(await ctx.clients(), owner, salt);
      ctx.print(id, { accountId: id });
      return 0;
    },
  },
  link: {
    summary: "link a new account to an active committee in one transaction (active at once, no guardian transaction)",
    usage: "cg account link --salt <text> --committee <id> --channels <uri,…> [--security-period 86400] [--controller <address>] [--consumer <address>]",
    example: "cg account link --salt alice-wallet --committee 1 --channels mailto:alice@example.org,sms:+15550000001,https://app.example/alice,mailto:alice.backup@example.org,sms:+15550000002",
    async run(ctx) {
      const salt = saltFromText(required(ctx.flags, "salt", "any text; with your address it determines the account id"));
      const committeeId = committeeFlag(ctx);
      const channels = channelsFlag(ctx);
      const rawPeriod = str(ctx.flags, "security-period") ?? String(DEFAULT_SECURITY_PERIOD);
      const period = integer(rawPeriod, "security-period");
      const controller = str(ctx.flags, "controller") ? address(str(ctx.flags, "controller")!, "controller") : undefined;
      const consumer = str(ctx.flags, "consumer") ? address(str(ctx.flags, "consumer")!, "consumer") : undefined;
      if (controller && /^0x0{40}$/.test(controller)) throw new Usage("--controller expects a real address, not the zero address");
      const bounds = await securityPeriodBounds(await ctx.clients());
      if (period < BigInt(bounds.min) || period > BigInt(bounds.max)) {
        throw new Usage(`--security-period expects ${bounds.min} to ${bounds.max} seconds (this deployment's bounds), got ${JSON.stringify(rawPeriod.slice(0, 24))}`);
      }
      const securityPeriod = Number(period);
      const r = await linkAccount(await ctx.clients(), { salt, committeeId, channels, securityPeriod, controller, consumer }, (step) => ctx.progress(step));
      ctx.print(
        `linked account ${r.accountId}\ncommittee ${r.committeeId}, ${r.threshold} of ${r.members.length}, account epoch ${r.epoch}; security period ${securityPeriod} s\nactive now; gas ${r.gasUsed}`,
        { ...r, securityPeriod },
      );
      return 0;
    },
  },
  rotate: {
    summary: "move an account you control to an active committee with new channels (next account epoch; open requests become void)",
    usage: "cg account rotate <accountId> --committee <id> --channels <uri,…>",
    example: "cg account rotate 0xabc… --committee 2 --channels mailto:a@x.org,sms:+15550000001,https://app.example/a,mailto:b@x.org,sms:+15550000002",
    async run(ctx, args) {
      const accountId = accountArg(args, "rotate");
      const r = await rotateAccount(await ctx.clients(), { accountId, committeeId: committeeFlag(ctx), channels: channelsFlag(ctx) }, (step) => ctx.progress(step));
      ctx.print(`rotated account ${r.accountId} to committee ${r.committeeId} (${r.threshold} of ${r.members.length}), account epoch ${r.epoch}; gas ${r.gasUsed}`, r);
      return 0;
    },
  },
  show: {
    summary: "the account's controller, committee, epoch, security period and open requests",
    usage: "cg account show <accountId>",
    example: "cg account show 0xabc…",
    async run(ctx, args) {
      const a = await accountInfo(await ctx.clients(), accountArg(args, "show"));
      ctx.print(
        [
          `account ${a.accountId}`,
          `controller ${a.controller}`,
          `committee ${a.committeeId}, account epoch ${a.epoch}`,
          `security period ${a.securityPeriod} s`,
          `consumer ${/^0x0{40}$/.test(a.consumer) ? "none" : a.consumer}`,
          `open requests ${a.openRequests.join(", ") || "none"}`,
        ].join("\n"),
        a,
      );
      return 0;
    },
  },
};
