/**
 * Identity pins on every message, device links bound to a device id and epoch, and device-list
 * changes (docs/PROTOCOL.md §1.3, §9.6).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DecryptError,
  InvalidBundleError,
  NoSessionError,
  StaleDeviceLinkError,
  UntrustedIdentityError,
} from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { encodeIdentityBundle } from '#sdk/wire/identity.ts';
import { aliceAndBob, DAY, Device, type makeServer } from './engine-fixtures.ts';

let clock = Date.UTC(2026, 10, 26);
const now = () => clock;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('ProtocolEngine: pins, links and device changes', () => {
  let server: Awaited<ReturnType<typeof makeServer>>;
  let alice: Device;
  let bob: Device;
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
  });

  const sealedTo = (from: Device, to: Device, message: string) =>
    server.sealedTo(from, to, message);

  /** Alice and Bob have talked both ways; Bob's device 1 is pinned with identity X. */
  async function talking() {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    await bob.engine.unseal(await sealedTo(alice, bob, 'hi bob'));
    await alice.engine.unseal(await sealedTo(bob, alice, 'hi alice'));
  }

  it('relinked device: a thief holding the old session is refused and nothing is sent to it', async () => {
    await talking();
    const thief = bob; // keeps identity X and its session with Alice
    clock += DAY;
    const bobY = await Device.create(server.trust, now, 1, bob); // same account, newer link
    const started = await alice.engine.startSession(bobY.engine.address, bobY.bundle());
    expect(started.deviceChange).toMatchObject({ kind: 'replaced', verifiedContact: false });
    expect(started.deviceChange?.identity.dhPublic).toEqual(bobY.engine.identity.dhPublic);
    // The thief's ratchet message matches only the dropped X state.
    const stolen = await sealedTo(thief, alice, 'from the thief');
    await expect(alice.engine.unseal(stolen)).rejects.toBeInstanceOf(DecryptError);
    // Alice's next message is for Y: Y opens it, X cannot.
    const next = await sealedTo(alice, bobY, 'for the new device');
    expect(text((await bobY.engine.unseal(next)).plaintext)).toBe('for the new device');
    await expect(thief.engine.unseal(next)).rejects.toThrow();
  });

  it('confirmIdentity deletes every state bound to the old identity in the same commit', async () => {
    await talking();
    clock += DAY;
    const bobY = await Device.create(server.trust, now, 1, bob);
    await alice.engine.confirmIdentity(bob.peer, bobY.engine.identity);
    expect(await alice.engine.hasSession(bob.peer)).toBe(false);
    await expect(alice.engine.encrypt(bob.peer, utf8('x'))).rejects.toBeInstanceOf(NoSessionError);
    await expect(alice.engine.unseal(await sealedTo(bob, alice, 'old'))).rejects.toBeInstanceOf(
      NoSessionError,
    );
  });

  it('encrypt refuses a current session whose identity is not the pin', async () => {
    await talking();
    clock += DAY;
    const bobY = await Device.create(server.trust, now, 1, bob);
    // The pin moves to Y without touching the session record (as in a store written by an
    // older version): the X session must not be used.
    await alice.store.commit([
      { ns: 'contact', key: `${bob.engine.address}.1`, value: encodeIdentity(bobY) },
    ]);
    await expect(alice.engine.encrypt(bob.peer, utf8('x'))).rejects.toBeInstanceOf(NoSessionError);
    await expect(
      alice.engine.seal(bob.peer, utf8('x'), await server.certify(alice.engine, 1)),
    ).rejects.toBeInstanceOf(NoSessionError);
  });

  it('checks a bundle against the address asked for, not the one written in it', async () => {
    const mallory = await Device.create(server.trust, now);
    const forged = mallory.bundle(); // self-consistent, but Mallory's
    await expect(alice.engine.startSession(bob.engine.address, forged)).rejects.toSatisfy(
      (e) => e instanceof InvalidBundleError || e instanceof UntrustedIdentityError,
    );
    expect(await alice.engine.hasSession(bob.peer)).toBe(false);
  });

  it('refuses an identity served under another device id than it was linked for', async () => {
    const b = bob.bundle();
    const moved = { ...b, deviceId: 2 };
    await expect(alice.engine.startSession(b.address, moved)).rejects.toBeInstanceOf(
      InvalidBundleError,
    );
    // The same through a prekey message: Bob's device-1 identity claims to be device 2.
    await bob.engine.startSession(alice.engine.address, alice.bundle());
    const env = await bob.engine.seal(alice.peer, utf8('x'), await server.certify(bob.engine, 2));
    await expect(alice.engine.unseal(env)).rejects.toBeInstanceOf(UntrustedIdentityError);
  });

  it('refuses an older or equal link for a pinned device (typed), accepts a newer one', async () => {
    await talking();
    const old = bob.bundle();
    clock += DAY;
    const bobY = await Device.create(server.trust, now, 1, bob);
    await alice.engine.startSession(bobY.engine.address, bobY.bundle());
    await expect(alice.engine.startSession(old.address, old)).rejects.toBeInstanceOf(
      StaleDeviceLinkError,
    );
    const sameEpoch = await Device.create(server.trust, now, 1, bob);
    await expect(
      alice.engine.startSession(sameEpoch.engine.address, sameEpoch.bundle()),
    ).rejects.toBeInstanceOf(StaleDeviceLinkError);
    expect(await alice.engine.pinnedIdentity(bob.peer)).toEqual(bobY.engine.identity);
  });

  it('announces a new device of a known contact, flagged when the contact was verified', async () => {
    await talking();
    const bob2 = await Device.create(server.trust, now, 2, bob);
    const added = await alice.engine.startSession(bob2.engine.address, bob2.bundle());
    expect(added.deviceChange).toMatchObject({
      kind: 'added',
      peer: { address: bob.engine.address, deviceId: 2 },
      verifiedContact: false,
    });
    await alice.engine.markVerified(bob.engine.address, bob.engine.identity.accountPublic);
    expect(await alice.engine.isVerified(bob.engine.address)).toBe(true);
    // A new device that writes first: the announcement comes with its first message.
    const bob3 = await Device.create(server.trust, now, 3, bob);
    await bob3.engine.startSession(alice.engine.address, alice.bundle());
    const m = await alice.engine.unseal(await sealedTo(bob3, alice, 'from device 3'));
    expect(m.deviceChange).toMatchObject({ kind: 'added', verifiedContact: true });
    expect(text(m.plaintext)).toBe('from device 3');
    // First contact with an account is not a device change.
    const carol = await Device.create(server.trust, now);
    expect(
      (await alice.engine.startSession(carol.engine.address, carol.bundle())).deviceChange,
    ).toBeUndefined();
  });

  it('re-links its own identity for the id the server assigned, keeping its keys', async () => {
    const dh = alice.engine.identity.dhPublic;
    const seed = alice.engine.accountSeed;
    expect(seed).toBeInstanceOf(Uint8Array);
    clock += 1000;
    const bundle = await alice.engine.relink({ deviceId: 4 });
    expect([bundle.deviceId, bundle.linkEpoch, bundle.dhPublic]).toEqual([4, clock, dh]);
    expect(alice.engine.identity.deviceId).toBe(4);
    const noSeed = await Device.create(server.trust, now, 2, alice);
    await expect(noSeed.engine.relink({ deviceId: 5 })).rejects.toThrow(ArgumentRangeError);
  });
});

function encodeIdentity(d: Device): Uint8Array {
  return encodeIdentityBundle(d.engine.identity);
}
