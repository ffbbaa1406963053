/**
 * The agent's monitoring HTTP surface on CG_HTTP_HOST:CG_HTTP_PORT: `GET /healthz` and `GET /metrics` (also HEAD).
 * Anything else is refused without detail and the reason logged: another method (405), another path (404), a
 * request that carries a body (413: these endpoints take none; the body is never read), headers over
 * MONITOR_HEADER_LIMIT bytes or malformed (431/400, answered by node:http), headers not received within
 * MONITOR_HEADERS_TIMEOUT_MS (408).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

import type { Logger } from "pino";

export const MONITOR_HEADER_LIMIT = 8_192;
export const MONITOR_HEADERS_TIMEOUT_MS = 10_000;

export interface MonitorDeps {
  log: Logger;
  /** The /healthz answer: its status code and JSON body. */
  health(): { status: number; body: unknown };
  /** The /metrics answer: content type and text. */
  metrics(): Promise<{ contentType: string; text: string }>;
  headersTimeoutMs?: number;
}

export function createMonitorServer(d: MonitorDeps): Server {
  const headersTimeoutMs = d.headersTimeoutMs ?? MONITOR_HEADERS_TIMEOUT_MS;
  const refuse = (res: ServerResponse, status: number, reason: string) => {
    d.log.warn({ reason, status }, "monitoring request refused");
    res.writeHead(status, { connection: "close", "content-length": "0" }).end();
  };
  const server = createServer({ maxHeaderSize: MONITOR_HEADER_LIMIT, connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs) }, async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const path = req.url === "/healthz" || req.url === "/metrics" ? req.url : undefined;
      if (path === undefined) return refuse(res, 404, "unknown path");
      if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, "method not allowed");
      const length = req.headers["content-length"];
      if ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined) return refuse(res, 413, "a request body");
      if (path === "/healthz") {
        const { status, body } = d.health();
        res.writeHead(status, { "content-type": "application/json" }).end(req.method === "HEAD" ? undefined : JSON.stringify(body));
      } else {
        const { contentType, text } = await d.metrics();
        res.writeHead(200, { "content-type": contentType }).end(req.method === "HEAD" ? undefined : text);
      }
    } catch {
      d.log.warn({ reason: "internal error" }, "monitoring request failed");
      if (!res.headersSent) res.writeHead(500, { "content-length": "0" }).end();
    } finally {
      if (!req.complete) res.once("finish", () => req.socket.destroy());
    }
  });
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = headersTimeoutMs + 5_000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    const code = typeof err.code === "string" ? err.code : "HTTP_PARSE_ERROR";
    d.log.warn({ reason: code }, "monitoring request refused");
    const status = code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  });
  return server;
}
