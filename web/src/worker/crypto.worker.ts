/**
 * The page's worker: checks codes against their postings (c_i·G1 == C_i) and assembles and verifies the token
 * (decrypt, verify each partial against PK_i, combine, check under K: pairings), with the SDK's own functions, so the
 * page never blocks while they run. It reads the chain itself (the request, its postings, the committee epochs).
 */
import { createPublicClient, http } from "viem";

import { assembleReset, checkCodes, readCodes, resetRequest } from "../../../sdk/client/resets.ts";
import { type Deployment, chainFor } from "../../../sdk/client/deployment.ts";

export type WorkerRequest =
  | { id: number; op: "check"; rpcUrl: string; deployment: Deployment; requestId: bigint; codes: string[] }
  | { id: number; op: "assemble"; rpcUrl: string; deployment: Deployment; requestId: bigint; codes: string[]; secret: bigint };

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const scope = self as unknown as { onmessage: (ev: MessageEvent<WorkerRequest>) => void; postMessage(m: WorkerReply): void };

scope.onmessage = async (ev) => {
  const m = ev.data;
  try {
    const chain = chainFor(m.deployment.chainId, m.rpcUrl);
    const c = { public: createPublicClient({ chain, transport: http(m.rpcUrl) }) as never, deployment: m.deployment };
    const request = await resetRequest(c, m.requestId);
    const { codes } = readCodes(m.codes);
    const result = m.op === "check" ? await checkCodes(c, request, codes) : await assembleReset(c, request, m.secret, codes);
    scope.postMessage({ id: m.id, ok: true, result });
  } catch (e) {
    // SDK errors never carry a code or the secret in their message.
    scope.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
