/**
 * `npm run demo` — protocol v2 on one machine, in a few minutes: a local chain, the contracts, six guardian agents as
 * processes (one of them misbehaving), and local SMTP and SMS servers standing in for alice's inboxes and phones. The story: five agents form a committee; alice links her account to it in one transaction; a member
 * unbonds and a handover replaces it while her account keeps working; a drill is served by the new epoch, a watcher
 * proves the misbehaving guardian's posting invalid and alice types the code her phone received; then she loses her
 * key, resets, and after the security period the reset is finalized; the audit log is replayed. Exits 0.
 *
 *   npm run demo              run the story and stop everything
 *   npm run demo -- --keep    leave the network running and print how to use `cg` and the reset page against it
 *
 * The agents' code messages link to the reset page (`npm run web`, CG_RESET_PAGE_URL to change it). With --keep, the
 * network is described in tmp/demo-network.json (RPC URL, deployment, the local inbox endpoint), which `npm run web`
 * reads by default; the file is removed when the demo stops.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { type Address, type Hex, createPublicClient, createWalletClient, formatEther, http, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { committeeRegistryAbi } from "../sdk/abi/index.ts";
import {
  type Clients,
  type ResetRequest,
  accountIdOf,
  accountInfo,
  assembleReset,
  chainFor,
  checkCodes,
  completeReset,
  finalizeReset,
  linkAccount,
  postingsOf,
  proposeCommittee,
  proveInvalidPosting,
  readCodes,
  replayAuditLog,
  requestDrill,
  requestReset,
  saltFromText,
  scanPostings,
  startHandover,
  startUnbonding,
  watchRound,
} from "../sdk/client/index.ts";
import type { CodeMessage } from "../sdk/encoding/channelCode.ts";
import { defaultAccountKey, startGuardianNetwork } from "../test/helpers/guardianNetwork.ts";
import { Inbox, startInboxEndpoint } from "../test/helpers/localServices.ts";
import { DEFAULT_RESET_PAGE_URL, DEFAULT_WEB_PORT, DEMO_NETWORK_FILE } from "./lib/webServer.ts";

const keep = process.argv.includes("--keep");
const started = Date.now();
/** Agent 4 posts postings whose W is off by the generator; agent 2 unbonds; agent 6 waits outside the committee. */
const MALICIOUS = 4;
const LEAVING = 2;
const T = 3;

function say(step: string, detail = ""): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${t}s] ${step}${detail ? ` — ${detail}` : ""}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Everything the demo and what it starts write to a temporary folder (agents' data, certificates, the deployment
 * file, the node's scratch files) goes into one folder of its own, removed when the demo ends: TMPDIR points into it
 * for this process and every process it starts.
 */
const workDir = mkdtempSync(join(tmpdir(), "cg-demo-"));
process.env.TMPDIR = workDir;
const removeWorkDir = () => rmSync(workDir, { recursive: true, force: true });
process.once("exit", removeWorkDir);

async function main(): Promise<void> {
  say("starting a local chain, the contracts, 6 guardian agents and alice's inboxes and phones");
  const inbox = new Inbox();
  const net = await startGuardianNetwork(inbox, {
    guardians: 6,
    confirmations: 1,
    agentEnv: (i): Record<string, string> => ({ CG_RESET_PAGE_URL: process.env.CG_RESET_PAGE_URL ?? DEFAULT_RESET_PAGE_URL, ...(i === MALICIOUS ? { CG_FAILPOINTS: "serve.invalid-posting" } : {}) }),
  });
  const deploymentFile = join(workDir, "deployment.json");
  writeFileSync(deploymentFile, JSON.stringify(net.sys.deployment, null, 2));
  try {
    const { sys } = net;
    const chain = chainFor(Number(sys.chainId), net.node.url);
    const publicClient = createPublicClient({ chain, transport: http(net.node.url), pollingInterval: 100 });
    const clientsFor = (key: Hex): Clients => ({ public: publicClient as never, wallet: createWalletClient({ chain, account: privateKeyToAccount(key), transport: http(net.node.url) }) as never, deployment: sys.deployment as never });
    const name = (a: Address) => sys.guardians.find((g) => g.address.toLowerCase() === a.toLowerCase())?.name ?? a;
    const aliceKey = defaultAccountKey(2);
    const aliceNewKey = defaultAccountKey(15);
    const alice = clientsFor(aliceKey);
    const aliceNew = clientsFor(aliceNewKey);
    const aliceNewAddress = privateKeyToAccount(aliceNewKey).address;
    const anyone = clientsFor(defaultAccountKey(4));
    const watcher = clientsFor(defaultAccountKey(5));
    say("network ready", `chain ${sys.chainId} at ${net.node.url}; ${sys.guardians[MALICIOUS - 1].name} is configured to post invalid partials`);

    /** Follows a round in words while moving the clock past its complaint window once the dealings are in. */
    async function driveRound(committeeId: bigint, epoch: bigint) {
      let done = false;
      const driver = (async () => {
        let firstFull = 0;
        while (!done) {
          const r = await publicClient.readContract({ address: sys.deployment.contracts.CommitteeRegistry as Address, abi: committeeRegistryAbi, functionName: "round", args: [committeeId, epoch] });
          const dealt = popcount(r.dealt);
          if (r.phase === 1 && dealt >= T && r.complained === 0) {
            firstFull ||= Date.now();
            const latest = await publicClient.getBlock();
            if ((dealt === 5 || Date.now() - firstFull > 10_000) && latest.timestamp <= r.complaintDeadline) {
              await sys.networkHelpers.time.increaseTo(Number(r.complaintDeadline) + 1);
            }
          }
          await sleep(300);
        }
      })();
      try {
        return await watchRound(anyone, committeeId, epoch, (line) => say(`  ${line}`), { timeoutMs: 120_000, pollMs: 300 });
      } finally {
        done = true;
        await driver;
      }
    }

    // ── the committee ──
    const proposed = await proposeCommittee(anyone, { members: sys.guardians.slice(0, 5).map((g) => g.address), threshold: T });
    say(`committee ${proposed.committeeId} proposed: ${T} of 5`, proposed.members.map(name).join(", "));
    const formed = await driveRound(proposed.committeeId, 1n);
    if (formed.phase !== "active") throw new Error(`the committee's formation failed: ${formed.failure}`);
    say(`committee ${proposed.committeeId} is active`, "its key K exists only as five shares; nobody ever held it");
    const committeeId = proposed.committeeId;

    // ── alice links her smart account ──
    const salt = saltFromText("alice-wallet");
    const accountId = accountIdOf(alice, sys.alice.address as Address, salt);
    const wallet = await sys.ethers.deployContract("RecoverableAccount", [await sys.coordinator.getAddress(), accountId], sys.alice);
    await (await sys.alice.sendTransaction({ to: await wallet.getAddress(), value: 5n * 10n ** 18n })).wait();
    say("alice created a RecoverableAccount holding 5 ETH", await wallet.getAddress());
    // Her e-mail addresses and phones (the local app stand-in speaks plain http, which a channel URI may not).
    const channels = ["mailto:alice@example.org", "sms:+15550100001", "mailto:alice.work@example.org", "mailto:alice.backup@example.org", "sms:+15550100002"];
    const linked = await linkAccount(alice, { salt, committeeId, channels, securityPeriod: 3600, consumer: (await wallet.getAddress()) as Address });
    say(`alice linked her account to committee ${committeeId} in one transaction`, `gas ${linked.gasUsed}, no guardian transaction; active at once`);

    // ── a member leaves: handover ──
    const leaving = sys.guardians[LEAVING - 1];
    await startUnbonding(clientsFor(defaultAccountKey(6 + LEAVING - 1)), parseEther("0.5"));
    say(`${leaving.name} started unbonding`, "it is no longer eligible, so anyone may start a handover");
    const handover = await startHandover(anyone, committeeId);
    for (const x of handover.incoming) say(`handover: slot ${x.slot} (${name(x.replaces)}) replaced by ${name(x.operator)}`, `epoch ${handover.sourceEpoch} → ${handover.epoch}, drawn from a block hash`);
    const handed = await driveRound(committeeId, handover.epoch);
    if (handed.phase !== "active") throw new Error(`the handover failed: ${handed.failure}`);
    const info = await accountInfo(alice, accountId);
    say(`epoch ${handover.epoch} serves with the same key`, `alice's account did nothing: committee ${info.committeeId}, account epoch ${info.epoch}, controller ${info.controller}`);

    /** Waits until every member has posted and a code matching each posting has arrived (or, after 60 s, codes for
     *  t slots): a code can arrive a moment after its posting, and a code that matches may belong to a posting a
     *  watcher is about to prove invalid. */
    async function codesFor(request: ResetRequest): Promise<CodeMessage[]> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { codes } = readCodes(inbox.codes(request.requestId));
        const checks = await checkCodes(alice, request, codes);
        const matched = checks.filter((x) => x.ok).length;
        const posted = (await postingsOf(alice, request.requestId)).length;
        const slotsWithCodes = new Set(checks.filter((x) => x.committeeEpoch !== undefined).map((x) => x.slot)).size;
        if (posted >= 5 && slotsWithCodes >= posted) return codes;
        if (Date.now() > deadline) {
          if (matched >= T) return codes;
          throw new Error(`request ${request.requestId}: ${matched} matching codes and ${posted} postings after 60 s`);
        }
        await sleep(200);
      }
    }

    /** A watcher judges every posting of a request and proves each invalid one. */
    async function watch(requestId: bigint) {
      for (const p of (await scanPostings(watcher, { requestId })).filter((x) => x.verdict === "invalid")) {
        const proven = await proveInvalidPosting(watcher, { requestId, position: p.position });
        say(`a watcher proved the posting of slot ${proven.slot} (${name(proven.guardian)}) invalid: ${proven.check}`, `${formatEther(proven.slashed)} ETH slashed, no secret needed; gas ${proven.gasUsed}`);
      }
    }

    // ── a drill ──
    const drill = await requestDrill(alice, { accountId });
    say(`alice started drill ${drill.request.requestId}`, "served exactly like a reset, never finalized");
    const drillCodes = await codesFor(drill.request);
    for (const m of inbox.messages.filter((x) => x.text.includes(`cg2.${drill.request.requestId}.`))) say(`  a code arrived by ${m.channel}`, `to ${m.to}`);
    await watch(drill.request.requestId);
    const sms = inbox.messages.find((x) => x.channel === "sms" && x.text.includes(`cg2.${drill.request.requestId}.`));
    let typedCodes = drillCodes;
    if (sms) {
      const [code] = readCodes([sms.text]).codes;
      const body = /cg2\.[0-9]+\.[0-9]+\.([0-9A-Za-z-]+)/.exec(sms.text)![1].replaceAll("-", "");
      const typed = `cg2.${code.requestId}.${code.slot}.${body.match(/.{1,4}/g)!.join("-").toLowerCase()}`;
      say("  her phone showed", JSON.stringify(sms.text));
      say("alice typed the SMS code", typed.replace(/\.[0-9a-z-]+$/, ".••••-••••-…"));
      typedCodes = [...readCodes([typed]).codes, ...drillCodes.filter((m) => m.slot !== code.slot)];
    }
    const drillToken = await assembleReset(alice, drill.request, drill.requesterKey.secret, typedCodes);
    for (const p of drillToken.problems) say("  the client set aside", p);
    const verified = await completeReset(alice, drill.request, drillToken);
    say(`drill ${drill.request.requestId} verified on-chain`, `token from slots ${drillToken.used.join(", ")} of epoch ${drillToken.committeeEpoch}; gas ${verified.gasUsed}`);

    // ── alice loses her key: the reset ──
    const opened = await requestReset(aliceNew, { accountId, newController: aliceNewAddress });
    say(`alice lost her key and asked for reset ${opened.request.requestId} from a new one`, `gas ${opened.gasUsed}; the requester secret stays on her new device`);
    const codes = await codesFor(opened.request);
    await watch(opened.request.requestId);
    const assembled = await assembleReset(aliceNew, opened.request, opened.requesterKey.secret, codes);
    for (const p of assembled.problems) say("  the client set aside", p);
    const completed = await completeReset(aliceNew, opened.request, assembled);
    say(`reset ${opened.request.requestId} approved`, `token from slots ${assembled.used.join(", ")}; one pairing check on-chain, gas ${completed.gasUsed}`);

    await sys.networkHelpers.time.increase(3600);
    say("one hour later: the security period is over (alice's old key could have cancelled until now)");
    const finalized = await finalizeReset(aliceNew, opened.request.requestId);
    say("reset finalized", `controller is now ${await sys.coordinator.controllerOf(accountId)}, gas ${finalized.gasUsed}`);

    const moved = await wallet.connect(await sys.ethers.getSigner(aliceNewAddress)).getFunction("execute")(sys.carol.address, 10n ** 18n, "0x");
    await moved.wait();
    say("alice's new key moved 1 ETH out of her account", `balance left ${formatEther(await sys.ethers.provider.getBalance(await wallet.getAddress()))} ETH`);

    const audit = await replayAuditLog(aliceNew);
    say("audit", audit.message);
    say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    if (keep) {
      const inboxEndpoint = await startInboxEndpoint(inbox);
      mkdirSync(dirname(DEMO_NETWORK_FILE), { recursive: true });
      writeFileSync(DEMO_NETWORK_FILE, JSON.stringify({ rpcUrl: net.node.url, deployment: sys.deployment, inboxUrl: inboxEndpoint.url }, null, 2));
      const removeNetworkFile = () => rmSync(DEMO_NETWORK_FILE, { force: true });
      process.once("exit", removeNetworkFile);
      console.log(`\nThe network keeps running. The reset page (its Inbox panel shows what alice's inboxes and phones received):\n`);
      console.log(`  npm run web        then open http://127.0.0.1:${DEFAULT_WEB_PORT}/ (account ${accountId})`);
      console.log(`\nIn another terminal:\n`);
      console.log(`  export CG_RPC_URL=${net.node.url} CG_DEPLOYMENT=${deploymentFile}`);
      console.log(`  npm run cg -- account show ${accountId}`);
      console.log(`  npm run cg -- committee show ${committeeId}`);
      console.log(`  npm run cg -- reset status --request ${opened.request.requestId}`);
      console.log(`  npm run cg -- watch scan`);
      console.log(`  npm run cg -- audit replay`);
      console.log(`\n(these are the public test keys of the local chain). Press Ctrl-C to stop.`);
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
      await inboxEndpoint.stop();
      removeNetworkFile();
    }
  } finally {
    await net.close();
    removeWorkDir();
  }
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
