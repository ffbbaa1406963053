/** The texts a guardian sends. Pure functions: the tests read them back from the local servers. */
import type { Delivery } from "../channels/channel.ts";

export function emailSubject(d: Delivery): string {
  return `Credential reset code for request ${d.requestId}`;
}

export function emailText(d: Delivery): string {
  return [
    `A reset of your account's credential was requested (request ${d.requestId} on chain ${d.chainId}).`,
    "",
    `Your code from guardian #${d.index} (${d.guardian}):`,
    "",
    d.fragment,
    "",
    `Or open: ${d.link}`,
    "",
    "Paste the code into your wallet's reset screen; it can only be opened by the device that asked for the reset.",
    "",
    "If you did not ask for a reset, cancel it now from your wallet with your current key: the reset completes",
    "only after the security period, and your current key can stop it until then.",
  ].join("\n");
}

/** One SMS where possible: the fragment is 137+ characters, so the note is kept to what fits in 160. */
export function smsText(d: Delivery): string {
  const full = `CG reset ${d.requestId}: ${d.fragment} Not you? Cancel in your wallet.`;
  if (full.length <= 160) return full;
  const short = `CG reset ${d.requestId}: ${d.fragment}`;
  return short.length <= 160 ? short : d.fragment;
}

export function appBody(d: Delivery): string {
  return JSON.stringify({
    type: "cg1-fragment",
    requestId: d.requestId.toString(),
    index: d.index,
    chainId: d.chainId.toString(),
    coordinator: d.coordinator,
    guardian: d.guardian,
    fragment: d.fragment,
    link: d.link,
  });
}
