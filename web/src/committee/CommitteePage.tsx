/** A committee: its members by slot, its threshold and key, its epochs and handovers as a timeline. */
import { useEffect, useState } from "preact/hooks";

import { type CommitteeInfo, committeeInfo } from "../../../sdk/client/committees.ts";
import type { AppContext } from "../lib/links.ts";
import { inWords, short } from "../lib/words.ts";

export function CommitteePage({ ctx, committeeId }: { ctx: AppContext; committeeId: bigint }) {
  const [info, setInfo] = useState<CommitteeInfo>();
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    let live = true;
    committeeInfo(ctx.clients, committeeId).then(
      (i) => live && setInfo(i),
      (e) => live && setProblem(inWords(e)),
    );
    return () => void (live = false);
  }, [committeeId]);

  if (problem) return <section class="card"><h1>Committee {committeeId.toString()}</h1><p class="error" role="alert">{problem}</p></section>;
  if (!info) return <section class="card"><p class="progress">Reading committee {committeeId.toString()}…</p></section>;
  return (
    <>
      <section class="card" data-testid="committee">
        <h1>Committee {committeeId.toString()}</h1>
        <dl class="facts">
          <dt>Status</dt><dd data-testid="committee-status">{info.status}{info.round.phase !== "active" && info.round.phase !== "retired" ? ` (round of epoch ${info.round.epoch}: ${info.round.phase})` : ""}</dd>
          <dt>Threshold</dt><dd>{info.threshold} of {info.size}</dd>
          <dt>Active epoch</dt><dd>{info.activeEpoch.toString()} (newest {info.lastEpoch.toString()})</dd>
          {info.activatedAt && <><dt>Active since</dt><dd>{info.activatedAt.toLocaleString()}</dd></>}
          {info.groupKeyHash && <><dt>Key hash</dt><dd title={info.groupKeyHash}>{short(info.groupKeyHash)}</dd></>}
        </dl>
      </section>
      <section class="card">
        <h2>Members</h2>
        <ol class="plain members" data-testid="committee-members">
          {info.members.map((m) => (
            <li>#{m.slot} <a href={`#/audit/${m.operator}`} title={m.operator}>{short(m.operator)}</a> <span class="hint">since epoch {m.since}</span></li>
          ))}
        </ol>
      </section>
      <section class="card">
        <h2>Epochs and handovers</h2>
        <ol class="timeline" data-testid="committee-history">
          {info.history.map((h) => (
            <li>
              <div class="when">{h.time.toLocaleString()} · block {h.block.toString()}</div>
              <div class="what"><strong>Epoch {h.epoch.toString()}: {h.event}</strong></div>
              <div class="hint">{h.detail}</div>
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
