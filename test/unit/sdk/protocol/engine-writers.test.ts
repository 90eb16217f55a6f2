/**
 * More than one writer over one persistent state (docs/PROTOCOL.md §9.1): two engines, or two
 * processes, never use one message key twice, because session commits are conditional.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import { FileStore, FileStoreError } from '#sdk/state/file-store.ts';
import type { StateStore, StoreNamespace, StoreOp } from '#sdk/state/store.ts';
import { toHex, utf8 } from '#sdk/util/bytes.ts';
import { decodeRatchetMessage, MESSAGE_TYPE_RATCHET } from '#sdk/wire/messages.ts';
import { removeDir, tempDir } from '../state/fixtures.ts';
import { Device, makeServer } from './engine-fixtures.ts';

const clock = Date.UTC(2026, 10, 26);
const now = () => clock;

/**
 * Another handle on the same records, as a second process would have: a distinct store object,
 * so nothing in this realm (such as the per-peer lock) is shared with the first engine.
 */
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

/** The (ratchet key, counter) of each ratchet message: a message key's identity. */
function keyIds(bodies: readonly { type: number; body: Uint8Array }[]): string[] {
  return bodies.map((m) => {
    expect(m.type).toBe(MESSAGE_TYPE_RATCHET);
    const parsed = decodeRatchetMessage(m.body);
    return `${toHex(parsed.ratchetKey)}/${parsed.counter}`;
  });
}

describe('two writers over one state', () => {
  let server: Awaited<ReturnType<typeof makeServer>>;
  let alice: Device;
  let bob: Device;
  const dirs: string[] = [];
  beforeEach(async () => {
    server = await makeServer(now);
    alice = await Device.create(server.trust, now);
    bob = await Device.create(server.trust, now);
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    const cert = await server.certify(alice.engine, 1);
    await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('hi'), cert));
    const reply = await bob.engine.seal(
      alice.peer,
      utf8('hi'),
      await server.certify(bob.engine, 1),
    );
    await alice.engine.unseal(reply);
  });
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });

  it('two ProtocolEngine instances over one store never reuse a message key', async () => {
    const second = await ProtocolEngine.open({
      store: new SecondHandle(alice.store),
      trust: server.trust,
      now,
    });
    const engines = [alice.engine, second];
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) => engines[i % 2]!.encrypt(bob.peer, utf8(`m${i}`))),
    );
    const ids = keyIds(sent);
    expect(new Set(ids).size).toBe(ids.length);
    // And Bob opens every one of them.
    const opened = [];
    for (const m of sent)
      opened.push((await bob.engine.decrypt(alice.peer, m.type, m.body)).plaintext);
    expect(opened.map((p) => new TextDecoder().decode(p)).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `m${i}`).sort(),
    );
  });

  it('two FileStore instances over one directory never reuse a message key', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    // Copy Alice's state into a durable store.
    const first = await FileStore.open(dir);
    for (const ns of ['identity', 'session', 'contact', 'signedPrekey', 'kemPrekey'] as const) {
      for (const key of await alice.store.keys(ns)) {
        await first.commit([{ ns, key, value: (await alice.store.get(ns, key))! }]);
      }
    }
    // While one instance holds the directory, no second instance (or process) can write to it.
    const blocked = await FileStore.open(dir).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(FileStoreError);
    expect((blocked as FileStoreError).code).toBe('LOCKED');
    const engineA = await ProtocolEngine.open({ store: first, trust: server.trust, now });
    const sent = [
      await engineA.encrypt(bob.peer, utf8('a1')),
      await engineA.encrypt(bob.peer, utf8('a2')),
    ];
    await first.close();
    const second = await FileStore.open(dir);
    const engineB = await ProtocolEngine.open({ store: second, trust: server.trust, now });
    sent.push(await engineB.encrypt(bob.peer, utf8('b1')));
    await second.close();
    const ids = keyIds(sent);
    expect(new Set(ids).size).toBe(3);
  });
});
