/**
 * docs/PROTOCOL.md §5.2.5: the work one unauthenticated ratchet message can cause is bounded
 * across every state it is tried on (current and up to 40 archived), counted through the
 * backend rather than timed.
 */
import { describe, expect, it } from 'vitest';
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import {
  DH_STEP_COST,
  MAX_ARCHIVED_SKIP,
  MAX_SKIP,
  MAX_SKIP_PER_MESSAGE,
} from '#sdk/protocol/ratchet.ts';
import { MAX_ARCHIVED_STATES } from '#sdk/protocol/session-record.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { encodeRatchetMessage, MESSAGE_TYPE_RATCHET } from '#sdk/wire/messages.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';
import { initiate, makeParty } from './session-fixtures.ts';

/** The default backend, counting the calls an attacker can make a receiver spend. */
function countingBackend() {
  const counts = { hmac: 0, dh: 0 };
  const backend = new Proxy(defaultBackend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'hmacSha256') {
        return (key: Uint8Array, data: Uint8Array) => {
          counts.hmac++;
          return target.hmacSha256(key, data);
        };
      }
      if (prop === 'x25519') {
        return (priv: Uint8Array, pub: Uint8Array) => {
          counts.dh++;
          return target.x25519(priv, pub);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as CryptoBackend;
  return { backend, counts };
}

/** Alice holds a current and 40 archived sessions with Bob, all bound to Bob's identity. */
async function fullRecord() {
  const { backend, counts } = countingBackend();
  const rng = seededRng('skip budget');
  const alice = await makeParty(backend, rng, 'alice');
  const bob = await makeParty(backend, rng, 'bob');
  for (let i = 0; i <= MAX_ARCHIVED_STATES; i++) await initiate(backend, rng, alice, bob, 0);
  return { alice, bob, counts, rng };
}

function forged(rng: (n: number) => Uint8Array, counter: number) {
  return encodeRatchetMessage({
    ratchetKey: rng(32),
    previousCounter: 0,
    counter,
    ciphertext: rng(16),
  });
}

describe('per-message skip budget', () => {
  it.each([
    ['the largest jump the current state allows', MAX_SKIP],
    ['the largest jump every archived state allows', MAX_ARCHIVED_SKIP],
  ])('refuses a forged message with %s within the budget', async (_name, counter) => {
    const { alice, bob, counts, rng } = await fullRecord();
    counts.hmac = 0;
    counts.dh = 0;
    const error = await alice.cipher
      .decryptAndCommit(bob.peer, MESSAGE_TYPE_RATCHET, forged(rng, counter))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealpostError);
    const states = MAX_ARCHIVED_STATES + 1;
    // The budget counts chain steps and stored skipped keys (one HMAC each); each attempt
    // adds its message key and next chain key, and a DH step is charged DH_STEP_COST.
    expect(counts.hmac).toBeLessThanOrEqual(MAX_SKIP_PER_MESSAGE + 2 * states);
    expect(counts.dh).toBeLessThanOrEqual(Math.min(states, MAX_SKIP_PER_MESSAGE / DH_STEP_COST));
  });

  it('still opens a legitimate message that skips ahead in the current state', async () => {
    const rng = seededRng('skip budget legit');
    const alice = await makeParty(defaultBackend, rng, 'alice');
    const bob = await makeParty(defaultBackend, rng, 'bob');
    await initiate(defaultBackend, rng, alice, bob, 1);
    const first = await alice.cipher.encryptAndCommit(bob.peer, new Uint8Array([1]));
    await bob.cipher.decryptAndCommit(alice.peer, first.type, first.body);
    for (let i = 0; i < 300; i++) await alice.cipher.encryptAndCommit(bob.peer, new Uint8Array(1));
    const far = await alice.cipher.encryptAndCommit(bob.peer, new Uint8Array([7]));
    const opened = await bob.cipher.decryptAndCommit(alice.peer, far.type, far.body);
    expect([...opened.plaintext]).toEqual([7]);
  });

  it('costs the engine one attempt: a failure on a current pin is not repeated', async () => {
    // The engine holds pins in memory and repeats an attempt whose pin may have been stale; a
    // forged message fails on a pin that is still current, and must not be tried twice.
    const { backend, counts } = countingBackend();
    const trust = { trustRoot: new Uint8Array(32).fill(1), revokedServerKeyIds: [] };
    const { engine: alice } = await ProtocolEngine.create({
      store: new MemoryStore(),
      trust,
      backend,
    });
    const { engine: bob } = await ProtocolEngine.create({
      store: new MemoryStore(),
      trust,
      backend,
    });
    const upload = await bob.generatePrekeys({ oneTime: 0, kem: 0 });
    const bundle = {
      address: bob.address,
      deviceId: 1,
      identity: bob.identity,
      signedPrekey: upload.signedPrekey!,
      kemPrekey: upload.lastResortKemPrekey!,
    };
    for (let i = 0; i <= MAX_ARCHIVED_STATES; i++) await alice.startSession(bob.address, bundle);
    const rng = seededRng('skip budget engine');
    const peer = { address: bob.address, deviceId: 1 };
    for (const counter of [MAX_SKIP, MAX_ARCHIVED_SKIP]) {
      counts.hmac = 0;
      counts.dh = 0;
      const error = await alice
        .decrypt(peer, MESSAGE_TYPE_RATCHET, forged(rng, counter))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SealpostError);
      const states = MAX_ARCHIVED_STATES + 1;
      expect(counts.hmac).toBeLessThanOrEqual(MAX_SKIP_PER_MESSAGE + 2 * states);
      expect(counts.dh).toBeLessThanOrEqual(Math.min(states, MAX_SKIP_PER_MESSAGE / DH_STEP_COST));
    }
  });
});
