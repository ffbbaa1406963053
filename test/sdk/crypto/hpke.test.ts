import { expect } from "chai";
import { toBytes, type Address, type Hex } from "viem";

import {
  CGError,
  computePartial,
  deal,
  decodeFragment,
  encodeFragment,
  generateHpkeKeyPair,
  hpkePublicKey,
  openFragment,
  openShareEnvelope,
  sealFragment,
  sealShareEnvelope,
} from "../../../sdk/index.ts";
import { message } from "../../helpers/fixtures.ts";

const registry: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const coordinator: Address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const accountId: Hex = message(42);

describe("sdk/crypto/hpke", function () {
  it("seals a share envelope that only the member's key and context open", async function () {
    const g1 = await generateHpkeKeyPair();
    const g2 = await generateHpkeKeyPair();
    const d = deal(3, 2);
    const ctx = { chainId: 31337n, shardMapRegistry: registry, accountId, epoch: 1n, index: 1 };
    const env = await sealShareEnvelope(g1.publicKey, ctx, d.shares[0].value, "mailto:alice@example.org");
    const opened = await openShareEnvelope(g1.privateKey, ctx, env);
    expect(opened.share).to.equal(d.shares[0].value);
    expect(opened.channelUri).to.equal("mailto:alice@example.org");

    await expectCode(openShareEnvelope(g2.privateKey, ctx, env), "DECRYPT_FAILED");
    await expectCode(openShareEnvelope(g1.privateKey, { ...ctx, epoch: 2n }, env), "DECRYPT_FAILED");
    await expectCode(openShareEnvelope(g1.privateKey, { ...ctx, index: 2 }, env), "DECRYPT_FAILED");
    const tampered = env.slice();
    tampered[40] ^= 1;
    await expectCode(openShareEnvelope(g1.privateKey, ctx, tampered), "DECRYPT_FAILED");
  });

  it("seals a 48-byte partial into 32 + 64 bytes that round-trips through the cg1 text form", async function () {
    const eph = await generateHpkeKeyPair();
    expect(hpkePublicKey(eph.privateKey)).to.deep.equal(eph.publicKey);
    const d = deal(3, 2);
    const m = toBytes(message(5));
    const partial = computePartial(d.shares[1], m);
    const ctx = { chainId: 31337n, coordinator, requestId: 12n, index: 2 };
    const payload = await sealFragment(eph.publicKey, ctx, partial.sigma);
    expect(payload.length).to.equal(96);

    const text = encodeFragment({ requestId: 12n, index: 2, payload });
    expect(text).to.match(/^cg1\.12\.2\.[A-Za-z0-9_-]{128}$/);
    const parsed = decodeFragment(`Your reset code: ${text}\nIf you did not ask, cancel.`);
    expect(parsed.requestId).to.equal(12n);
    const sigma = await openFragment(eph.privateKey, { ...ctx, index: parsed.index, requestId: parsed.requestId }, parsed.payload);
    expect(sigma.equals(partial.sigma)).to.equal(true);

    // A fragment opened as if it were for another request or another index is refused.
    await expectCode(openFragment(eph.privateKey, { ...ctx, requestId: 13n }, payload), "DECRYPT_FAILED");
    await expectCode(openFragment(eph.privateKey, { ...ctx, index: 3 }, payload), "DECRYPT_FAILED");
  });

  it("refuses keys of the wrong size with a message naming the size", async function () {
    await expectCode(sealFragment(new Uint8Array(31), { chainId: 1n, coordinator, requestId: 1n, index: 1 }, deal(2, 2).commitments[0] as never), "INVALID_INPUT");
  });

  it("refuses to seal to a low-order X25519 key (RFC 9180 §7.1.4) with INVALID_INPUT", async function () {
    const p = (1n << 255n) - 19n;
    const littleEndian = (u: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((u >> BigInt(8 * i)) & 0xffn));
    const d = deal(2, 2);
    const sigma = computePartial(d.shares[0], toBytes(message(1))).sigma;
    for (const u of [1n, p - 1n, p, p + 1n]) {
      const sealing = sealFragment(littleEndian(u), { chainId: 1n, coordinator, requestId: 1n, index: 1 }, sigma);
      await expectCode(sealing, "INVALID_INPUT");
      await sealing.catch((e: Error) => expect(e.message).to.include("low-order point"));
    }
  });
});

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(CGError);
    expect((e as CGError).code).to.equal(code);
    return;
  }
  expect.fail(`expected a CGError ${code}`);
}
