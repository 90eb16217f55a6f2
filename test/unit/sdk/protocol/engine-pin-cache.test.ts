/**
 * Pins held in memory between messages (sdk/protocol/pin-cache.ts, docs/PROTOCOL.md §9.1,
 * §9.6): engines over one store object share them, and a pin changed behind an engine's back
 * (another handle on the same records, or a direct store write) is caught by the conditional
 * commit, never used to send or accept a message.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { NoSessionError } from '#sdk/errors.ts';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import type { StateStore, StoreNamespace, StoreOp } from '#sdk/state/store.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { encodeIdentityBundle } from '#sdk/wire/identity.ts';
import { aliceAndBob, DAY, Device, type makeServer } from './engine-fixtures.ts';

let clock = Date.UTC(2026, 10, 26);
const now = () => clock;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Another handle on the same records, as a second process would have (no shared cache). */
class SecondHandle implements StateStore {
  constructor(private readonly inner: StateStore) {}
  get(ns: StoreNamespace, key: string) {
    return this.inner.get(ns, key);
  }
  keys(ns: StoreNamespace) {
    return this.inner.keys(ns);
  }
  commit(ops: readonly StoreOp[]) {
    return this.inner.commit(ops);
  }
}

describe('ProtocolEngine: pins held in memory', () => {
  let server: Awaited<ReturnType<typeof makeServer>>;
  let alice: Device;
  let bob: Device;
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
    // Both ways, so Alice's engine holds Bob's pin (identity X) in memory.
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    await bob.engine.unseal(await sealedTo(alice, bob, 'hi bob'));
    await alice.engine.unseal(await sealedTo(bob, alice, 'hi alice'));
  });

  const sealedTo = (from: Device, to: Device, message: string) =>
    server.sealedTo(from, to, message);

  /** Bob's device 1 re-linked by his account key: identity Y. */
  async function relinkedBob() {
    clock += DAY;
    return Device.create(server.trust, now, 1, bob);
  }

  it('a pin confirmed by another engine over the same store object is seen at once', async () => {
    const other = await ProtocolEngine.open({ store: alice.store, trust: server.trust, now });
    const bobY = await relinkedBob();
    const fromX = await sealedTo(bob, alice, 'from the old identity');
    await other.confirmIdentity(bob.peer, bobY.engine.identity);
    await expect(alice.engine.encrypt(bob.peer, utf8('x'))).rejects.toBeInstanceOf(NoSessionError);
    await expect(alice.engine.unseal(fromX)).rejects.toBeInstanceOf(NoSessionError);
  });

  it('a pin changed through another handle: stale entries send nothing, accept nothing', async () => {
    const other = await ProtocolEngine.open({
      store: new SecondHandle(alice.store),
      trust: server.trust,
      now,
    });
    const bobY = await relinkedBob();
    const fromX = await sealedTo(bob, alice, 'from the old identity');
    await other.confirmIdentity(bob.peer, bobY.engine.identity);
    await expect(alice.engine.encrypt(bob.peer, utf8('x'))).rejects.toBeInstanceOf(NoSessionError);
    await expect(alice.engine.unseal(fromX)).rejects.toBeInstanceOf(NoSessionError);
    // The new identity's first message is judged against the stored pin, not the stale one.
    await bobY.engine.startSession(alice.engine.address, alice.bundle());
    const fromY = await sealedTo(bobY, alice, 'from the new identity');
    const received = await alice.engine.unseal(fromY);
    expect(text(received.plaintext)).toBe('from the new identity');
    expect(received.deviceChange).toBeUndefined();
    expect(await alice.engine.pinnedIdentity(bob.peer)).toEqual(bobY.engine.identity);
  });

  it('a pin written directly to the store (session untouched) fails the conditional commit', async () => {
    const bobY = await relinkedBob();
    const fromX = await sealedTo(bob, alice, 'from the old identity');
    const sessionBefore = await alice.store.get('session', `${bob.engine.address}.1`);
    // As in a store written by an older version: the pin moves, the X session stays.
    await alice.store.commit([
      {
        ns: 'contact',
        key: `${bob.engine.address}.1`,
        value: encodeIdentityBundle(bobY.engine.identity),
      },
    ]);
    await expect(alice.engine.unseal(fromX)).rejects.toBeInstanceOf(NoSessionError);
    await expect(alice.engine.encrypt(bob.peer, utf8('x'))).rejects.toBeInstanceOf(NoSessionError);
    // Neither the refused message nor the refused send was committed.
    expect(await alice.store.get('session', `${bob.engine.address}.1`)).toEqual(sessionBefore);
  });
});
