import { expect } from "chai";
import { AbiCoder, keccak256 as ethersKeccak } from "ethers";
import fc from "fast-check";
import { type Address, getAddress, hexToBytes, toHex } from "viem";

import {
  type HpkeKeyPair,
  assemble,
  assertChannelSpread,
  canonicalChannel,
  channelIdentity,
  computeAccountId,
  computePartial,
  deal,
  envelopeInfo,
  g2ToEip2537,
  generateHpkeKeyPair,
  openChannel,
  openEnvelope,
  packEntries,
  parseChannel,
  prepareLink,
  seal,
  unpackEntries,
} from "../../../sdk/index.ts";
import { errorCode, message } from "../../helpers/fixtures.ts";

const chainId = 31337n;
const coordinator: Address = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const alice: Address = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");

/** Awaits `p` and returns the CGError it rejects with. */
async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  expect.fail("expected a rejection, got none");
}

function refusalOf(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  expect.fail("expected a CGError, got none");
}

describe("accounts: the account id (protocol v2 §5.1)", function () {
  it("is keccak256(abi.encode(chainId, owner, salt)), as an independent encoder computes it", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 10_000 }), (id, seed) => {
        const salt = message(seed);
        const want = ethersKeccak(AbiCoder.defaultAbiCoder().encode(["uint256", "address", "bytes32"], [id, alice, salt]));
        expect(computeAccountId(id, alice, salt)).to.equal(want);
      }),
      { numRuns: 20 },
    );
    expect(errorCode(() => computeAccountId(chainId, alice, "0x01"))).to.equal("INVALID_INPUT");
    expect(errorCode(() => computeAccountId(chainId, "0x1234" as Address, message(1)))).to.equal("INVALID_INPUT");
  });
});

describe("accounts: channel URIs in canonical form (protocol v2 §5.2)", function () {
  const same: [string, string, string][] = [
    ["MAILTO:alice@Example.ORG", "mailto:alice@example.org", "scheme and e-mail domain lowercased"],
    ["  mailto:alice@example.org  ", "mailto:alice@example.org", "surrounding spaces"],
    ["mailto:alice%40example.org", "mailto:alice@example.org", "a %-escaped @"],
    ["mailto:alice@example.org.", "mailto:alice@example.org", "a trailing dot of the domain"],
    ["mailto:alice@BÜCHER.example", "mailto:alice@xn--bcher-kva.example", "an internationalized domain in punycode"],
    ["sms:+1 (555) 123-4567", "sms:+15551234567", "visual separators of a phone number"],
    ["SMS:+44.20.7946.0958", "sms:+442079460958", "scheme lowercased, dots dropped"],
    ["https://App.Example/cg/hook?x=1", "https://app.example", "an app endpoint by its origin"],
    ["HTTPS://app.example:443/other", "https://app.example", "the default port dropped"],
  ];
  for (const [input, canonical, why] of same) {
    it(`${JSON.stringify(input)} → ${canonical} (${why})`, function () {
      expect(canonicalChannel(input)).to.equal(canonical);
    });
  }

  it("keeps what tells channels apart: the e-mail local part's case, ports, hosts", function () {
    expect(canonicalChannel("mailto:Alice@example.org")).to.not.equal(canonicalChannel("mailto:alice@example.org"));
    expect(canonicalChannel("https://app.example:8443/x")).to.equal("https://app.example:8443");
    expect(canonicalChannel("http://127.0.0.1:8080/app")).to.equal("http://127.0.0.1:8080");
    expect(canonicalChannel("https://a.app.example/")).to.not.equal(canonicalChannel("https://app.example/"));
  });

  it("seals an app endpoint with its path, and e-mail and phone in their canonical form", function () {
    expect(parseChannel("https://App.Example/cg/Hook").uri).to.equal("https://app.example/cg/Hook");
    expect(parseChannel("sms:+1 555 123 4567").uri).to.equal("sms:+15551234567");
    expect(parseChannel("mailto:bob@EXAMPLE.org").kind).to.equal("mailto");
  });

  const refused: [string, RegExp][] = [
    ["tel:+15551234567", /scheme mailto:, sms: or https:, got "tel:"/],
    ["http://app.example/cg", /must be https: \(plain http: only on a loopback host/],
    ["alice@example.org", /with a scheme/],
    ["sms:5551234567", /E\.164/],
    ["sms:+0123456", /E\.164/],
    ["sms:+1234567890123456", /E\.164/],
    ["sms:+15551234567?body=hi", /one number/],
    ["mailto:alice@example.org,bob@example.org", /one address/],
    ["mailto:alice@example.org?subject=x", /one address/],
    ["mailto:example.org", /local part/],
    ["mailto:alice@", /local part/],
    ["https://user:pw@app.example/", /credentials/],
    ["https://app.example/#frag", /fragment/],
  ];
  for (const [input, why] of refused) {
    it(`refuses ${JSON.stringify(input)}, saying why without quoting it`, function () {
      const e = refusalOf(() => canonicalChannel(input));
      expect(e.code).to.equal("INVALID_CHANNEL");
      expect(e.message).to.match(why);
      expect(e.message).to.not.contain(input.slice(input.indexOf(":") + 1, input.indexOf(":") + 8));
    });
  }
});

describe("accounts: the spread rule (protocol v2 §5.2)", function () {
  it("refuses a map where one channel holds t or more slots, naming the channel and the slots", function () {
    const e = refusalOf(() =>
      assertChannelSpread(["mailto:alice@example.org", "sms:+15551234567", "MAILTO:alice@EXAMPLE.org", "https://app.example/a", "mailto:alice@example.org."], 3),
    );
    expect(e.code).to.equal("CHANNEL_CONCENTRATION");
    expect(e.message).to.equal(
      "assertChannelSpread: slots 1, 3 and 5 all deliver to mailto:alice@example.org: with threshold 3, whoever controls that channel would receive 3 codes and could reset the account alone; give it at most 2 slots",
    );
    expect(e.details).to.deep.equal({ slots: [1, 3, 5], threshold: 3 });
  });

  it("compares in canonical form: two spellings of one phone, or two paths of one app, are one channel", function () {
    const phone = refusalOf(() => assertChannelSpread(["sms:+1 555 123 4567", "sms:+15551234567", "mailto:a@example.org"], 2));
    expect(phone.message).to.match(/^assertChannelSpread: slots 1 and 2 all deliver to sms:\+15551234567/);
    const app = refusalOf(() => assertChannelSpread(["https://app.example/alice", "https://APP.example/bob", "sms:+15551234567"], 2));
    expect(app.message).to.match(/slots 1 and 2 all deliver to https:\/\/app\.example:/);
  });

  it("accepts any map where every channel holds at most t − 1 slots", function () {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 9 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: Math.floor(n / 2) + 1, max: n }))), ([n, t]) => {
        // Slot j delivers to one of ⌈n / (t − 1)⌉ channels, each used t − 1 times at most.
        const uris = Array.from({ length: n }, (_, k) => `mailto:owner${Math.floor(k / (t - 1))}@example.org`);
        expect(() => assertChannelSpread(uris, t)).to.not.throw();
        // One more slot on channel 0 crosses the line.
        const crowded = uris.map((u, k) => (k === t - 1 ? "MAILTO:owner0@EXAMPLE.ORG" : u));
        expect(errorCode(() => assertChannelSpread(crowded, t))).to.equal("CHANNEL_CONCENTRATION");
      }),
      { numRuns: 20 },
    );
  });

  it("names the slot whose URI does not parse, and refuses a threshold outside [2, n]", function () {
    const e = refusalOf(() => assertChannelSpread(["mailto:a@example.org", "fax:123"], 2));
    expect(e.code).to.equal("INVALID_CHANNEL");
    expect(e.message).to.match(/^assertChannelSpread: slot 2: expected a channel URI of scheme/);
    expect(refusalOf(() => assertChannelSpread(["mailto:a@example.org", "mailto:b@example.org"], 1)).message).to.equal(
      "assertChannelSpread: expected a threshold t in [2, n = 2], got 1",
    );
    expect(errorCode(() => assertChannelSpread(["mailto:a@example.org", "mailto:b@example.org"], 3))).to.equal("INVALID_INPUT");
  });
});

describe("accounts: packed entries", function () {
  it("pack then unpack gives the entries back, each behind its 2-byte big-endian length", function () {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (entries) => {
        const packed = packEntries(entries);
        expect(unpackEntries(packed, entries.length)).to.deep.equal(entries.map((e) => toHex(e)));
        expect((packed.length - 2) / 2).to.equal(entries.reduce((s, e) => s + 2 + e.length, 0));
      }),
      { numRuns: 30 },
    );
    expect(packEntries([new Uint8Array([0xaa, 0xbb])])).to.equal("0x0002aabb");
  });

  it("refuses lengths that do not add up and a wrong number of entries", function () {
    expect(refusalOf(() => unpackEntries("0x0003aabb")).message).to.equal("unpackEntries: entry 1 claims 3 bytes past the end");
    expect(refusalOf(() => unpackEntries("0x0001aa00")).message).to.equal("unpackEntries: the length of entry 2 is cut short");
    expect(refusalOf(() => unpackEntries("0x0001aa", 2)).message).to.equal("unpackEntries: expected 2 entries, got 1");
    expect(errorCode(() => packEntries([new Uint8Array(0x10000)]))).to.equal("INVALID_INPUT");
  });
});

describe("accounts: the link payload (protocol v2 §5.2, §5.3)", function () {
  const channels = ["mailto:alice@Example.org", "sms:+1 555 000 0001", "https://App.example/alice/cg", "mailto:alice.backup@example.org", "sms:+15550000002"];
  const delivered = ["mailto:alice@example.org", "sms:+15550000001", "https://app.example/alice/cg", "mailto:alice.backup@example.org", "sms:+15550000002"];
  let keys: HpkeKeyPair[];
  before(async function () {
    keys = await Promise.all(channels.map(() => generateHpkeKeyPair()));
  });

  async function linked(accountEpoch = 1n) {
    const committee = deal(5, 3);
    const accountId = computeAccountId(chainId, alice, message(5));
    // Members given out of order: the slot, not the position, decides.
    const members = [4, 2, 0, 3, 1].map((k) => ({ slot: k + 1, encryptionKey: toHex(keys[k].publicKey) }));
    const link = await prepareLink({ chainId, coordinator, accountId, accountEpoch, groupKey: committee.groupKey, members, channels, t: 3 });
    return { committee, accountId, link };
  }

  it("member j opens its envelope to its slot's channel, and only its own", async function () {
    const { accountId, link } = await linked();
    const envelopes = unpackEntries(link.envelopes, 5);
    for (let j = 1; j <= 5; j++) {
      const ctx = { chainId, coordinator, accountId, accountEpoch: 1n, slot: j };
      expect(await openEnvelope(keys[j - 1].privateKey, ctx, envelopes[j - 1])).to.equal(delivered[j - 1]);
    }
    const ctx1 = { chainId, coordinator, accountId, accountEpoch: 1n, slot: 1 };
    expect((await rejection(openEnvelope(keys[1].privateKey, ctx1, envelopes[0]))).code, "another member's key").to.equal("DECRYPT_FAILED");
    expect((await rejection(openEnvelope(keys[0].privateKey, { ...ctx1, slot: 2 }, envelopes[0]))).code, "another slot").to.equal("DECRYPT_FAILED");
    expect((await rejection(openEnvelope(keys[0].privateKey, { ...ctx1, accountEpoch: 2n }, envelopes[0]))).code, "another epoch").to.equal("DECRYPT_FAILED");
  });

  it("slot j's table entry opens with t partial signatures on the v2 id_j, from any t members", async function () {
    const { committee, accountId, link } = await linked(2n);
    const sealed = unpackEntries(link.sealedChannels, 5);
    for (let j = 1; j <= 5; j++) {
      const id = hexToBytes(channelIdentity(chainId, coordinator, accountId, 2n, j));
      const signers = [committee.shares[(j + 0) % 5], committee.shares[(j + 2) % 5], committee.shares[(j + 3) % 5]];
      const { token } = assemble(signers.map((s) => computePartial(s, id)), committee.commitments, id);
      expect(openChannel(hexToBytes(sealed[j - 1]), token)).to.equal(delivered[j - 1]);
    }
    // The epoch-1 identity does not open an epoch-2 entry.
    const stale = hexToBytes(channelIdentity(chainId, coordinator, accountId, 1n, 1));
    const { token } = assemble(committee.shares.slice(0, 3).map((s) => computePartial(s, stale)), committee.commitments, stale);
    expect(() => openChannel(hexToBytes(sealed[0]), token)).to.throw(/does not open this slot/);
  });

  it("takes the group key in its EIP-2537 form too", async function () {
    const committee = deal(3, 2);
    const accountId = message(9);
    const members = [0, 1, 2].map((k) => ({ slot: k + 1, encryptionKey: keys[k].publicKey }));
    const link = await prepareLink({
      chainId,
      coordinator,
      accountId,
      accountEpoch: 1n,
      groupKey: toHex(g2ToEip2537(committee.groupKey)),
      members,
      channels: channels.slice(0, 3),
      t: 2,
    });
    expect(unpackEntries(link.sealedChannels)).to.have.length(3);
  });

  it("refuses a concentrated map before sealing anything, and members that do not cover slots 1…n", async function () {
    const committee = deal(3, 2);
    const members = [0, 1, 2].map((k) => ({ slot: k + 1, encryptionKey: keys[k].publicKey }));
    const base = { chainId, coordinator, accountId: message(3), accountEpoch: 1n, groupKey: committee.groupKey, t: 2 };
    const e = await rejection(prepareLink({ ...base, members, channels: ["sms:+15550000001", "mailto:a@example.org", "sms:+1-555-000-0001"] }));
    expect(e.code).to.equal("CHANNEL_CONCENTRATION");
    expect(e.message).to.match(/slots 1 and 3 all deliver to sms:\+15550000001/);
    const twice = [members[0], members[0], members[2]];
    expect((await rejection(prepareLink({ ...base, members: twice, channels: channels.slice(0, 3) }))).message).to.equal(
      "prepareLink: expected members with distinct slots 1…3, got slot 1",
    );
    expect((await rejection(prepareLink({ ...base, members, channels: channels.slice(0, 2) }))).message).to.equal(
      "prepareLink: expected one channel per member, got 3 members and 2 channels",
    );
  });

  it("a guardian refuses an envelope that holds no channel URI, without showing what it holds", async function () {
    const accountId = message(4);
    const ctx = { chainId, coordinator, accountId, accountEpoch: 1n, slot: 1 };
    const bogus = await seal(keys[0].publicKey, envelopeInfo(chainId, coordinator, accountId, 1n, 1), new TextEncoder().encode("ftp://secret-host/x"));
    const e = await rejection(openEnvelope(keys[0].privateKey, ctx, bogus));
    expect(e.code).to.equal("INVALID_ENVELOPE");
    expect(e.message).to.not.contain("secret-host");
  });
});
