/** cg account: compute ids, link an account to a committee, rotate its map, show it. */
import { formatEther } from "viem";

import { linkAccount, listGuardians, saltFromText, selectCommittee } from "../../sdk/client/index.ts";
import { CGError } from "../../sdk/errors.ts";
import { computeAccountId } from "../../sdk/protocol/shardMap.ts";
import { Usage, address, bytes32, integer, list, required, str } from "../context.ts";
import type { Group } from "./types.ts";

async function committeeFor(ctx: Parameters<Group[string]["run"]>[0], channels: string[]) {
  const c = await ctx.clients();
  const all = await listGuardians(c);
  const chosen = list(ctx.flags, "guardians");
  if (chosen.length === 0 || (chosen.length === 1 && chosen[0] === "auto")) return selectCommittee(all, channels.length);
  if (chosen.length !== channels.length) throw new Usage(`--guardians names ${chosen.length} guardians but --channels gives ${channels.length} channels: give one channel per guardian`);
  return chosen.map((a) => {
    const g = all.find((x) => x.operator.toLowerCase() === address(a, "guardians").toLowerCase());
    if (!g) throw new CGError("UNKNOWN_GUARDIAN", `${a} is not a registered guardian`);
    if (!g.eligible) throw new CGError("NOT_ELIGIBLE", `${a} is not eligible (stake, attestation, jail or unbonding)`);
    return g;
  });
}

async function link(ctx: Parameters<Group[string]["run"]>[0], rotate?: `0x${string}`): Promise<number> {
  const channels = list(ctx.flags, "channels");
  if (channels.length === 0) throw new Usage("--channels is required: one channel URI per guardian (mailto:, sms:+…, https://…)");
  const threshold = Number(integer(str(ctx.flags, "threshold") ?? "3", "threshold"));
  const securityPeriod = Number(integer(str(ctx.flags, "security-period") ?? "86400", "security-period"));
  const committee = await committeeFor(ctx, channels);
  const c = await ctx.clients();
  const result = await linkAccount(c, {
    salt: rotate ? undefined : saltFromText(required(ctx.flags, "salt", "any text; with your address it determines the account id")),
    rotate,
    members: committee.map((g, k) => ({ ...g, channelUri: channels[k] })),
    threshold,
    securityPeriod,
    consumer: str(ctx.flags, "consumer") ? address(str(ctx.flags, "consumer")!, "consumer") : undefined,
    insecure: ctx.flags.insecure === true,
    waitForAcknowledgements: ctx.flags["no-wait"] !== true,
    onProgress: (step, detail) => ctx.progress(`${step}${detail ? " " + JSON.stringify(detail) : ""}`),
  });
  ctx.print(
    `${rotate ? "rotated" : "linked"} account ${result.accountId}\nshard map ${result.mapId} (epoch ${result.epoch}), ${threshold} of ${committee.length}: ${result.committee.join(", ")}\ngas ${result.gasUsed}`,
    { ...result, threshold, securityPeriod },
  );
  return 0;
}

export const account: Group = {
  id: {
    summary: "compute the account id of an owner and a salt",
    usage: "cg account id --owner <address> --salt <text>",
    example: "cg account id --owner 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --salt alice-wallet",
    async run(ctx) {
      const c = await ctx.clients();
      const id = computeAccountId(BigInt(c.deployment.chainId), address(required(ctx.flags, "owner", "the controller that links"), "owner"), saltFromText(required(ctx.flags, "salt", "the text given at link time")));
      ctx.print(id, { accountId: id });
      return 0;
    },
  },
  link: {
    summary: "deal a reset key to a committee and link a new account (waits for acknowledgements)",
    usage: "cg account link --salt <text> --channels <uri,…> [--guardians auto|<addr,…>] [--threshold 3] [--security-period 86400] [--consumer <address>] [--insecure] [--no-wait]",
    example: "cg account link --salt alice-wallet --channels mailto:alice@example.org,sms:+15550000001,https://app.example/alice --threshold 2",
    run: (ctx) => link(ctx),
  },
  rotate: {
    summary: "deal a new key to a new committee for an account you control (next epoch)",
    usage: "cg account rotate <accountId> --channels <uri,…> [--guardians auto|<addr,…>] [--threshold 3] [--security-period 86400]",
    example: "cg account rotate 0xabc… --channels mailto:a@x.org,sms:+15550000001,https://app.example/a --threshold 2",
    run: (ctx, args) => link(ctx, bytes32(args[0] ?? "", "accountId")),
  },
  show: {
    summary: "the account's controller, shard maps and open requests",
    usage: "cg account show <accountId>",
    example: "cg account show 0xabc…",
    async run(ctx, args) {
      const c = await ctx.clients();
      const accountId = bytes32(args[0] ?? "", "accountId");
      const { resetCoordinatorAbi } = await import("../../sdk/abi/index.ts");
      const view = await c.public.readContract({ address: c.deployment.contracts.ResetCoordinator, abi: resetCoordinatorAbi, functionName: "account", args: [accountId] });
      if (view.controller === "0x0000000000000000000000000000000000000000") throw new CGError("UNKNOWN_ACCOUNT", `account ${accountId} is not linked on this deployment`);
      const active = view.activeMapId ? await c.public.readContract({ address: c.deployment.contracts.ResetCoordinator, abi: resetCoordinatorAbi, functionName: "shardMap", args: [BigInt(view.activeMapId)] }) : undefined;
      const params = await c.public.readContract({ address: c.deployment.contracts.ResetCoordinator, abi: resetCoordinatorAbi, functionName: "parameters" });
      ctx.print(
        `account ${accountId}\ncontroller ${view.controller}\nactive map ${view.activeMapId || "none"}${active ? ` (epoch ${active.epoch}, ${active.threshold} of ${active.size}, security period ${active.securityPeriod}s)` : ""}\npending map ${view.pendingMapId || "none"}\nopen requests ${view.openRequests}\nrequest fee ${formatEther(params.requestFee)} ETH`,
        { accountId, ...view, activeMap: active },
      );
      return 0;
    },
  },
};
