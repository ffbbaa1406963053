/** Calls into the page's worker (`worker/crypto.worker.ts`); one worker for the page's lifetime. */
import type { AssembledReset, CodeCheck } from "../../../sdk/client/resets.ts";
import type { WorkerReply, WorkerRequest } from "../worker/crypto.worker.ts";
import type { WebConfig } from "./config.ts";

let worker: Worker | undefined;
let next = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function get(): Worker {
  if (!worker) {
    worker = new Worker(new URL("../worker/crypto.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const w = waiting.get(ev.data.id);
      if (!w) return;
      waiting.delete(ev.data.id);
      if (ev.data.ok) w.resolve(ev.data.result);
      else w.reject(new Error(ev.data.error));
    };
    worker.onerror = (ev) => {
      for (const w of waiting.values()) w.reject(new Error(`the background worker failed: ${ev.message}`));
      waiting.clear();
      worker = undefined;
    };
  }
  return worker;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id" | "rpcUrl" | "deployment"> : never;

function call<T>(config: WebConfig, m: WithoutId<WorkerRequest>): Promise<T> {
  const id = next++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    get().postMessage({ ...m, id, rpcUrl: config.rpcUrl, deployment: config.deployment });
  });
}

export const checkInWorker = (config: WebConfig, requestId: bigint, codes: string[]) => call<CodeCheck[]>(config, { op: "check", requestId, codes });
export const assembleInWorker = (config: WebConfig, requestId: bigint, codes: string[], secret: bigint) => call<AssembledReset>(config, { op: "assemble", requestId, codes, secret });
