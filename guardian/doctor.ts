/**
 * `guardian doctor`: checks, in order, everything an agent needs to serve, and says what to fix for each failure.
 * A check that depends on a failed one is skipped (and says which). Exit code 1 if any check fails; warnings
 * (a soon-expiring attestation, a configured channel not registered, an empty gas balance) do not fail.
 */
import { type Address, getAbiItem, getAddress, toHex } from "viem";

import { guardianRegistryAbi } from "../sdk/abi/index.ts";
import { CGError } from "../sdk/errors.ts";
import { type GuardianOnChain, type OperatorChain, ZERO_ADDRESS, connect, eth, readGuardian, when } from "./chain.ts";
import { loadKeys } from "./commands.ts";
import { type GuardianConfig, loadConfig, requirePeer } from "./config.ts";
import { METADATA_PATH } from "./core/peerWire.ts";
import { hpkePublicKey } from "../sdk/crypto/hpke.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";
export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const KIND_BITS: Record<string, number> = { email: 1, sms: 2, app: 4 };
const REGISTERED = getAbiItem({ abi: guardianRegistryAbi, name: "GuardianRegistered" });
const ATTESTATION_WARN_SECONDS = 14n * 24n * 3600n;

function message(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

export async function runChecks(configFile: string | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  const skipRest = (names: string[], because: string) => {
    for (const name of names) add({ name, status: "skip", detail: `skipped: ${because} failed` });
  };
  const chainChecks = ["chain id", "registration", "attestation", "stake", "channels", "peer endpoint"];

  let config: GuardianConfig;
  try {
    config = loadConfig(configFile);
    add({ name: "config", status: "ok", detail: configFile ? `read ${configFile} and the environment` : "read the environment (no --config)" });
  } catch (e) {
    const field = e instanceof CGError ? (e.details as { field?: string } | undefined)?.field : undefined;
    add({ name: "config", status: "fail", detail: message(e), fix: field ? `set ${field} in the --config file or the environment (operator guide §1)` : "fix the --config file (operator guide §1)" });
    skipRest(["keys", "rpc", ...chainChecks], "config");
    return checks;
  }

  let operator: Address | undefined;
  let encryptionKey: string | undefined;
  try {
    const keys = loadKeys(config);
    operator = getAddress(keys.operator.address);
    encryptionKey = toHex(hpkePublicKey(keys.hpkeSecret));
    keys.hpkeSecret.fill(0);
    add({ name: "keys", status: "ok", detail: `operator ${operator}, encryption key ${encryptionKey.slice(0, 10)}…; both open with the passphrase` });
  } catch (e) {
    const missing = /does not exist/.test(message(e));
    add({
      name: "keys",
      status: "fail",
      detail: message(e),
      fix: missing ? "run `npx cg-guardian keys init --config <file>` (or `keys import`)" : "give the passphrase these keystores were sealed with (CG_KEYSTORE_PASSPHRASE or CG_KEYSTORE_PASSPHRASE_FILE)",
    });
  }

  let c: OperatorChain;
  try {
    c = await connect({ ...config, chainId: undefined });
    add({ name: "rpc", status: "ok", detail: `the RPC node answers (chain ${c.chainId})` });
  } catch (e) {
    add({ name: "rpc", status: "fail", detail: message(e), fix: "check CG_RPC_URL: the node must be running and reachable from this machine" });
    skipRest(chainChecks, "rpc");
    return checks;
  }

  const code = await c.public.getCode({ address: config.registry }).catch(() => undefined);
  if (config.chainId !== undefined && config.chainId !== c.chainId) {
    add({ name: "chain id", status: "fail", detail: `the RPC node serves chain ${c.chainId}, the deployment file is for chain ${config.chainId}`, fix: "point CG_RPC_URL at the deployment's chain, or CG_DEPLOYMENT at this chain's deployment file" });
    skipRest(chainChecks.slice(1), "chain id");
    return checks;
  }
  if (!code || code === "0x") {
    add({ name: "chain id", status: "fail", detail: `no contract at the GuardianRegistry address ${config.registry} on chain ${c.chainId}`, fix: "check CG_DEPLOYMENT (or CG_REGISTRY) for this chain" });
    skipRest(chainChecks.slice(1), "chain id");
    return checks;
  }
  add({ name: "chain id", status: "ok", detail: `chain ${c.chainId}${config.chainId !== undefined ? ", as the deployment file says" : ""}; the registry is deployed` });

  if (operator === undefined) {
    skipRest(chainChecks.slice(1), "keys");
    return checks;
  }
  const g: GuardianOnChain = await readGuardian(c, config, operator);
  const now = (await c.public.getBlock({ blockTag: "latest" })).timestamp;
  if (!g.view.registered) {
    add({ name: "registration", status: "fail", detail: `${operator} is not registered`, fix: "run `npx cg-guardian register --config <file> --stake <eth>`" });
    skipRest(chainChecks.slice(2), "registration");
    return checks;
  }
  if (g.view.encryptionKey.toLowerCase() !== encryptionKey?.toLowerCase()) {
    add({ name: "registration", status: "fail", detail: `registered with encryption key ${g.view.encryptionKey.slice(0, 10)}…, but the keystore holds ${encryptionKey?.slice(0, 10)}…`, fix: "import the keys this operator registered with (`npx cg-guardian keys import`)" });
  } else if (g.view.jailed) {
    add({ name: "registration", status: "fail", detail: `${operator} is jailed`, fix: "ask the registry's administrators why (see `cg audit` for the GuardianJailed event)" });
  } else add({ name: "registration", status: "ok", detail: `${operator} is registered${g.view.eligible ? " and eligible for new committees" : " (not eligible for new committees)"}` });

  const expires = g.view.attestationExpiresAt;
  if (expires <= now) {
    add({ name: "attestation", status: "fail", detail: expires === 0n ? "no attestation" : `expired at ${when(expires, now)}`, fix: "ask an attester for a fresh attestation (`cg guardian attest <operator> …`)" });
  } else if (expires - now < ATTESTATION_WARN_SECONDS) {
    add({ name: "attestation", status: "warn", detail: `expires at ${when(expires, now)}`, fix: "ask an attester to renew it before it expires" });
  } else add({ name: "attestation", status: "ok", detail: `valid until ${when(expires, now)}` });

  const unbonding = g.view.unbonding > 0n ? `; ${eth(g.view.unbonding)} unbonding (ineligible until withdrawn), ready ${when(g.view.unbondingReadyAt, now)}` : "";
  if (g.view.stake < g.minStake) {
    add({ name: "stake", status: "fail", detail: `${eth(g.view.stake)} staked, the minimum is ${eth(g.minStake)}${unbonding}`, fix: `run \`npx cg-guardian stake ${formatNeed(g.minStake - g.view.stake)} --config <file>\`` });
  } else if (g.view.unbonding > 0n) {
    add({ name: "stake", status: "warn", detail: `${eth(g.view.stake)} staked (minimum ${eth(g.minStake)})${unbonding}`, fix: "withdraw once ready (`npx cg-guardian withdraw`) to become eligible again" });
  } else add({ name: "stake", status: "ok", detail: `${eth(g.view.stake)} staked (minimum ${eth(g.minStake)})${g.claimable > 0n ? `; ${eth(g.claimable)} to claim (\`npx cg-guardian claim\`)` : ""}${g.payee !== operator ? `; payouts to ${g.payee}` : ""}` });
  if (g.nextWithdrawal.from > 0n) {
    add({
      name: "withdrawal address",
      status: "warn",
      detail: `payouts change from ${g.payee} to ${g.nextWithdrawal.address === ZERO_ADDRESS ? "the operator address" : g.nextWithdrawal.address} at ${when(g.nextWithdrawal.from, now)}`,
      fix: `if you did not ask for it, the operator key is compromised: cancel it from ${g.payee} (cancelWithdrawalAddressChange(${operator})) and rotate the key`,
    });
  }
  const balance = await c.public.getBalance({ address: operator });
  if (balance === 0n) add({ name: "gas", status: "warn", detail: `the operator ${operator} holds no ETH for gas`, fix: "fund the operator address: the agent pays for its postings and committee transactions" });

  const configured: Record<string, boolean> = { email: Boolean(config.smtp), sms: Boolean(config.sms), app: true };
  const registered = Object.keys(KIND_BITS).filter((k) => (g.view.channelKinds & KIND_BITS[k]) !== 0);
  const missing = registered.filter((k) => !configured[k]);
  const extra = Object.keys(configured).filter((k) => configured[k] && !registered.includes(k));
  if (missing.length > 0) {
    const how: Record<string, string> = { email: "CG_SMTP_HOST and CG_SMTP_FROM", sms: "CG_SMS_BASE_URL, CG_SMS_ACCOUNT_SID, CG_SMS_AUTH_TOKEN and CG_SMS_FROM" };
    add({ name: "channels", status: "fail", detail: `registered ${registered.join(", ")}, but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not configured: those codes cannot be delivered`, fix: `set ${missing.map((k) => how[k]).join("; ")}` });
  } else if (extra.length > 0 && extra.some((k) => k !== "app")) {
    add({ name: "channels", status: "warn", detail: `${extra.join(", ")} configured but not registered (registered: ${registered.join(", ") || "none"})` });
  } else add({ name: "channels", status: "ok", detail: `registered ${registered.join(", ")}; all configured; ${config.resetPageUrl ? `code messages link to ${config.resetPageUrl}` : "code messages carry the code only (CG_RESET_PAGE_URL is not set)"}` });

  add(await checkPeer(c, config, operator));
  return checks;
}

function formatNeed(wei: bigint): string {
  return eth(wei).replace(" ETH", "");
}

async function checkPeer(c: OperatorChain, config: GuardianConfig, operator: Address): Promise<Check> {
  const name = "peer endpoint";
  let peer;
  try {
    peer = requirePeer(config);
  } catch (e) {
    return { name, status: "fail", detail: message(e), fix: "set CG_PEER_PUBLIC_URL (operator guide §1)" };
  }
  const logs = await c.public.getLogs({ address: config.registry, event: REGISTERED, args: { operator }, fromBlock: config.startBlock, toBlock: "latest" });
  const uri = logs.at(-1)?.args.metadataURI;
  if (!uri) return { name, status: "fail", detail: "the registration names no metadata document", fix: "register again with --metadata" };
  const expected = `${peer.publicUrl}${METADATA_PATH}`;
  let body: { operator?: unknown; peerApi?: unknown };
  try {
    const res = await fetch(uri, { redirect: "manual", signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) return { name, status: "fail", detail: `${uri} answered ${res.status}`, fix: "start the agent (`npx cg-guardian start`) and make its peer API reachable at CG_PEER_PUBLIC_URL" };
    body = JSON.parse((await res.text()).slice(0, 16_384));
  } catch (e) {
    const why = (e as { cause?: { code?: string } }).cause?.code ?? message(e);
    return { name, status: "fail", detail: `${uri} is not reachable (${why})`, fix: "start the agent (`npx cg-guardian start`), and open CG_PEER_PORT to the other guardians (firewall, TLS certificate)" };
  }
  if (typeof body.operator !== "string" || getAddress(body.operator) !== operator) {
    return { name, status: "fail", detail: `${uri} names operator ${String(body.operator)}, not ${operator}`, fix: "the URL serves another guardian's document: check CG_PEER_PUBLIC_URL and the registration's metadata URI" };
  }
  if (body.peerApi !== peer.publicUrl) {
    return { name, status: "fail", detail: `${uri} names peer API ${String(body.peerApi)}, this configuration says ${peer.publicUrl}`, fix: "make CG_PEER_PUBLIC_URL and the metadata document agree" };
  }
  const note = uri === expected ? "" : ` (registered metadata ${uri})`;
  return { name, status: "ok", detail: `${peer.publicUrl} serves the metadata document naming this operator${note}` };
}

export async function doctor(configFile: string | undefined, json: boolean): Promise<number> {
  const checks = await runChecks(configFile);
  const failed = checks.filter((c) => c.status === "fail").length;
  if (json) process.stdout.write(JSON.stringify({ ok: failed === 0, checks }, null, 2) + "\n");
  else {
    const mark: Record<CheckStatus, string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };
    for (const c of checks) {
      process.stdout.write(`${mark[c.status]}  ${c.name}: ${c.detail}\n`);
      if (c.fix && c.status !== "ok") process.stdout.write(`        fix: ${c.fix}\n`);
    }
    process.stdout.write(failed === 0 ? "all checks passed\n" : `${failed} check${failed > 1 ? "s" : ""} failed\n`);
  }
  return failed === 0 ? 0 : 1;
}
