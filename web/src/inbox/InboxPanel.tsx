/**
 * The local network's inbox (like MailHog for mail): what the stand-in email, SMS and app servers of
 * `npm run demo -- --keep` received, per recipient, read from the demo's loopback endpoint. Links in a message open
 * here as they would from a phone; a real deployment has no such endpoint and the panel is not shown.
 */
import { useEffect, useState } from "preact/hooks";

export interface InboxMessage {
  channel: "email" | "sms" | "app";
  to: string;
  text: string;
  at: number;
  guardian?: string;
}

export interface InboxRecipient {
  to: string;
  channel: InboxMessage["channel"];
  messages: InboxMessage[];
}

export function InboxPanel({ inboxUrl, compact = false }: { inboxUrl: string; compact?: boolean }) {
  const [recipients, setRecipients] = useState<InboxRecipient[]>();
  const [problem, setProblem] = useState<string>();
  const [open, setOpen] = useState<string>();

  useEffect(() => {
    let live = true;
    async function poll() {
      try {
        const res = await fetch(new URL("messages", inboxUrl.endsWith("/") ? inboxUrl : `${inboxUrl}/`), { cache: "no-store" });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { recipients: InboxRecipient[] };
        if (live) {
          setRecipients([...body.recipients].sort(byRecipient));
          setProblem(undefined);
        }
      } catch (e) {
        if (live) setProblem(`The local inbox is not answering (${e instanceof Error ? e.message : String(e)}); is the demo still running?`);
      }
    }
    void poll();
    const timer = setInterval(poll, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [inboxUrl]);

  return (
    <section class={`card inbox${compact ? " compact" : ""}`} data-testid="inbox">
      <h2>Local inbox</h2>
      <p class="hint">What the demo's stand-in mail, SMS and app servers received. On a real network the codes arrive in your own inboxes instead.</p>
      {problem && <p class="error">{problem}</p>}
      {recipients === undefined && !problem && <p class="progress">Reading the inbox…</p>}
      {recipients?.length === 0 && !problem && <p class="hint">Nothing received yet.</p>}
      <ul class="plain">
        {recipients?.map((r) => (
          <li class="recipient" data-testid="inbox-recipient">
            <button type="button" class="link" onClick={() => setOpen(open === r.to ? undefined : r.to)} aria-expanded={open === r.to}>
              {icon(r.channel)} {r.to} <span class="count">({r.messages.length})</span>
            </button>
            {open === r.to && (
              <ul class="messages">
                {[...r.messages].reverse().map((m) => (
                  <li class="message">
                    <time>{new Date(m.at).toLocaleTimeString()}</time>
                    <Linked text={m.text} />
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Recipients in a stable order: e-mail addresses, then phones, then apps, each alphabetically. */
function byRecipient(x: InboxRecipient, y: InboxRecipient): number {
  const rank = { email: 0, sms: 1, app: 2 } as const;
  return rank[x.channel] - rank[y.channel] || x.to.localeCompare(y.to);
}

function icon(channel: string): string {
  return channel === "email" ? "✉" : channel === "sms" ? "☏" : "▣";
}

/** The message's text with its http(s) links clickable (a code link opens its request on this page). */
function Linked({ text }: { text: string }) {
  const parts = text.split(/(https?:\/\/\S+)/g);
  return (
    <pre class="text">
      {parts.map((p, k) => (k % 2 === 1 ? <a href={p} data-testid="inbox-link">{p}</a> : p))}
    </pre>
  );
}
