/**
 * What a failure inside a chain-event handler means for that event. Pure: no I/O.
 *
 * A handler fails for one of two kinds of reasons:
 *  - the event's content: it does not decode, a key or point in it is refused, a share does not verify, a contract
 *    call made with its values reverts, or anything else throws while its payload is processed. The same event
 *    fails the same way every time, so it is recorded as ignored and the agent moves on.
 *  - a boundary of the agent: the RPC node is down, slow, rate-limiting or answering nonsense, or the local
 *    database is busy or failing. Nothing is wrong with the event, so it must be handled again: the poll rereads
 *    the block range later.
 * A failure is put down to a boundary only when one of those is in its cause chain; everything else is the
 * content's doing. A handler therefore needs no discipline of its own to be isolated: any chain call it makes
 * fails with viem's transport errors, which are recognized here, and any store call with SQLite's.
 */
import {
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  ExecutionRevertedError,
  HttpRequestError,
  RawContractError,
  RpcError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
  WebSocketRequestError,
} from "viem";

import { CGError } from "../../sdk/errors.ts";

export type HandlerFailure =
  | { retry: true; boundary: "chain" | "store" }
  | { retry: false; /** A short, stable word for metrics and the store (no secrets, low cardinality). */ reason: string };

/** Codes our own boundaries wrap their failures in. */
const BOUNDARY_CODES: Record<string, "chain" | "store"> = { CHAIN_UNAVAILABLE: "chain", STORE_FAILED: "store" };

/** Node.js system error codes of a network that failed under the RPC transport. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The error and its causes, outermost first (bounded, so a cyclic chain cannot hang the agent). */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 16; depth++) {
    out.push(x);
    x = typeof x === "object" && "cause" in x ? (x as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function isRevert(x: unknown): boolean {
  return x instanceof ContractFunctionRevertedError || x instanceof ExecutionRevertedError || x instanceof RawContractError;
}

function boundaryOf(x: unknown): "chain" | "store" | undefined {
  if (x instanceof CGError) return BOUNDARY_CODES[x.code];
  if (
    x instanceof HttpRequestError ||
    x instanceof TimeoutError ||
    x instanceof RpcRequestError ||
    x instanceof RpcError ||
    x instanceof WebSocketRequestError ||
    x instanceof SocketClosedError ||
    // The node answered "0x" for a call to the coordinator: a node that is not synced or not the right chain.
    x instanceof ContractFunctionZeroDataError
  ) {
    return "chain";
  }
  if (x instanceof Error) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return "chain";
    if (code === "ERR_SQLITE_ERROR") return "store";
    // fetch aborted by a timeout signal
    if (x.name === "TimeoutError" || x.name === "AbortError") return "chain";
  }
  return undefined;
}

/** Classifies what a handler threw (see the module comment). */
export function classifyHandlerFailure(e: unknown): HandlerFailure {
  const chain = causes(e);
  // A revert is the chain's deterministic answer to values taken from the event: content, even though it came
  // through the RPC (viem nests the JSON-RPC error under it).
  if (chain.some(isRevert)) return { retry: false, reason: "CONTRACT_REVERTED" };
  for (const x of chain) {
    const boundary = boundaryOf(x);
    if (boundary !== undefined) return { retry: true, boundary };
  }
  if (e instanceof CGError) return { retry: false, reason: e.code };
  return { retry: false, reason: "UNEXPECTED_ERROR" };
}
