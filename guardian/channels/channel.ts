/** The one interface every delivery channel implements, and the routing of a channel URI to its adapter. */
import { CGError } from "../../sdk/errors.ts";
import type { CodeDelivery } from "../core/messages.ts";

export type ChannelKind = "email" | "sms" | "app";

export interface Channel {
  readonly kind: ChannelKind;
  /** Delivers or throws: `CHANNEL_RETRY` (try again later) or `CHANNEL_REJECTED` (will never succeed). */
  deliver(uri: string, delivery: CodeDelivery): Promise<void>;
  close?(): Promise<void>;
}

export function channelKind(uri: string): ChannelKind {
  const scheme = uri.slice(0, uri.indexOf(":")).toLowerCase();
  if (scheme === "mailto") return "email";
  if (scheme === "sms") return "sms";
  if (scheme === "https" || scheme === "http") return "app";
  throw new CGError("CHANNEL_REJECTED", `unsupported channel scheme "${scheme}" (expected mailto:, sms: or https:)`);
}

/** Errors that say whether a retry can help; the message names the channel kind, never the address. */
export function retryable(kind: ChannelKind, what: string, cause?: unknown): CGError {
  return new CGError("CHANNEL_RETRY", `${kind} delivery failed: ${what}`, { cause, details: { channel: kind } });
}

export function rejected(kind: ChannelKind, what: string, cause?: unknown): CGError {
  return new CGError("CHANNEL_REJECTED", `${kind} delivery refused: ${what}`, { cause, details: { channel: kind } });
}
