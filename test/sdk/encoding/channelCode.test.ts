import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import fc from "fast-check";

import {
  CGError,
  CHANNEL_CODE_LENGTH,
  CHANNEL_CODE_TEXT_LENGTH,
  COMMITTEE_MAX_SIZE,
  CROCKFORD_ALPHABET,
  formatChannelCode,
  formatCodeMessage,
  generateChannelCode,
  parseChannelCode,
  parseCodeMessage,
} from "../../../sdk/index.ts";
import { refusal } from "../../helpers/fixtures.ts";

const codeBytes = fc.uint8Array({ minLength: CHANNEL_CODE_LENGTH, maxLength: CHANNEL_CODE_LENGTH });


/** The same code text with symbol k (0-based, dashes not counted) replaced by `symbol`. */
function withSymbol(text: string, k: number, symbol: string): string {
  const symbols = text.replaceAll("-", "").split("");
  symbols[k] = symbol;
  return symbols.join("");
}

describe("channel code (protocol v2 §6.5)", () => {
  it("generateChannelCode draws 16 bytes, different each time", () => {
    const a = generateChannelCode();
    const b = generateChannelCode();
    expect(a).to.be.instanceOf(Uint8Array).with.length(16);
    expect(Buffer.from(a).equals(Buffer.from(b))).to.equal(false);
  });

  it("formats as 7 groups of 4 Crockford symbols, 34 characters, and parses back to the same bytes", () => {
    fc.assert(
      fc.property(codeBytes, (code) => {
        const text = formatChannelCode(code);
        expect(text).to.have.length(CHANNEL_CODE_TEXT_LENGTH);
        expect(text).to.match(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$/);
        expect(parseChannelCode(text)).to.deep.equal(code);
      }),
      { numRuns: 300 },
    );
  });

  it("lays the bytes out as a big-endian bit stream, zero-padded, then the first 10 bits of SHA-256", () => {
    // 0xFF…FF: 25 symbols of 31 ("Z"), then 3 one-bits and 2 padding zero bits = 0b11100 = 28 ("W").
    const ones = new Uint8Array(16).fill(0xff);
    const h = sha256(ones);
    const check = CROCKFORD_ALPHABET[h[0] >> 3] + CROCKFORD_ALPHABET[((h[0] & 7) << 2) | (h[1] >> 6)];
    expect(formatChannelCode(ones).replaceAll("-", "")).to.equal("Z".repeat(25) + "W" + check);
    // 0x80 00 … 00: the first bit alone is set, so the first symbol is 0b10000 = 16 ("G").
    const first = new Uint8Array(16);
    first[0] = 0x80;
    expect(formatChannelCode(first).slice(0, 4)).to.equal("G000");
    // 0x00 … 00 01: the last bit is bit 2 of symbol 26 (0b00100 = 4).
    const last = new Uint8Array(16);
    last[15] = 1;
    expect(formatChannelCode(last).replaceAll("-", "").slice(0, 26)).to.equal("0".repeat(25) + "4");
  });

  it("accepts any case, I and L for 1, O for 0, no dashes and surrounding spaces", () => {
    fc.assert(
      fc.property(codeBytes, (code) => {
        const text = formatChannelCode(code);
        const sloppy = text.toLowerCase().replaceAll("-", "").replaceAll("1", "l").replaceAll("0", "o");
        expect(parseChannelCode(`  ${sloppy}\n`)).to.deep.equal(code);
        expect(parseChannelCode(text.replaceAll("1", "I").replaceAll("0", "O"))).to.deep.equal(code);
        expect(parseChannelCode(text.replaceAll("-", ""))).to.deep.equal(code);
      }),
      { numRuns: 100 },
    );
  });

  it("refuses a wrong number of symbols, saying how many it expected and got", () => {
    const text = formatChannelCode(generateChannelCode());
    expect(refusal(() => parseChannelCode(text.slice(0, -1))).message).to.match(/expected 28 symbols .*got 27/);
    expect(refusal(() => parseChannelCode(text + "0")).message).to.match(/expected 28 symbols .*got 29/);
    expect(refusal(() => parseChannelCode("")).message).to.match(/got 0/);
  });

  it("refuses U and other characters outside the alphabet, naming the position", () => {
    const text = formatChannelCode(generateChannelCode());
    const e = refusal(() => parseChannelCode(withSymbol(text, 5, "U")));
    expect(e.code).to.equal("INVALID_CHANNEL_CODE");
    expect(e.message).to.match(/symbol 6 of the code, "U", is not in the Crockford base-32 alphabet \(U is not used/);
    expect(refusal(() => parseChannelCode(withSymbol(text, 0, "*"))).message).to.match(/symbol 1 .* not in the Crockford/);
    expect(refusal(() => parseChannelCode(withSymbol(text, 3, " "))).message).to.match(/symbol 4 .* not in the Crockford/);
  });

  it("refuses non-zero padding bits in the last data symbol", () => {
    fc.assert(
      fc.property(codeBytes, fc.integer({ min: 1, max: 3 }), (code, padding) => {
        const text = formatChannelCode(code).replaceAll("-", "");
        const last = CROCKFORD_ALPHABET.indexOf(text[25]);
        const e = refusal(() => parseChannelCode(withSymbol(text, 25, CROCKFORD_ALPHABET[last | padding])));
        expect(e.message).to.match(/padding bits .* are not zero/);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses a wrong check with a message that says a symbol was probably mistyped", () => {
    const text = formatChannelCode(generateChannelCode());
    const c = CROCKFORD_ALPHABET.indexOf(text.at(-1)!);
    const e = refusal(() => parseChannelCode(withSymbol(text, 27, CROCKFORD_ALPHABET[c ^ 1])));
    expect(e.message).to.equal("parseChannelCode: the code's check symbols do not match: a symbol was probably mistyped");
  });

  it("catches every single-symbol typo in the check or the padding, and all but ~2^-10 of those in the data", () => {
    // Every substitution of every position by every other symbol, over 64 codes (64 × 28 × 31 typos).
    // Measured: no substitution in the check symbols or touching a padding bit escapes; a substitution
    // in the data escapes exactly when SHA-256's first 10 bits collide, about 1 in 1024 (a 10-bit check
    // cannot do better). The client's c_i·G1 == C_i test still catches those (§6.6).
    const codes = fc.sample(codeBytes, { numRuns: 64, seed: 20240605 });
    let dataTypos = 0;
    let dataEscapes = 0;
    let otherEscapes = 0;
    for (const code of codes) {
      const text = formatChannelCode(code);
      for (let k = 0; k < 28; k++) {
        for (const symbol of CROCKFORD_ALPHABET) {
          const typo = withSymbol(text, k, symbol);
          if (typo === text.replaceAll("-", "")) continue;
          let escaped = false;
          try {
            parseChannelCode(typo);
            escaped = true;
          } catch (e) {
            expect(e).to.be.instanceOf(CGError);
          }
          if (k < 26 && !(k === 25 && (CROCKFORD_ALPHABET.indexOf(symbol) & 3) !== 0)) {
            dataTypos++;
            if (escaped) dataEscapes++;
          } else if (escaped) otherEscapes++;
        }
      }
    }
    expect(otherEscapes, "escapes in the check symbols or the padding").to.equal(0);
    expect(dataTypos).to.equal(64 * (25 * 31 + 7));
    expect(dataEscapes / dataTypos, `${dataEscapes} of ${dataTypos} data typos escaped`).to.be.below(1 / 512);
  });

  it("refuses a code that is not 16 bytes", () => {
    expect(refusal(() => formatChannelCode(new Uint8Array(15))).message).to.equal(
      "formatChannelCode: expected a 16-byte channel code, got 15 bytes",
    );
  });
});

describe("code message cg2.<requestId>.<slot>.<code> (protocol v2 §6.5)", () => {
  it("round-trips through the bare text, a link fragment and a message body", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.integer({ min: 1, max: COMMITTEE_MAX_SIZE }), codeBytes, (requestId, slot, code) => {
        const text = formatCodeMessage({ requestId, slot, code });
        expect(text).to.equal(`cg2.${requestId}.${slot}.${formatChannelCode(code).replaceAll("-", "")}`);
        const want = { requestId, slot, code };
        expect(parseCodeMessage(text)).to.deep.equal(want);
        expect(parseCodeMessage(`https://guardians.example/reset#${text}`)).to.deep.equal(want);
        expect(parseCodeMessage(`A reset of your account is under way. Code: ${text}. To cancel it, open the app.`)).to.deep.equal(want);
      }),
      { numRuns: 100 },
    );
  });

  it("accepts the dashed code and any case inside the message", () => {
    const code = generateChannelCode();
    const dashed = `cg2.12.3.${formatChannelCode(code).toLowerCase()}`;
    expect(parseCodeMessage(dashed)).to.deep.equal({ requestId: 12n, slot: 3, code });
  });

  it("is at most 40 characters while the request id is below 10,000", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_999n }), fc.integer({ min: 1, max: COMMITTEE_MAX_SIZE }), codeBytes, (requestId, slot, code) => {
        expect(formatCodeMessage({ requestId, slot, code }).length).to.be.at.most(40);
      }),
      { numRuns: 200 },
    );
    expect(formatCodeMessage({ requestId: 9_999n, slot: COMMITTEE_MAX_SIZE, code: new Uint8Array(16) })).to.have.length(40);
  });

  it("names the request and slot when the code inside is mistyped", () => {
    const text = formatCodeMessage({ requestId: 7n, slot: 2, code: generateChannelCode() });
    const e = refusal(() => parseCodeMessage(text.slice(0, -1)));
    expect(e.code).to.equal("INVALID_CHANNEL_CODE");
    expect(e.message).to.match(/^parseCodeMessage: the code of request 7, slot 2: expected 28 symbols/);
    expect(e.cause).to.be.instanceOf(CGError);
  });

  it("refuses text without a message, a slot out of range and bad inputs to format", () => {
    expect(refusal(() => parseCodeMessage("hello")).code).to.equal("INVALID_CODE_MESSAGE");
    const code = formatChannelCode(new Uint8Array(16)).replaceAll("-", "");
    expect(refusal(() => parseCodeMessage(`cg2.1.33.${code}`)).message).to.match(/expected a slot in \[1, 32\], got "33"/);
    expect(refusal(() => parseCodeMessage(`cg2.1.0.${code}`)).message).to.match(/expected a slot/);
    expect(refusal(() => parseCodeMessage(`cg2.01.1.${code}`)).message).to.match(/expected a decimal request id/);
    expect(refusal(() => formatCodeMessage({ requestId: -1n, slot: 1, code: new Uint8Array(16) })).message).to.match(/uint256/);
    expect(refusal(() => formatCodeMessage({ requestId: 1n, slot: 33, code: new Uint8Array(16) })).message).to.match(/slot/);
  });
});
