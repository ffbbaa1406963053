/**
 * `npm run demo` — the whole system on one machine, in under two minutes: a local chain, the contracts, five
 * guardian agents as processes (one of them misbehaving), and local SMTP / SMS / app servers standing in for
 * alice's inbox, phone and authenticator. It tells the story of one recovery, with timings and gas, and exits 0.
 *
 *   npm run demo              run the story and stop everything
 *   npm run demo -- --keep    leave the network running and print how to use `cg` against it
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type Address, type Hex, createPublicClient, createWalletClient, formatEther, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { type Clients, assembleFragments, chainFor, completeReset, finalizeReset, linkAccount, listGuardians, proveInvalidFragment, replayAuditLog, requestReset, saltFromText, selectCommittee } from "../sdk/client/index.ts";
import { defaultAccountKey, startGuardianNetwork } from "../test/helpers/guardianNetwork.ts";
import { Inbox } from "../test/helpers/localServices.ts";

const keep = process.argv.includes("--keep");
const started = Date.now();
const MALICIOUS = 4;

function say(step: string, detail = ""): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${t}s] ${step}${detail ? ` — ${detail}` : ""}`);
}

async function main(): Promise<void> {
  say("starting a local chain, the contracts, 5 guardian agents and alice's inbox, phone and app");
  const inbox = new Inbox();
  const net = await startGuardianNetwork(inbox, {
    guardians: 5,
    confirmations: 1,
    agentEnv: (i): Record<string, string> => (i === MALICIOUS ? { CG_FAILPOINTS: "serve.invalid-partial" } : {}),
  });
  const deploymentFile = join(tmpdir(), `cg-demo-deployment-${process.pid}.json`);
  writeFileSync(deploymentFile, JSON.stringify(net.sys.deployment, null, 2));
  try {
    const { sys } = net;
    const chain = chainFor(Number(sys.chainId), net.node.url);
    const publicClient = createPublicClient({ chain, transport: http(net.node.url), pollingInterval: 100 });
    const clientsFor = (key: Hex): Clients => ({ public: publicClient as never, wallet: createWalletClient({ chain, account: privateKeyToAccount(key), transport: http(net.node.url) }) as never, deployment: sys.deployment as never });
    const aliceKey = defaultAccountKey(2);
    const aliceNewKey = defaultAccountKey(15);
    const alice = clientsFor(aliceKey);
    const aliceNew = clientsFor(aliceNewKey);
    const aliceNewAddress = privateKeyToAccount(aliceNewKey).address;
    const prover = clientsFor(defaultAccountKey(5));
    say("network ready", `chain ${sys.chainId} at ${net.node.url}; guardian #${MALICIOUS} is configured to serve invalid partials`);

    // alice's smart account
    const salt = saltFromText("alice-wallet");
    const accountId = (await sys.coordinator.computeAccountId(sys.alice.address, salt)) as Hex;
    const wallet = await sys.ethers.deployContract("RecoverableAccount", [await sys.coordinator.getAddress(), accountId], sys.alice);
    await (await sys.alice.sendTransaction({ to: await wallet.getAddress(), value: 5n * 10n ** 18n })).wait();
    say("alice created a RecoverableAccount holding 5 ETH", await wallet.getAddress());

    const guardians = selectCommittee(await listGuardians(alice), 5);
    const channels = ["mailto:alice@example.org", "sms:+15550100001", `${net.appUrl}/alice`, "mailto:alice.backup@example.org", "sms:+15550100002"];
    const linked = await linkAccount(alice, {
      salt,
      members: guardians.map((g, k) => ({ ...g, channelUri: channels[k] })),
      threshold: 3,
      securityPeriod: 3600,
      consumer: (await wallet.getAddress()) as Address,
      onProgress: (step, d) => step === "acknowledgements" && say("  acknowledgements", `${d?.acknowledged} of ${d?.of}`),
    });
    say("alice linked her account to 5 guardians, any 3 of whom can reset it", `gas ${linked.gasUsed}, map ${linked.mapId}`);

    // alice loses her key
    const { state, ephemeral, gasUsed } = await requestReset(aliceNew, { accountId, newController: aliceNewAddress });
    say("alice lost her key and asked for a reset from a new one", `request ${state.requestId}, gas ${gasUsed}`);
    const deadline = Date.now() + 30_000;
    while (inbox.fragments(BigInt(state.requestId)).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const m of inbox.messages.filter((x) => x.text.includes(`cg1.${state.requestId}.`))) say(`  fragment arrived by ${m.channel}`, `to ${m.to}`);

    const assembled = await assembleFragments(aliceNew, state, ephemeral.privateKey, inbox.fragments(BigInt(state.requestId)));
    for (const p of assembled.problems) say(`  the client refused fragment #${p.index}`, `${p.operator}: ${p.reason}`);
    for (const p of assembled.problems) {
      const receipt = await proveInvalidFragment(prover, state, p.index, assembled);
      const status = await sys.registry.guardian(p.operator!);
      say(`  proven on-chain: guardian #${p.index} slashed and jailed`, `stake now ${formatEther(status.stake)} ETH, gas ${receipt.gasUsed}`);
    }
    const completed = await completeReset(aliceNew, state, assembled.tokenHex, assembled.groupKey);
    say(`token assembled from fragments ${assembled.used.map((i) => `#${i}`).join(", ")} completed the reset`, `gas ${completed.gasUsed}`);

    await sys.networkHelpers.time.increase(3600);
    say("one hour later: the security period is over (alice's old key could have cancelled until now)");
    const finalized = await finalizeReset(aliceNew, BigInt(state.requestId));
    say("reset finalized", `controller is now ${await sys.coordinator.controllerOf(accountId)}, gas ${finalized.gasUsed}`);

    const send = await wallet.connect(await sys.ethers.getSigner(aliceNewAddress)).execute(sys.carol.address, 10n ** 18n, "0x");
    await send.wait();
    say("alice's new key moved 1 ETH out of her account", `balance left ${formatEther(await sys.ethers.provider.getBalance(await wallet.getAddress()))} ETH`);

    const audit = await replayAuditLog(aliceNew);
    say("audit", audit.message);
    say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    if (keep) {
      console.log(`\nThe network keeps running. In another terminal:\n`);
      console.log(`  export CG_RPC_URL=${net.node.url} CG_DEPLOYMENT=${deploymentFile}`);
      console.log(`  npm run cg -- account show ${accountId}`);
      console.log(`  npm run cg -- audit replay`);
      console.log(`  CG_PRIVATE_KEY=${aliceNewKey} npm run cg -- reset show --request ${state.requestId}`);
      console.log(`\n(these are the public test keys of the local chain). Press Ctrl-C to stop.`);
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    }
  } finally {
    await net.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
