/**
 * Which hosts the app channel may post to. An account's app URI is chosen by whoever linked the account, so without
 * a check a guardian would post into its own network (its loopback, the cloud metadata address, private ranges).
 * Pure: the channel resolves the name and asks `addressCategory` about every address it would connect to.
 */
import { isIP } from "node:net";

export type AddressCategory = "public" | "loopback" | "private" | "link-local" | "unspecified" | "multicast" | "reserved";

function v4Bytes(address: string): number[] {
  return address.split(".").map(Number);
}

function v4Category(address: string): AddressCategory {
  const [a, b] = v4Bytes(address);
  if (a === 127) return "loopback";
  if (a === 0) return "unspecified";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "private"; // carrier-grade NAT (RFC 6598)
  if (a === 169 && b === 254) return "link-local"; // includes 169.254.169.254, the cloud metadata service
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240 || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19))) return "reserved";
  return "public";
}

/** The 8 16-bit groups of an IPv6 address (with an embedded IPv4 tail expanded). */
function v6Groups(address: string): number[] {
  let text = address.split("%")[0].toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = v4Bytes(tail[1]);
    text = text.slice(0, -tail[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split("::");
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  return [...h, ...new Array(8 - h.length - r.length).fill(0), ...r];
}

function v6Category(address: string): AddressCategory {
  const g = v6Groups(address);
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) addresses are judged by their IPv4 address.
  if ((g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) || (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))) {
    return v4Category(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`);
  }
  if ((g[0] & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0] & 0xff00) === 0xff00) return "multicast";
  if (g[0] === 0x2001 && g[1] === 0xdb8) return "reserved";
  return "public";
}

/** The category of an IP address literal; throws on anything that is not one. */
export function addressCategory(address: string): AddressCategory {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare.split("%")[0]);
  if (family === 4) return v4Category(bare);
  if (family === 6) return v6Category(bare);
  throw new TypeError(`not an IP address: ${address}`);
}

/** Whether the app channel may connect to `address`: public ones always, the others only if the operator allows. */
export function mayConnect(address: string, allowPrivate: boolean): boolean {
  return addressCategory(address) === "public" || allowPrivate;
}
