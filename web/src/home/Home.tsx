/**
 * The owner's first screen: pick or enter the account, the new controller (the connected wallet by default), and
 * send the request from the wallet. The one-time secret `a` is sealed into this browser's storage before the wallet
 * is asked, so nothing is lost if the tab closes while it confirms. Requests this browser holds are listed to resume.
 */
import { useEffect, useState } from "preact/hooks";
import { type Address, type Hex, formatEther, getAddress, isAddress } from "viem";

import { resetCoordinatorAbi } from "../../../sdk/abi/index.ts";
import { type AccountInfo, accountInfo } from "../../../sdk/client/accounts.ts";
import { coordinatorOf, fromBlock } from "../../../sdk/client/deployment.ts";
import { newRequesterKey, requestReset } from "../../../sdk/client/resets.ts";
import { walletClients } from "../lib/chain.ts";
import type { AppContext } from "../lib/links.ts";
import { SecretNote } from "../lib/SecretNote.tsx";
import { type SavedRequest, confirmPending, forget, listSaved, savePending } from "../lib/vault.ts";
import { inWords, short } from "../lib/words.ts";

const ACCOUNT_ID = /^0x[0-9a-fA-F]{64}$/;

export function Home({ ctx }: { ctx: AppContext }) {
  const { clients, config } = ctx;
  const [accounts, setAccounts] = useState<Hex[]>([]);
  const [accountId, setAccountId] = useState("");
  const [info, setInfo] = useState<AccountInfo>();
  const [lookup, setLookup] = useState<string>();
  const [reading, setReading] = useState(false);
  const [controller, setController] = useState("");
  const [fee, setFee] = useState<bigint>();
  const [busy, setBusy] = useState<string>();
  const [problem, setProblem] = useState<string>();
  const [saved, setSaved] = useState<SavedRequest[]>([]);

  useEffect(() => {
    clients.public
      .getContractEvents({ address: coordinatorOf(clients), abi: resetCoordinatorAbi, eventName: "AccountLinked", fromBlock: fromBlock(clients) })
      .then((logs) => setAccounts([...new Set(logs.map((l) => l.args.accountId as Hex))].reverse().slice(0, 50)))
      .catch(() => setAccounts([]));
    clients.public.readContract({ address: coordinatorOf(clients), abi: resetCoordinatorAbi, functionName: "parameters" }).then((p) => setFee(p.requestFee), () => {});
    listSaved()
      .then((all) => resumePending(all.filter((r) => r.chainId === config.deployment.chainId && r.coordinator.toLowerCase() === coordinatorOf(clients).toLowerCase())))
      .then(setSaved, () => {});
  }, []);

  /** A request sent while the tab closed before its receipt: found on-chain by its requester key A, and filed. */
  async function resumePending(records: SavedRequest[]): Promise<SavedRequest[]> {
    return Promise.all(
      records.map(async (r) => {
        if (r.requestId) return r;
        const logs = await clients.public.getContractEvents({ address: coordinatorOf(clients), abi: resetCoordinatorAbi, eventName: "ResetRequested", args: { accountId: r.accountId }, fromBlock: fromBlock(clients) }).catch(() => []);
        const found = logs.find((l) => (l.args.requesterKey as string).toLowerCase() === r.requesterKey.toLowerCase());
        return found ? confirmPending(r.id, found.args.requestId!) : r;
      }),
    );
  }

  useEffect(() => {
    if (ctx.account && controller === "") setController(ctx.account);
  }, [ctx.account]);

  useEffect(() => {
    setInfo(undefined);
    setLookup(undefined);
    setReading(false);
    if (accountId === "") return;
    if (!ACCOUNT_ID.test(accountId)) return setLookup("An account id is 0x followed by 64 hexadecimal characters.");
    let live = true;
    setReading(true);
    accountInfo(clients, accountId as Hex)
      .then(
        (i) => live && setInfo(i),
        (e) => live && setLookup(inWords(e)),
      )
      .finally(() => live && setReading(false));
    return () => void (live = false);
  }, [accountId]);

  async function request(e: Event) {
    e.preventDefault();
    setProblem(undefined);
    if (!info) return setProblem("Choose a linked account first.");
    if (!isAddress(controller)) return setProblem("The new controller must be an address (0x followed by 40 hexadecimal characters).");
    if (!ctx.account) return setProblem("Connect a wallet first: it sends the request and pays the fee.");
    const key = newRequesterKey();
    try {
      setBusy("Saving the one-time secret in this browser…");
      const pending = await savePending({ chainId: config.deployment.chainId, coordinator: coordinatorOf(clients), accountId: info.accountId, newController: getAddress(controller), requesterKey: key.publicKey, secret: key.secret });
      setBusy("Confirm the request in your wallet…");
      const opened = await requestReset(walletClients(config, clients, ctx.account), { accountId: info.accountId, newController: getAddress(controller) as Address, requesterKey: key });
      await confirmPending(pending, opened.request.requestId);
      location.hash = `#/reset/${opened.request.requestId}`;
    } catch (err) {
      setProblem(inWords(err));
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <>
      <section class="card">
        <h1>Reset an account's key</h1>
        <p class="hint">Lost the key that controls your account? Ask its guardians for a reset. Each guardian sends you a code by email, SMS or app; type them here, and the new key takes over after the account's security period, during which the old key can still cancel.</p>
        <form onSubmit={request}>
          <label>
            Account
            <input name="account" list="known-accounts" placeholder="0x… (64 hex characters)" value={accountId} onInput={(e) => setAccountId((e.target as HTMLInputElement).value.trim())} data-testid="account-input" autocomplete="off" />
            <datalist id="known-accounts">{accounts.map((a) => <option value={a} />)}</datalist>
          </label>
          {reading && <p class="progress" role="status">Reading the account from the chain…</p>}
          {lookup && <p class="error" role="alert">{lookup}</p>}
          {info && (
            <dl class="facts" data-testid="account-info">
              <dt>Controller now</dt><dd title={info.controller}>{short(info.controller)}</dd>
              <dt>Committee</dt><dd>{info.committeeId.toString()}</dd>
              <dt>Security period</dt><dd>{duration(info.securityPeriod)}</dd>
              <dt>Open requests</dt><dd>{info.openRequests.length ? info.openRequests.map((id) => <a href={`#/reset/${id}`}>#{id.toString()} </a>) : "none"}</dd>
            </dl>
          )}
          <label>
            New controller
            <input name="controller" placeholder="0x… (the connected wallet by default)" value={controller} onInput={(e) => setController((e.target as HTMLInputElement).value.trim())} data-testid="controller-input" autocomplete="off" />
          </label>
          <button type="submit" disabled={!!busy} data-testid="request-reset">
            Request the reset{fee !== undefined ? ` (fee ${formatEther(fee)} ETH)` : ""}
          </button>
          {!ctx.account && <p class="hint">Connect a wallet to send the request.</p>}
          {busy && <p class="progress" role="status">{busy}</p>}
          {problem && <p class="error" role="alert" data-testid="request-problem">{problem}</p>}
        </form>
        <SecretNote />
      </section>
      {saved.length > 0 && (
        <section class="card">
          <h2>Requests this browser holds</h2>
          <ul class="plain">
            {saved.map((r) => (
              <li>
                {r.requestId ? <a href={`#/reset/${r.requestId}`}>Request #{r.requestId}</a> : <span>Not yet on-chain (the wallet did not confirm)</span>} — account {short(r.accountId)}, to {short(r.newController)}
                {r.erasedAt !== undefined && <span class="hint"> (settled; its secret is erased)</span>}{" "}
                {(!r.requestId || r.erasedAt !== undefined) && <button type="button" class="link" onClick={() => forget(r.id).then(() => setSaved(saved.filter((x) => x.id !== r.id)))}>forget</button>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

export function duration(seconds: number): string {
  if (seconds <= 0) return "0 s";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return [d && `${d} d`, h && `${h} h`, m && `${m} min`, !d && !h && s && `${s} s`].filter(Boolean).join(" ");
}
