/**
 * The owner protects an account: link it to a committee chosen from a list that shows each one's spread (regions and
 * providers), stake, age and liveness; and, for the accounts the connected wallet controls, rotate to another
 * committee, run a drill (served like a reset, never finalized), and cancel an unwanted request in one click.
 */
import { useEffect, useState } from "preact/hooks";
import { type Address, type Hex, formatEther } from "viem";

import { resetCoordinatorAbi } from "../../../sdk/abi/index.ts";
import { type AccountInfo, accountInfo, linkAccount, rotateAccount, saltFromText, securityPeriodBounds } from "../../../sdk/client/accounts.ts";
import { committeeInfo, listCommittees } from "../../../sdk/client/committees.ts";
import { ZERO_ADDRESS, coordinatorOf, fromBlock } from "../../../sdk/client/deployment.ts";
import { type GuardianInfo, listGuardians } from "../../../sdk/client/guardians.ts";
import { cancelReset, newRequesterKey, requestDrill } from "../../../sdk/client/resets.ts";
import { duration } from "../home/Home.tsx";
import { walletClients } from "../lib/chain.ts";
import type { AppContext } from "../lib/links.ts";
import { confirmPending, savePending } from "../lib/vault.ts";
import { inWords, short } from "../lib/words.ts";

interface CommitteeChoice {
  committeeId: bigint;
  size: number;
  threshold: number;
  members: Address[];
  regions: number;
  providers: number;
  stake: bigint;
  /** Seconds since activation, on the chain's clock. */
  age?: number;
  served: bigint;
  missed: bigint;
}

export function ProtectPage({ ctx }: { ctx: AppContext }) {
  const { clients, config } = ctx;
  const [choices, setChoices] = useState<CommitteeChoice[]>();
  const [mine, setMine] = useState<AccountInfo[]>();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [done, setDone] = useState<string>();
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      const [committees, guardians, latest] = await Promise.all([listCommittees(clients), listGuardians(clients), clients.public.getBlock()]);
      const byOperator = new Map<string, GuardianInfo>(guardians.map((g) => [g.operator.toLowerCase(), g]));
      const active = committees.filter((c) => c.status === "active");
      const out = await Promise.all(
        active.map(async (c): Promise<CommitteeChoice> => {
          const members = c.members.map((m) => byOperator.get(m.toLowerCase())).filter((g): g is GuardianInfo => g !== undefined);
          const info = await committeeInfo(clients, c.committeeId).catch(() => undefined);
          return {
            committeeId: c.committeeId,
            size: c.size,
            threshold: c.threshold,
            members: c.members,
            regions: new Set(members.map((g) => g.region)).size,
            providers: new Set(members.map((g) => g.provider)).size,
            stake: members.reduce((s, g) => s + g.stake, 0n),
            age: info?.activatedAt ? Math.max(0, Number(latest.timestamp) - info.activatedAt.getTime() / 1000) : undefined,
            served: members.reduce((s, g) => s + g.served, 0n),
            missed: members.reduce((s, g) => s + g.missed, 0n),
          };
        }),
      );
      if (live) setChoices(out);
    })().catch((e) => live && setProblem(inWords(e)));
    return () => void (live = false);
  }, []);

  useEffect(() => {
    if (!ctx.account) return;
    let live = true;
    (async () => {
      const logs = await clients.public.getContractEvents({ address: coordinatorOf(clients), abi: resetCoordinatorAbi, eventName: "AccountLinked", fromBlock: fromBlock(clients) });
      const ids = [...new Set(logs.map((l) => l.args.accountId as Hex))];
      const infos = await Promise.all(ids.map((id) => accountInfo(clients, id).catch(() => undefined)));
      if (live) setMine(infos.filter((i): i is AccountInfo => i !== undefined && i.controller.toLowerCase() === ctx.account!.toLowerCase()));
    })().catch((e) => live && setProblem(inWords(e)));
    return () => void (live = false);
  }, [ctx.account, reload]);

  async function act(step: string, run: (c: ReturnType<typeof walletClients>) => Promise<string | void>) {
    setProblem(undefined);
    setDone(undefined);
    if (!ctx.account) return setProblem("Connect a wallet first: it sends this transaction.");
    try {
      setBusy(step);
      const result = await run(walletClients(config, clients, ctx.account));
      if (result) setDone(result);
      setReload((x) => x + 1);
    } catch (e) {
      setProblem(inWords(e));
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <>
      <section class="card">
        <h1>Protect an account</h1>
        <p class="hint">Link an account to a committee of guardians: if its key is lost, t of them can together authorize a new one, each through its own channel to you (an e-mail address, a phone). No guardian ever sees your key.</p>
        {!ctx.account && <p class="warning">Connect the wallet that will control the account.</p>}
        {ctx.account && mine === undefined && !problem && <p class="progress" role="status">Looking for the accounts this wallet controls…</p>}
        {busy && <p class="progress" role="status" data-testid="protect-busy">{busy}</p>}
        {done && <p class="ok-text" role="status" data-testid="protect-done">{done}</p>}
        {problem && <p class="error" role="alert" data-testid="protect-problem">{problem}</p>}
      </section>
      {mine && mine.length > 0 && (
        <section class="card">
          <h2>Accounts this wallet controls</h2>
          <ul class="plain">
            {mine.map((a) => <MyAccount account={a} choices={choices ?? []} act={act} ctx={ctx} />)}
          </ul>
        </section>
      )}
      <LinkForm choices={choices} act={act} />
    </>
  );
}

type Act = (step: string, run: (c: ReturnType<typeof walletClients>) => Promise<string | void>) => Promise<void>;

function CommitteeList({ choices, value, onChange }: { choices?: CommitteeChoice[]; value?: bigint; onChange(id: bigint): void }) {
  if (!choices) return <p class="progress">Reading the committees…</p>;
  if (choices.length === 0) return <p class="warning">No committee is active on this deployment yet.</p>;
  return (
    <ul class="choices" data-testid="committee-choices">
      {choices.map((c) => {
        const total = c.served + c.missed;
        return (
          <li>
            <label>
              <input type="radio" name="committee" checked={value === c.committeeId} onChange={() => onChange(c.committeeId)} />
              <span>
                <strong>Committee {c.committeeId.toString()}</strong> — {c.threshold} of {c.size} · spread over {c.regions} region{c.regions === 1 ? "" : "s"} and {c.providers} provider{c.providers === 1 ? "" : "s"} · {formatEther(c.stake)} ETH staked ·{" "}
                {c.age !== undefined ? `active for ${duration(c.age)}` : "age unknown"} · {total === 0n ? "no settled request yet" : `served ${c.served} of ${total} settled requests`}{" "}
                <a href={`#/committee/${c.committeeId}`}>details</a>
              </span>
            </label>
          </li>
        );
      })}
    </ul>
  );
}

function LinkForm({ choices, act }: { choices?: CommitteeChoice[]; act: Act }) {
  const [name, setName] = useState("");
  const [committeeId, setCommitteeId] = useState<bigint>();
  const [channels, setChannels] = useState("");
  const [hours, setHours] = useState("24");
  const chosen = choices?.find((c) => c.committeeId === committeeId);

  function submit(e: Event) {
    e.preventDefault();
    void act("Sealing your channels to the committee; confirm the link in your wallet…", async (c) => {
      if (!name.trim()) throw new Error("Give the account a name: with your address it determines the account id.");
      if (committeeId === undefined || !chosen) throw new Error("Choose a committee.");
      const list = channels.split("\n").map((l) => l.trim()).filter(Boolean);
      const seconds = Math.round(Number(hours) * 3600);
      const bounds = await securityPeriodBounds(c);
      if (!Number.isFinite(seconds) || seconds < bounds.min || seconds > bounds.max) throw new Error(`The security period must be between ${duration(bounds.min)} and ${duration(bounds.max)}.`);
      const linked = await linkAccount(c, { salt: saltFromText(name.trim()), committeeId, channels: list, securityPeriod: seconds });
      return `Account ${linked.accountId} is linked to committee ${linked.committeeId}.`;
    });
  }

  return (
    <section class="card">
      <h2>Link an account</h2>
      <form onSubmit={submit}>
        <label>
          Account name (with your address, it determines the account id)
          <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="link-name" autocomplete="off" />
        </label>
        <fieldset class="plain-fieldset">
          <legend>Committee</legend>
          <CommitteeList choices={choices} value={committeeId} onChange={setCommitteeId} />
        </fieldset>
        <label>
          Your channels, one per line{chosen ? ` (${chosen.size}: one for each guardian; fewer than ${chosen.threshold} may share one)` : ""}: mailto:you@example.org, sms:+15550100001, https://your-app.example/hook
          <textarea rows={5} value={channels} onInput={(e) => setChannels((e.target as HTMLTextAreaElement).value)} data-testid="link-channels" autocomplete="off" spellcheck={false} />
        </label>
        <label>
          Security period in hours (the current key can cancel a reset during it)
          <input inputMode="decimal" value={hours} onInput={(e) => setHours((e.target as HTMLInputElement).value)} data-testid="link-hours" />
        </label>
        <button type="submit" data-testid="link">Link the account</button>
      </form>
    </section>
  );
}

function MyAccount({ account, choices, act, ctx }: { account: AccountInfo; choices: CommitteeChoice[]; act: Act; ctx: AppContext }) {
  const [rotating, setRotating] = useState(false);
  const [committeeId, setCommitteeId] = useState<bigint>();
  const [channels, setChannels] = useState("");
  const { config } = ctx;

  const drill = () =>
    act("Saving the drill's one-time secret; confirm the drill in your wallet…", async (c) => {
      const key = newRequesterKey();
      const pending = await savePending({ chainId: config.deployment.chainId, coordinator: coordinatorOf(c), accountId: account.accountId, newController: ZERO_ADDRESS, requesterKey: key.publicKey, secret: key.secret });
      const opened = await requestDrill(c, { accountId: account.accountId, requesterKey: key });
      await confirmPending(pending, opened.request.requestId);
      location.hash = `#/reset/${opened.request.requestId}`;
    });

  const rotate = (e: Event) => {
    e.preventDefault();
    void act("Sealing your channels to the committee; confirm the rotation in your wallet…", async (c) => {
      if (committeeId === undefined) throw new Error("Choose a committee.");
      const r = await rotateAccount(c, { accountId: account.accountId, committeeId, channels: channels.split("\n").map((l) => l.trim()).filter(Boolean) });
      setRotating(false);
      return `Account ${short(account.accountId)} now uses committee ${r.committeeId} (account epoch ${r.epoch}).`;
    });
  };

  return (
    <li class="account" data-testid="my-account">
      <div>
        <a href={`#/audit/${account.accountId}`} title={account.accountId}>{short(account.accountId)}</a> · committee {account.committeeId.toString()} · epoch {account.epoch.toString()} · security period {duration(account.securityPeriod)}
      </div>
      {account.openRequests.length > 0 && (
        <ul class="plain">
          {account.openRequests.map((id) => (
            <li class="warning">
              Open request <a href={`#/reset/${id}`}>#{id.toString()}</a>{" "}
              <button type="button" class="danger" onClick={() => act(`Confirm cancelReset(${id}) in your wallet…`, async (c) => (await cancelReset(c, id), `Request ${id} cancelled.`))} data-testid={`cancel-${id}`}>
                Cancel it
              </button>
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={drill} data-testid="drill">Run a drill</button>
      <button type="button" onClick={() => setRotating(!rotating)} aria-expanded={rotating} data-testid="rotate-open">Rotate…</button>
      {rotating && (
        <form onSubmit={rotate} data-testid="rotate-form">
          <CommitteeList choices={choices} value={committeeId} onChange={setCommitteeId} />
          <label>
            Your channels, one per line
            <textarea rows={5} value={channels} onInput={(e) => setChannels((e.target as HTMLTextAreaElement).value)} autocomplete="off" spellcheck={false} data-testid="rotate-channels" />
          </label>
          <p class="hint">A rotation voids every open request of the account.</p>
          <button type="submit" data-testid="rotate">Rotate</button>
        </form>
      )}
    </li>
  );
}
