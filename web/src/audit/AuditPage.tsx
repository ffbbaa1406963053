/**
 * Anyone's audit: replay the whole audit chain (PROTOCOL.md §10) from the contracts' events and compare it with the
 * on-chain head, ending in "matches the on-chain head" or naming the first divergent event; and the history of an
 * account (by id), a guardian (by operator address) or a committee (by number) as a timeline.
 */
import { useEffect, useState } from "preact/hooks";
import { type Hex, isAddress } from "viem";

import { type AuditRow, auditedEvents, describeHistory, historyOf, replayAuditLog } from "../../../sdk/client/audit.ts";
import type { AppContext } from "../lib/links.ts";
import { inWords, short } from "../lib/words.ts";

export function AuditPage({ ctx, subject }: { ctx: AppContext; subject?: string }) {
  const { clients } = ctx;
  const [replay, setReplay] = useState<{ ok: boolean; text: string }>();
  const [replaying, setReplaying] = useState(false);
  const [input, setInput] = useState(subject ?? "");
  useEffect(() => setInput(subject ?? ""), [subject]);
  const [rows, setRows] = useState<AuditRow[]>();
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<string>();

  async function runReplay() {
    setReplaying(true);
    setReplay(undefined);
    try {
      const r = await replayAuditLog(clients);
      setReplay({ ok: true, text: r.message });
    } catch (e) {
      setReplay({ ok: false, text: inWords(e) });
    } finally {
      setReplaying(false);
    }
  }

  useEffect(() => {
    setRows(undefined);
    setProblem(undefined);
    if (!subject) return;
    if (/^[0-9]+$/.test(subject)) {
      location.hash = `#/committee/${subject}`;
      return;
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(subject) && !isAddress(subject)) {
      setProblem("Enter an account id (0x and 64 hexadecimal characters), a guardian's address (0x and 40) or a committee's number.");
      return;
    }
    let live = true;
    setLoading(true);
    auditedEvents(clients)
      .then((events) => describeHistory(clients, historyOf(events, subject as Hex)))
      .then(
        (r) => live && setRows(r),
        (e) => live && setProblem(inWords(e)),
      )
      .finally(() => live && setLoading(false));
    return () => void (live = false);
  }, [subject]);

  return (
    <>
      <section class="card">
        <h1>Audit</h1>
        <p class="hint">Every change to guardians, committees, accounts and resets is folded into a hash chain whose head the contract keeps. Replaying it from the events shows that no event was hidden or altered.</p>
        <button type="button" onClick={runReplay} disabled={replaying} data-testid="replay">Replay the audit chain</button>
        {replaying && <p class="progress" role="status">Fetching every audited event and replaying the chain…</p>}
        {replay && <p class={replay.ok ? "ok-text" : "error"} role={replay.ok ? "status" : "alert"} data-testid="replay-result" data-ok={String(replay.ok)}><Hashes text={replay.text} /></p>}
      </section>
      <section class="card">
        <h2>History</h2>
        <form onSubmit={(e) => { e.preventDefault(); location.hash = `#/audit/${input.trim()}`; }}>
          <label>
            Account id, guardian address or committee number
            <input value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} data-testid="audit-subject" autocomplete="off" />
          </label>
          <button type="submit" data-testid="audit-show">Show the history</button>
        </form>
        {loading && <p class="progress" role="status">Reading the history…</p>}
        {problem && <p class="error" role="alert">{problem}</p>}
        {rows && (rows.length === 0 ? <p class="hint">No audited event concerns {subject}.</p> : <Timeline rows={rows} />)}
      </section>
    </>
  );
}

export function Timeline({ rows }: { rows: AuditRow[] }) {
  return (
    <ol class="timeline" data-testid="timeline">
      {rows.map((r) => (
        <li>
          <div class="when">{r.time ? new Date(r.time).toLocaleString() : ""} · block {r.block?.toString()}</div>
          <div class="what"><strong>{words(r.event)}</strong>{r.actor && <> by <span title={r.actor}>{short(r.actor)}</span></>}</div>
          <dl class="fields">
            {Object.entries(r.details).filter(([k]) => !HIDDEN.has(k)).map(([k, raw]) => {
              const v = /^"[^"]*"$/.test(raw) ? raw.slice(1, -1) : raw; // numbers come quoted from JSON
              return <><dt>{k}</dt><dd title={v}>{v.length > 48 ? short(v) : v}</dd></>;
            })}
          </dl>
        </li>
      ))}
    </ol>
  );
}

/** A sentence with its 32-byte hashes set in monospace (they wrap inside the card). */
function Hashes({ text }: { text: string }) {
  return <>{text.split(/(0x[0-9a-fA-F]{64})/g).map((p, k) => (k % 2 === 1 ? <span class="mono">{p}</span> : p))}</>;
}

/** Bulky fields a timeline does not show (they stay in the events). */
const HIDDEN = new Set(["envelopes", "sealedChannels", "posting", "commitments", "dealing", "encryptionKey"]);

/** `ResetRequested` → "Reset requested". */
function words(event: string): string {
  const s = event.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
