import { describe, expect, it } from 'vitest';
import { defaultBackend } from '#sdk/crypto/index.ts';
import {
  DecryptError,
  DuplicateMessageError,
  MalformedEnvelopeError,
  NoSessionError,
  PrekeyNotFoundError,
} from '#sdk/errors.ts';
import { sessionKey } from '#sdk/protocol/session-cipher.ts';
import { decodeSessionRecord } from '#sdk/protocol/session-record.ts';
import type { StoreOp } from '#sdk/state/store.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import {
  decodePrekeyMessage,
  MESSAGE_TYPE_PREKEY,
  MESSAGE_TYPE_RATCHET,
  type MessageType,
} from '#sdk/wire/messages.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';
import { initiate, makeParty, type TestParty } from './session-fixtures.ts';

const backend = defaultBackend;
const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);

async function pair(seed: number) {
  const rng = seededRng(`session ${seed}`);
  const alice = await makeParty(backend, rng, 'alice');
  const bob = await makeParty(backend, rng, 'bob');
  return { rng, alice, bob };
}

async function send(from: TestParty, to: TestParty, message: string) {
  const sent = await from.cipher.encryptAndCommit(to.peer, text(message));
  return { ...sent, from, to };
}

async function receive(m: { type: MessageType; body: Uint8Array; from: TestParty; to: TestParty }) {
  const result = await m.to.cipher.decryptAndCommit(m.from.peer, m.type, m.body);
  return read(result.plaintext);
}

async function storedRecord(party: TestParty, peer: TestParty) {
  const bytes = await party.store.get('session', sessionKey(peer.peer));
  if (!bytes) throw new Error('no record');
  return decodeSessionRecord(bytes);
}

describe('SessionCipher: one session', () => {
  it('sends prekey messages until the first reply, then ratchet messages', async () => {
    const { rng, alice, bob } = await pair(1);
    await initiate(backend, rng, alice, bob, 2);
    const m1 = await send(alice, bob, 'one');
    const m2 = await send(alice, bob, 'two');
    expect([m1.type, m2.type]).toEqual([MESSAGE_TYPE_PREKEY, MESSAGE_TYPE_PREKEY]);
    expect(decodePrekeyMessage(m1.body).identity).toEqual(alice.identity);
    const first = await bob.cipher.decrypt(alice.peer, m2.type, m2.body);
    expect(read(first.plaintext)).toBe('two');
    expect(first.sessionCreated).toBe(true);
    expect(first.remoteIdentity).toEqual(alice.identity);
    // PROTOCOL.md §4: the one-time prekey is deleted in the same commit as the new session.
    expect(first.ops).toContainEqual({ ns: 'oneTimePrekey', key: '2', value: null });
    await bob.store.commit(first.ops);
    expect(await bob.store.get('oneTimePrekey', '2')).toBeUndefined();
    // The fixture stores a one-time prekey as privateKey(32) || publicKey(32).
    expect(await bob.store.get('oneTimePrekey', '1')).toHaveLength(64);
    // A second prekey message of the same session reuses it: no new key agreement.
    expect(await receive(m1)).toBe('one');
    expect(bob.agreement.calls).toBe(1);
    const reply = await send(bob, alice, 'three');
    expect(reply.type).toBe(MESSAGE_TYPE_RATCHET);
    expect(await receive(reply)).toBe('three');
    const m4 = await send(alice, bob, 'four');
    expect(m4.type).toBe(MESSAGE_TYPE_RATCHET);
    expect(await receive(m4)).toBe('four');
    expect(await alice.cipher.remoteIdentity(bob.peer)).toEqual(bob.identity);
    expect(await bob.cipher.hasSession(alice.peer)).toBe(true);
  });

  it('rejects a replayed prekey message as a duplicate without consuming prekeys again', async () => {
    const { rng, alice, bob } = await pair(2);
    await initiate(backend, rng, alice, bob, 1);
    const m1 = await send(alice, bob, 'hello');
    expect(await receive(m1)).toBe('hello');
    await expect(receive(m1)).rejects.toBeInstanceOf(DuplicateMessageError);
    expect(bob.agreement.calls).toBe(1);
  });

  it('works without a one-time prekey and reports a missing prekey as PrekeyNotFoundError', async () => {
    const { rng, alice, bob } = await pair(3);
    await initiate(backend, rng, alice, bob, 0);
    const m1 = await send(alice, bob, 'no opk');
    const result = await bob.cipher.decrypt(alice.peer, m1.type, m1.body);
    expect(read(result.plaintext)).toBe('no opk');
    expect(result.ops.filter((op) => op.ns === 'oneTimePrekey')).toEqual([]);

    const carol = await makeParty(backend, rng, 'carol');
    await initiate(backend, rng, carol, bob, 3);
    const c1 = await send(carol, bob, 'hi');
    await bob.store.commit([{ ns: 'oneTimePrekey', key: '3', value: null }]);
    await expect(receive(c1)).rejects.toBeInstanceOf(PrekeyNotFoundError);
    expect(await bob.store.get('session', sessionKey(carol.peer))).toBeUndefined();
  });

  it('throws NoSessionError without a session and rejects malformed bodies before the store', async () => {
    const { alice, bob } = await pair(4);
    await expect(alice.cipher.encrypt(bob.peer, text('x'))).rejects.toBeInstanceOf(NoSessionError);
    await expect(
      alice.cipher.decrypt(bob.peer, MESSAGE_TYPE_RATCHET, new Uint8Array(80).fill(1)),
    ).rejects.toBeInstanceOf(NoSessionError);
    await expect(
      alice.cipher.decrypt(bob.peer, MESSAGE_TYPE_RATCHET, new Uint8Array(10).fill(1)),
    ).rejects.toBeInstanceOf(MalformedEnvelopeError);
    await expect(
      alice.cipher.decrypt(bob.peer, 3 as MessageType, new Uint8Array(80)),
    ).rejects.toBeInstanceOf(ArgumentTypeError);
    expect(() => sessionKey({ address: 'a', deviceId: 0 })).toThrow(ArgumentTypeError);
    expect(sessionKey({ address: 'abc', deviceId: 12 })).toBe('abc.12');
  });
});

describe('SessionCipher: crash safety', () => {
  it('a decrypt that is never committed decrypts again on redelivery', async () => {
    const { rng, alice, bob } = await pair(5);
    await initiate(backend, rng, alice, bob);
    const m1 = await send(alice, bob, 'first');
    const uncommitted = await bob.cipher.decrypt(alice.peer, m1.type, m1.body);
    expect(read(uncommitted.plaintext)).toBe('first');
    expect(await bob.store.get('session', sessionKey(alice.peer))).toBeUndefined();
    // The fixture stores a one-time prekey as privateKey(32) || publicKey(32).
    expect(await bob.store.get('oneTimePrekey', '1')).toHaveLength(64);
    expect(await receive(m1)).toBe('first');
    await expect(receive(m1)).rejects.toBeInstanceOf(DuplicateMessageError);
  });

  it('commits nothing when the handler throws, and commits its ops atomically otherwise', async () => {
    const { rng, alice, bob } = await pair(6);
    await initiate(backend, rng, alice, bob);
    const m1 = await send(alice, bob, 'payload');
    await expect(
      bob.cipher.decryptAndCommit(alice.peer, m1.type, m1.body, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await bob.store.get('session', sessionKey(alice.peer))).toBeUndefined();
    const seen: StoreOp = { ns: 'seen', key: 'msg-1', value: new Uint8Array(1) };
    const result = await bob.cipher.decryptAndCommit(alice.peer, m1.type, m1.body, async (r) => {
      expect(read(r.plaintext)).toBe('payload');
      return [seen];
    });
    expect(result.sessionCreated).toBe(true);
    expect(await bob.store.get('seen', 'msg-1')).toEqual(new Uint8Array(1));
    expect(await bob.store.get('oneTimePrekey', '1')).toBeUndefined();
  });

  it('never reuses a message key: uncommitted encrypts do not advance, committed ones always do', async () => {
    const { rng, alice, bob } = await pair(7);
    await initiate(backend, rng, alice, bob);
    await receive(await send(alice, bob, 'setup'));
    await receive(await send(bob, alice, 'ack'));
    const dropped = await alice.cipher.encrypt(bob.peer, text('never sent'));
    const sent = await alice.cipher.encryptAndCommit(bob.peer, text('sent'));
    // The dropped ciphertext never left the device; the key it used is reused for `sent` only.
    expect(dropped.body.subarray(0, 41)).toEqual(sent.body.subarray(0, 41));
    const bodies = await Promise.all(
      ['a', 'b', 'c', 'd'].map((s) => alice.cipher.encryptAndCommit(bob.peer, text(s))),
    );
    const headers = new Set(bodies.map((b) => b.body.subarray(37, 41).join(',')));
    expect(headers.size).toBe(4);
    expect(await receive({ ...sent, from: alice, to: bob })).toBe('sent');
    for (const [i, b] of bodies.entries()) {
      expect(await receive({ ...b, from: alice, to: bob })).toBe(['a', 'b', 'c', 'd'][i]);
    }
  });

  it('leaves the stored record untouched when decryption fails', async () => {
    const { rng, alice, bob } = await pair(8);
    await initiate(backend, rng, alice, bob);
    await receive(await send(alice, bob, 'setup'));
    const before = await bob.store.get('session', sessionKey(alice.peer));
    const m = await send(alice, bob, 'tampered');
    const bad = m.body.slice();
    bad[bad.length - 1]! ^= 1;
    await expect(bob.cipher.decryptAndCommit(alice.peer, m.type, bad)).rejects.toBeInstanceOf(
      DecryptError,
    );
    expect(await bob.store.get('session', sessionKey(alice.peer))).toEqual(before);
    expect(await receive(m)).toBe('tampered');
  });
});

describe('SessionCipher: archived sessions', () => {
  it('converges after simultaneous initiation and keeps talking both ways', async () => {
    const { rng, alice, bob } = await pair(9);
    await initiate(backend, rng, alice, bob, 1);
    await initiate(backend, rng, bob, alice, 1);
    const a1 = await send(alice, bob, 'a1');
    const b1 = await send(bob, alice, 'b1');
    expect([a1.type, b1.type]).toEqual([MESSAGE_TYPE_PREKEY, MESSAGE_TYPE_PREKEY]);
    expect(await receive(a1)).toBe('a1');
    expect(await receive(b1)).toBe('b1');
    // Each side now holds both sessions: the responder one current, its own archived.
    expect((await storedRecord(alice, bob)).archived).toHaveLength(1);
    // One round trip: the state that opens the peer's message is promoted on both sides.
    const a2 = await send(alice, bob, 'a2');
    expect(await receive(a2)).toBe('a2');
    const b2 = await send(bob, alice, 'b2');
    expect(await receive(b2)).toBe('b2');
    const aliceCurrent = (await storedRecord(alice, bob)).current!;
    const bobCurrent = (await storedRecord(bob, alice)).current!;
    expect(aliceCurrent.baseKey).toEqual(bobCurrent.baseKey);
    expect(aliceCurrent.pendingPrekey).toBeNull();
    expect(bobCurrent.pendingPrekey).toBeNull();
    // Converged: concurrent traffic in both directions stays on the same pair of states.
    const burstA = [await send(alice, bob, 'a3'), await send(alice, bob, 'a4')];
    const burstB = [await send(bob, alice, 'b3'), await send(bob, alice, 'b4')];
    for (const m of [...burstA, ...burstB]) expect(m.type).toBe(MESSAGE_TYPE_RATCHET);
    expect(await receive(burstB[1]!)).toBe('b4');
    expect(await receive(burstA[0]!)).toBe('a3');
    expect(await receive(burstB[0]!)).toBe('b3');
    expect(await receive(burstA[1]!)).toBe('a4');
    expect((await storedRecord(alice, bob)).current!.baseKey).toEqual(aliceCurrent.baseKey);
    expect((await storedRecord(bob, alice)).current!.baseKey).toEqual(aliceCurrent.baseKey);
  });

  it('with a pin, never tries, promotes or encrypts with a state bound to another identity', async () => {
    const { rng, alice, bob } = await pair(11);
    await initiate(backend, rng, alice, bob, 1);
    await receive(await send(alice, bob, 'one'));
    await receive(await send(bob, alice, 'reply'));
    const stale = await send(alice, bob, 'from the old identity');
    expect(stale.type).toBe(MESSAGE_TYPE_RATCHET);
    const before = await bob.store.get('session', sessionKey(alice.peer));
    const otherPin = new Uint8Array(alice.identity.length).fill(7);
    await expect(
      bob.cipher.decrypt(alice.peer, stale.type, stale.body, otherPin),
    ).rejects.toBeInstanceOf(NoSessionError);
    await expect(bob.cipher.encrypt(alice.peer, text('x'), otherPin)).rejects.toBeInstanceOf(
      NoSessionError,
    );
    expect(await bob.store.get('session', sessionKey(alice.peer))).toEqual(before);
    // With the right pin the same message opens.
    const opened = await bob.cipher.decrypt(alice.peer, stale.type, stale.body, alice.identity);
    expect(read(opened.plaintext)).toBe('from the old identity');
  });

  it('drops the sessions of a replaced identity when the peer starts one under a new identity', async () => {
    const { rng, alice, bob } = await pair(10);
    await initiate(backend, rng, alice, bob, 1);
    await receive(await send(alice, bob, 'old-1'));
    await receive(await send(bob, alice, 'old-2'));
    const late = await send(alice, bob, 'late on old session');
    // Alice reinstalls: a new identity and a new session from the same address.
    const alice2 = await makeParty(backend, rng, 'alice');
    await initiate(backend, rng, alice2, bob, 2);
    const fresh = await alice2.cipher.encryptAndCommit(bob.peer, text('new'));
    const opened = await bob.cipher.decryptAndCommit(alice.peer, fresh.type, fresh.body);
    expect(opened.sessionCreated).toBe(true);
    expect(opened.remoteIdentity).toEqual(alice2.identity);
    expect(await bob.cipher.remoteIdentity(alice.peer)).toEqual(alice2.identity);
    // docs/PROTOCOL.md §5.3: a record never keeps states of two identities of one device, so
    // whoever still holds the old identity's session cannot revive it.
    expect((await storedRecord(bob, alice)).archived).toHaveLength(0);
    await expect(
      bob.cipher.decryptAndCommit(alice.peer, late.type, late.body),
    ).rejects.toBeInstanceOf(DecryptError);
    expect(await bob.cipher.remoteIdentity(alice.peer)).toEqual(alice2.identity);
    const fresh2 = await alice2.cipher.encryptAndCommit(bob.peer, text('new-2'));
    const r2 = await bob.cipher.decryptAndCommit(alice.peer, fresh2.type, fresh2.body);
    expect(read(r2.plaintext)).toBe('new-2');
  });

  it('keeps at most 40 archived states, dropping the oldest', async () => {
    const { rng, alice, bob } = await pair(11);
    const baseKeys: Uint8Array[] = [];
    for (let i = 0; i < 42; i++) {
      await initiate(backend, rng, alice, bob, 0);
      baseKeys.push((await storedRecord(alice, bob)).current!.baseKey);
    }
    const record = await storedRecord(alice, bob);
    expect(record.current!.baseKey).toEqual(baseKeys[41]);
    expect(record.archived).toHaveLength(40);
    // Newest first: sessions 41..2 are archived, session 1 was dropped.
    expect(record.archived.map((s) => s.subarray(1, 33))).toEqual(baseKeys.slice(1, 41).reverse());
  });
});
