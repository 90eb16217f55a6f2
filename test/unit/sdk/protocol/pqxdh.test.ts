import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { defaultBackend, type Rng, systemRng } from '#sdk/crypto/index.ts';
import { DecryptError, InvalidKeyError } from '#sdk/errors.ts';
import { verifyBundle } from '#sdk/protocol/bundle.ts';
import { pqxdhInitiate, pqxdhRespond } from '#sdk/protocol/pqxdh.ts';
import { generateSignedPrekey } from '#sdk/protocol/prekeys.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import { encodeIdentityBundle } from '#sdk/wire/identity.ts';
import { signedPrekeyPayload } from '#sdk/wire/prekeys.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';
import { makeDevice, NOW } from './device-fixtures.ts';

const backend = defaultBackend;
const alice = await makeDevice();
const bob = await makeDevice();

async function respondAsBob(init: Awaited<ReturnType<typeof pqxdhInitiate>>, withOpk: boolean) {
  return pqxdhRespond(backend, {
    localIdentity: bob.identity,
    remoteIdentity: alice.identity.bundle,
    signedPrekey: bob.spk,
    ...(withOpk ? { oneTimePrekey: bob.opks[0]! } : {}),
    kemPrekey: bob.kem,
    kemCiphertext: init.prekeyFields.kemCiphertext,
    baseKey: init.prekeyFields.baseKey,
  });
}

describe('PQXDH agreement', () => {
  it.each([true, false])('initiator and responder agree (one-time prekey: %s)', async (withOpk) => {
    const init = await pqxdhInitiate(backend, systemRng, {
      localIdentity: alice.identity,
      bundle: await bob.bundle(withOpk),
    });
    const resp = await respondAsBob(init, withOpk);
    expect(init.sharedSecret).toHaveLength(32);
    expect(resp.sharedSecret).toEqual(init.sharedSecret);
    expect(resp.associatedData).toEqual(init.associatedData);
    expect(init.prekeyFields).toEqual({
      signedPrekeyId: 1,
      oneTimePrekeyId: withOpk ? 100 : 0,
      kemPrekeyId: 200,
      kemCiphertext: expect.any(Uint8Array),
      baseKey: init.baseKeyPublic,
    });
    expect(init.prekeyFields.kemCiphertext).toHaveLength(1568);
    expect(init.remoteSignedPrekeyPublic).toEqual(bob.spk.publicKey);
  });

  it('computes SK = HKDF(0xFF*32 || DH1..DH4 || SS, 0*32, info) per PROTOCOL.md §4', async () => {
    const ek = seededRng('ek')(32);
    const encapsSeed = seededRng('kem')(32);
    const draws = [ek, encapsSeed];
    const init = await pqxdhInitiate(backend, () => draws.shift()!.slice(), {
      localIdentity: alice.identity,
      bundle: await bob.bundle(true),
    });
    const dh = (a: Uint8Array, b: Uint8Array) => x25519.getSharedSecret(a, b);
    const { sharedSecret: ss, cipherText } = ml_kem1024.encapsulate(bob.kem.publicKey, encapsSeed);
    const ikm = concatBytes(
      new Uint8Array(32).fill(0xff),
      dh(alice.identity.dhPrivate, bob.spk.publicKey),
      dh(ek, bob.identity.bundle.dhPublic),
      dh(ek, bob.spk.publicKey),
      dh(ek, bob.opks[0]!.publicKey),
      ss,
    );
    const info = new TextEncoder().encode('Sealpost_X25519_SHA-256_ML-KEM-1024');
    expect(init.sharedSecret).toEqual(hkdf(sha256, ikm, new Uint8Array(32), info, 32));
    expect(init.prekeyFields.kemCiphertext).toEqual(cipherText);
    expect(init.baseKeyPublic).toEqual(x25519.getPublicKey(ek));
  });

  it('lays out AD as IdentityBundle_A || IdentityBundle_B (344 bytes)', async () => {
    const init = await pqxdhInitiate(backend, systemRng, {
      localIdentity: alice.identity,
      bundle: await bob.bundle(false),
    });
    expect(init.associatedData).toHaveLength(344);
    expect(init.associatedData).toEqual(
      concatBytes(
        encodeIdentityBundle(alice.identity.bundle),
        encodeIdentityBundle(bob.identity.bundle),
      ),
    );
  });

  it('is deterministic under a fixed rng', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const rng = seededRng('determinism');
      const a = await makeDevice(rng);
      const b = await makeDevice(rng);
      runs.push(
        await pqxdhInitiate(backend, rng, {
          localIdentity: a.identity,
          bundle: await b.bundle(true),
        }),
      );
    }
    expect(runs[0]).toEqual(runs[1]);
    const other = await pqxdhInitiate(backend, seededRng('another seed'), {
      localIdentity: alice.identity,
      bundle: await bob.bundle(true),
    });
    expect(other.sharedSecret).not.toEqual(runs[0]!.sharedSecret);
  });

  it('wipes the ephemeral private key it drew from the rng', async () => {
    const drawn: Uint8Array[] = [];
    const rng: Rng = (n) => {
      const b = systemRng(n);
      drawn.push(b);
      return b;
    };
    await pqxdhInitiate(backend, rng, {
      localIdentity: alice.identity,
      bundle: await bob.bundle(true),
    });
    expect(drawn).toHaveLength(2);
    for (const b of drawn) expect(b.every((x) => x === 0)).toBe(true);
  });
});

describe('PQXDH binding', () => {
  async function initiate() {
    return pqxdhInitiate(backend, systemRng, {
      localIdentity: alice.identity,
      bundle: await bob.bundle(true),
    });
  }

  /** What the session layer does with SK and AD: a later AEAD must not open across a mismatch. */
  function sealWith(secret: Uint8Array, ad: Uint8Array): Uint8Array {
    return backend.aeadSeal(secret, new Uint8Array(12), new TextEncoder().encode('hi'), ad);
  }

  it('a different initiator identity key yields a different secret and a failing AEAD', async () => {
    const init = await initiate();
    const mallory = await makeDevice();
    const resp = await pqxdhRespond(backend, {
      localIdentity: bob.identity,
      remoteIdentity: { ...alice.identity.bundle, dhPublic: mallory.identity.bundle.dhPublic },
      signedPrekey: bob.spk,
      oneTimePrekey: bob.opks[0]!,
      kemPrekey: bob.kem,
      kemCiphertext: init.prekeyFields.kemCiphertext,
      baseKey: init.prekeyFields.baseKey,
    });
    expect(resp.sharedSecret).not.toEqual(init.sharedSecret);
    const box = sealWith(init.sharedSecret, init.associatedData);
    expect(() =>
      backend.aeadOpen(resp.sharedSecret, new Uint8Array(12), box, resp.associatedData),
    ).toThrow(DecryptError);
  });

  it('a different signed prekey or one-time prekey yields a different secret', async () => {
    const init = await initiate();
    const otherSpk = await generateSignedPrekey(backend, systemRng, bob.identity, 1, NOW);
    const base = {
      localIdentity: bob.identity,
      remoteIdentity: alice.identity.bundle,
      kemPrekey: bob.kem,
      kemCiphertext: init.prekeyFields.kemCiphertext,
      baseKey: init.prekeyFields.baseKey,
    };
    const wrongSpk = await pqxdhRespond(backend, {
      ...base,
      signedPrekey: otherSpk,
      oneTimePrekey: bob.opks[0]!,
    });
    const wrongOpk = await pqxdhRespond(backend, {
      ...base,
      signedPrekey: bob.spk,
      oneTimePrekey: bob.opks[1]!,
    });
    const noOpk = await pqxdhRespond(backend, { ...base, signedPrekey: bob.spk });
    for (const r of [wrongSpk, wrongOpk, noOpk])
      expect(r.sharedSecret).not.toEqual(init.sharedSecret);
  });

  it('a modified KEM ciphertext yields a different secret (implicit rejection) and a failing AEAD', async () => {
    const init = await initiate();
    const ct = init.prekeyFields.kemCiphertext.slice();
    ct[100]! ^= 0x40;
    const resp = await pqxdhRespond(backend, {
      localIdentity: bob.identity,
      remoteIdentity: alice.identity.bundle,
      signedPrekey: bob.spk,
      oneTimePrekey: bob.opks[0]!,
      kemPrekey: bob.kem,
      kemCiphertext: ct,
      baseKey: init.prekeyFields.baseKey,
    });
    expect(resp.sharedSecret).not.toEqual(init.sharedSecret);
    const box = sealWith(init.sharedSecret, init.associatedData);
    expect(() =>
      backend.aeadOpen(resp.sharedSecret, new Uint8Array(12), box, resp.associatedData),
    ).toThrow(DecryptError);
  });
});

describe('PQXDH input checks', () => {
  // RFC 7748 §6.1 / libsignal low-order points: 0, 1 and a point of order 8.
  const lowOrder = [
    new Uint8Array(32),
    concatBytes(new Uint8Array([1]), new Uint8Array(31)),
    fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
  ];

  it.each(lowOrder.map((k, i) => [i, k] as const))(
    'responder rejects low-order base key #%d',
    async (_i, key) => {
      const init = await pqxdhInitiate(backend, systemRng, {
        localIdentity: alice.identity,
        bundle: await bob.bundle(true),
      });
      await expect(
        pqxdhRespond(backend, {
          localIdentity: bob.identity,
          remoteIdentity: alice.identity.bundle,
          signedPrekey: bob.spk,
          kemPrekey: bob.kem,
          kemCiphertext: init.prekeyFields.kemCiphertext,
          baseKey: key,
        }),
      ).rejects.toThrow(InvalidKeyError);
    },
  );

  it('initiator rejects a correctly signed low-order signed prekey', async () => {
    const good = await bob.bundle(true);
    const publicKey = lowOrder[2]!;
    const signature = await backend.ed25519Sign(
      bob.identity.signingSeed,
      signedPrekeyPayload(1, publicKey),
    );
    const bad = await verifyBundle(
      backend,
      { ...good, signedPrekey: { id: 1, publicKey, signature } },
      bob.addr,
    );
    await expect(
      pqxdhInitiate(backend, systemRng, { localIdentity: alice.identity, bundle: bad }),
    ).rejects.toThrow(InvalidKeyError);
  });

  it('responder rejects wrong sizes', async () => {
    const init = await pqxdhInitiate(backend, systemRng, {
      localIdentity: alice.identity,
      bundle: await bob.bundle(false),
    });
    const base = {
      localIdentity: bob.identity,
      remoteIdentity: alice.identity.bundle,
      signedPrekey: bob.spk,
      kemPrekey: bob.kem,
      kemCiphertext: init.prekeyFields.kemCiphertext,
      baseKey: init.prekeyFields.baseKey,
    };
    await expect(pqxdhRespond(backend, { ...base, baseKey: new Uint8Array(33) })).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(
      pqxdhRespond(backend, { ...base, kemCiphertext: base.kemCiphertext.subarray(1) }),
    ).rejects.toThrow(ArgumentRangeError);
  });
});
