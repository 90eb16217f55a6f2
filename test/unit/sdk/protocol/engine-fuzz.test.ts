import { describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { sealedSenderSeal } from '#sdk/protocol/sealed-sender.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { Device, makeServer } from './engine-fixtures.ts';

const now = () => Date.UTC(2026, 10, 26);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** xorshift32: reproducible mutations without a dependency. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function mutate(bytes: Uint8Array, rand: (n: number) => number): Uint8Array {
  const out = mutateOnce(bytes, rand);
  if (out.length === bytes.length && out.every((b, i) => b === bytes[i])) out[0]! ^= 1;
  return out;
}

function mutateOnce(bytes: Uint8Array, rand: (n: number) => number): Uint8Array {
  const out = bytes.slice();
  switch (rand(5)) {
    case 0: // flip one bit
      out[rand(out.length)]! ^= 1 << rand(8);
      return out;
    case 1: // overwrite a run with random bytes
      for (let i = rand(out.length), n = 1 + rand(16); n > 0 && i < out.length; i++, n--)
        out[i] = rand(256);
      return out;
    case 2: // truncate
      return out.slice(0, rand(out.length));
    case 3: {
      // extend
      const extra = new Uint8Array(1 + rand(64)).map(() => rand(256));
      const grown = new Uint8Array(out.length + extra.length);
      grown.set(out);
      grown.set(extra, out.length);
      return grown;
    }
    default: // random bytes of a plausible length
      return new Uint8Array(rand(2 * out.length + 1)).map(() => rand(256));
  }
}

describe('open/decrypt path under fuzzing', () => {
  it('10,000 mutated envelopes and re-sealed mutated messages give only typed errors; the session survives', async () => {
    const server = await makeServer(now);
    const alice = await Device.create(server.trust, now);
    const bob = await Device.create(server.trust, now);
    const cert = await server.certify(alice.engine, 1);
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('hello'), cert));
    await alice.engine.unseal(
      await bob.engine.seal(alice.peer, utf8('hi'), await server.certify(bob.engine, 1)),
    );

    const rand = prng(0x5ea1);
    const codes = new Map<string, number>();
    let accepted = 0;
    const attempt = async (bytes: Uint8Array) => {
      try {
        await bob.engine.unseal(bytes);
        accepted++;
      } catch (e) {
        if (!(e instanceof SealpostError)) throw e;
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    };

    // Outer layer: mutate whole sealed envelopes.
    for (let i = 0; i < 50; i++) {
      const envelope = await alice.engine.seal(bob.peer, utf8(`outer ${i}`), cert);
      for (let j = 0; j < 100; j++) await attempt(mutate(envelope, rand));
    }
    // Inner layer: mutate the ratchet message, then seal it validly so it reaches the session.
    const sender = {
      dhPrivate: alice.engine['local'].dhPrivate,
      dhPublic: alice.engine.identity.dhPublic,
    };
    for (let i = 0; i < 50; i++) {
      const { type, body } = await alice.engine.encrypt(bob.peer, utf8(`inner ${i}`));
      for (let j = 0; j < 100; j++) {
        const message = mutate(body, rand);
        await attempt(
          await sealedSenderSeal(defaultBackend, systemRng, {
            senderIdentity: sender,
            recipientDhPublic: bob.engine.identity.dhPublic,
            senderCertificate: cert,
            contentType: type,
            message: message.length > 0 ? message : new Uint8Array(1),
            // Never reached: the mutated message fails in the session before franking checks.
            commitment: systemRng(32),
            franking: {
              openingKey: systemRng(32),
              sessionKey: systemRng(32),
              signature: systemRng(304),
              messageSignature: systemRng(64),
            },
          }),
        );
      }
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0) + accepted).toBe(10_000);
    expect(accepted).toBe(0);
    expect(codes.get('DECRYPT_FAILED')).toBeGreaterThan(1000);
    expect(codes.get('MALFORMED_ENVELOPE')).toBeGreaterThan(100);
    // The inner mutations reached the session layer (not only the sealed wrapper).
    expect(
      (codes.get('INVALID_MESSAGE') ?? 0) +
        (codes.get('UNSUPPORTED_VERSION') ?? 0) +
        (codes.get('TOO_MANY_SKIPPED') ?? 0),
    ).toBeGreaterThan(0);

    // The session still works both ways.
    const later = await bob.engine.unseal(
      await alice.engine.seal(bob.peer, utf8('still here'), cert),
    );
    expect(text(later.plaintext)).toBe('still here');
    const back = await alice.engine.unseal(
      await bob.engine.seal(alice.peer, utf8('me too'), await server.certify(bob.engine, 1)),
    );
    expect(text(back.plaintext)).toBe('me too');
  }, 300_000);
});
