import { expect } from "chai";
import { TypedDataEncoder, verifyTypedData } from "ethers";
import fc from "fast-check";
import { type Address, getAddress, hexToBytes, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  type HpkeKeyPair,
  type PeerRequest,
  CGError,
  channelIdentity,
  computeAccountId,
  deal,
  generateHpkeKeyPair,
  peerPartial,
  peerRequestFromJson,
  peerRequestToJson,
  peerRequestTypedData,
  prepareLink,
  publicShare,
  recoverChannel,
  sealPeerReply,
  openPeerReply,
  signPeerRequest,
  unpackEntries,
  verifyPeerRequest,
} from "../../../sdk/index.ts";
import { message } from "../../helpers/fixtures.ts";

const chainId = 31337n;
const coordinator: Address = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
/** g4, the newcomer in slot 4 after a handover (a well-known Hardhat test key). */
const g4 = privateKeyToAccount("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a");

async function rejection(p: Promise<unknown>): Promise<CGError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(CGError);
    return e as CGError;
  }
  expect.fail("expected a rejection, got none");
}

function request(askerKey: Uint8Array, overrides: Partial<PeerRequest> = {}): PeerRequest {
  return {
    chainId,
    coordinator,
    accountId: message(1),
    accountEpoch: 1n,
    slot: 4,
    committeeId: 3n,
    askerKey: toHex(askerKey),
    issuedAt: 1_700_000_000n,
    ...overrides,
  };
}

describe("guardian peer API: the asker's signed request (protocol v2 §4.6)", function () {
  let asker: HpkeKeyPair;
  before(async function () {
    asker = await generateHpkeKeyPair();
  });

  it("is EIP-712 under the peer API domain, as an independent implementation (ethers) hashes and verifies it", async function () {
    const r = request(asker.publicKey);
    const signed = await signPeerRequest(g4, r);
    const td = peerRequestTypedData(r);
    expect(td.domain).to.deep.equal({ name: "Credential Guardians peer API", version: "2", chainId, verifyingContract: coordinator });
    const types = { ChannelRequest: [...td.types.ChannelRequest] };
    expect(verifyTypedData(td.domain, types, td.message, signed.signature)).to.equal(g4.address);
    expect(TypedDataEncoder.from(types).encodeType("ChannelRequest")).to.equal(
      "ChannelRequest(bytes32 accountId,uint256 accountEpoch,uint256 slot,uint256 committeeId,bytes32 askerKey,uint64 issuedAt)",
    );
    expect(await verifyPeerRequest(signed, { now: r.issuedAt + 10n, maxAgeSeconds: 300n })).to.equal(g4.address);
  });

  it("binds every field: changing any one recovers another address", async function () {
    const r = request(asker.publicKey);
    const signed = await signPeerRequest(g4, r);
    const other = await generateHpkeKeyPair();
    const changes: Partial<PeerRequest>[] = [
      { chainId: 1n },
      { coordinator: getAddress("0x00000000000000000000000000000000000000c0") },
      { accountId: message(2) },
      { accountEpoch: 2n },
      { slot: 3 },
      { committeeId: 4n },
      { askerKey: toHex(other.publicKey) },
      { issuedAt: r.issuedAt + 1n },
    ];
    for (const change of changes) {
      const tampered = { ...signed, request: { ...r, ...change } };
      const now = tampered.request.issuedAt;
      expect(await verifyPeerRequest(tampered, { now, maxAgeSeconds: 300n }), Object.keys(change)[0]).to.not.equal(g4.address);
    }
  });

  it("refuses a stale or future request", async function () {
    const r = request(asker.publicKey);
    const signed = await signPeerRequest(g4, r);
    const stale = await rejection(verifyPeerRequest(signed, { now: r.issuedAt + 301n, maxAgeSeconds: 300n }));
    expect([stale.code, stale.message]).to.deep.equal(["PEER_REQUEST_REFUSED", "verifyPeerRequest: the request was issued 301 s ago, more than 300 s"]);
    const future = await rejection(verifyPeerRequest(signed, { now: r.issuedAt - 61n, maxAgeSeconds: 300n }));
    expect(future.message).to.equal("verifyPeerRequest: the request is issued 61 s in the future");
  });

  it("travels as JSON and reads back checked", async function () {
    const signed = await signPeerRequest(g4, request(asker.publicKey));
    const back = peerRequestFromJson(peerRequestToJson(signed));
    expect(back).to.deep.equal(signed);
    const json = JSON.parse(peerRequestToJson(signed));
    json.request.slot = 40;
    expect(() => peerRequestFromJson(JSON.stringify(json))).to.throw(CGError, /slot as an integer in \[1, 32\], got 40/);
    json.request.slot = 4;
    json.request.accountEpoch = "-1";
    expect(() => peerRequestFromJson(JSON.stringify(json))).to.throw(CGError, /accountEpoch as a decimal string/);
    expect(() => peerRequestFromJson("{")).to.throw(CGError, /JSON/);
  });
});

describe("guardian peer API: replies and the newcomer's channel (protocol v2 §4.6)", function () {
  const n = 5;
  const t = 3;
  const channels = ["mailto:alice@example.org", "sms:+15550000001", "https://app.example/alice", "mailto:alice.b@example.org", "sms:+15550000002"];
  let keys: HpkeKeyPair[];
  let committee: ReturnType<typeof deal>;
  let sealed: `0x${string}`[];
  const accountId = computeAccountId(chainId, getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"), message(8));
  const accountEpoch = 2n;

  before(async function () {
    keys = await Promise.all(channels.map(() => generateHpkeKeyPair()));
    committee = deal(n, t);
    const link = await prepareLink({
      chainId,
      coordinator,
      accountId,
      accountEpoch,
      groupKey: committee.groupKey,
      members: keys.map((k, i) => ({ slot: i + 1, encryptionKey: k.publicKey })),
      channels,
      t,
    });
    sealed = unpackEntries(link.sealedChannels, n);
  });

  const publicShares = () => committee.shares.map((s) => publicShare(committee.commitments, s.index));
  const ctx = (slot: number, signer: number) => ({ chainId, coordinator, accountId, accountEpoch, slot, signer });

  /** Member `signer` answers the newcomer of `slot`. */
  async function reply(slot: number, signer: number, asker: HpkeKeyPair) {
    const id = channelIdentity(chainId, coordinator, accountId, accountEpoch, slot);
    const partial = peerPartial(committee.shares[signer - 1], id);
    return { signer, operator: getAddress(toHex(0x100n + BigInt(signer), { size: 20 })), sealed: await sealPeerReply(toHex(asker.publicKey), ctx(slot, signer), partial.sigma) };
  }

  it("any t members' partials combine into σ on id_j that opens slot j's entry", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: n }).chain((slot) =>
          fc.tuple(fc.constant(slot), fc.shuffledSubarray([1, 2, 3, 4, 5].filter((k) => k !== slot), { minLength: t, maxLength: t })),
        ),
        async ([slot, signers]) => {
          const asker = keys[slot - 1];
          const replies = await Promise.all(signers.map((k) => reply(slot, k, asker)));
          const out = await recoverChannel({
            privateKey: asker.privateKey,
            chainId,
            coordinator,
            accountId,
            accountEpoch,
            slot,
            t,
            groupKey: committee.groupKey,
            publicShares: publicShares(),
            replies,
            sealedChannel: sealed[slot - 1],
          });
          expect(out.uri).to.equal(channels[slot - 1]);
          expect(out.problems).to.deep.equal([]);
          expect([...out.signers].sort()).to.deep.equal([...signers].sort());
        },
      ),
      { numRuns: 5 },
    );
  });

  it("a reply opens only with the asker's key and only for its slot and signer", async function () {
    const asker = keys[3];
    const r = await reply(4, 1, asker);
    expect((await openPeerReply(asker.privateKey, ctx(4, 1), r.sealed)).equals(peerPartial(committee.shares[0], channelIdentity(chainId, coordinator, accountId, accountEpoch, 4)).sigma)).to.equal(true);
    expect((await rejection(openPeerReply(keys[0].privateKey, ctx(4, 1), r.sealed))).code, "another key").to.equal("DECRYPT_FAILED");
    expect((await rejection(openPeerReply(asker.privateKey, ctx(3, 1), r.sealed))).code, "another slot").to.equal("DECRYPT_FAILED");
    expect((await rejection(openPeerReply(asker.privateKey, ctx(4, 2), r.sealed))).code, "another signer").to.equal("DECRYPT_FAILED");
  });

  it("a bad partial is named by member and operator and skipped; t − 1 good ones do not open the channel", async function () {
    const asker = keys[3];
    const id = channelIdentity(chainId, coordinator, accountId, accountEpoch, 4);
    const good = await Promise.all([1, 2].map((k) => reply(4, k, asker)));
    // Member 3 signs id_5 instead of id_4; member 5's reply is for another asker.
    const wrongId = peerPartial(committee.shares[2], channelIdentity(chainId, coordinator, accountId, accountEpoch, 5)).sigma;
    const bad = { signer: 3, operator: getAddress(toHex(0x103n, { size: 20 })), sealed: await sealPeerReply(asker.publicKey, ctx(4, 3), wrongId) };
    const misdirected = await reply(4, 5, keys[0]);
    const base = {
      privateKey: asker.privateKey,
      chainId,
      coordinator,
      accountId,
      accountEpoch,
      slot: 4,
      t,
      groupKey: committee.groupKey,
      publicShares: publicShares(),
      sealedChannel: sealed[3],
    };
    const e = await rejection(recoverChannel({ ...base, replies: [...good, bad, misdirected] }));
    expect(e.code).to.equal("NOT_ENOUGH_PEERS");
    expect(e.message).to.match(/^recoverChannel: 2 verified partial signatures on id_4, 3 needed — /);
    expect(e.message).to.contain(`the partial signature of member 3 on id_4 fails the check against its public share (operator ${bad.operator})`);
    expect(e.message).to.contain("the reply of member 5 does not open");
    expect(e.message).to.not.contain("alice");
    const fixed = await recoverChannel({ ...base, replies: [bad, ...good, await reply(4, 5, asker)] });
    expect(fixed.uri).to.equal(channels[3]);
    expect(fixed.problems.map((p) => [p.signer, p.check])).to.deep.equal([[3, "partial"]]);
    // Partials on the right id_4 from members 1, 2 and 5 are what opened it.
    expect(fixed.signers).to.deep.equal([1, 2, 5]);
    expect(hexToBytes(id)).to.have.length(32);
  });
});
