import { beforeEach, describe, expect, it } from 'vitest';
import {
  DecryptError,
  DuplicateMessageError,
  InvalidCertificateError,
  NoSessionError,
  PrekeyNotFoundError,
  SealpostError,
  StoreConflictError,
  UnreportableMessageError,
} from '#sdk/errors.ts';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import { PREKEY_GRACE_MS } from '#sdk/protocol/prekey-manager.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { aliceAndBob, DAY, Device, makeServer } from './engine-fixtures.ts';

let clock = Date.UTC(2026, 10, 26);
const now = () => clock;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('ProtocolEngine', () => {
  let server: Awaited<ReturnType<typeof makeServer>>;
  let alice: Device;
  let bob: Device;
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
  });

  const sealedTo = (from: Device, to: Device, message: string) =>
    server.sealedTo(from, to, message);

  it('delivers sealed messages both ways and names the sender only to the recipient', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const first = await sealedTo(alice, bob, 'hello bob');
    expect(new TextDecoder('latin1').decode(first)).not.toContain(alice.engine.address);
    const got = await bob.engine.unseal(first);
    expect(text(got.plaintext)).toBe('hello bob');
    expect(got.sender).toEqual(alice.peer);
    expect(got.sessionCreated).toBe(true);

    // Sealed to Alice: nobody else (here Bob himself) can open it.
    const toAlice = await sealedTo(bob, alice, 'hi alice');
    await expect(bob.engine.unseal(toAlice)).rejects.toBeInstanceOf(DecryptError);
    const back = await alice.engine.unseal(toAlice);
    expect(text(back.plaintext)).toBe('hi alice');
    for (let i = 0; i < 5; i++) {
      const m = await bob.engine.unseal(await sealedTo(alice, bob, `m${i}`));
      expect(text(m.plaintext)).toBe(`m${i}`);
    }
  });

  it('consumes a one-time prekey exactly once and keeps the last-resort KEM key', async () => {
    const bundle = bob.bundle();
    expect(bundle.oneTimePrekey?.id).toEqual(expect.any(Number));
    const opkKey = String(bundle.oneTimePrekey!.id);
    const opkRecord = await bob.store.get('oneTimePrekey', opkKey);
    expect(opkRecord?.length).toBe(69);
    const kemKey = String(bundle.kemPrekey.id);
    await alice.engine.startSession(bundle.address, bundle);
    await bob.engine.unseal(await sealedTo(alice, bob, 'x'), async () => {
      // consumed in the same commit as the session, not before
      expect(await bob.store.get('oneTimePrekey', opkKey)).toEqual(opkRecord);
      return undefined;
    });
    expect(await bob.store.get('oneTimePrekey', opkKey)).toBeUndefined();
    expect(await bob.store.get('kemPrekey', kemKey)).toBeUndefined();

    // A second initiator naming the same (already consumed) one-time key is refused.
    const carol = await Device.create(server.trust, now);
    await carol.engine.startSession(bundle.address, bundle);
    await expect(bob.engine.unseal(await sealedTo(carol, bob, 'y'))).rejects.toBeInstanceOf(
      PrekeyNotFoundError,
    );

    // Exhaust the one-time keys: the bundle falls back to the last-resort KEM key, which survives use.
    for (let i = 0; i < 5; i++) bob.bundle();
    const fallback = bob.bundle();
    expect(fallback.oneTimePrekey).toBeUndefined();
    expect(fallback.kemPrekey.lastResort).toBe(true);
    const lastResort = await bob.store.get('kemPrekey', String(fallback.kemPrekey.id));
    expect(lastResort?.length).toBe(3310); // version 2: key seed + decapsulation key
    const dave = await Device.create(server.trust, now);
    await dave.engine.startSession(fallback.address, fallback);
    const d = await bob.engine.unseal(await sealedTo(dave, bob, 'via last resort'));
    expect(text(d.plaintext)).toBe('via last resort');
    expect(await bob.store.get('kemPrekey', String(fallback.kemPrekey.id))).toEqual(lastResort);
  });

  it('decrypts again after a crash before commit, and flags a duplicate after commit', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const env = await sealedTo(alice, bob, 'once');
    let seen = '';
    const crash = bob.engine.unseal(env, async (m) => {
      seen = text(m.plaintext);
      throw new Error('crash while storing');
    });
    await expect(crash).rejects.toThrow('crash while storing');
    // nothing was committed: the redelivered message decrypts to the same plaintext
    const again = await bob.engine.unseal(env);
    expect(text(again.plaintext)).toBe(seen);
    await expect(bob.engine.unseal(env)).rejects.toBeInstanceOf(DuplicateMessageError);
  });

  it('never lets an encrypt interleave with a receive of the same peer (no key reuse)', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    await bob.engine.unseal(await sealedTo(alice, bob, 'first'));
    await alice.engine.unseal(await sealedTo(bob, alice, 'reply'));
    // Bob's next receive stays on the current chain (no DH step), so a rollback would reuse keys.
    await bob.engine.unseal(await sealedTo(alice, bob, 'ratchet step'));
    // Every commit of Bob's store, in order: a seal that ran inside the receive would have read
    // the record before the receive committed, and its commit would then conflict.
    const commits: string[] = [];
    const commit = bob.store.commit.bind(bob.store);
    bob.store.commit = async (ops) => {
      try {
        await commit(ops);
        commits.push('committed');
      } catch (err) {
        commits.push(err instanceof StoreConflictError ? 'conflict' : 'failed');
        throw err;
      }
    };
    let entered!: () => void;
    const handlerEntered = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const settled: string[] = [];
    const slowReceive = bob.engine
      .unseal(await sealedTo(alice, bob, 'slow'), async () => {
        entered();
        await gate;
        return undefined;
      })
      .then(() => settled.push('receive'));
    const cert = await server.certify(bob.engine, 1);
    // The receive now holds Bob's session with Alice: its handler runs before its commit.
    await handlerEntered;
    const during = bob.engine.seal(alice.peer, utf8('during'), cert);
    const sealed = during.then(() => settled.push('seal'));
    release();
    await Promise.all([slowReceive, sealed]);
    expect(settled).toEqual(['receive', 'seal']);
    expect(commits).toEqual(['committed', 'committed']);
    const next = await bob.engine.seal(alice.peer, utf8('next'), cert);
    expect(text((await alice.engine.unseal(await during)).plaintext)).toBe('during');
    expect(text((await alice.engine.unseal(next)).plaintext)).toBe('next');
  });

  it('rejects expired, wrong-root and mismatched certificates', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const expired = await server.certify(alice.engine, 1, clock - 1);
    await expect(
      bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('a'), expired)),
    ).rejects.toBeInstanceOf(InvalidCertificateError);
    const other = await makeServer(now);
    const foreign = await other.certify(alice.engine, 1);
    await expect(
      bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('b'), foreign)),
    ).rejects.toBeInstanceOf(InvalidCertificateError);
    // A certificate for another identity (Carol's) on Alice's envelope.
    const carol = await Device.create(server.trust, now);
    const carolCert = await server.certify(carol.engine, 1);
    await expect(
      bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('c'), carolCert)),
    ).rejects.toBeInstanceOf(InvalidCertificateError);
  });

  it('judges the certificate at the given validity time (server receipt), not at open time', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const envelope = await sealedTo(alice, bob, 'sent while bob was offline');
    const receivedAt = clock;
    clock += 10 * DAY; // the 7-day certificate has expired by the time Bob comes online
    await expect(bob.engine.unseal(envelope)).rejects.toBeInstanceOf(InvalidCertificateError);
    const m = await bob.engine.unseal(envelope, undefined, { validAt: receivedAt });
    expect(text(m.plaintext)).toBe('sent while bob was offline');
  });

  it('treats a reinstall under the same account key as a device change, not an identity change', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    await bob.engine.unseal(await sealedTo(alice, bob, 'x'));
    const before = alice.engine.safetyNumber(bob.engine.identity.accountPublic).displayable;
    // Bob reinstalls under the same account key (a new device identity for device 1, linked later).
    clock += 60_000;
    const bob2 = await Device.create(server.trust, now, 1, bob);
    expect(bob2.engine.address).toBe(bob.engine.address);
    const started = await alice.engine.startSession(bob2.engine.address, bob2.bundle());
    expect(started.deviceChange?.kind).toBe('replaced');
    expect(started.deviceChange?.identity.dhPublic).toEqual(bob2.engine.identity.dhPublic);
    expect(alice.engine.safetyNumber(bob2.engine.identity.accountPublic).displayable).toBe(before);
    const m2 = await bob2.engine.unseal(await sealedTo(alice, bob2, 'after relink'));
    expect(text(m2.plaintext)).toBe('after relink');
  });

  it('recovers from simultaneous initiation', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    await bob.engine.startSession(alice.engine.address, alice.bundle());
    const a1 = await sealedTo(alice, bob, 'from alice');
    const b1 = await sealedTo(bob, alice, 'from bob');
    expect(text((await bob.engine.unseal(a1)).plaintext)).toBe('from alice');
    expect(text((await alice.engine.unseal(b1)).plaintext)).toBe('from bob');
    for (let i = 0; i < 3; i++) {
      const x = await alice.engine.unseal(await sealedTo(bob, alice, `b${i}`));
      const y = await bob.engine.unseal(await sealedTo(alice, bob, `a${i}`));
      expect([text(x.plaintext), text(y.plaintext)]).toEqual([`b${i}`, `a${i}`]);
    }
  });

  it('gives typed errors for garbage and stays usable', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const good = await sealedTo(alice, bob, 'ok');
    for (const bad of [
      new Uint8Array(0),
      good.slice(0, 50),
      good.slice(0, -1),
      new Uint8Array(200).fill(1),
    ]) {
      const e = await bob.engine.unseal(bad).catch((x) => x);
      expect(e).toBeInstanceOf(SealpostError);
    }
    await expect(
      alice.engine.seal(bob2Peer(), utf8('x'), new Uint8Array(10)),
    ).rejects.toBeInstanceOf(NoSessionError);
    const m = await bob.engine.unseal(good);
    expect(text(m.plaintext)).toBe('ok');
  });

  it('reopens from the store and keeps talking', async () => {
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const m = await bob.engine.unseal(await sealedTo(alice, bob, 'x'));
    expect(text(m.plaintext)).toBe('x');
    const reopened = await ProtocolEngine.open({ store: bob.store, trust: server.trust, now });
    expect(reopened.address).toBe(bob.engine.address);
    // Moderator certificates are not stored by the engine: until the app sets them again, a
    // franked message cannot be checked and is refused without advancing the session.
    const y = await sealedTo(alice, bob, 'y');
    const refused = await reopened.unseal(y).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnreportableMessageError);
    expect((refused as UnreportableMessageError).reason).toBe('moderator key');
    expect(await reopened.setModeratorCertificates([server.moderatorCertificate])).toEqual([
      server.moderator.keyId,
    ]);
    const m2 = await reopened.unseal(y);
    expect(text(m2.plaintext)).toBe('y');
  });

  it('rotates signed prekeys and deletes superseded ones only after the grace period', async () => {
    const first = await bob.store.keys('signedPrekey');
    expect(first).toHaveLength(1);
    clock += 7 * DAY;
    const up = await bob.engine.generatePrekeys({ rotateSignedPrekey: true });
    const rotated = await bob.store.keys('signedPrekey');
    expect(rotated).toHaveLength(2);
    expect(rotated).toContain(String(up.signedPrekey?.id));
    expect(up.signedPrekey?.id).not.toBe(Number(first[0]));
    clock += PREKEY_GRACE_MS + 1;
    await bob.engine.generatePrekeys({ rotateSignedPrekey: true });
    const left = await bob.store.keys('signedPrekey');
    expect(left).toHaveLength(2);
    expect(left).not.toContain(first[0]);
  });

  it('shows the same safety number on both sides', async () => {
    const a = alice.engine.safetyNumber(bob.engine.identity.accountPublic);
    const b = bob.engine.safetyNumber(alice.engine.identity.accountPublic);
    expect(a.displayable).toMatch(/^\d{60}$/);
    expect(a.displayable).toBe(b.displayable);
  });
});

function bob2Peer() {
  return { address: 'a'.repeat(32), deviceId: 3 };
}
