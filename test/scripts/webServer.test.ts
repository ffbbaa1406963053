/**
 * The reset page's static server (`scripts/lib/webServer.ts`): what it serves, what it refuses, and to whom it shows
 * the local inbox. Requests are written by hand (node:http) so a path reaches the server exactly as an attacker would
 * send it, unnormalized. Every server is bound to loopback and stopped by its test.
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type WebPageConfig, type WebServer, contentSecurityPolicy, isLoopback, serveWeb } from "../../scripts/lib/webServer.ts";
import { type HttpStandIn, Inbox, startInboxEndpoint } from "../helpers/localServices.ts";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET `path` as written (no normalization) from 127.0.0.1:`port`, with `host` as the Host header. */
function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers: { host }, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

describe("the reset page's static server", function () {
  this.timeout(30_000);

  const SECRET = "a file beside the build that must never be served";
  let root: string;
  let dist: string;
  let inboxEndpoint: HttpStandIn;
  const inbox = new Inbox();
  const servers: WebServer[] = [];
  let config: WebPageConfig;

  before(async function () {
    root = mkdtempSync(join(tmpdir(), "cg-web-server-"));
    dist = join(root, "dist");
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>page</title>");
    writeFileSync(join(dist, "assets", "main.js"), "export {};");
    writeFileSync(join(root, "secret.txt"), SECRET);
    inbox.push({ channel: "sms", to: "+15550100001", text: "cg2.1.1.ABCD", key: "m1", at: 1 });
    inboxEndpoint = await startInboxEndpoint(inbox);
    config = { rpcUrl: "http://127.0.0.1:8545/some/path?key=token", deployment: { chainId: 31337, deploymentBlock: 0, contracts: {} }, inboxUrl: inboxEndpoint.url };
  });

  after(async function () {
    for (const s of servers) await s.stop();
    await inboxEndpoint?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(host = "127.0.0.1"): Promise<WebServer> {
    const s = await serveWeb({ dist, config: () => config, host });
    servers.push(s);
    return s;
  }

  it("serves the page with a Content-Security-Policy that lets it connect only to itself and to the RPC's origin", async function () {
    const web = await start();
    const page = await get(web.port, "/");
    expect(page.status).to.equal(200);
    expect(page.body).to.include("<title>page</title>");
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).to.include("connect-src 'self' http://127.0.0.1:8545;");
    expect(csp).to.not.include("token");
    expect(csp).to.match(/script-src 'self';/);
    expect(page.headers["referrer-policy"]).to.equal("no-referrer");
    expect(contentSecurityPolicy("not a url")).to.include("connect-src 'self';");
  });

  it("never serves a file outside the build, however the path is written", async function () {
    const web = await start();
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/%2e%2e%2fsecret.txt", "//../secret.txt"]) {
      const r = await get(web.port, path);
      expect(r.body, path).to.not.include(SECRET);
      expect(r.status, path).to.be.oneOf([400, 403, 404]);
    }
    expect((await get(web.port, "/assets/main.js")).status).to.equal(200);
  });

  it("answers a malformed path with 400 and keeps serving", async function () {
    const web = await start();
    const r = await get(web.port, "/%E0%A4%A");
    expect(r.status).to.equal(400);
    expect(r.body).to.not.include("%E0");
    expect((await get(web.port, "/")).status).to.equal(200);
  });

  it("on loopback, refuses a request whose Host header names another site (a DNS name rebound to 127.0.0.1)", async function () {
    const web = await start();
    const r = await get(web.port, "/config.json", `attacker.example:${web.port}`);
    expect(r.status).to.equal(421);
    expect(r.body).to.not.include("8545");
    expect((await get(web.port, "/inbox/messages", "attacker.example")).status).to.equal(421);
    expect((await get(web.port, "/config.json", `127.0.0.1:${web.port}`)).status).to.equal(200);
  });

  it("on loopback, sends another loopback name to the address it serves (the browser keeps the secret per origin)", async function () {
    const web = await start();
    const r = await get(web.port, "/index.html?x=1", `localhost:${web.port}`);
    expect(r.status).to.equal(308);
    expect(r.headers.location).to.equal(`http://127.0.0.1:${web.port}/index.html?x=1`);
    expect(web.url).to.equal(`http://127.0.0.1:${web.port}/`);
    // Never to another site.
    expect((await get(web.port, "//attacker.example/x", `localhost:${web.port}`)).headers.location).to.equal(`http://127.0.0.1:${web.port}/attacker.example/x`);
  });

  it("proxies the local inbox on loopback, and neither names nor serves it when bound to every interface", async function () {
    const local = await start();
    const shown = JSON.parse((await get(local.port, "/config.json")).body) as WebPageConfig;
    expect(shown.inboxUrl).to.equal("./inbox/");
    const messages = await get(local.port, "/inbox/messages");
    expect(messages.status).to.equal(200);
    expect(messages.body).to.include("+15550100001");

    const open = await start("0.0.0.0");
    const openConfig = JSON.parse((await get(open.port, "/config.json")).body) as WebPageConfig;
    expect(openConfig.inboxUrl).to.equal(undefined);
    const refused = await get(open.port, "/inbox/messages");
    expect(refused.status).to.equal(404);
    expect(refused.body).to.not.include("+15550100001");
  });

  it("knows loopback names from the others", function () {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopback(h), h).to.equal(true);
    for (const h of ["0.0.0.0", "192.168.1.10", "::", "example.org", "127.0.0.1.example.org", "localhost.example.org", ""]) expect(isLoopback(h), h).to.equal(false);
  });
});
