/** Failures as a person reads them: the SDK's messages are already in words; wallets' refusals get theirs. */
import { type CodeMessage, formatCodeMessage, parseCodeMessage } from "../../../sdk/encoding/channelCode.ts";
import { CGError } from "../../../sdk/errors.ts";

export function inWords(e: unknown): string {
  // A refusal in the wallet (EIP-1193 code 4001) may sit under the SDK's and viem's own errors.
  for (let x = e as { code?: unknown; name?: string; cause?: unknown } | undefined, depth = 0; x && depth < 10; x = x.cause as typeof x, depth++) {
    if (x.code === 4001 || x.name === "UserRejectedRequestError") return "You declined the transaction in your wallet; nothing was sent.";
  }
  const any = e as { shortMessage?: string; message?: string };
  const text = any?.shortMessage ?? any?.message ?? String(e);
  return text.split("\n")[0];
}

export type CodeReading = { ok: true; text: string; requestId: bigint; slot: number } | { ok: false; slot?: number; requestId?: bigint; problem: string };

/**
 * Reads one typed, pasted or linked code for request `requestId` with the SDK's reader. Refusals name the slot when
 * the text shows it and never repeat the code itself.
 */
export function readCode(input: string, requestId: bigint): CodeReading {
  let m: CodeMessage;
  try {
    m = parseCodeMessage(input);
  } catch (e) {
    const details = e instanceof CGError ? e.details : {};
    if (typeof details.slot !== "number") {
      const why = e instanceof CGError && e.code === "INVALID_CODE_MESSAGE" && /got/.test(e.message) ? ` (${e.message.replace(/^parse\w+: /, "")})` : "";
      return { ok: false, problem: `this is not a guardian's code${why}: a code looks like cg2.<request>.<slot>.<28 letters and digits>, as the message shows it` };
    }
    const slot = details.slot;
    const forRequest = typeof details.requestId === "string" ? BigInt(details.requestId) : undefined;
    const cause = (e as { cause?: unknown }).cause;
    const why = (cause instanceof Error ? cause.message : "it is not a channel code").replace(/^parse\w+: /, "");
    const of = forRequest !== undefined && forRequest !== requestId ? ` of request ${forRequest}` : "";
    return { ok: false, slot, requestId: forRequest, problem: `the code for slot ${slot}${of} was not read: ${why}. Check it against the message, character by character` };
  }
  if (m.requestId !== requestId) {
    return { ok: false, slot: m.slot, requestId: m.requestId, problem: `the code for slot ${m.slot} belongs to request ${m.requestId}, not to request ${requestId} that this page follows: use the newest message, or open request ${m.requestId}` };
  }
  return { ok: true, text: formatCodeMessage(m), requestId: m.requestId, slot: m.slot };
}

/** The slot of a code the page has already read (0 if it is not one). */
export function slotOf(text: string): number {
  try {
    return parseCodeMessage(text).slot;
  } catch {
    return 0;
  }
}

export function short(a: string): string {
  return `${a.slice(0, 6)}…${a.slice(-4)}`;
}
