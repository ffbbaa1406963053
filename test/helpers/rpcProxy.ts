/**
 * A faulty JSON-RPC proxy on 127.0.0.1 in front of a local node, for the soak: each HTTP request it receives is, by
 * a seeded draw, dropped (the socket closed without an answer, either before the request is forwarded or after the
 * node has executed it, so the caller cannot tell whether it took effect), delayed, answered with an error (HTTP 503,
 * or a JSON-RPC error object), or forwarded as it is. Faults are injected only while `rates` are set (the soak sets
 * them once the network is up); every fault is counted, and calls whose answer was lost after the node executed them
 * are counted by method.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

export interface FaultRates {
  /** Share of HTTP requests closed without an answer (half before forwarding, half after). */
  drop: number;
  /** Share delayed by a uniform draw in [50, maxDelayMs] ms before forwarding. */
  delay: number;
  /** Share answered with an error without forwarding (half HTTP 503, half JSON-RPC -32603). */
  error: number;
  maxDelayMs: number;
}

export const NO_FAULTS: FaultRates = { drop: 0, delay: 0, error: 0, maxDelayMs: 0 };

export interface ProxyCounts {
  requests: number;
  forwarded: number;
  dropsBeforeForward: number;
  /** Executed by the node, answer lost. */
  dropsAfterForward: number;
  delays: number;
  delayMsTotal: number;
  httpErrors: number;
  rpcErrors: number;
  /** Methods whose answer was lost after the node executed them (e.g. eth_sendRawTransaction). */
  lostAnswersByMethod: Record<string, number>;
}

export interface RpcProxy {
  url: string;
  counts: ProxyCounts;
  /** The rates in force from now on (`NO_FAULTS` to stop injecting). */
  setRates(rates: FaultRates): void;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function methodsOf(body: string): { methods: string[]; ids: unknown[]; batch: boolean } {
  try {
    const parsed = JSON.parse(body);
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    return { methods: calls.map((c) => String(c?.method)), ids: calls.map((c) => c?.id ?? null), batch: Array.isArray(parsed) };
  } catch {
    return { methods: ["(unparsed)"], ids: [null], batch: false };
  }
}

export async function startRpcProxy(target: string, options: { seed: number; rates?: FaultRates }): Promise<RpcProxy> {
  const random = seededRandom(options.seed);
  let rates = options.rates ?? NO_FAULTS;
  const counts: ProxyCounts = { requests: 0, forwarded: 0, dropsBeforeForward: 0, dropsAfterForward: 0, delays: 0, delayMsTotal: 0, httpErrors: 0, rpcErrors: 0, lostAnswersByMethod: {} };

  const forward = async (body: string, headers: IncomingMessage["headers"]) => {
    counts.forwarded++;
    const res = await fetch(target, { method: "POST", headers: { "content-type": String(headers["content-type"] ?? "application/json") }, body });
    return { status: res.status, type: res.headers.get("content-type") ?? "application/json", text: await res.text() };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    counts.requests++;
    // Every draw is made in arrival order, so a seed gives the same sequence of decisions.
    const r = random();
    const half = random() < 0.5;
    const delayMs = 50 + Math.round(random() * Math.max(0, rates.maxDelayMs - 50));
    const { methods, ids, batch } = methodsOf(body);
    if (r < rates.drop) {
      if (half) {
        counts.dropsBeforeForward++;
        req.socket.destroy();
        return;
      }
      await forward(body, req.headers).catch(() => undefined);
      counts.dropsAfterForward++;
      for (const m of methods) counts.lostAnswersByMethod[m] = (counts.lostAnswersByMethod[m] ?? 0) + 1;
      req.socket.destroy();
      return;
    }
    if (r < rates.drop + rates.error) {
      if (half) {
        counts.httpErrors++;
        res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable (injected)");
        return;
      }
      counts.rpcErrors++;
      const errors = ids.map((id) => ({ jsonrpc: "2.0", id, error: { code: -32603, message: "internal error (injected)" } }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(batch ? errors : errors[0]));
      return;
    }
    if (r < rates.drop + rates.error + rates.delay) {
      counts.delays++;
      counts.delayMsTotal += delayMs;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    const answer = await forward(body, req.headers);
    res.writeHead(answer.status, { "content-type": answer.type }).end(answer.text);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // The node itself is unreachable (stopping): the caller sees a closed socket.
      req.socket.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setRates: (next) => void (rates = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
