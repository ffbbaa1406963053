import { expect } from "chai";
import { hexToBytes, type Address } from "viem";

import {
  CGError,
  assemble,
  channelIdentity,
  combine,
  computePartial,
  deal,
  openChannel,
  sealChannel,
} from "../../../sdk/index.ts";
import { message } from "../../helpers/fixtures.ts";

const registry: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("sdk/crypto/channelTable", function () {
  it("a slot sealed with the dealer's view opens with t partial signatures on id_j combined", function () {
    const d = deal(5, 3);
    const accountId = message(77);
    const uris = ["mailto:alice@example.org", "sms:+15551234567", "https://app.example/cg/hook", "mailto:a2@example.org", "sms:+15557654321"];
    const sealed = uris.map((uri, j) => sealChannel(d.groupKey, channelIdentity(31337n, registry, accountId, 1n, j + 1), uri));

    for (let j = 0; j < uris.length; j++) {
      const id = hexToBytes(channelIdentity(31337n, registry, accountId, 1n, j + 1));
      // A newcomer gets partials on id_j from any t members (here 2, 4, 5) and combines them.
      const partials = [d.shares[1], d.shares[3], d.shares[4]].map((s) => computePartial(s, id));
      const { token } = assemble(partials, d.commitments, id);
      expect(openChannel(sealed[j], token)).to.equal(uris[j]);
    }
  });

  it("t − 1 partials, a signature on another slot, or a tampered slot do not open it", function () {
    const d = deal(4, 3);
    const accountId = message(78);
    const id1 = channelIdentity(31337n, registry, accountId, 1n, 1);
    const id2 = channelIdentity(31337n, registry, accountId, 1n, 2);
    const sealed = sealChannel(d.groupKey, id1, "mailto:bob@example.org");

    const short = combine(d.shares.slice(0, 2).map((s) => computePartial(s, hexToBytes(id1))), 2);
    expect(() => openChannel(sealed, short)).to.throw(CGError, /does not open this slot/);
    const other = combine(d.shares.slice(0, 3).map((s) => computePartial(s, hexToBytes(id2))), 3);
    expect(() => openChannel(sealed, other)).to.throw(CGError, /does not open this slot/);
    const right = combine(d.shares.slice(0, 3).map((s) => computePartial(s, hexToBytes(id1))), 3);
    const tampered = sealed.slice();
    tampered[tampered.length - 1] ^= 1;
    expect(() => openChannel(tampered, right)).to.throw(CGError, /does not open this slot/);
    expect(openChannel(sealed, right)).to.equal("mailto:bob@example.org");
  });
});
