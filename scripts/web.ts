/**
 * `npm run web` — builds the reset page (web/) and serves it, by default at http://127.0.0.1:5180/.
 *
 * Usage:
 *   npm run web                                   against the network `npm run demo -- --keep` left running
 *   npm run web -- --rpc <url> --deployment <file> [--inbox <url>] [--port <n>] [--host <h>] [--no-build]
 *
 * Flags (each has an environment variable):
 *   --rpc <url>          CG_RPC_URL      the JSON-RPC endpoint the page reads the chain from (the browser calls it
 *                                        directly, so it must be reachable from the browser). Give it with --deployment.
 *   --deployment <file>  CG_DEPLOYMENT   the deployment file (chain id, contract addresses, first block) written by
 *                                        scripts/deploy.ts. Give it with --rpc.
 *   --inbox <url>        CG_INBOX_URL    a local inbox endpoint (GET <url>/messages) to show in the page's Inbox panel;
 *                                        the demo's is used by default. Shown only when the page is served on loopback.
 *   --port <n>           CG_WEB_PORT     the port to listen on (default 5180; 0 picks a free one). The demo's agents
 *                                        link to port 5180: set CG_RESET_PAGE_URL for the demo if you change it.
 *   --host <h>           CG_WEB_HOST     the address to listen on (default 127.0.0.1, this machine only). Any other
 *                                        address exposes the page to the network and turns the Inbox panel off.
 *   --no-build                           serve the existing build in web/dist instead of building first.
 *   -h, --help                           this text.
 *
 * Without --rpc and --deployment the page follows tmp/demo-network.json, which `npm run demo -- --keep` writes while
 * it runs: start the demo first, or in any order (the page says when there is no network yet).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

import { createPublicClient, http } from "viem";

import { readDeployment, shownUrl } from "../cli/context.ts";
import { type Deployment, chainFor } from "../sdk/client/deployment.ts";
import { DEFAULT_WEB_PORT, DEMO_NETWORK_FILE, type WebPageConfig, WEB_DIST, buildWeb, isLoopback, serveWeb } from "./lib/webServer.ts";

function fail(message: string): never {
  console.error(`npm run web: ${message}`);
  process.exit(2);
}

let values: { rpc?: string; deployment?: string; inbox?: string; port?: string; host?: string; "no-build": boolean; help: boolean };
try {
  ({ values } = parseArgs({
    options: {
      rpc: { type: "string" },
      deployment: { type: "string" },
      inbox: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "no-build": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (e) {
  fail(`${(e as Error).message.split("\n")[0]} (npm run web -- --help lists the flags)`);
}

if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0].replace(/^\/\*\*?|^ \* ?/gm, "").trim());
  process.exit(0);
}

/** An environment variable, unset when empty. */
function env(name: string): string | undefined {
  return process.env[name] || undefined;
}

/** A path the user gave, from the folder they ran `npm run web` in (npm itself runs in the project root). */
function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

/** Checks that the RPC answers, serves the deployment's chain and holds its contracts; the reason in words if not. */
async function probe(rpcUrl: string, deployment: Deployment, where: string): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(rpcUrl);
    if (!/^https?:$/.test(url.protocol)) throw new Error();
  } catch {
    return `the RPC URL must be http(s), got ${shownUrl(rpcUrl)}`;
  }
  const client = createPublicClient({ chain: chainFor(deployment.chainId, rpcUrl), transport: http(rpcUrl, { retryCount: 0, timeout: 10_000 }) });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (e) {
    return `cannot reach the RPC at ${shownUrl(rpcUrl)} (${innermost(e)}): is the node running, and is the URL right?`;
  }
  if (chainId !== deployment.chainId) return `${where} is a deployment on chain ${deployment.chainId}, but the RPC at ${shownUrl(rpcUrl)} serves chain ${chainId}`;
  const code = await client.getCode({ address: deployment.contracts.ResetCoordinator }).catch(() => undefined);
  if (!code || code === "0x") return `no ResetCoordinator at ${deployment.contracts.ResetCoordinator} on chain ${chainId}: ${where} is for another network, or the node was restarted without its state`;
  return undefined;
}

/** The innermost reason a request failed ("fetch failed" → "connect ECONNREFUSED 127.0.0.1:1"), never a URL's path. */
function innermost(e: unknown): string {
  let reason = (e as { shortMessage?: string })?.shortMessage ?? (e as Error)?.message ?? String(e);
  for (let c = (e as { cause?: unknown })?.cause, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    const m = (c as { message?: string; code?: string }).message;
    if (typeof m === "string" && m) reason = m;
  }
  return reason.split("\n")[0];
}

async function networkConfig(): Promise<() => WebPageConfig | undefined> {
  const rpcUrl = values.rpc ?? env("CG_RPC_URL");
  const given = values.deployment ?? env("CG_DEPLOYMENT");
  const inboxUrl = values.inbox ?? env("CG_INBOX_URL");
  if (inboxUrl !== undefined) {
    try {
      if (!/^https?:$/.test(new URL(inboxUrl).protocol)) throw new Error();
    } catch {
      fail(`--inbox (or CG_INBOX_URL) expects an http URL, got ${shownUrl(inboxUrl)}`);
    }
  }
  if (rpcUrl || given) {
    if (!rpcUrl || !given) fail("give both --rpc (CG_RPC_URL) and --deployment (CG_DEPLOYMENT), or neither to use the network of `npm run demo -- --keep`");
    const deploymentFile = userPath(given);
    let deployment: Deployment;
    try {
      deployment = readDeployment(deploymentFile);
    } catch (e) {
      fail((e as Error).message);
    }
    const problem = await probe(rpcUrl, deployment, deploymentFile);
    if (problem) fail(problem);
    return () => ({ rpcUrl, deployment, inboxUrl });
  }
  // The demo's network: read at each request, so a demo restarted later is picked up.
  if (!existsSync(DEMO_NETWORK_FILE)) {
    console.warn(`No network yet: ${DEMO_NETWORK_FILE} does not exist. Start \`npm run demo -- --keep\` in another terminal (the page finds it when it is up), or pass --rpc and --deployment.`);
  } else {
    const demo = readDemo();
    const problem = demo ? await probe(demo.rpcUrl, demo.deployment as Deployment, DEMO_NETWORK_FILE) : `${DEMO_NETWORK_FILE} is not the description the demo writes`;
    if (problem) console.warn(`The demo's network does not answer (${problem}). Is \`npm run demo -- --keep\` still running? The page will find it once it is.`);
  }
  return () => {
    const demo = readDemo();
    return demo && { rpcUrl: demo.rpcUrl, deployment: demo.deployment, inboxUrl: inboxUrl ?? demo.inboxUrl };
  };
}

/** tmp/demo-network.json as the demo writes it, or undefined while it is missing or half-written. */
function readDemo(): WebPageConfig | undefined {
  try {
    const demo = JSON.parse(readFileSync(DEMO_NETWORK_FILE, "utf8")) as WebPageConfig;
    return typeof demo?.rpcUrl === "string" && demo.deployment ? demo : undefined;
  } catch {
    return undefined;
  }
}

const portText = values.port ?? env("CG_WEB_PORT");
const port = portText === undefined ? DEFAULT_WEB_PORT : /^[0-9]+$/.test(portText) ? Number(portText) : NaN;
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port (or CG_WEB_PORT) expects a port number from 0 to 65535, got ${JSON.stringify(portText)}`);
const host = values.host ?? env("CG_WEB_HOST") ?? "127.0.0.1";
const config = await networkConfig();
if (!isLoopback(host)) console.warn(`Serving on ${host}: other machines can open the page. The Inbox panel is off (it shows only on 127.0.0.1 or localhost).`);

if (values["no-build"] && !existsSync(WEB_DIST)) fail(`--no-build: there is no build in ${WEB_DIST}; run without --no-build once`);
// Listen first: a port in use is said at once, not after the build.
let server: Awaited<ReturnType<typeof serveWeb>>;
try {
  server = await serveWeb({ config, port, host });
} catch (e) {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") fail(`port ${port} on ${host} is already in use (another \`npm run web\`?): stop it, or pass --port <n> (--port 0 picks a free one)`);
  if (code === "EACCES") fail(`not allowed to listen on port ${port}: ports below 1024 need privileges; pass --port <n> with n ≥ 1024`);
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") fail(`cannot listen on ${host}: it is not an address of this machine (--host)`);
  fail(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
}
if (!values["no-build"]) {
  try {
    await buildWeb();
  } catch (e) {
    await server.stop();
    fail(`the page did not build: ${(e as Error).message.split("\n")[0]}`);
  }
}

console.log(`The reset page is at ${server.url} (Ctrl-C to stop).`);
process.once("SIGINT", () => server.stop().then(() => process.exit(0)));
process.once("SIGTERM", () => server.stop().then(() => process.exit(0)));
