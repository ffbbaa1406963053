/**
 * Builds the reset page (`web/`, Vite) and serves the build on loopback with its `config.json` (RPC URL, deployment,
 * optional local inbox URL). A small static server: the page needs nothing else from it, and the code in a link's
 * fragment never reaches it.
 */
import { readFile, stat } from "node:fs/promises";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";

import { PROJECT_ROOT } from "./localNode.ts";

export const WEB_ROOT = join(PROJECT_ROOT, "web");
export const WEB_DIST = join(WEB_ROOT, "dist");

export interface WebPageConfig {
  rpcUrl: string;
  deployment: { chainId: number; deploymentBlock: number; contracts: Record<string, string> };
  /** The local inbox endpoint (`GET <url>/messages`); the page reads it through this server at `inbox/`. */
  inboxUrl?: string;
}

/**
 * `vite build` of `web/` into `web/dist` (a production build). Errors only: the one warning it gives is that
 * `@hpke/common` names Node's `crypto` as a fallback, which the browser build leaves out (the page uses WebCrypto).
 */
export async function buildWeb(): Promise<string> {
  const { build } = await import("vite");
  await build({ configFile: join(WEB_ROOT, "vite.config.ts"), logLevel: "error" });
  return WEB_DIST;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * The page's Content-Security-Policy: its own scripts only, and it connects only to itself (config, inbox) and to the
 * configured RPC's origin, so even a script slipped onto the page has nowhere else to send the one-time secret.
 */
export function contentSecurityPolicy(rpcUrl: string | undefined): string {
  let rpc = "";
  try {
    if (rpcUrl) rpc = ` ${new URL(rpcUrl).origin}`;
  } catch {
    // An unparsable RPC URL adds nothing: the page will say it cannot reach it.
  }
  return `default-src 'self'; script-src 'self'; connect-src 'self'${rpc}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

function securityHeaders(rpcUrl: string | undefined): Record<string, string> {
  return { "content-security-policy": contentSecurityPolicy(rpcUrl), "referrer-policy": "no-referrer", "x-content-type-options": "nosniff" };
}

/** 127.0.0.0/8, ::1 and localhost: the names that reach only this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || h === "::ffff:127.0.0.1" || /^(::ffff:)?127(\.[0-9]{1,3}){3}$/.test(h);
}

/** The host name of a Host header (`127.0.0.1:5180`, `[::1]:5180`, `localhost`). */
function hostOf(header: string | undefined): string {
  if (!header) return "";
  const v6 = /^\[([^\]]+)\]/.exec(header);
  return v6 ? v6[1] : header.replace(/:[0-9]*$/, "");
}

export interface WebServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves `dist` on `host:port` (0 picks a free port). `config` is read at each request of `config.json`, so a caller
 * can start the server before the network it points at exists.
 *
 * Bound to loopback (the default), it answers only requests whose Host header names loopback too, so a web page on
 * another site cannot reach it through a DNS name rebound to 127.0.0.1 (DNS rebinding), and redirects another
 * loopback name (localhost for 127.0.0.1) to the one it was given: the browser keeps the page's secret per origin. The local inbox, which holds
 * the demo's codes, is proxied only on a loopback binding and only to a loopback client.
 */
export async function serveWeb(o: { dist?: string; config: () => WebPageConfig | undefined; host?: string; port?: number }): Promise<WebServer> {
  const dist = resolve(o.dist ?? WEB_DIST);
  const host = o.host ?? "127.0.0.1";
  const onLoopback = isLoopback(host);
  const canonical = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  let url = "";
  const server: Server = createServer(async (req, res) => {
    try {
      await serve(req, res);
    } catch {
      // Nothing of the request is echoed: a path may hold anything.
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("the server could not answer this request");
    }
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (onLoopback && !isLoopback(hostOf(req.headers.host))) {
      res.writeHead(421, { "content-type": "text/plain" }).end("this server answers only to 127.0.0.1 or localhost");
      return;
    }
    if (onLoopback && hostOf(req.headers.host).toLowerCase() !== canonical) {
      // One address for the page: the browser keeps the secret per origin, and code links name this one.
      res.writeHead(308, { location: `${url}${(req.url ?? "/").replace(/^\/+/, "")}` }).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return void res.writeHead(400, { "content-type": "text/plain" }).end("malformed path");
    }
    const config = o.config();
    const headers = securityHeaders(config?.rpcUrl);
    if (path === "/config.json") {
      if (!config) return void res.writeHead(503, { "content-type": "text/plain" }).end("no network configured yet");
      // The page reads the inbox through this server (same origin), so the inbox itself needs no CORS.
      const shown = { ...config, inboxUrl: config.inboxUrl && onLoopback ? "./inbox/" : undefined };
      return void res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store", ...headers }).end(JSON.stringify(shown));
    }
    if (path === "/inbox/messages") {
      const upstream = config?.inboxUrl;
      if (!upstream || !onLoopback || !isLoopback(req.socket.remoteAddress ?? "") || !isLoopback(new URL(upstream).hostname)) return void res.writeHead(404).end();
      try {
        const r = await fetch(new URL("messages", upstream.endsWith("/") ? upstream : `${upstream}/`), { signal: AbortSignal.timeout(5000) });
        return void res.writeHead(r.status, { "content-type": "application/json", "cache-control": "no-store" }).end(await r.text());
      } catch {
        return void res.writeHead(502, { "content-type": "text/plain" }).end("the local inbox does not answer");
      }
    }
    const file = normalize(join(dist, path === "/" ? "index.html" : path));
    if (!file.startsWith(dist + sep)) return void res.writeHead(403).end();
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      const immutable = file.includes(`${sep}assets${sep}`);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache", ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  }

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(o.port ?? 0, host, () => ok());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  url = `http://${canonical.includes(":") ? `[${canonical}]` : canonical}:${port}/`;
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** The port `npm run web` listens on by default, and the reset page URL the demo's agents put in their code links. */
export const DEFAULT_WEB_PORT = 5180;
export const DEFAULT_RESET_PAGE_URL = `http://127.0.0.1:${DEFAULT_WEB_PORT}/`;
/** Where `npm run demo -- --keep` describes the network it leaves running (removed when it stops). */
export const DEMO_NETWORK_FILE = join(PROJECT_ROOT, "tmp", "demo-network.json");
