import { expect } from "chai";
import { toBytes } from "viem";

import { CGError, generateHpkeKeyPair, hpkePublicKey, open, seal } from "../../../sdk/index.ts";

describe("sdk/crypto/hpke", function () {
  const info = toBytes("CGUARD-V02/test-info");
  const plaintext = toBytes("mailto:alice@example.org");

  it("seals to a key so that only that key with the same info opens it; tampering is refused", async function () {
    const g1 = await generateHpkeKeyPair();
    const g2 = await generateHpkeKeyPair();
    expect(hpkePublicKey(g1.privateKey)).to.deep.equal(g1.publicKey);
    const sealed = await seal(g1.publicKey, info, plaintext);
    expect(sealed.length).to.equal(32 + plaintext.length + 16); // enc ‖ ciphertext ‖ tag
    expect(await open(g1.privateKey, info, sealed, "test")).to.deep.equal(plaintext);
    await expectCode(open(g2.privateKey, info, sealed, "test"), "DECRYPT_FAILED");
    await expectCode(open(g1.privateKey, toBytes("CGUARD-V02/other-info"), sealed, "test"), "DECRYPT_FAILED");
    const tampered = sealed.slice();
    tampered[tampered.length - 1] ^= 1;
    await expectCode(open(g1.privateKey, info, tampered, "test"), "DECRYPT_FAILED");
  });

  it("refuses keys of the wrong size with a message naming the size", async function () {
    await expectCode(seal(new Uint8Array(31), info, plaintext), "INVALID_INPUT");
  });

  it("refuses to seal to a low-order X25519 key (RFC 9180 §7.1.4) with INVALID_INPUT", async function () {
    const p = (1n << 255n) - 19n;
    const littleEndian = (u: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((u >> BigInt(8 * i)) & 0xffn));
    for (const u of [1n, p - 1n, p, p + 1n]) {
      const sealing = seal(littleEndian(u), info, plaintext);
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
