/** Shared fixtures: a dealt committee, messages and tokens made by the TypeScript library (never mocked). */
import { expect } from "chai";
import { toBytes, toHex, type Hex } from "viem";


import {
  CGError,
  type Dealing,
  type G1Point,
  combine,
  computePartial,
  deal,
  g1ToEip2537,
  g2ToEip2537,
} from "../../sdk/index.ts";

export interface TokenFixture {
  dealing: Dealing;
  message: Hex;
  token: G1Point;
  tokenHex: Hex;
  groupKeyHex: Hex;
  commitmentsHex: Hex;
}

/** Deals n = 5, t = 3 (unless told otherwise) and signs `message` with members 1…t. */
export function tokenFixture(message: Hex, n = 5, t = 3): TokenFixture {
  const dealing = deal(n, t);
  const partials = dealing.shares.slice(0, t).map((s) => computePartial(s, toBytes(message)));
  const token = combine(partials, t);
  return {
    dealing,
    message,
    token,
    tokenHex: toHex(g1ToEip2537(token)),
    groupKeyHex: toHex(g2ToEip2537(dealing.groupKey)),
    commitmentsHex: concatHex(dealing.commitments.map((c) => toHex(g2ToEip2537(c)))),
  };
}

export function concatHex(parts: Hex[]): Hex {
  return ("0x" + parts.map((p) => p.slice(2)).join("")) as Hex;
}

/** Deterministic 32-byte messages for loops over many inputs. */
export function message(i: number): Hex {
  return toHex(BigInt(i) * 0x9e3779b97f4a7c15n + 1n, { size: 32 });
}

/** The `CGError` code `fn` throws, or "no error"; any other exception propagates. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CGError) return e.code;
    throw e;
  }
  return "no error";
}

/** The `CGError` `fn` throws; fails the test when it throws nothing or something else. */
export function refusal(fn: () => unknown): CGError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(CGError);
    return e as CGError;
  }
  expect.fail("expected a CGError, got none");
}
