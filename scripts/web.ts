/**
 * `npm run web` — builds the reset page and serves it on loopback.
 *
 *   npm run web                                   against the network `npm run demo -- --keep` left running
 *   npm run web -- --rpc <url> --deployment <file> [--inbox <url>] [--port <n>] [--host <h>] [--no-build]
 *
 * Each flag has an environment variable: CG_RPC_URL, CG_DEPLOYMENT, CG_INBOX_URL, CG_WEB_PORT, CG_WEB_HOST.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { DEFAULT_WEB_PORT, DEMO_NETWORK_FILE, type WebPageConfig, WEB_DIST, buildWeb, serveWeb } from "./lib/webServer.ts";

const { values } = parseArgs({
  options: {
    rpc: { type: "string" },
    deployment: { type: "string" },
    inbox: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "no-build": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0].replace(/^\/\*\*?|^ \* ?/gm, "").trim());
  process.exit(0);
}

function fail(message: string): never {
  console.error(`npm run web: ${message}`);
  process.exit(2);
}

function networkConfig(): () => WebPageConfig | undefined {
  const rpcUrl = values.rpc ?? process.env.CG_RPC_URL;
  const deploymentFile = values.deployment ?? process.env.CG_DEPLOYMENT;
  const inboxUrl = values.inbox ?? process.env.CG_INBOX_URL;
  if (rpcUrl || deploymentFile) {
    if (!rpcUrl || !deploymentFile) fail("give both --rpc (CG_RPC_URL) and --deployment (CG_DEPLOYMENT), or neither to use the demo's network");
    if (!existsSync(deploymentFile)) fail(`no deployment file at ${deploymentFile}`);
    const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
    return () => ({ rpcUrl, deployment, inboxUrl });
  }
  // The demo's network: read at each request, so a demo restarted later is picked up.
  if (!existsSync(DEMO_NETWORK_FILE)) console.warn(`No network given and ${DEMO_NETWORK_FILE} does not exist yet: start \`npm run demo -- --keep\` (the page will find it), or pass --rpc and --deployment.`);
  return () => {
    if (!existsSync(DEMO_NETWORK_FILE)) return undefined;
    const demo = JSON.parse(readFileSync(DEMO_NETWORK_FILE, "utf8")) as WebPageConfig;
    return { rpcUrl: demo.rpcUrl, deployment: demo.deployment, inboxUrl: inboxUrl ?? demo.inboxUrl };
  };
}

const config = networkConfig();
const port = Number(values.port ?? process.env.CG_WEB_PORT ?? DEFAULT_WEB_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected a port number, got ${values.port ?? process.env.CG_WEB_PORT}`);
if (!values["no-build"]) await buildWeb();
else if (!existsSync(WEB_DIST)) fail(`--no-build: there is no build in ${WEB_DIST}`);
const server = await serveWeb({ config, port, host: values.host ?? process.env.CG_WEB_HOST ?? "127.0.0.1" });
console.log(`The reset page is at ${server.url} (Ctrl-C to stop).`);
process.once("SIGINT", () => server.stop().then(() => process.exit(0)));
process.once("SIGTERM", () => server.stop().then(() => process.exit(0)));
