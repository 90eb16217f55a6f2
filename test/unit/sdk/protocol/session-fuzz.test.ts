/**
 * Mutated messages into the session cipher: bit flips, byte overwrites, truncations,
 * extensions, splices, swapped message types and random bytes. Decryption may only throw
 * `SealpostError` subclasses, must never open a mutated message, must never change the stored
 * session on failure, and both directions must keep working afterwards.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { sessionKey } from '#sdk/protocol/session-cipher.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { MESSAGE_TYPE_PREKEY, MESSAGE_TYPE_RATCHET, type MessageType } from '#sdk/wire/messages.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';
import { initiate, makeParty, type TestParty } from './session-fixtures.ts';

const backend = defaultBackend;
const MUTATIONS = 10_000;

interface Pooled {
  readonly from: 0 | 1;
  readonly type: MessageType;
  readonly body: Uint8Array;
  readonly plaintext: Uint8Array;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; tail: Uint8Array }
  | { kind: 'splice'; other: number; at: number }
  | { kind: 'retype' }
  | { kind: 'random'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.nat({ max: 7 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.nat({ max: 255 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('extend' as const),
      tail: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('splice' as const), other: fc.nat(), at: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retype' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('random' as const),
      bytes: fc.uint8Array({ maxLength: 2200 }),
    }),
  },
);

function apply(
  m: Mutation,
  base: Pooled,
  pool: readonly Pooled[],
): { type: MessageType; body: Uint8Array } {
  const body = base.body.slice();
  switch (m.kind) {
    case 'flip':
      body[m.at % body.length]! ^= 1 << m.bit;
      return { type: base.type, body };
    case 'set':
      body[m.at % body.length] = m.value;
      return { type: base.type, body };
    case 'truncate':
      return { type: base.type, body: body.subarray(0, m.at % body.length) };
    case 'extend':
      return { type: base.type, body: concatBytes(body, m.tail) };
    case 'splice': {
      const other = pool[m.other % pool.length]!.body;
      const cut = m.at % Math.min(body.length, other.length);
      return { type: base.type, body: concatBytes(body.subarray(0, cut), other.subarray(cut)) };
    }
    case 'retype':
      return {
        type: base.type === MESSAGE_TYPE_PREKEY ? MESSAGE_TYPE_RATCHET : MESSAGE_TYPE_PREKEY,
        body,
      };
    case 'random':
      return { type: base.type, body: m.bytes };
  }
}

async function establish() {
  const rng = seededRng('session 7');
  const alice = await makeParty(backend, rng, 'alice');
  const bob = await makeParty(backend, rng, 'bob');
  const parties = [alice, bob] as const;
  await initiate(backend, rng, alice, bob, 1);
  const pool: Pooled[] = [];
  const send = async (from: 0 | 1, text: string, deliver: boolean) => {
    const plaintext = new TextEncoder().encode(text);
    const to = parties[1 - from]!;
    const sent = await parties[from]!.cipher.encryptAndCommit(to.peer, plaintext);
    if (deliver) await to.cipher.decryptAndCommit(parties[from]!.peer, sent.type, sent.body);
    pool.push({ from, ...sent, plaintext });
  };
  // Delivered messages (replays of them are duplicates), including the prekey message.
  await send(0, 'prekey message', true);
  await send(1, 'reply', true);
  await send(0, 'second turn', true);
  // Undelivered messages on current and older chains, with short and longer plaintexts.
  await send(1, 'waiting on an older chain', false);
  await send(1, 'b'.repeat(300), true);
  await send(0, 'a'.repeat(200), false);
  await send(0, 'short', false);
  await send(1, 'newest', false);
  return { parties, pool, delivered: new Set([0, 1, 2, 4]) };
}

async function stored(party: TestParty, peer: TestParty) {
  return party.store.get('session', sessionKey(peer.peer));
}

describe('session cipher fuzzing', () => {
  it(`rejects ${MUTATIONS} mutated messages with typed errors and keeps working`, async () => {
    const { parties, pool, delivered } = await establish();
    const cases = fc.sample(fc.tuple(fc.nat(), mutation), { numRuns: MUTATIONS, seed: 20240601 });
    const errorCodes = new Map<string, number>();
    for (const [pick, m] of cases) {
      const base = pool[pick % pool.length]!;
      const { type, body } = apply(m, base, pool);
      const to = parties[1 - base.from]!;
      const from = parties[base.from]!;
      const before = await stored(to, from);
      try {
        const result = await to.cipher.decryptAndCommit(from.peer, type, body);
        // Only an unchanged, not yet delivered message may open (a splice can rebuild one).
        const same = pool.findIndex((p) => p.type === type && isDeepStrictEqual(p.body, body));
        expect(same).toBeGreaterThanOrEqual(0);
        expect(delivered.has(same)).toBe(false);
        expect(isDeepStrictEqual(result.plaintext, pool[same]!.plaintext)).toBe(true);
        delivered.add(same);
      } catch (error) {
        if (!(error instanceof SealpostError)) throw error;
        errorCodes.set(error.code, (errorCodes.get(error.code) ?? 0) + 1);
        // PROTOCOL.md §5: any failure leaves the stored session unchanged.
        expect(isDeepStrictEqual(await stored(to, from), before)).toBe(true);
      }
    }
    // Every path was reached: parsing, authentication, replay and jump checks, key agreement.
    for (const code of [
      'MALFORMED_ENVELOPE',
      'UNSUPPORTED_VERSION',
      'DECRYPT_FAILED',
      'DUPLICATE_MESSAGE',
      'TOO_MANY_SKIPPED',
      'PREKEY_NOT_FOUND',
    ]) {
      expect(errorCodes.get(code) ?? 0).toBeGreaterThan(0);
    }
    // The untouched messages still open, once each, and both directions keep working.
    for (const [i, p] of pool.entries()) {
      if (delivered.has(i)) continue;
      const to = parties[1 - p.from]!;
      const result = await to.cipher.decryptAndCommit(parties[p.from]!.peer, p.type, p.body);
      expect(result.plaintext).toEqual(p.plaintext);
    }
    const [alice, bob] = parties;
    const ping = await alice.cipher.encryptAndCommit(bob.peer, Uint8Array.of(1));
    expect((await bob.cipher.decryptAndCommit(alice.peer, ping.type, ping.body)).plaintext).toEqual(
      Uint8Array.of(1),
    );
    const pong = await bob.cipher.encryptAndCommit(alice.peer, Uint8Array.of(2));
    expect((await alice.cipher.decryptAndCommit(bob.peer, pong.type, pong.body)).plaintext).toEqual(
      Uint8Array.of(2),
    );
  });
});
