/**
 * The peer API's channel hand-over (PROTOCOL.md §4.6, guardian/peer.ts): after a handover, a newcomer in slot 4 of a
 * 3-of-5 committee learns each account's channel from the four other members. Every member runs the agent's own
 * `PeerApi` (HTTP on 127.0.0.1, in this process, with its own guardian database holding its share); the newcomer
 * calls `learnChannel` for one account after the other, as it does on an account's first delivery. The sealed channel
 * table entry of each account is real (`sealChannel` under the committee's key for id_4).
 *
 * The chain is answered in memory (the account, the committee, its members, the registered keys, the link event and
 * the registrations): per account the newcomer makes 2 reads and 2 log queries and each answering member 4 reads,
 * which on a real node add their round trips to the time here. CPU is this process's, so it is the newcomer's and the
 * four answering members' together.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { pino } from "pino";
import { type Chain, type Hex, type PublicClient, concatHex, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import type { GuardianConfig } from "../../guardian/config.ts";
import { METADATA_PATH } from "../../guardian/core/peerWire.ts";
import { PeerApi } from "../../guardian/peer.ts";
import { Store } from "../../guardian/store.ts";
import { g2ToEip2537 } from "../../sdk/crypto/bls.ts";
import { sealChannel } from "../../sdk/crypto/channelTable.ts";
import { hpkePublicKey } from "../../sdk/crypto/hpke.ts";
import { deal } from "../../sdk/crypto/threshold.ts";
import { channelIdentity } from "../../sdk/encoding/messages.ts";
import { packEntries } from "../../sdk/protocol/account.ts";

const CHAIN_ID = 31337;
const N = 5;
const NEWCOMER = 4;

export interface PeerResult {
  accounts: number;
  /** Wall time per account, ms: the newcomer's learnChannel, the four members answering concurrently. */
  wallMsPerAccount: number;
  /** CPU of the process per account, ms (newcomer and four members, every thread: HPKE runs partly off the main thread). */
  cpuMsPerAccount: number;
}

export async function measurePeerHandover(accounts: number, progress: (line: string) => void): Promise<PeerResult> {
  const dir = mkdtempSync(join(tmpdir(), "cg-scale-peer-"));
  const apis: PeerApi[] = [];
  const stores: Store[] = [];
  try {
    const coordinator = privateKeyToAccount(generatePrivateKey()).address;
    const committees = privateKeyToAccount(generatePrivateKey()).address;
    const registry = privateKeyToAccount(generatePrivateKey()).address;
    const dealing = deal(N, 3);
    const groupKey = dealing.commitments[0];
    const commitments = concatHex(dealing.commitments.map((c) => toHex(g2ToEip2537(c))));
    const members = Array.from({ length: N }, (_, k) => ({
      slot: k + 1,
      operator: privateKeyToAccount(generatePrivateKey()),
      hpkeSecret: crypto.getRandomValues(new Uint8Array(32)),
      metadataURI: "",
    }));

    // Each account: slot 4's channel sealed under K for id_4 (the other slots' entries are not read here).
    const sealed = new Map<string, Hex>();
    const uris = new Map<string, string>();
    const ids: Hex[] = [];
    for (let k = 1; k <= accounts; k++) {
      const accountId = toHex(k, { size: 32 });
      const uri = `mailto:owner${k}@example.org`;
      const entries = members.map((m) => (m.slot === NEWCOMER ? sealChannel(groupKey, channelIdentity(BigInt(CHAIN_ID), coordinator, accountId, 1n, m.slot), uri) : crypto.getRandomValues(new Uint8Array(137))));
      sealed.set(accountId, packEntries(entries));
      uris.set(accountId, uri);
      ids.push(accountId);
    }
    progress(`peer: ${accounts} accounts sealed`);

    const byOperator = new Map(members.map((m) => [m.operator.address.toLowerCase(), m]));
    const publicClient = {
      readContract: async ({ functionName, args }: { functionName: string; args: readonly unknown[] }) => {
        switch (functionName) {
          case "account":
            return { epoch: 1n, committeeId: 1n };
          case "committee":
            return { activeEpoch: 1n, threshold: 3 };
          case "members":
            return members.map((m) => ({ operator: m.operator.address }));
          case "guardian":
            return { encryptionKey: toHex(hpkePublicKey(byOperator.get(String(args[0]).toLowerCase())!.hpkeSecret)) };
        }
        throw new Error(`unexpected read ${functionName}`);
      },
      getLogs: async ({ event, args }: { event: { name: string }; args: Record<string, unknown> }) => {
        if (event.name === "AccountLinked") return [{ args: { epoch: 1n, sealedChannels: sealed.get(String(args.accountId)) } }];
        if (event.name === "AccountRotated") return [];
        if (event.name === "GuardianRegistered") return [{ args: { metadataURI: byOperator.get(String(args.operator).toLowerCase())!.metadataURI } }];
        throw new Error(`unexpected log query ${event.name}`);
      },
    } as unknown as PublicClient;
    const log = pino({ level: "info" }, { write: () => {} });
    let newcomer!: PeerApi;
    for (const m of members) {
      const store = new Store(join(dir, `g${m.slot}.db`), m.hpkeSecret);
      stores.push(store);
      store.putCommitteeShare("1", 1, m.slot, dealing.shares[m.slot - 1].value, commitments);
      const config = { coordinator, committees, registry, startBlock: 0n, peer: { host: "127.0.0.1", port: 0, allowHttp: true, publicUrl: "" } } as unknown as GuardianConfig;
      const api = new PeerApi({ config, store, operator: m.operator, hpkeSecret: m.hpkeSecret, log, publicClient, chain: { id: CHAIN_ID } as Chain });
      apis.push(api);
      const port = await api.listen();
      config.peer!.publicUrl = `http://127.0.0.1:${port}`;
      m.metadataURI = `http://127.0.0.1:${port}${METADATA_PATH}`;
      if (m.slot === NEWCOMER) newcomer = api;
    }

    // One account first, untimed: the newcomer reads the members' metadata documents once (cached after).
    const learn = async (accountId: Hex) => {
      const uri = await newcomer.learnChannel(accountId, 1n, 1n, NEWCOMER);
      if (uri !== uris.get(accountId)) throw new Error(`account ${accountId}: learned another channel than the one sealed`);
    };
    await learn(ids[0]);
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    for (const [k, accountId] of ids.slice(1).entries()) {
      await learn(accountId);
      if ((k + 2) % 100 === 0) progress(`peer: ${k + 2}/${accounts} channels learned`);
    }
    const wall = performance.now() - wallStart;
    const cpu = process.cpuUsage(cpuStart);
    const timed = accounts - 1;
    return { accounts, wallMsPerAccount: wall / timed, cpuMsPerAccount: (cpu.user + cpu.system) / 1000 / timed };
  } finally {
    for (const api of apis) await api.close();
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

