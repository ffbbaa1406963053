import { expect } from "chai";
import { network } from "hardhat";
import { type Address, toHex } from "viem";

import { deployCredentialGuardians } from "../../scripts/lib/deploy.ts";
import { generateHpkeKeyPair } from "../../sdk/index.ts";
import { expectAuditMatches } from "../helpers/audit.ts";
import { type GuardianFixture, ONE_ETH, attest, deploySystem, registerGuardian, signAttestation, toBytes32 } from "../helpers/system.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const DAY = 24 * 3600;
const ZERO = "0x0000000000000000000000000000000000000000";

async function fixture() {
  return deploySystem(connection, { guardians: 2 });
}

async function fourGuardians() {
  return deploySystem(connection, { guardians: 4 });
}

/** A deployment whose governance (admin) is not the deployer, with one registered guardian g1. */
async function governedFixture() {
  const [deployer, governance, attester, prover, slasher, newTreasury, g1signer] = await ethers.getSigners();
  const { registry, deployment } = await deployCredentialGuardians(ethers, deployer, {
    network: connection.networkName,
    admin: governance.address,
    attesters: [attester.address],
  });
  const g1: GuardianFixture = { name: "g1", signer: g1signer, address: g1signer.address as Address, hpke: await generateHpkeKeyPair() };
  await registerGuardian({ registry, attester, chainId: BigInt(deployment.chainId) }, g1);
  return { registry, deployer, governance, prover, slasher, newTreasury, g1 };
}

/** The audit log still replays to its on-chain head: every registry change above was folded in. */
async function expectAudited(sys: Awaited<ReturnType<typeof fixture>>) {
  expect(await expectAuditMatches(sys)).to.match(/matches the on-chain head/);
}

describe("GuardianRegistry", function () {
  it("registers a guardian with its key, stake and tags, and refuses a second registration or bad input", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const [newcomer] = sys.spare;
    const key = toHex((await generateHpkeKeyPair()).publicKey);
    await expect(sys.registry.connect(newcomer).register(key, "https://n.example", toBytes32("us"), toBytes32("aws"), 1, { value: ONE_ETH }))
      .to.emit(sys.registry, "GuardianRegistered")
      .withArgs(newcomer.address, key, "https://n.example", toBytes32("us"), toBytes32("aws"), 1)
      .and.to.emit(sys.registry, "GuardianStaked")
      .withArgs(newcomer.address, ONE_ETH, ONE_ETH);
    const view = await sys.registry.guardian(newcomer.address);
    expect([view.registered, view.stake, view.eligible]).to.deep.equal([true, ONE_ETH, false]); // not attested yet
    expect([view.region, view.provider]).to.deep.equal([toBytes32("us"), toBytes32("aws")]);
    expect(await sys.registry.guardianTags(newcomer.address)).to.deep.equal([toBytes32("us"), toBytes32("aws")]);
    expect(await sys.registry.guardianTags(sys.carol.address)).to.deep.equal([toBytes32(""), toBytes32("")]);
    // Enumerable in registration order: the fixture's g1 and g2, then the newcomer.
    expect(await sys.registry.guardianCount()).to.equal(3n);
    const listed = await Promise.all([0, 1, 2].map((i) => sys.registry.guardianAt(i)));
    expect(listed).to.deep.equal([sys.guardians[0].address, sys.guardians[1].address, newcomer.address]);
    await expect(sys.registry.guardianAt(3)).to.be.revertedWithCustomError(sys.registry, "GuardianIndexOutOfRange").withArgs(3n, 3n);
    await expect(sys.registry.connect(newcomer).register(key, "", toBytes32(""), toBytes32(""), 1))
      .to.be.revertedWithCustomError(sys.registry, "GuardianAlreadyRegistered");
    await expect(sys.registry.connect(sys.carol).register(toHex(new Uint8Array(32)), "", toBytes32(""), toBytes32(""), 1))
      .to.be.revertedWithCustomError(sys.registry, "GuardianInvalidEncryptionKey");
    await expect(sys.registry.connect(sys.carol).register(key, "", toBytes32(""), toBytes32(""), 8))
      .to.be.revertedWithCustomError(sys.registry, "GuardianInvalidChannelKinds")
      .withArgs(8n);
  });

  it("accepts attestations from attesters only, in nonce order, unexpired and bound to the registered key", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const g: GuardianFixture = sys.guardians[0];
    const { attestation, signature } = await attest(sys, g);
    await expect(sys.registry.attest(attestation, signature))
      .to.be.revertedWithCustomError(sys.registry, "GuardianAttestationBadNonce")
      .withArgs(g.address, attestation.nonce + 1n, attestation.nonce);
    const forged = await attest({ ...sys, attester: sys.bob }, g).catch((e: Error) => e);
    expect(String(forged)).to.match(/GuardianAttestationUnauthorized/);
    const late = { ...attestation, nonce: attestation.nonce + 1n, expiresAt: 1n };
    await expect(sys.registry.attest(late, signature)).to.be.revertedWithCustomError(sys.registry, "GuardianAttestationExpired");
    const otherKey = { ...attestation, nonce: attestation.nonce + 1n, encryptionKey: toBytes32("another key") };
    await expect(sys.registry.attest(otherKey, signature))
      .to.be.revertedWithCustomError(sys.registry, "GuardianAttestationKeyMismatch")
      .withArgs(g.address);
    expect(await sys.registry.isEligible(g.address)).to.equal(true);
    await expect(sys.registry.connect(sys.attester).revokeAttestation(g.address)).to.emit(sys.registry, "GuardianAttestationRevoked");
    expect(await sys.registry.isEligible(g.address)).to.equal(false);
  });

  it("a revocation invalidates every attestation signed before it; one signed after it with the new nonce is accepted", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const g: GuardianFixture = sys.guardians[0];
    const renewal = await signAttestation(sys, g); // signed, not yet submitted
    await expect(sys.registry.connect(sys.attester).revokeAttestation(g.address))
      .to.emit(sys.registry, "GuardianAttestationRevoked")
      .withArgs(g.address, sys.attester.address);
    expect((await sys.registry.guardian(g.address)).attestationNonce).to.equal(renewal.attestation.nonce + 1n);
    await expect(sys.registry.attest(renewal.attestation, renewal.signature))
      .to.be.revertedWithCustomError(sys.registry, "GuardianAttestationBadNonce")
      .withArgs(g.address, renewal.attestation.nonce + 1n, renewal.attestation.nonce);
    expect(await sys.registry.isEligible(g.address)).to.equal(false);
    const fresh = await signAttestation(sys, g);
    expect(fresh.attestation.nonce).to.equal(renewal.attestation.nonce + 1n);
    await expect(sys.registry.attest(fresh.attestation, fresh.signature)).to.emit(sys.registry, "GuardianAttested");
    expect(await sys.registry.isEligible(g.address)).to.equal(true);
    await expectAudited(sys);
  });

  it("releases unbonding stake only after the delay, and only once; a guardian with stake unbonding is not eligible", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const g = sys.guardians[0];
    await sys.registry.connect(g.signer).stake({ value: ONE_ETH });
    await expect(sys.registry.connect(g.signer).startUnbonding(3n * ONE_ETH))
      .to.be.revertedWithCustomError(sys.registry, "GuardianInsufficientStake")
      .withArgs(g.address, 2n * ONE_ETH, 3n * ONE_ETH);
    await sys.registry.connect(g.signer).startUnbonding(ONE_ETH / 2n);
    // Still 1.5 ETH staked (≥ minStake) and attested, but unbonding: it is leaving, so no new committee may name it.
    const view = await sys.registry.guardian(g.address);
    expect([view.stake, view.unbonding, view.eligible]).to.deep.equal([(3n * ONE_ETH) / 2n, ONE_ETH / 2n, false]);
    await expect(sys.registry.requireEligibleCommittee([g.address, sys.guardians[1].address]))
      .to.be.revertedWithCustomError(sys.registry, "GuardianNotEligible")
      .withArgs(g.address);
    await expect(sys.registry.connect(g.signer).withdraw()).to.be.revertedWithCustomError(sys.registry, "GuardianUnbondingNotReady");
    await networkHelpers.time.increase(14 * DAY);
    await expect(sys.registry.connect(g.signer).withdraw()).to.changeEtherBalance(sys.ethers, g.signer, ONE_ETH / 2n);
    await expect(sys.registry.connect(g.signer).withdraw()).to.be.revertedWithCustomError(sys.registry, "GuardianNothingToWithdraw");
    expect(await sys.registry.isEligible(g.address)).to.equal(true); // nothing unbonding any more
  });

  it("keeps stake that backs a committee membership until the stake lock releases it, and slashing still reaches it", async function () {
    const sys = await networkHelpers.loadFixture(fourGuardians);
    const [g1, g2, g3, g4] = sys.guardians;
    // The deployment wires the committee registry as the stake lock, once and for all.
    const committees = await sys.committees.getAddress();
    expect(await sys.registry.stakeLock()).to.equal(committees);
    await expect(sys.registry.setStakeLock(sys.bob.address))
      .to.be.revertedWithCustomError(sys.registry, "GuardianParameterOutOfRange")
      .withArgs(toBytes32("stakeLock"), BigInt(sys.bob.address));

    // g1 sits in a forming committee; g2 never was a member (lock 0).
    const receipt = await (await sys.committees.propose([g1.address, g3.address, g4.address], 2)).wait();
    const committeeId = receipt.logs.map((l: any) => sys.committees.interface.parseLog(l)).find((e: any) => e?.name === "CommitteeProposed").args.committeeId;
    const forever = 2n ** 64n - 1n;
    expect(await sys.committees.stakeLockedUntil(g1.address)).to.equal(forever);
    for (const g of [g1, g2]) await expect(sys.registry.connect(g.signer).startUnbonding(ONE_ETH)).to.emit(sys.registry, "GuardianUnbondingStarted");
    await networkHelpers.time.increase(14 * DAY);
    await expect(sys.registry.connect(g1.signer).withdraw()).to.be.revertedWithCustomError(sys.registry, "GuardianStakeLocked").withArgs(g1.address, forever);
    await expect(sys.registry.connect(g2.signer).withdraw()).to.changeEtherBalance(ethers, g2.signer, ONE_ETH);

    // A fault proven meanwhile takes from the locked unbonding funds (the stake itself is all unbonding).
    await sys.registry.grantRole(await sys.registry.SLASHER_ROLE(), sys.prover.address);
    await expect(sys.registry.connect(sys.prover).slash(g1.address, ONE_ETH / 2n, sys.prover.address, 2_000))
      .to.emit(sys.registry, "GuardianSlashed")
      .withArgs(g1.address, ONE_ETH / 2n, sys.prover.address, ONE_ETH / 10n);
    const view = await sys.registry.guardian(g1.address);
    expect([view.stake, view.unbonding]).to.deep.equal([0n, ONE_ETH / 2n]);

    // The formation failed long ago (nobody dealt); once anyone records it, the lock is released and the
    // withdrawal goes through.
    await (await sys.committees.expire(committeeId, 1)).wait();
    expect(await sys.committees.stakeLockedUntil(g1.address)).to.be.lessThan(forever);
    await expect(sys.registry.connect(g1.signer).withdraw()).to.changeEtherBalance(ethers, g1.signer, ONE_ETH / 2n);
    await expectAudited(sys);
  });

  it("pays the treasury's part of a slash to the treasury governance chose, which only governance can move", async function () {
    const { registry, deployer, governance, prover, slasher, newTreasury, g1 } = await networkHelpers.loadFixture(governedFixture);
    await registry.connect(governance).grantRole(await registry.SLASHER_ROLE(), slasher.address);
    await registry.connect(slasher).slash(g1.address, ONE_ETH / 2n, prover.address, 2_000);
    const toTreasury = ONE_ETH / 2n - ONE_ETH / 10n;
    expect(await registry.claimable(deployer.address)).to.equal(0n);
    expect(await registry.claimable(governance.address)).to.equal(toTreasury);
    expect(await registry.claimable(prover.address)).to.equal(ONE_ETH / 10n);
    expect(await registry.treasury()).to.equal(governance.address);

    await expect(registry.connect(deployer).setTreasury(deployer.address)).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
    await expect(registry.connect(governance).setTreasury("0x0000000000000000000000000000000000000000"))
      .to.be.revertedWithCustomError(registry, "GuardianParameterOutOfRange")
      .withArgs(toBytes32("treasury"), 0n);
    await expect(registry.connect(governance).setTreasury(newTreasury.address))
      .to.emit(registry, "RegistryParameterChanged")
      .withArgs(toBytes32("treasury"), BigInt(newTreasury.address));
    // What the treasury had not claimed moves with it.
    expect(await registry.treasury()).to.equal(newTreasury.address);
    expect(await registry.claimable(governance.address)).to.equal(0n);
    await expect(registry.connect(governance).claim()).to.be.revertedWithCustomError(registry, "GuardianNothingToWithdraw");
    await expect(registry.connect(newTreasury).claim()).to.changeEtherBalance(ethers, newTreasury, toTreasury);
    await expect(registry.connect(prover).claim()).to.changeEtherBalance(ethers, prover, ONE_ETH / 10n);
    expect(await registry.claimable(newTreasury.address)).to.equal(0n);
  });

  it("a claim emits Claimed and folds into the audit log, for a prover and for the treasury", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const g1 = sys.guardians[0];
    await (await sys.registry.grantRole(await sys.registry.SLASHER_ROLE(), sys.bob.address)).wait();
    await (await sys.registry.connect(sys.bob).slash(g1.address, ONE_ETH / 2n, sys.prover.address, 2_000)).wait();
    const treasury = await ethers.getSigner(await sys.registry.treasury());
    for (const [who, amount] of [
      [sys.prover, ONE_ETH / 10n],
      [treasury, ONE_ETH / 2n - ONE_ETH / 10n],
    ] as const) {
      const length = await sys.coordinator.auditLength();
      await expect(sys.registry.connect(who).claim()).to.emit(sys.registry, "Claimed").withArgs(who.address, amount);
      expect(await sys.coordinator.auditLength()).to.equal(length + 1n);
    }
    await expectAudited(sys);
  });

  it("pays withdrawals and claims to the withdrawal address an operator named, which only that operator can name", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const [g1, g2] = sys.guardians;
    const cold = ethers.Wallet.createRandom().address;
    // Only a registered operator names one, for itself; an outsider is refused.
    await expect(sys.registry.connect(sys.bob).setWithdrawalAddress(cold))
      .to.be.revertedWithCustomError(sys.registry, "GuardianNotRegistered")
      .withArgs(sys.bob.address);
    // None named yet: it takes effect at once (the operator key was being paid anyway).
    const now = BigInt(await networkHelpers.time.latest()) + 1n;
    await networkHelpers.time.setNextBlockTimestamp(now);
    await expect(sys.registry.connect(g1.signer).setWithdrawalAddress(cold))
      .to.emit(sys.registry, "GuardianWithdrawalAddressSet")
      .withArgs(g1.address, cold, now);
    expect(await sys.registry.withdrawalAddress(g1.address)).to.deep.equal([cold, ZERO, 0n]);
    expect((await sys.registry.guardian(g1.address)).withdrawalAddress).to.equal(cold);
    expect((await sys.registry.guardian(g2.address)).withdrawalAddress).to.equal(ZERO); // g2 still paid itself

    // Withdrawn stake goes to it, not to the operator.
    await (await sys.registry.connect(g1.signer).startUnbonding(ONE_ETH / 2n)).wait();
    await networkHelpers.time.increase(14 * DAY);
    await expect(sys.registry.connect(g1.signer).withdraw()).to.changeEtherBalances(ethers, [cold, g1.signer], [ONE_ETH / 2n, 0n]);
    // So does a claim (g1's reward as the prover of a fault of g2's).
    await (await sys.registry.grantRole(await sys.registry.SLASHER_ROLE(), sys.bob.address)).wait();
    await (await sys.registry.connect(sys.bob).slash(g2.address, ONE_ETH / 2n, g1.address, 2_000)).wait();
    expect(await sys.registry.claimable(g1.address)).to.equal(ONE_ETH / 10n);
    const claim = sys.registry.connect(g1.signer).claim();
    await expect(claim).to.emit(sys.registry, "Claimed").withArgs(g1.address, ONE_ETH / 10n);
    await expect(claim).to.changeEtherBalances(ethers, [cold, g1.signer], [ONE_ETH / 10n, 0n]);
    // An operator that named none is paid itself.
    await (await sys.registry.connect(sys.bob).slash(g1.address, ONE_ETH / 2n, g2.address, 2_000)).wait();
    await expect(sys.registry.connect(g2.signer).claim()).to.changeEtherBalance(ethers, g2.signer, ONE_ETH / 10n);
    await expectAudited(sys);
  });

  it("a change of a named withdrawal address waits the unbonding delay, and the address in effect can cancel it", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const g1 = sys.guardians[0];
    const cold = await ethers.getSigner(sys.spare[0].address);
    const thief = ethers.Wallet.createRandom().address;
    const delay = await sys.registry.unbondingDelay();
    await (await sys.registry.connect(g1.signer).setWithdrawalAddress(cold.address)).wait();
    await (await sys.registry.connect(g1.signer).startUnbonding(ONE_ETH / 2n)).wait();
    await networkHelpers.time.increase(DAY);

    // Someone holding the operator key redirects payouts: the change waits the unbonding delay...
    const at = BigInt(await networkHelpers.time.latest()) + 1n;
    await networkHelpers.time.setNextBlockTimestamp(at);
    await expect(sys.registry.connect(g1.signer).setWithdrawalAddress(thief))
      .to.emit(sys.registry, "GuardianWithdrawalAddressSet")
      .withArgs(g1.address, thief, at + delay);
    expect(await sys.registry.withdrawalAddress(g1.address)).to.deep.equal([cold.address, thief, at + delay]);
    // A second call replaces the change and restarts its delay.
    const other = ethers.Wallet.createRandom().address;
    await networkHelpers.time.setNextBlockTimestamp(at + 10n);
    await (await sys.registry.connect(g1.signer).setWithdrawalAddress(other)).wait();
    expect(await sys.registry.withdrawalAddress(g1.address)).to.deep.equal([cold.address, other, at + 10n + delay]);
    // Stake that was unbonding already is paid to the address in effect; stake unbonded from now on becomes
    // withdrawable no earlier than the change, so the address in effect has the whole delay to cancel it.
    await networkHelpers.time.increaseTo(at + delay - 3n); // the withdrawal is mined one second later
    await expect(sys.registry.connect(g1.signer).withdraw()).to.changeEtherBalances(ethers, [cold.address, other], [ONE_ETH / 2n, 0n]);

    // Only the address in effect cancels a change; the operator (or anyone else) cannot.
    for (const who of [g1.signer, sys.bob]) {
      await expect(sys.registry.connect(who).cancelWithdrawalAddressChange(g1.address))
        .to.be.revertedWithCustomError(sys.registry, "GuardianNotWithdrawalAddress")
        .withArgs(g1.address, who.address);
    }
    await networkHelpers.time.setNextBlockTimestamp(at + delay - 1n);
    await expect(sys.registry.connect(cold).cancelWithdrawalAddressChange(g1.address))
      .to.emit(sys.registry, "GuardianWithdrawalAddressSet")
      .withArgs(g1.address, cold.address, at + delay - 1n);
    await networkHelpers.time.increase(delay + 1n);
    expect(await sys.registry.withdrawalAddress(g1.address)).to.deep.equal([cold.address, ZERO, 0n]);

    // Without a cancellation the change takes effect once the delay has passed: clearing it pays the operator again.
    await (await sys.registry.connect(g1.signer).setWithdrawalAddress(ZERO)).wait();
    expect((await sys.registry.guardian(g1.address)).withdrawalAddress).to.equal(cold.address);
    await (await sys.registry.connect(g1.signer).startUnbonding(ONE_ETH / 2n)).wait();
    await networkHelpers.time.increase(delay);
    expect(await sys.registry.withdrawalAddress(g1.address)).to.deep.equal([ZERO, ZERO, 0n]);
    await expect(sys.registry.connect(g1.signer).withdraw()).to.changeEtherBalances(ethers, [g1.signer, cold], [ONE_ETH / 2n, 0n]);
    // With none in effect there is nothing to cancel; a new one takes effect at once again.
    await expect(sys.registry.connect(cold).cancelWithdrawalAddressChange(g1.address)).to.be.revertedWithCustomError(sys.registry, "GuardianNotWithdrawalAddress");
    await (await sys.registry.connect(g1.signer).setWithdrawalAddress(cold.address)).wait();
    expect(await sys.registry.withdrawalAddress(g1.address)).to.deep.equal([cold.address, ZERO, 0n]);
    await expectAudited(sys);
  });

  it("lets only the coordinator slash, and only governance jail or change bounded parameters", async function () {
    const sys = await networkHelpers.loadFixture(fixture);
    const g = sys.guardians[0];
    await expect(sys.registry.connect(sys.bob).slash(g.address, ONE_ETH, sys.bob.address, 1000))
      .to.be.revertedWithCustomError(sys.registry, "AccessControlUnauthorizedAccount");
    await expect(sys.registry.connect(sys.bob).setJailed(g.address, true)).to.be.revertedWithCustomError(sys.registry, "AccessControlUnauthorizedAccount");
    await expect(sys.registry.setMinStake(0)).to.be.revertedWithCustomError(sys.registry, "GuardianParameterOutOfRange");
    // The unbonding delay must outlast a request lifetime, the longest security period and the dispute window
    // (1 d + 7 d + 1 d here).
    await expect(sys.registry.setUnbondingDelay(9 * 24 * 3600)).to.be.revertedWithCustomError(sys.registry, "GuardianParameterOutOfRange");
    await expect(sys.registry.setUnbondingDelay(10 * 24 * 3600)).to.emit(sys.registry, "RegistryParameterChanged");
    await expect(sys.coordinator.setRequestLifetime(2 * 24 * 3600)).to.be.revertedWithCustomError(sys.registry, "GuardianParameterOutOfRange");
    await expect(sys.coordinator.setRequestFee(0)).to.be.revertedWithCustomError(sys.coordinator, "ResetParameterOutOfRange");
    await expect(sys.coordinator.setProverRewardBps(5001)).to.be.revertedWithCustomError(sys.coordinator, "ResetParameterOutOfRange");
    await expect(sys.coordinator.connect(sys.bob).setSlashAmount(1)).to.be.revertedWithCustomError(sys.coordinator, "AccessControlUnauthorizedAccount");
    await expect(sys.registry.setJailed(g.address, true)).to.emit(sys.registry, "GuardianJailed").withArgs(g.address, sys.admin.address);
    expect(await sys.registry.isEligible(g.address)).to.equal(false);
    await expect(sys.coordinator.connect(sys.bob).recordRegistryEvent(0, toBytes32("x")))
      .to.be.revertedWithCustomError(sys.coordinator, "AuditUnauthorizedWriter")
      .withArgs(sys.bob.address);
  });
});
