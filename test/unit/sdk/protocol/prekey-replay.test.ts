/**
 * docs/PROTOCOL.md §3.5: a prekey message that used no one-time prekey cannot start a second
 * session once its first has left the record, while its signed prekey lives.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DuplicateMessageError } from '#sdk/errors.ts';
import { PREKEY_GRACE_MS } from '#sdk/protocol/prekey-manager.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { aliceAndBob, DAY, type Device, type makeServer } from './engine-fixtures.ts';

let clock = Date.UTC(2026, 10, 26);
const now = () => clock;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('prekey message replay without a one-time prekey', () => {
  let server: Awaited<ReturnType<typeof makeServer>>;
  let alice: Device;
  let bob: Device;
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
  });

  /** A sealed prekey message from Alice made with Bob's last-resort bundle (no one-time keys). */
  async function lastResortMessage(message: string) {
    for (let i = 0; i < 3; i++) bob.bundle();
    const fallback = bob.bundle();
    expect(fallback.oneTimePrekey).toBeUndefined();
    expect(fallback.kemPrekey.lastResort).toBe(true);
    await alice.engine.startSession(fallback.address, fallback);
    return alice.engine.seal(bob.peer, utf8(message), await server.certify(alice.engine, 1));
  }

  /** What the record looks like once the session has aged out of current and archived states. */
  async function forgetSession() {
    await bob.store.commit([{ ns: 'session', key: `${alice.engine.address}.1`, value: null }]);
  }

  it('refuses the replay once the session is gone, atomically recorded with the session', async () => {
    const envelope = await lastResortMessage('pay 10');
    const first = await bob.engine.unseal(envelope);
    expect(text(first.plaintext)).toBe('pay 10');
    expect(await bob.store.keys('baseKey')).toHaveLength(1);
    await forgetSession();
    await expect(bob.engine.unseal(envelope)).rejects.toBeInstanceOf(DuplicateMessageError);
  });

  it('records nothing when the handler fails, so redelivery still works', async () => {
    const envelope = await lastResortMessage('retry me');
    await expect(
      bob.engine.unseal(envelope, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await bob.store.keys('baseKey')).toEqual([]);
    expect(text((await bob.engine.unseal(envelope)).plaintext)).toBe('retry me');
  });

  it('drops the records together with their signed prekey', async () => {
    await bob.engine.unseal(await lastResortMessage('x'));
    expect(await bob.store.keys('baseKey')).toHaveLength(1);
    clock += 7 * DAY;
    await bob.engine.generatePrekeys({ rotateSignedPrekey: true });
    expect(await bob.store.keys('baseKey')).toHaveLength(1);
    clock += PREKEY_GRACE_MS + 1;
    await bob.engine.generatePrekeys({ rotateSignedPrekey: true });
    expect(await bob.store.keys('baseKey')).toEqual([]);
  });
});
