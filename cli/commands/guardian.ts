/** cg guardian: operator actions and views (register with stake, stake, unbond, withdraw, status, list). */
import { formatEther, parseEther } from "viem";

import { attestGuardian, guardianStatus, listGuardians, registerGuardian, saltFromText, stake, startUnbonding, withdrawStake } from "../../sdk/client/index.ts";
import { Usage, address, bytes32, integer, list, required, str } from "../context.ts";
import type { Group } from "./types.ts";

/** The longest attestation `cg guardian attest` signs: an attester re-attests at least every two years. */
export const MAX_ATTESTATION_DAYS = 730;

function eth(value: string, name: string): bigint {
  let wei: bigint;
  try {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new Error();
    wei = parseEther(value);
  } catch {
    throw new Usage(`--${name} expects an amount of ETH such as 1.5, got ${JSON.stringify(value.slice(0, 24))}`);
  }
  if (wei === 0n) throw new Usage(`--${name} expects a positive amount of ETH, got ${JSON.stringify(value)}`);
  if (wei > 10n ** 27n) throw new Usage(`--${name} expects at most 1,000,000,000 ETH, got ${JSON.stringify(value.slice(0, 24))}`);
  return wei;
}

export const guardian: Group = {
  list: {
    summary: "registered guardians with tags, eligibility and service counters",
    usage: "cg guardian list",
    example: "cg guardian list --json",
    async run(ctx) {
      const all = await listGuardians(await ctx.clients());
      ctx.print(all.map((g) => `${g.operator} ${g.eligible ? "eligible" : "not eligible"} ${g.region}/${g.provider} stake ${formatEther(g.stake)} served ${g.served} missed ${g.missed}`).join("\n") || "no guardians", all);
      return 0;
    },
  },
  status: {
    summary: "one guardian's stake, unbonding, attestation and counters",
    usage: "cg guardian status <address>",
    example: "cg guardian status 0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    async run(ctx, args) {
      const v = await guardianStatus(await ctx.clients(), address(args[0] ?? "", "address"));
      ctx.print(`registered ${v.registered}, eligible ${v.eligible}, jailed ${v.jailed}, stake ${formatEther(v.stake)} ETH, unbonding ${formatEther(v.unbonding)} ETH, attestation until ${v.attestationExpiresAt ? new Date(Number(v.attestationExpiresAt) * 1000).toISOString() : "none"}, served ${v.served}, missed ${v.missed}`, v);
      return 0;
    },
  },
  register: {
    summary: "register the --key's address as a guardian with its HPKE key, tags and stake",
    usage: "cg guardian register --encryption-key <0x…32 bytes> --metadata <uri> --stake <eth> [--region <tag>] [--provider <tag>] [--channels email,sms,app]",
    example: "cg guardian register --encryption-key 0x… --metadata https://g.example/meta.json --stake 1 --region eu --provider acme",
    async run(ctx) {
      const bits: Record<string, number> = { email: 1, sms: 2, app: 4 };
      const kinds = (list(ctx.flags, "channels").length ? list(ctx.flags, "channels") : ["email", "sms", "app"]).reduce((acc, k) => {
        if (!(k in bits)) throw new Usage(`--channels expects email, sms and/or app, got ${JSON.stringify(k)}`);
        return acc | bits[k];
      }, 0);
      const receipt = await registerGuardian(await ctx.clients(), {
        encryptionKey: bytes32(required(ctx.flags, "encryption-key", "the guardian's X25519 public key (guardian keys show)"), "encryption-key"),
        metadataURI: required(ctx.flags, "metadata", "where the operator describes itself"),
        region: str(ctx.flags, "region") ?? "",
        provider: str(ctx.flags, "provider") ?? "",
        channelKinds: kinds,
        stake: eth(required(ctx.flags, "stake", "ETH to stake"), "stake"),
      });
      ctx.print(`registered (gas ${receipt.gasUsed}); an attester must now sign your attestation`, { registered: true, gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  attest: {
    summary: "as an attester, sign and submit a guardian's attestation (software measurement, validity)",
    usage: "cg guardian attest <operator> --measurement <text> [--days 365]   (--key: an ATTESTER_ROLE holder)",
    example: "cg guardian attest 0x976E… --measurement guardian-agent-v0.1.0 --days 90 --key $ATTESTER_KEY",
    async run(ctx, args) {
      const operator = address(args[0] ?? "", "operator");
      const rawDays = str(ctx.flags, "days") ?? "365";
      const days = integer(rawDays, "days");
      if (days < 1n || days > BigInt(MAX_ATTESTATION_DAYS)) throw new Usage(`--days expects a validity of 1 to ${MAX_ATTESTATION_DAYS} days, got ${JSON.stringify(rawDays.slice(0, 24))}`);
      const receipt = await attestGuardian(await ctx.clients(), {
        operator,
        measurement: saltFromText(required(ctx.flags, "measurement", "what software the guardian runs (hashed)")),
        validForSeconds: Number(days) * 24 * 3600,
      });
      ctx.print(`attested ${operator} for ${days} days (gas ${receipt.gasUsed})`, { attested: operator, days: Number(days), gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  stake: {
    summary: "add stake",
    usage: "cg guardian stake --amount <eth>",
    example: "cg guardian stake --amount 0.5",
    async run(ctx) {
      const receipt = await stake(await ctx.clients(), eth(required(ctx.flags, "amount", "ETH to add"), "amount"));
      ctx.print(`staked (gas ${receipt.gasUsed})`, { gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  unbond: {
    summary: "start unbonding stake (withdrawable after the unbonding delay)",
    usage: "cg guardian unbond --amount <eth>",
    example: "cg guardian unbond --amount 0.5",
    async run(ctx) {
      const receipt = await startUnbonding(await ctx.clients(), eth(required(ctx.flags, "amount", "ETH to unbond"), "amount"));
      ctx.print(`unbonding (gas ${receipt.gasUsed})`, { gasUsed: receipt.gasUsed });
      return 0;
    },
  },
  withdraw: {
    summary: "withdraw stake whose unbonding delay has passed",
    usage: "cg guardian withdraw",
    example: "cg guardian withdraw",
    async run(ctx) {
      const receipt = await withdrawStake(await ctx.clients());
      ctx.print(`withdrawn (gas ${receipt.gasUsed})`, { gasUsed: receipt.gasUsed });
      return 0;
    },
  },
};
