import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { issueSenderCertificate, issueServerCertificate } from '#sdk/protocol/certificates.ts';
import { sealedSenderOpen, sealedSenderSeal } from '#sdk/protocol/sealed-sender.ts';
import { concatBytes } from '#sdk/util/bytes.ts';

const backend = defaultBackend;
const NOW = 1_750_000_000_000;

async function makeWorld() {
  const rootSeed = systemRng(32);
  const serverSeed = systemRng(32);
  const serverCertificate = await issueServerCertificate(backend, rootSeed, {
    keyId: 1,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: NOW + 86_400_000,
  });
  const alicePrivate = systemRng(32);
  const bobPrivate = systemRng(32);
  const alice = { dhPrivate: alicePrivate, dhPublic: await backend.x25519PublicKey(alicePrivate) };
  const bob = { dhPrivate: bobPrivate, dhPublic: await backend.x25519PublicKey(bobPrivate) };
  const aliceCert = await issueSenderCertificate(backend, serverSeed, {
    address: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    deviceId: 1,
    identityKey: alice.dhPublic,
    frankingKey: systemRng(32),
    expires: NOW + 86_400_000,
    serverCertificate,
  });
  const trust = { trustRoot: await backend.ed25519PublicKey(rootSeed), revokedServerKeyIds: [] };
  return { alice, bob, aliceCert, trust };
}

describe('sealed sender fuzzing', () => {
  it('answers only SealpostError subclasses to 10,000 mutated envelopes', async () => {
    const w = await makeWorld();
    const message = systemRng(200);
    const envelope = await sealedSenderSeal(backend, systemRng, {
      senderIdentity: w.alice,
      recipientDhPublic: w.bob.dhPublic,
      senderCertificate: w.aliceCert,
      contentType: 1,
      message,
      // Opaque at this layer: random bytes stand in for the franking fields.
      commitment: systemRng(32),
      franking: {
        openingKey: systemRng(32),
        sessionKey: systemRng(32),
        signature: systemRng(304),
        messageSignature: systemRng(64),
      },
    });
    const index = fc.nat({ max: envelope.length - 1 });
    const mutation = fc.oneof(
      fc.tuple(index, fc.integer({ min: 0, max: 7 })).map(([i, bit]) => (e: Uint8Array) => {
        const out = e.slice();
        out[i]! ^= 1 << bit;
        return out;
      }),
      fc.tuple(index, fc.nat({ max: 255 })).map(([i, v]) => (e: Uint8Array) => {
        const out = e.slice();
        out[i] = v;
        return out;
      }),
      index.map((n) => (e: Uint8Array) => e.slice(0, n)),
      fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((x) => (e: Uint8Array) => concatBytes(e, x)),
      fc.tuple(index, fc.uint8Array({ minLength: 1, maxLength: 48 })).map(
        ([i, x]) =>
          (e: Uint8Array) =>
            concatBytes(e.subarray(0, i), x, e.subarray(i + x.length)),
      ),
      fc.uint8Array({ maxLength: 600 }).map((x) => (_: Uint8Array) => x),
    );
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (steps) => {
        const mutated = steps.reduce((e, step) => step(e), envelope);
        try {
          const opened = await sealedSenderOpen(backend, {
            recipientIdentity: w.bob,
            envelope: mutated,
            trust: w.trust,
            now: NOW,
          });
          // Only a mutation that changed nothing can open, and then to the same message.
          expect(mutated).toEqual(envelope);
          expect(opened.message).toEqual(message);
        } catch (e) {
          if (!(e instanceof SealpostError)) throw e;
          rejected++;
        }
      }),
      { numRuns: 10_000 },
    );
    expect(rejected).toBeGreaterThan(9_000);
  }, 180_000);
});
