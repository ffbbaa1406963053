import { expect } from "chai";

import { type CodeDelivery, appBody, emailText, fitsOneSmsSegment, smsText } from "../../../guardian/core/messages.ts";
import { addressCategory, mayConnect } from "../../../guardian/core/targets.ts";
import { formatCodeMessage, generateChannelCode, parseCodeMessage } from "../../../sdk/index.ts";

const base: CodeDelivery = {
  requestId: 7n,
  slot: 2,
  code: "",
  drill: false,
  chainId: 1n,
  coordinator: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  guardian: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  idempotencyKey: "k",
};

describe("guardian core: texts, app targets", function () {
  it("an SMS is one GSM-7 segment with its notice for every request id up to 2^256 − 1 and every slot, reset or drill", function () {
    for (const requestId of [1n, 12_345n, 10n ** 12n, (1n << 256n) - 1n]) {
      for (const slot of [1, 9, 32]) {
        for (const drill of [false, true]) {
          const code = formatCodeMessage({ requestId, slot, code: generateChannelCode() });
          const text = smsText({ ...base, requestId, slot, drill, code });
          expect(fitsOneSmsSegment(text), text).to.equal(true);
          expect(text).to.include(code);
          expect(parseCodeMessage(text).requestId).to.equal(requestId);
          expect(text).to.match(drill ? /Drill/ : /Cancel/);
        }
      }
    }
    // The realistic case carries the whole notice.
    const code = formatCodeMessage({ requestId: 123n, slot: 3, code: generateChannelCode() });
    expect(smsText({ ...base, requestId: 123n, slot: 3, code })).to.equal(`Reset of your account under way, request 123. Code: ${code} Not you? Cancel it in your wallet now.`);
    expect(fitsOneSmsSegment("é€")).to.equal(false); // € is an extension character
    expect(fitsOneSmsSegment("x".repeat(161))).to.equal(false);
  });

  it("with a reset page, the SMS carries the code in the page's link (one GSM-7 segment) and falls back to the bare code when the link would not fit", function () {
    for (const requestId of [1n, 12_345n, 10n ** 12n]) {
      for (const drill of [false, true]) {
        const code = formatCodeMessage({ requestId, slot: 7, code: generateChannelCode() });
        const link = `http://127.0.0.1:5180/#${code}`;
        const text = smsText({ ...base, requestId, slot: 7, drill, code, link });
        expect(fitsOneSmsSegment(text), text).to.equal(true);
        expect(text).to.include(link);
        expect(parseCodeMessage(text).requestId).to.equal(requestId);
        expect(text).to.match(drill ? /Drill/ : /Cancel/);
      }
    }
    const code = formatCodeMessage({ requestId: (1n << 256n) - 1n, slot: 32, code: generateChannelCode() });
    const long = smsText({ ...base, requestId: (1n << 256n) - 1n, slot: 32, code, link: `https://reset.guardians.example/a/long/path/to/the/page/#${code}` });
    expect(fitsOneSmsSegment(long), long).to.equal(true);
    expect(long).to.include(code).and.not.include("https://");
    const mail = emailText({ ...base, requestId: 7n, slot: 2, code, link: `https://reset.example/#${code}` });
    expect(mail).to.include(`https://reset.example/#${code}`);
    expect(JSON.parse(appBody({ ...base, code, link: `https://reset.example/#${code}` })).link).to.equal(`https://reset.example/#${code}`);
    expect(JSON.parse(appBody({ ...base, code })).link).to.equal(undefined);
  });

  it("e-mail and app bodies say whether it is a drill and how to cancel", function () {
    const code = formatCodeMessage({ requestId: 7n, slot: 2, code: generateChannelCode() });
    expect(emailText({ ...base, code })).to.include("cancel it now from your wallet").and.to.include(code);
    expect(emailText({ ...base, code, drill: true })).to.include("It is a drill");
    const app = JSON.parse(appBody({ ...base, code, drill: true }));
    expect([app.type, app.code, app.requestId, app.slot]).to.deep.equal(["cg2-drill-code", code, "7", 2]);
  });

  it("classifies addresses: only public ones pass unless private targets are allowed", function () {
    const cases: [string, string][] = [
      ["8.8.8.8", "public"],
      ["127.0.0.1", "loopback"],
      ["10.0.0.1", "private"],
      ["172.16.5.4", "private"],
      ["172.32.0.1", "public"],
      ["192.168.0.10", "private"],
      ["100.64.0.1", "private"],
      ["169.254.169.254", "link-local"],
      ["0.0.0.0", "unspecified"],
      ["224.0.0.1", "multicast"],
      ["::1", "loopback"],
      ["::", "unspecified"],
      ["fe80::1%eth0", "link-local"],
      ["fd00::1", "private"],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:8.8.4.4", "public"],
      ["64:ff9b::a00:1", "private"],
      ["2606:4700::1111", "public"],
      ["[::1]", "loopback"],
    ];
    for (const [address, category] of cases) expect(addressCategory(address), address).to.equal(category);
    expect(mayConnect("10.0.0.1", false)).to.equal(false);
    expect(mayConnect("10.0.0.1", true)).to.equal(true);
    expect(mayConnect("1.1.1.1", false)).to.equal(true);
    expect(() => addressCategory("example.org")).to.throw(/not an IP address/);
  });
});
