/**
 * The reset page in a real browser: headless Chromium from the system (`/usr/bin/chromium`, never downloaded) driven
 * by playwright-core, against a local network with guardian agents as processes. The wallet is an EIP-1193 provider
 * injected into the page and backed by a test key in this process (it signs locally and forwards reads to the node).
 * Screenshots of the main screens go to test-results/screenshots/.
 */
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { type Hex, createPublicClient, createWalletClient, http, numberToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  type Clients,
  assembleReset,
  chainFor,
  completeReset,
  linkAccount,
  proposeCommittee,
  readCodes,
  requestReset,
  resetInfo,
  saltFromText,
} from "../../sdk/client/index.ts";
import { PROJECT_ROOT } from "../../scripts/lib/localNode.ts";
import { type WebPageConfig, type WebServer, buildWeb, serveWeb } from "../../scripts/lib/webServer.ts";
import { type GuardianNetwork, defaultAccountKey, driveAgentRound, passDeadline, startGuardianNetwork, until } from "../helpers/guardianNetwork.ts";
import { type HttpStandIn, Inbox, startInboxEndpoint } from "../helpers/localServices.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(PROJECT_ROOT, "test-results", "screenshots");
const T = 3;

describe("the reset page in a browser", function () {
  this.timeout(240_000);

  let net: GuardianNetwork;
  let web: WebServer;
  let inboxEndpoint: HttpStandIn;
  let browser: Browser;
  let config: WebPageConfig | undefined;
  let clientsFor: (key: Hex) => Clients;
  let accountId: Hex;
  /** alice's request, sent from the first browser profile. */
  let aliceRequest: bigint | undefined;
  const inbox = new Inbox();
  const contexts: BrowserContext[] = [];
  /** The chains each profile's wallet switched to, in order. */
  const wallets = new Map<BrowserContext, number[]>();

  before(async function () {
    mkdirSync(SHOTS, { recursive: true });
    await buildWeb();
    web = await serveWeb({ config: () => config });
    net = await startGuardianNetwork(inbox, { guardians: 5, confirmations: 1, agentEnv: () => ({ CG_RESET_PAGE_URL: web.url }) });
    inboxEndpoint = await startInboxEndpoint(inbox);
    config = { rpcUrl: net.node.url, deployment: net.sys.deployment, inboxUrl: inboxEndpoint.url };
    const chain = chainFor(Number(net.sys.chainId), net.node.url);
    const publicClient = createPublicClient({ chain, transport: http(net.node.url), pollingInterval: 100 });
    clientsFor = (key) => ({ public: publicClient as never, wallet: createWalletClient({ chain, account: privateKeyToAccount(key), transport: http(net.node.url) }) as never, deployment: net.sys.deployment as never });

    // alice's account, linked to a 3-of-5 committee the agents form.
    const alice = clientsFor(defaultAccountKey(2));
    const proposed = await proposeCommittee(alice, { members: net.sys.guardians.map((g) => g.address), threshold: T });
    await driveAgentRound(net.sys, proposed.committeeId, 1n, 5);
    const channels = ["mailto:alice@example.org", "sms:+15550100001", "mailto:alice.work@example.org", "mailto:alice.backup@example.org", "sms:+15550100002"];
    ({ accountId } = await linkAccount(alice, { salt: saltFromText("alice-web"), committeeId: proposed.committeeId, channels, securityPeriod: 3600 }));

    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
  });

  after(async function () {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await inboxEndpoint?.stop();
    await net?.close();
    await web?.stop();
  });

  /**
   * A browser profile whose injected wallet signs with `key` (EIP-1193 over `page.exposeFunction`); `declines` makes it
   * refuse every transaction as a person would (code 4001), `afterSend` runs once a transaction is sent.
   */
  async function walletContext(key: Hex, options: { viewport?: { width: number; height: number }; afterSend?: () => void; declines?: boolean; startsOnChain?: number } = {}): Promise<BrowserContext> {
    const viewport = options.viewport ?? { width: 1100, height: 900 };
    const account = privateKeyToAccount(key);
    const chain = chainFor(Number(net.sys.chainId), net.node.url);
    const known = new Set<number>();
    const signer = createWalletClient({ chain, account, transport: http(net.node.url) });
    const context = await browser.newContext({ viewport });
    let onChain = options.startsOnChain ?? Number(net.sys.chainId);
    const switches: number[] = [];
    wallets.set(context, switches);
    contexts.push(context);
    await context.exposeFunction("__cgWallet", async (method: string, paramsJson: string): Promise<string> => {
      const params = JSON.parse(paramsJson) as any[];
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return JSON.stringify({ result: [account.address] });
        case "eth_chainId":
          return JSON.stringify({ result: numberToHex(onChain) });
        case "wallet_switchEthereumChain": {
          // Like a wallet that knows only its first chain until the page adds the deployment's.
          const wanted = Number(params[0].chainId);
          if (wanted !== onChain && !known.has(wanted)) return JSON.stringify({ error: { code: 4902, message: "Unrecognized chain ID." } });
          switches.push((onChain = wanted));
          return JSON.stringify({ result: null });
        }
        case "wallet_addEthereumChain": {
          const added = params[0];
          if (added.rpcUrls?.[0] !== net.node.url && added.rpcUrls?.[0] !== `${net.node.url}/`) return JSON.stringify({ error: { code: -32602, message: "wrong RPC URL" } });
          known.add(Number(added.chainId));
          switches.push((onChain = Number(added.chainId)));
          return JSON.stringify({ result: null });
        }
        case "eth_sendTransaction": {
          if (options.declines) return JSON.stringify({ error: { code: 4001, message: "User rejected the request." } });
          const tx = params[0];
          const hash = await signer.sendTransaction({ to: tx.to, data: tx.data, value: tx.value ? BigInt(tx.value) : undefined, gas: tx.gas ? BigInt(tx.gas) : undefined });
          options.afterSend?.();
          return JSON.stringify({ result: hash });
        }
        default: {
          const res = await fetch(net.node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
          const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
          return JSON.stringify(body.error ? { error: body.error } : { result: body.result ?? null });
        }
      }
    });
    // As text, not a function: the test runner's transform may add helpers to functions that the page lacks. The exposed
    // function is looked up at each call, since it is bound to the page after init scripts may have run.
    await context.addInitScript({
      content: `window.ethereum = {
        request: async ({ method, params }) => {
          const reply = JSON.parse(await window.__cgWallet(method, JSON.stringify(params ?? [])));
          if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
          return reply.result;
        },
        on: () => {},
      };`,
    });
    return context;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  /** Types a code as a person reads it off a phone: lower case, in groups of four with dashes. */
  function asTyped(code: string): string {
    const [, request, slot, body] = /^cg2\.([0-9]+)\.([0-9]+)\.([0-9A-Z]+)$/.exec(code)!;
    return `cg2.${request}.${slot}.${body.match(/.{1,4}/g)!.join("-").toLowerCase()}`;
  }

  async function typeCode(page: Page, text: string) {
    await page.getByTestId("code-input").pressSequentially(text, { delay: 5 });
    await page.getByTestId("add-code").click();
  }

  /** The delivered code of `slot` for `requestId` (from what the stand-in servers received). */
  async function codeOf(requestId: bigint, slot: number): Promise<string> {
    return until(`the code of slot ${slot} for request ${requestId}`, async () => inbox.codes(requestId).find((c) => c.startsWith(`cg2.${requestId}.${slot}.`)), 60_000);
  }

  const slot = (page: Page, k: number) => page.getByTestId(`slot-${k}`);

  it("walks alice's reset: request from her new wallet, codes typed and one opened from a link, a closed tab reopened, wrong codes named by slot, complete, countdown, finalize; her old key cancels a stranger's reset during its security period", async function () {
    const newKey = defaultAccountKey(16);
    const newAddress = privateKeyToAccount(newKey).address;
    const owner = await walletContext(newKey);
    let page = await owner.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));

    // ── the request, from the page ──
    await page.goto(web.url);
    await page.getByTestId("connect").click();
    await expect(await page.getByTestId("wallet-account").getAttribute("title")).to.equal(newAddress);
    await page.getByTestId("account-input").fill(accountId);
    await page.getByTestId("account-info").waitFor();
    expect(await page.getByTestId("controller-input").inputValue()).to.equal(newAddress);
    await shot(page, "1-request");
    await page.getByTestId("request-reset").click();
    await page.waitForURL(/#\/reset\/[0-9]+$/, { timeout: 30_000 });
    const requestId = BigInt(/#\/reset\/([0-9]+)$/.exec(page.url())![1]);
    aliceRequest = requestId;
    const opened = await resetInfo(clientsFor(newKey), requestId);
    expect(opened.request.newController).to.equal(newAddress);
    expect(opened.request.accountId).to.equal(accountId);

    // ── a stranger (mallory) opens another reset of the account to her own key, with codes she intercepted ──
    const mallory = clientsFor(defaultAccountKey(17));
    const stolen = await requestReset(mallory, { accountId, newController: privateKeyToAccount(defaultAccountKey(17)).address });
    const strangerCodes = await Promise.all([1, 2, 3].map((k) => codeOf(stolen.request.requestId, k)));

    // ── slots fill in as postings land ──
    await until("five postings shown", async () => (await page.locator('[data-posted="yes"]').count()) === 5, 60_000);

    // A code typed as a person would (slot 1), then the tab is closed.
    await typeCode(page, asTyped(await codeOf(requestId, 1)));
    await until("slot 1's code checked", async () => (await slot(page, 1).getAttribute("data-code")) === "ok", 30_000);
    await page.close();

    // Reopened: the secret and the typed code are still there.
    page = await owner.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${web.url}#/reset/${requestId}`);
    await until("slot 1's code restored", async () => (await slot(page, 1).getAttribute("data-code").catch(() => null)) === "ok", 30_000);
    expect(await page.getByTestId("no-secret").count()).to.equal(0);

    // A typo the code's own check catches, named by its slot.
    const slot2 = await codeOf(requestId, 2);
    const typo = slot2.slice(0, -3) + (slot2.at(-3) === "A" ? "B" : "A") + slot2.slice(-2);
    await typeCode(page, typo);
    await page.getByTestId("notes").getByText(/the code for slot 2 was not read/i).waitFor();
    // A well-formed code that is not slot 2's (slot 3's code labelled as slot 2): it fails against slot 2's posting.
    const slot3 = await codeOf(requestId, 3);
    await typeCode(page, slot3.replace(`cg2.${requestId}.3.`, `cg2.${requestId}.2.`));
    await until("slot 2 marked wrong", async () => (await slot(page, 2).getAttribute("data-code")) === "bad", 30_000);
    expect(await slot(page, 2).innerText()).to.match(/code for slot 2 does not match its posting/i);
    // A code for another request (the stranger's), named with both requests.
    await typeCode(page, strangerCodes[0]);
    await page.getByTestId("notes").getByText(new RegExp(`belongs to request ${stolen.request.requestId}, not to request ${requestId}`)).waitFor();
    await shot(page, "2-codes-and-problems");

    // A code opened from a link in alice's e-mail (the code travels in the fragment only).
    const mail = await until("the e-mail of slot 4 with its link", async () => inbox.messages.find((m) => m.channel === "email" && m.text.includes(`#cg2.${requestId}.4.`)), 30_000);
    const link = /(http:\/\/\S+#cg2\.\S+)/.exec(mail.text)![1];
    expect(link.startsWith(web.url)).to.equal(true);
    const fromLink = await owner.newPage();
    fromLink.on("pageerror", (e) => pageErrors.push(e.message));
    await fromLink.goto(link);
    await until("slot 4's linked code checked", async () => (await slot(fromLink, 4).getAttribute("data-code").catch(() => null)) === "ok", 30_000);
    expect(fromLink.url()).to.equal(`${web.url}#/reset/${requestId}`);
    await fromLink.close();
    await page.reload();

    // Slot 5 typed; slots 1, 4 and 5 match: three of three needed.
    await until("the page shows the reloaded codes", async () => (await slot(page, 4).getAttribute("data-code").catch(() => null)) === "ok", 30_000);
    await typeCode(page, asTyped(await codeOf(requestId, 5)));
    await until("slot 5 checked", async () => (await slot(page, 5).getAttribute("data-code")) === "ok", 30_000);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, "3-phone");
    await page.setViewportSize({ width: 1100, height: 900 });

    // ── the stranger completes her reset; alice's current key cancels it from the page in one click ──
    const stolenToken = await assembleReset(mallory, stolen.request, stolen.requesterKey.secret, readCodes(strangerCodes).codes);
    await completeReset(mallory, stolen.request, stolenToken);
    const old = await walletContext(defaultAccountKey(2));
    const alicePage = await old.newPage();
    alicePage.on("pageerror", (e) => pageErrors.push(e.message));
    await alicePage.goto(`${web.url}#/reset/${stolen.request.requestId}`);
    await alicePage.getByTestId("connect").click();
    await alicePage.getByTestId("countdown").waitFor();
    // This browser did not send it, and its controller is told what it means.
    expect(await alicePage.getByTestId("not-yours").innerText()).to.match(/If you did not ask for this reset, cancel it below/);
    expect(await alicePage.getByTestId("no-secret").count()).to.equal(0); // nothing is left to assemble
    await shot(alicePage, "4-cancel");
    await alicePage.getByTestId("cancel").click();
    await until("the stranger's reset cancelled", async () => (await alicePage.getByTestId("status").getAttribute("data-status")) === "cancelled", 30_000);
    expect((await resetInfo(mallory, stolen.request.requestId)).status).to.equal("cancelled");

    // ── alice completes hers: the token is assembled in the worker, completeReset goes from her wallet ──
    await page.getByTestId("connect").click();
    await page.getByTestId("complete").click();
    await page.getByTestId("countdown").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("assembled").innerText()).to.match(/slots 1, 4, 5/);
    const approved = await resetInfo(clientsFor(newKey), requestId);
    expect(approved.status).to.equal("approved");
    await shot(page, "5-countdown");

    // The security period passes on the chain's clock; the page offers the finalization.
    await passDeadline(net.sys, BigInt(approved.executableAt!.getTime() / 1000));
    await page.getByTestId("finalize").click({ timeout: 30_000 });
    await until("finalized", async () => (await page.getByTestId("status").getAttribute("data-status")) === "finalized", 30_000);
    expect(await net.sys.coordinator.controllerOf(accountId)).to.equal(newAddress);
    // Settled: the secret and the codes leave the browser's storage; the record (public ids) stays.
    await page.getByTestId("secret-erased").waitFor({ timeout: 30_000 });
    const stored = await page.evaluate(
      (id) =>
        new Promise<{ secret: boolean; codes: boolean; erased: boolean }[]>((resolve, reject) => {
          const open = indexedDB.open("cg-reset-page");
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction("requests").objectStore("requests").getAll();
            get.onsuccess = () => {
              resolve(get.result.filter((r) => r.requestId === id).map((r) => ({ secret: "secret" in r, codes: "codes" in r, erased: typeof r.erasedAt === "number" })));
              open.result.close();
            };
          };
        }),
      requestId.toString(),
    );
    expect(stored).to.deep.equal([{ secret: false, codes: false, erased: true }]);
    await shot(page, "6-finalized");

    // The inbox panel lists what alice's addresses and phones received: e-mail addresses, then phones, alphabetically.
    const recipients = await page.getByTestId("inbox-recipient").locator("button").allInnerTexts();
    expect(recipients.map((r) => r.replace(/^\S+\s+|\s+\(\d+\)$/g, ""))).to.deep.equal(["alice.backup@example.org", "alice.work@example.org", "alice@example.org", "+15550100001", "+15550100002"]);
    expect(pageErrors).to.deep.equal([]);
  });

  it("bob protects an account from the page (a committee chosen from the list), runs a drill, cancels it in one click, rotates; the audit chain replays to the on-chain head and shows his account's timeline and the committee", async function () {
    const bob = await walletContext(defaultAccountKey(3));
    const page = await bob.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${web.url}#/protect`);
    await page.getByTestId("connect").click();
    const choice = page.getByTestId("committee-choices").locator("li").first();
    await choice.waitFor({ timeout: 30_000 });
    expect(await choice.innerText()).to.match(/Committee 1.*3 of 5.*spread over 1 region and 5 providers.*5(\.0)? ETH staked/s);
    await page.getByTestId("link-name").fill("bob-web");
    await choice.locator("input[type=radio]").check();
    await page.getByTestId("link-channels").fill(["mailto:bob@example.org", "sms:+15550100003", "mailto:bob.work@example.org", "mailto:bob.backup@example.org", "sms:+15550100004"].join("\n"));
    await page.getByTestId("link-hours").fill("1");
    await shot(page, "7-protect");
    await page.getByTestId("link").click();
    const linked = await page.getByTestId("protect-done").innerText({ timeout: 30_000 });
    const bobAccount = /Account (0x[0-9a-f]{64}) is linked to committee 1/.exec(linked)?.[1] as Hex;
    expect(bobAccount, linked).to.not.equal(undefined);
    expect((await net.sys.coordinator.controllerOf(bobAccount)).toLowerCase()).to.equal(privateKeyToAccount(defaultAccountKey(3)).address.toLowerCase());

    // A drill opens on the request's page; back on the account, the open drill is cancelled in one click.
    await page.getByTestId("my-account").getByTestId("drill").click();
    await page.waitForURL(/#\/reset\/[0-9]+$/, { timeout: 30_000 });
    const drillId = BigInt(/#\/reset\/([0-9]+)$/.exec(page.url())![1]);
    await page.getByText(`Drill request #${drillId}`).waitFor();
    await page.goto(`${web.url}#/protect`);
    await page.getByTestId(`cancel-${drillId}`).click({ timeout: 30_000 });
    await page.getByTestId("protect-done").getByText(`Request ${drillId} cancelled.`).waitFor({ timeout: 30_000 });
    expect((await resetInfo(clientsFor(defaultAccountKey(3)), drillId)).status).to.equal("cancelled");

    // A rotation (to the same committee, with new channels) moves the account to its next epoch.
    await page.getByTestId("my-account").getByTestId("rotate-open").click();
    const rotation = page.getByTestId("rotate-form");
    await rotation.locator("input[type=radio]").first().check();
    await rotation.getByTestId("rotate-channels").fill(["mailto:bob@example.net", "sms:+15550100005", "mailto:bob.work@example.net", "mailto:bob.backup@example.net", "sms:+15550100006"].join("\n"));
    await rotation.getByTestId("rotate").click();
    await page.getByTestId("protect-done").getByText(/now uses committee 1 \(account epoch 2\)/).waitFor({ timeout: 30_000 });
    expect((await net.sys.coordinator.account(bobAccount)).epoch).to.equal(2n);

    // The audit: the whole chain replays to the head; bob's account as a timeline; the committee's page.
    await page.goto(`${web.url}#/audit`);
    await page.getByTestId("replay").click();
    const result = page.getByTestId("replay-result");
    await result.waitFor({ timeout: 60_000 });
    expect(await result.getAttribute("data-ok")).to.equal("true");
    expect(await result.innerText()).to.match(/matches the on-chain head/);
    await page.getByTestId("audit-subject").fill(bobAccount);
    await page.getByTestId("audit-show").click();
    const timeline = page.getByTestId("timeline");
    await timeline.waitFor({ timeout: 30_000 });
    const text = await timeline.innerText();
    for (const event of ["Account linked", "Reset requested", "Reset cancelled", "Account rotated"]) expect(text).to.include(event);
    await shot(page, "8-audit");
    await page.goto(`${web.url}#/committee/1`);
    await page.getByTestId("committee-members").locator("li").nth(4).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("committee-status").innerText()).to.match(/^active/);
    expect(await page.getByTestId("committee-history").innerText()).to.match(/Epoch 1: activated/);
    await shot(page, "9-committee");
    expect(pageErrors).to.deep.equal([]);
  });

  it("a wallet on another chain is asked to add and switch to the deployment's; a request declined in the wallet is said so, and nothing is sent", async function () {
    const dave = await walletContext(defaultAccountKey(19), { declines: true, startsOnChain: 1 });
    const page = await dave.newPage();
    await page.goto(web.url);
    await page.getByTestId("connect").click();
    await page.getByTestId("wallet-account").waitFor({ timeout: 30_000 });
    expect(wallets.get(dave)).to.deep.equal([Number(net.sys.chainId)]);
    await page.getByTestId("account-input").fill(accountId);
    await page.getByTestId("account-info").waitFor();
    const requestsBefore = (await net.sys.coordinator.queryFilter(net.sys.coordinator.filters.ResetRequested())).length;
    await page.getByTestId("request-reset").click();
    expect(await page.getByTestId("request-problem").innerText({ timeout: 30_000 })).to.equal("You declined the transaction in your wallet; nothing was sent.");
    expect((await net.sys.coordinator.queryFilter(net.sys.coordinator.filters.ResetRequested())).length).to.equal(requestsBefore);
  });

  it("a tab closed while the wallet sends the request loses nothing; a page opened where the request was not sent says it cannot assemble; an unknown request and unreadable code links are named, and their fragment leaves the address bar", async function () {
    let tab: Page | undefined;
    const carolKey = defaultAccountKey(18);
    const carol = await walletContext(carolKey, { afterSend: () => void tab?.close() });
    tab = await carol.newPage();
    await tab.goto(web.url);
    await tab.getByTestId("connect").click();
    await tab.getByTestId("account-input").fill(accountId);
    await tab.getByTestId("account-info").waitFor();
    const requestsBefore = (await net.sys.coordinator.queryFilter(net.sys.coordinator.filters.ResetRequested())).length;
    await tab.getByTestId("request-reset").click();
    await until("the tab closed by the wallet's send", async () => tab!.isClosed(), 30_000);
    await until("carol's request mined", async () => (await net.sys.coordinator.queryFilter(net.sys.coordinator.filters.ResetRequested())).length > requestsBefore, 30_000);
    // Reopened: the request is found on-chain by its requester key and filed, with its secret.
    const page = await carol.newPage();
    await page.goto(web.url);
    const resumed = page.getByRole("link", { name: /^Request #[0-9]+$/ });
    await resumed.waitFor({ timeout: 30_000 });
    const carolRequest = BigInt(/[0-9]+/.exec(await resumed.innerText())![0]);
    expect((await resetInfo(clientsFor(carolKey), carolRequest)).request.newController).to.equal(privateKeyToAccount(carolKey).address);
    await resumed.click();
    await page.getByTestId("status").waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("no-secret").count()).to.equal(0);
    expect(await page.getByTestId("complete").count()).to.equal(1);

    // Another browser profile cannot assemble carol's request, and says so.
    const elsewhere = await (await walletContext(defaultAccountKey(5))).newPage();
    await elsewhere.goto(`${web.url}#/reset/${carolRequest}`);
    await elsewhere.getByTestId("no-secret").waitFor({ timeout: 30_000 });
    expect(await elsewhere.getByTestId("complete").count()).to.equal(0);

    await page.goto(`${web.url}#/reset/999`);
    await page.getByTestId("load-problem").getByText(/no request 999 on this deployment/).waitFor({ timeout: 30_000 });

    // Code links that do not read as they should: the fragment leaves the address bar all the same.
    await page.goto(`${web.url}#cg2.${carolRequest}.2.ABCD-EFGH`);
    await page.getByTestId("notes").getByText(/the code for slot 2 was not read: expected 28 symbols/i).waitFor({ timeout: 30_000 });
    expect(page.url()).to.equal(`${web.url}#/reset/${carolRequest}`);
    await page.goto(`${web.url}#cg2.not-a-code`);
    await page.getByTestId("link-problem").waitFor({ timeout: 30_000 });
    expect(page.url()).to.equal(`${web.url}#/`);

    if (aliceRequest === undefined) this.skip();
    // A link with a character a mail program added after it: the code is read, and leaves the address bar.
    const mail = inbox.messages.find((m) => m.channel === "email" && m.text.includes(`#cg2.${aliceRequest}.4.`))!;
    await page.goto(`${/(http:\/\/\S+#cg2\.\S+)/.exec(mail.text)![1]}.`);
    await page.getByTestId("status").waitFor({ timeout: 30_000 });
    expect(page.url()).to.equal(`${web.url}#/reset/${aliceRequest}`);
    await page.getByTestId("notes").getByText(/Code for slot 4 opened from a link/).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("status").getAttribute("data-status")).to.equal("finalized");
    expect(await page.getByTestId("complete").count()).to.equal(0);
    expect(await page.getByTestId("no-secret").count()).to.equal(0); // finalized: nothing is left to assemble
  });
});
