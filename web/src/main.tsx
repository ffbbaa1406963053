/**
 * The reset page: a small hash router over the screens (one folder each). A code link's fragment (`#cg2.…`) is read
 * here, handed to its request's screen and removed from the address bar and history; being a fragment, it never
 * reached a server.
 */
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Address } from "viem";

import { AuditPage } from "./audit/AuditPage.tsx";
import { CommitteePage } from "./committee/CommitteePage.tsx";
import { Home } from "./home/Home.tsx";
import { InboxPanel } from "./inbox/InboxPanel.tsx";
import { type WebConfig, loadConfig } from "./lib/config.ts";
import { connectWallet, publicClients } from "./lib/chain.ts";
import { type AppContext, linkedCodes } from "./lib/links.ts";
import { inWords, short } from "./lib/words.ts";
import { ProtectPage } from "./protect/ProtectPage.tsx";
import { formatCodeMessage, parseCodeMessage } from "../../sdk/encoding/channelCode.ts";
import { CGError } from "../../sdk/errors.ts";
import { ResetPage } from "./reset/ResetPage.tsx";
import "./styles.css";


type Route =
  | { screen: "home"; linkProblem?: boolean }
  | { screen: "reset"; requestId: bigint }
  | { screen: "inbox" }
  | { screen: "protect" }
  | { screen: "audit"; subject?: string }
  | { screen: "committee"; committeeId: bigint };

function route(): Route {
  const hash = location.hash;
  if (/^#cg2\./i.test(hash)) {
    // A code link: the code leaves the address bar and this history entry at once, whatever follows.
    history.replaceState(null, "", "#/");
    const opened = codeFromLink(hash.slice(1));
    if (opened === undefined) return { screen: "home", linkProblem: true };
    const list = linkedCodes.get(opened.requestId.toString()) ?? [];
    list.push(opened.text);
    linkedCodes.set(opened.requestId.toString(), list);
    history.replaceState(null, "", `#/reset/${opened.requestId}`);
    queueMicrotask(() => window.dispatchEvent(new Event("cg-linked-code")));
    return { screen: "reset", requestId: opened.requestId };
  }
  const reset = /^#\/reset\/([0-9]+)$/.exec(hash);
  if (reset) return { screen: "reset", requestId: BigInt(reset[1]) };
  if (hash === "#/inbox") return { screen: "inbox" };
  if (hash === "#/protect") return { screen: "protect" };
  const audit = /^#\/audit(?:\/(.+))?$/.exec(hash);
  if (audit) return { screen: "audit", subject: audit[1] ? decoded(audit[1]) : undefined };
  const committee = /^#\/committee\/([0-9]+)$/.exec(hash);
  if (committee) return { screen: "committee", committeeId: BigInt(committee[1]) };
  return { screen: "home" };
}

/** A percent-encoded part of the address, as it was if it is malformed. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * The code of a link's fragment, read by the SDK (mail programs may add a character or two after it): its request,
 * and the text the request's screen reads again (so a code that does not read is named there by its slot).
 */
function codeFromLink(fragment: string): { requestId: bigint; text: string } | undefined {
  const text = decoded(fragment);
  try {
    const m = parseCodeMessage(text);
    return { requestId: m.requestId, text: formatCodeMessage(m) };
  } catch (e) {
    const request = e instanceof CGError ? e.details.requestId : undefined;
    return typeof request === "string" ? { requestId: BigInt(request), text } : undefined;
  }
}

function App() {
  const [r, setRoute] = useState<Route>(route);
  const [config, setConfig] = useState<WebConfig>();
  const [failure, setFailure] = useState<string>();
  const [account, setAccount] = useState<Address>();
  const [walletProblem, setWalletProblem] = useState<string>();

  useEffect(() => {
    const onHash = () => setRoute(route());
    window.addEventListener("hashchange", onHash);
    loadConfig().then(setConfig, (e) => setFailure(inWords(e)));
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    window.ethereum?.on?.("accountsChanged", (accounts: string[]) => setAccount((accounts[0] as Address) ?? undefined));
  }, []);

  const clients = useMemo(() => (config ? publicClients(config) : undefined), [config]);

  if (failure) return <main class="page"><p class="error" role="alert">{failure}</p></main>;
  if (!config || !clients) return <main class="page"><p class="progress">Loading the page's configuration…</p></main>;

  const ctx: AppContext = {
    config,
    clients,
    account,
    connect: async () => {
      setWalletProblem(undefined);
      try {
        setAccount(await connectWallet(config));
      } catch (e) {
        setWalletProblem(inWords(e));
      }
    },
  };

  return (
    <>
      <header class="bar">
        <a class="brand" href="#/">Credential Guardians</a>
        <nav>
          <a href="#/">Reset</a>
          <a href="#/protect">Protect</a>
          <a href="#/audit">Audit</a>
          {config.inboxUrl && <a href="#/inbox">Inbox</a>}
        </nav>
        <span class="wallet">
          {account ? (
            <span data-testid="wallet-account" title={account}>{short(account)}</span>
          ) : (
            <button type="button" data-testid="connect" onClick={ctx.connect}>Connect wallet</button>
          )}
        </span>
      </header>
      {walletProblem && <p class="error banner" role="alert">{walletProblem}</p>}
      <div class="layout">
        <main class="page">
          {r.screen === "home" && r.linkProblem && <p class="error" role="alert" data-testid="link-problem">The link you opened holds no guardian's code this page can read. Type the code from the message instead (it looks like cg2.&lt;request&gt;.&lt;slot&gt;.…).</p>}
          {r.screen === "home" && <Home ctx={ctx} />}
          {r.screen === "reset" && <ResetPage key={r.requestId.toString()} ctx={ctx} requestId={r.requestId} />}
          {r.screen === "protect" && <ProtectPage ctx={ctx} />}
          {r.screen === "audit" && <AuditPage ctx={ctx} subject={r.subject} />}
          {r.screen === "committee" && <CommitteePage key={r.committeeId.toString()} ctx={ctx} committeeId={r.committeeId} />}
          {r.screen === "inbox" && (config.inboxUrl ? <InboxPanel inboxUrl={config.inboxUrl} /> : <p>No local inbox is configured.</p>)}
        </main>
        {config.inboxUrl && r.screen !== "inbox" && (
          <aside class="side">
            <InboxPanel inboxUrl={config.inboxUrl} compact />
          </aside>
        )}
      </div>
    </>
  );
}

render(<App />, document.getElementById("app")!);
