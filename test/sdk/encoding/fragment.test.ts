import { expect } from "chai";

import { CGError, decodeFragment, encodeFragment, fragmentLink, packEntries, unpackEntries } from "../../../sdk/index.ts";

const payload = Uint8Array.from({ length: 96 }, (_, k) => (k * 37) & 0xff);

describe("sdk/encoding/fragment", function () {
  it("round-trips text and link forms", function () {
    const text = encodeFragment({ requestId: 123456789012345678901234567890n, index: 16, payload });
    expect(decodeFragment(text)).to.deep.equal({ requestId: 123456789012345678901234567890n, index: 16, payload });
    const link = fragmentLink("https://reset.example/#old", text);
    expect(link).to.equal(`https://reset.example/#${text}`);
    expect(decodeFragment(link).payload).to.deep.equal(payload);
  });

  it("refuses malformed fragments with a message that says what was expected", function () {
    const good = encodeFragment({ requestId: 7n, index: 3, payload });
    const cases: [string, RegExp][] = [
      ["xx1" + good.slice(3), /expected 4 dot-separated parts|expected prefix cg1/],
      ["cg1.7.3", /expected 4 dot-separated parts/],
      [good.replace("cg1.7.", "cg1.07."), /expected a decimal request id/],
      [good.replace(".3.", ".0."), /expected a guardian index in \[1, 16\]/],
      [good.replace(".3.", ".17."), /expected a guardian index in \[1, 16\]/],
      [good + "=", /base64url without padding/],
      [good.slice(0, -4), /expected a 96-byte payload/],
    ];
    for (const [input, message] of cases) {
      expect(() => decodeFragment(input), input).to.throw(CGError, message);
    }
    expect(() => encodeFragment({ requestId: 1n, index: 1, payload: payload.subarray(1) })).to.throw(CGError, "expected a 96-byte payload, got 95 bytes");
  });
});

describe("sdk/protocol packed entries", function () {
  it("round-trips entries of any size and refuses lengths that do not add up", function () {
    const entries = ["0x", "0x01", ("0x" + "ab".repeat(300)) as `0x${string}`];
    const packed = packEntries(entries as `0x${string}`[]);
    expect(packed.slice(0, 6)).to.equal("0x0000");
    expect(unpackEntries(packed)).to.deep.equal(entries);
    expect(() => unpackEntries(packed.slice(0, -2) as `0x${string}`)).to.throw(CGError, /past the end/);
    expect(() => unpackEntries("0x00")).to.throw(CGError, /cut short/);
  });
});
