/**
 * The texts a guardian sends with a channel code (PROTOCOL.md §6.5): the code message `cg2.<requestId>.<slot>.<code>`
 * and a notice that a reset (or a drill) is under way and how to cancel it. Pure functions: the tests read them back
 * from the local servers.
 */
import type { Address } from "viem";

/** What a channel delivers. `code` is secret until the owner types it: never log it. */
export interface CodeDelivery {
  requestId: bigint;
  slot: number;
  /** The `cg2.<requestId>.<slot>.<code>` text. */
  code: string;
  /** The reset page with the code in the fragment (`<page>#cg2.…`, never sent to the page's server), if configured. */
  link?: string;
  drill: boolean;
  chainId: bigint;
  coordinator: Address;
  guardian: Address;
  /** Stable across retries (one per request, slot and committee epoch), so a receiver can drop a duplicate. */
  idempotencyKey: string;
}

/** One SMS segment in the GSM 03.38 default alphabet (no extension characters, which count double). */
export const SMS_SEGMENT = 160;
const GSM7 = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);

/** True if `text` is GSM-7 without extension characters and fits one 160-character segment. */
export function fitsOneSmsSegment(text: string): boolean {
  return text.length <= SMS_SEGMENT && [...text].every((ch) => GSM7.has(ch));
}

export function emailSubject(d: CodeDelivery): string {
  return d.drill ? `Recovery drill code for request ${d.requestId}` : `Credential reset under way: code for request ${d.requestId}`;
}

export function emailText(d: CodeDelivery): string {
  const what = d.drill
    ? `A recovery drill of your account was requested (request ${d.requestId} on chain ${d.chainId}). It is a drill: your credential will not change.`
    : `A reset of your account's credential is under way (request ${d.requestId} on chain ${d.chainId}).`;
  return [
    what,
    "",
    `Your code from guardian #${d.slot} (${d.guardian}):`,
    "",
    d.code,
    "",
    ...(d.link ? [`Or open it on the reset page: ${d.link}`, ""] : []),
    "Type or paste the code into the wallet that asked; it is useless to anyone else.",
    "",
    d.drill
      ? "If you did not start a drill, someone is testing your guardians: check your wallet."
      : "If you did not ask for a reset, cancel it now from your wallet with your current key: the reset completes only after the security period, and your current key can stop it until then.",
  ].join("\n");
}

/**
 * One SMS segment with its notice: the first of these that fits 160 GSM-7 characters (the code message is at most
 * 114 characters even for a 78-digit request id, so the last always fits).
 */
export function smsText(d: CodeDelivery): string {
  const kind = d.drill ? "Drill (no reset)" : "Reset of your account under way";
  // With a reset page, the link carries the code (readable in it); without one, or if it does not fit, the code alone.
  const linked = d.link
    ? d.drill
      ? [`${kind}, request ${d.requestId}: ${d.link} Not yours? Check your wallet.`, `Drill: ${d.link} Not yours? Check wallet.`]
      : [`${kind}, request ${d.requestId}: ${d.link} Not you? Cancel it in your wallet now.`, `Reset under way: ${d.link} Not you? Cancel in your wallet.`]
    : [];
  const candidates = d.drill
    ? [`${kind}, request ${d.requestId}. Code: ${d.code} Not yours? Check your wallet.`, `Drill code: ${d.code} Not yours? Check wallet.`, `Drill ${d.code}`]
    : [
        `${kind}, request ${d.requestId}. Code: ${d.code} Not you? Cancel it in your wallet now.`,
        `Reset under way. Code: ${d.code} Not you? Cancel in your wallet.`,
        `Reset! ${d.code} Not you? Cancel in wallet`,
      ];
  return [...linked, ...candidates].find(fitsOneSmsSegment) ?? candidates[candidates.length - 1];
}

export function appBody(d: CodeDelivery): string {
  return JSON.stringify({
    type: d.drill ? "cg2-drill-code" : "cg2-reset-code",
    requestId: d.requestId.toString(),
    slot: d.slot,
    chainId: d.chainId.toString(),
    coordinator: d.coordinator,
    guardian: d.guardian,
    code: d.code,
    ...(d.link ? { link: d.link } : {}),
    notice: d.drill ? "A recovery drill is under way; nothing will change." : "A reset of your account is under way. Not you? Cancel it in your wallet now.",
  });
}
