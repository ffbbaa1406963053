/**
 * One request, as its owner follows it: each committee slot fills in as its posting lands on-chain (read publicly)
 * and as its code arrives (typed, pasted or opened from a link); the codes are checked against the postings and the
 * token assembled and verified in the worker; `completeReset` goes from the wallet; then a countdown to the end of
 * the security period and the finalization. The account's controller can cancel here in one click until then.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Address, getAddress } from "viem";

import { resetCoordinatorAbi } from "../../../sdk/abi/index.ts";
import { activeCommitteeEpoch, committeeEpoch } from "../../../sdk/client/committees.ts";
import { coordinatorOf } from "../../../sdk/client/deployment.ts";
import { type AssembledReset, type CodeCheck, type ResetInfo, cancelReset, completeReset, finalizeReset, resetInfo } from "../../../sdk/client/resets.ts";
import { duration } from "../home/Home.tsx";
import { walletClients } from "../lib/chain.ts";
import { type AppContext, linkedCodes } from "../lib/links.ts";
import { SecretNote } from "../lib/SecretNote.tsx";
import { type SavedRequest, codesOf, eraseSecret, getSaved, recordId, saveCodes, secretOf } from "../lib/vault.ts";
import { assembleInWorker, checkInWorker } from "../lib/worker.ts";
import { inWords, readCode, short, slotOf } from "../lib/words.ts";

interface Note {
  kind: "ok" | "error";
  text: string;
}

interface Chain {
  info: ResetInfo;
  members: Address[];
  /** The threshold of the epoch whose postings count (the active one until a first posting fixes it). */
  threshold: number;
  controller: Address;
  /** The latest block's timestamp (s) and when it was read (ms, local clock). */
  chainNow: number;
  readAt: number;
}

export function ResetPage({ ctx, requestId }: { ctx: AppContext; requestId: bigint }) {
  const { clients, config } = ctx;
  const [chain, setChain] = useState<Chain>();
  const [loadProblem, setLoadProblem] = useState<string>();
  const [record, setRecord] = useState<SavedRequest | null>();
  const [codes, setCodes] = useState<string[]>([]);
  const [checks, setChecks] = useState<CodeCheck[]>([]);
  const [checking, setChecking] = useState(false);
  const [input, setInput] = useState("");
  const [notes, setNotes] = useState<Note[]>([]);
  const [busy, setBusy] = useState<string>();
  const [problem, setProblem] = useState<string>();
  const [assembled, setAssembled] = useState<AssembledReset>();
  const [, tick] = useState(0);
  const codesRef = useRef<string[]>([]);
  const recordRef = useRef<SavedRequest | null | undefined>(undefined);
  const postingsSeen = useRef(-1);

  // The saved secret and codes of this request, if this browser sent it; then codes from a link.
  useEffect(() => {
    getSaved(recordId(config.deployment.chainId, coordinatorOf(clients), requestId)).then(async (rec) => {
      recordRef.current = rec ?? null;
      setRecord(rec ?? null);
      const kept = rec ? await codesOf(rec).catch(() => []) : [];
      codesRef.current = kept;
      setCodes(kept);
      takeLinked();
    });
    const onLinked = () => takeLinked();
    window.addEventListener("cg-linked-code", onLinked);
    return () => window.removeEventListener("cg-linked-code", onLinked);
  }, []);

  function takeLinked() {
    if (recordRef.current === undefined) return; // the saved codes are still loading
    const list = linkedCodes.get(requestId.toString());
    if (!list?.length) return;
    linkedCodes.delete(requestId.toString());
    void addCodes(list, "opened from a link");
  }

  // The request on-chain, read every second.
  useEffect(() => {
    let live = true;
    let inFlight = false;
    async function poll() {
      if (inFlight) return;
      inFlight = true;
      try {
        const info = await resetInfo(clients, requestId);
        const epoch = info.postingEpoch ? await committeeEpoch(clients, info.request.committeeId, info.postingEpoch) : await activeCommitteeEpoch(clients, info.request.committeeId);
        const [account, block] = await Promise.all([
          clients.public.readContract({ address: coordinatorOf(clients), abi: resetCoordinatorAbi, functionName: "account", args: [info.request.accountId] }),
          clients.public.getBlock(),
        ]);
        if (!live) return;
        setChain({ info, members: epoch.members, threshold: epoch.threshold, controller: getAddress(account.controller), chainNow: Number(block.timestamp), readAt: Date.now() });
        setLoadProblem(undefined);
        const rec = recordRef.current;
        if (rec?.secret && settled(info)) {
          // The request can serve no more: its secret and codes leave this browser's storage.
          await eraseSecret(rec.id);
          const erased = (await getSaved(rec.id)) ?? null;
          recordRef.current = erased;
          if (live) setRecord(erased);
        }
        if (info.postings.length !== postingsSeen.current) {
          postingsSeen.current = info.postings.length;
          void check(codesRef.current);
        }
      } catch (e) {
        if (live) setLoadProblem(inWords(e));
      } finally {
        inFlight = false;
      }
    }
    void poll();
    const timer = setInterval(poll, 1000);
    const clock = setInterval(() => tick((x) => x + 1), 1000);
    return () => {
      live = false;
      clearInterval(timer);
      clearInterval(clock);
    };
  }, []);

  async function check(list: string[]) {
    if (list.length === 0) return setChecks([]);
    setChecking(true);
    try {
      setChecks(await checkInWorker(config, requestId, list));
    } catch (e) {
      setNotes([{ kind: "error", text: `The codes could not be checked: ${inWords(e)}` }]);
    } finally {
      setChecking(false);
    }
  }

  async function addCodes(texts: string[], how: string) {
    const found: Note[] = [];
    let list = [...codesRef.current];
    for (const text of texts) {
      const read = readCode(text, requestId);
      if (!read.ok) {
        found.push({ kind: "error", text: read.problem.charAt(0).toUpperCase() + read.problem.slice(1) + "." });
        continue;
      }
      list = [...list.filter((c) => slotOf(c) !== read.slot), read.text];
      found.push({ kind: "ok", text: `Code for slot ${read.slot} ${how}: its row above shows whether it matches the slot's posting.` });
    }
    list.sort((x, y) => slotOf(x) - slotOf(y));
    codesRef.current = list;
    setCodes(list);
    if (recordRef.current?.secret) await saveCodes(recordRef.current.id, list).catch((e) => found.push({ kind: "error", text: `The codes could not be kept in this browser: ${inWords(e)}` }));
    setNotes(found);
    await check(list);
  }

  function onSubmit(e: Event) {
    e.preventDefault();
    const lines = input.split(/\n+/).map((l) => l.trim()).filter(Boolean);
    if (lines.length === 0) return setNotes([{ kind: "error", text: "Type or paste a code first." }]);
    setInput("");
    void addCodes(lines, "added");
  }

  async function withWallet(step: string, run: (c: ReturnType<typeof walletClients>) => Promise<unknown>) {
    setProblem(undefined);
    if (!ctx.account) return setProblem("Connect a wallet first: it sends this transaction.");
    try {
      setBusy(step);
      await run(walletClients(config, clients, ctx.account));
    } catch (e) {
      setProblem(inWords(e));
    } finally {
      setBusy(undefined);
    }
  }

  async function complete() {
    if (!chain || !record?.secret) return;
    await withWallet("Assembling and verifying the token in the background…", async (c) => {
      const token = await assembleInWorker(config, requestId, codesRef.current, await secretOf(record));
      setAssembled(token);
      setBusy(`Token verified (slots ${token.used.join(", ")}). Confirm completeReset in your wallet…`);
      await completeReset(c, chain.info.request, token);
    });
  }

  if (!chain) {
    return (
      <section class="card">
        <h1>Request #{requestId.toString()}</h1>
        {loadProblem ? <p class="error" role="alert" data-testid="load-problem">{loadProblem}</p> : <p class="progress">Reading the request from the chain…</p>}
      </section>
    );
  }

  const { info, members } = chain;
  const now = chain.chainNow + (Date.now() - chain.readAt) / 1000;
  const byslot = new Map(checks.map((c) => [c.slot, c]));
  const okCount = checks.filter((c) => c.ok).length;
  const t = chain.threshold;
  const remaining = info.executableAt ? Math.max(0, Math.ceil(info.executableAt.getTime() / 1000 - now)) : undefined;
  const isController = ctx.account !== undefined && ctx.account.toLowerCase() === chain.controller.toLowerCase();
  const cancellable = !info.voided && ((info.status === "pending" && !info.expired) || (info.status === "approved" && (remaining ?? 0) > 0));
  const drill = info.request.drill;
  const open = info.status === "pending" && !info.expired && !info.voided;

  return (
    <>
      <section class="card">
        <h1>{drill ? "Drill" : "Reset"} request #{requestId.toString()}</h1>
        <p class="status" data-testid="status" data-status={info.status}>{statusLine(info, remaining)}</p>
        <dl class="facts">
          <dt>Account</dt><dd title={info.request.accountId}>{short(info.request.accountId)}</dd>
          {!drill && <><dt>New controller</dt><dd title={info.request.newController}>{short(info.request.newController)}</dd></>}
          <dt>Committee</dt><dd>{info.request.committeeId.toString()}, {t} of {members.length} codes needed</dd>
          <dt>Expires</dt><dd>{info.expiresAt.toLocaleString()}</dd>
        </dl>
        {cancellable && isController && record === null && (
          <p class="warning" data-testid="not-yours">
            You hold this account's current key. If you did not ask for this {drill ? "drill" : "reset"}, cancel it below{drill ? "." : `: otherwise ${short(info.request.newController)} takes control of the account when the security period ends.`}
          </p>
        )}
        {record === null && open && <p class="warning" data-testid="no-secret">This browser does not hold the one-time secret of this request, so it cannot assemble the token: codes can be checked against the postings here, but complete the reset in the browser that sent the request.</p>}
        {record?.erasedAt !== undefined && <p class="hint" data-testid="secret-erased">The request has settled, so this browser erased its one-time secret and codes.</p>}
        {loadProblem && <p class="error" role="alert">{loadProblem}</p>}
        {record?.secret && <SecretNote />}
      </section>

      <section class="card">
        <h2>Guardians</h2>
        <p class="hint">{info.postings.filter((p) => !p.proven).length} of {members.length} guardians have posted; {okCount} of the {t} codes needed match{checking ? " (checking…)" : ""}.</p>
        <ol class="slots">
          {members.map((operator, k) => {
            const slot = k + 1;
            const posting = [...info.postings].reverse().find((p) => p.slot === slot);
            const c = byslot.get(slot);
            const held = codes.some((x) => slotOf(x) === slot);
            const codeState = c ? (c.ok ? "ok" : c.committeeEpoch === undefined ? "waiting" : "bad") : held ? "checking" : "none";
            return (
              <li class={`slot code-${codeState}`} data-testid={`slot-${slot}`} data-posted={posting ? (posting.proven ? "proven" : "yes") : "no"} data-code={codeState}>
                <span class="slot-no">#{slot}</span>
                <span class="slot-who" title={operator}>{short(operator)}</span>
                <span class="slot-posting">{posting ? (posting.proven ? "posting proven invalid" : `posted in block ${posting.blockNumber}`) : "waiting for its posting…"}</span>
                <span class="slot-code">{c ? (c.ok ? "code matches ✓" : sentence(c.detail)) : held ? "checking the code…" : "no code yet"}</span>
              </li>
            );
          })}
        </ol>
        {open && (
          <form class="codes" onSubmit={onSubmit}>
            <label>
              Type or paste a code as the message shows it (cg2.{requestId.toString()}.&lt;slot&gt;.…)
              <textarea rows={2} value={input} onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)} data-testid="code-input" autocomplete="off" spellcheck={false} autocapitalize="off" />
            </label>
            <button type="submit" data-testid="add-code">Add code</button>
          </form>
        )}
        <ul class="notes" data-testid="notes">
          {notes.map((n) => <li class={n.kind} role={n.kind === "error" ? "alert" : undefined}>{n.text}</li>)}
        </ul>
      </section>

      <section class="card actions">
        {open && record?.secret && (
          <button type="button" disabled={okCount < t || !!busy} onClick={complete} data-testid="complete">
            {drill ? "Verify the drill" : "Complete the reset"} ({okCount}/{t} codes)
          </button>
        )}
        {assembled && <p class="hint" data-testid="assembled">Token assembled from slots {assembled.used.join(", ")} of epoch {assembled.committeeEpoch.toString()} and verified.{assembled.problems.length ? ` Set aside: ${assembled.problems.join("; ")}.` : ""}</p>}
        {info.status === "approved" && remaining !== undefined && (
          remaining > 0 ? (
            <p class="countdown" data-testid="countdown">The new key takes over in <strong>{duration(remaining)}</strong> (at {info.executableAt!.toLocaleString()}). Until then the current key can cancel.</p>
          ) : (
            <button type="button" disabled={!!busy} onClick={() => withWallet("Confirm finalizeReset in your wallet…", (c) => finalizeReset(c, requestId))} data-testid="finalize">Finalize: hand control to the new key</button>
          )
        )}
        {cancellable && isController && (
          <button type="button" class="danger" disabled={!!busy} onClick={() => withWallet("Confirm cancelReset in your wallet…", (c) => cancelReset(c, requestId))} data-testid="cancel">
            Cancel this {drill ? "drill" : "reset"} (you hold the account's current key)
          </button>
        )}
        {busy && <p class="progress" role="status" data-testid="busy">{busy}</p>}
        {problem && <p class="error" role="alert" data-testid="problem">{problem}</p>}
      </section>
    </>
  );
}

/** A request that can serve no more: its secret may go. Not merely approved: a reorganization could undo that. */
function settled(info: ResetInfo): boolean {
  return info.voided || info.status === "finalized" || info.status === "cancelled" || info.status === "drill verified" || (info.status === "pending" && info.expired);
}

function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function statusLine(info: ResetInfo, remaining: number | undefined): string {
  if (info.voided && (info.status === "pending" || info.status === "approved")) return "Void: the account was rotated or another reset was finalized after this request. Request a new one if you still need to.";
  switch (info.status) {
    case "pending":
      return info.expired ? `Expired at ${info.expiresAt.toLocaleString()}: the codes can no longer be used. Request a new reset.` : "Waiting for the guardians' codes.";
    case "approved":
      return remaining && remaining > 0 ? "Approved: the security period is running." : "Approved and executable: anyone may finalize it now.";
    case "cancelled":
      return "Cancelled by the account's controller. Nothing changed.";
    case "finalized":
      return `Finalized: ${info.request.newController} now controls the account.`;
    case "drill verified":
      return "Drill verified: the guardians and your channels work. Nothing changed.";
    default:
      return info.status;
  }
}
