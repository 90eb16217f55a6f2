import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CryptoBackend, Rng } from '#sdk/crypto/backend.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { defaultBackend as nodeDefault } from '#sdk/crypto/node-backend.ts';
import { defaultBackend as webDefault } from '#sdk/crypto/web-backend.ts';
import { InvalidBundleError } from '#sdk/errors.ts';
import { verifyBundle } from '#sdk/protocol/bundle.ts';
import { address, generateAccountKey, generateDeviceIdentity } from '#sdk/protocol/identity.ts';
import { pqxdhInitiate, pqxdhRespond } from '#sdk/protocol/pqxdh.ts';
import {
  generateKemPrekeys,
  generateLastResortKemPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
} from '#sdk/protocol/prekeys.ts';
import { safetyNumber } from '#sdk/protocol/safety-number.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';
import { encodeIdentityBundle } from '#sdk/wire/identity.ts';
import type { PrekeyBundle } from '#sdk/wire/prekeys.ts';

interface VectorCase {
  name: string;
  inputs: Record<string, string> & {
    deviceId: number;
    signedPrekeyId: number;
    oneTimePrekeyId: number;
    kemPrekeyId: number;
    lastResort: boolean;
  };
  alice: { address: string; identityBundle: string };
  bundle: {
    address: string;
    deviceId: number;
    identity: Record<'accountPublic' | 'signingPublic' | 'dhPublic' | 'linkSignature', string> & {
      deviceId: number;
      linkEpoch: number;
    };
    signedPrekey: { id: number; publicKey: string; signature: string };
    oneTimePrekey?: { id: number; publicKey: string };
    kemPrekey: { id: number; publicKey: string; signature: string; lastResort: boolean };
  };
  prekeyFields: {
    signedPrekeyId: number;
    oneTimePrekeyId: number;
    kemPrekeyId: number;
    kemCiphertext: string;
    baseKey: string;
  };
  sharedSecret: string;
  associatedData: string;
  safetyNumber: string;
}

const vectors: { cases: VectorCase[] } = JSON.parse(
  readFileSync(new URL('../../../vectors/pqxdh.json', import.meta.url), 'utf8'),
);

const backends = [...new Set<CryptoBackend>([nobleBackend, nodeDefault, webDefault])];
const NOW = 0;

/** The rng draws of the whole exchange, in the order docs/PROTOCOL.md §4 fixes. */
function replay(c: VectorCase): Rng & { left: () => number } {
  const order = [
    'aliceAccountSeed',
    'aliceSigningSeed',
    'aliceDhPrivate',
    'bobAccountSeed',
    'bobSigningSeed',
    'bobDhPrivate',
    'bobSignedPrekeyPrivate',
    ...(c.inputs.oneTimePrekeyId !== 0 ? ['bobOneTimePrekeyPrivate'] : []),
    'bobKemPrekeySeed',
    'ephemeralPrivate',
    'kemEncapsSeed',
  ];
  const queue = order.map((name) => fromHex(c.inputs[name]!));
  const rng = (n: number) => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error('unexpected rng draw');
    return next;
  };
  return Object.assign(rng, { left: () => queue.length });
}

function parseBundle(b: VectorCase['bundle']): PrekeyBundle {
  return {
    address: b.address,
    deviceId: b.deviceId,
    identity: {
      accountPublic: fromHex(b.identity.accountPublic),
      signingPublic: fromHex(b.identity.signingPublic),
      dhPublic: fromHex(b.identity.dhPublic),
      deviceId: b.identity.deviceId,
      linkEpoch: b.identity.linkEpoch,
      linkSignature: fromHex(b.identity.linkSignature),
    },
    signedPrekey: {
      id: b.signedPrekey.id,
      publicKey: fromHex(b.signedPrekey.publicKey),
      signature: fromHex(b.signedPrekey.signature),
    },
    ...(b.oneTimePrekey
      ? { oneTimePrekey: { id: b.oneTimePrekey.id, publicKey: fromHex(b.oneTimePrekey.publicKey) } }
      : {}),
    kemPrekey: {
      id: b.kemPrekey.id,
      publicKey: fromHex(b.kemPrekey.publicKey),
      signature: fromHex(b.kemPrekey.signature),
      lastResort: b.kemPrekey.lastResort,
    },
  };
}

it('has vectors with and without a one-time prekey', () => {
  expect(vectors.cases.map((c) => c.inputs.oneTimePrekeyId !== 0)).toEqual([true, false]);
});

describe.each(backends.map((b) => [b.name, b] as const))('PQXDH vectors on %s', (_n, backend) => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))('recomputes "%s"', async (_name, c) => {
    const rng = replay(c);
    const i = c.inputs;
    const aliceAccount = await generateAccountKey(backend, rng);
    const alice = await generateDeviceIdentity(backend, rng, aliceAccount, {
      link: { deviceId: 1, linkEpoch: c.bundle.identity.linkEpoch },
    });
    const bobAccount = await generateAccountKey(backend, rng);
    const bob = await generateDeviceIdentity(backend, rng, bobAccount, {
      link: { deviceId: c.bundle.deviceId, linkEpoch: c.bundle.identity.linkEpoch },
    });
    const spk = await generateSignedPrekey(backend, rng, bob, i.signedPrekeyId, NOW);
    const opk =
      i.oneTimePrekeyId !== 0
        ? (await generateOneTimePrekeys(backend, rng, i.oneTimePrekeyId, 1))[0]
        : undefined;
    const kem = i.lastResort
      ? await generateLastResortKemPrekey(backend, rng, bob, i.kemPrekeyId, NOW)
      : (await generateKemPrekeys(backend, rng, bob, i.kemPrekeyId, 1, NOW))[0]!;

    expect(address(backend, aliceAccount.publicKey)).toBe(c.alice.address);
    expect(toHex(encodeIdentityBundle(alice.bundle))).toBe(c.alice.identityBundle);
    const expectedBundle = parseBundle(c.bundle);
    expect(address(backend, bobAccount.publicKey)).toBe(expectedBundle.address);
    expect(bob.bundle).toEqual(expectedBundle.identity);
    expect({ id: spk.id, publicKey: spk.publicKey, signature: spk.signature }).toEqual(
      expectedBundle.signedPrekey,
    );
    expect(opk && { id: opk.id, publicKey: opk.publicKey }).toEqual(expectedBundle.oneTimePrekey);
    expect({
      id: kem.id,
      publicKey: kem.publicKey,
      signature: kem.signature,
      lastResort: kem.lastResort,
    }).toEqual(expectedBundle.kemPrekey);

    const verified = await verifyBundle(backend, expectedBundle, expectedBundle.address);
    const init = await pqxdhInitiate(backend, rng, { localIdentity: alice, bundle: verified });
    expect(rng.left()).toBe(0);
    expect(toHex(init.sharedSecret)).toBe(c.sharedSecret);
    expect(toHex(init.associatedData)).toBe(c.associatedData);
    expect(init.prekeyFields).toEqual({
      signedPrekeyId: c.prekeyFields.signedPrekeyId,
      oneTimePrekeyId: c.prekeyFields.oneTimePrekeyId,
      kemPrekeyId: c.prekeyFields.kemPrekeyId,
      kemCiphertext: fromHex(c.prekeyFields.kemCiphertext),
      baseKey: fromHex(c.prekeyFields.baseKey),
    });

    const resp = await pqxdhRespond(backend, {
      localIdentity: bob,
      remoteIdentity: alice.bundle,
      signedPrekey: spk,
      ...(opk ? { oneTimePrekey: opk } : {}),
      kemPrekey: kem,
      kemCiphertext: fromHex(c.prekeyFields.kemCiphertext),
      baseKey: fromHex(c.prekeyFields.baseKey),
    });
    expect(toHex(resp.sharedSecret)).toBe(c.sharedSecret);
    expect(toHex(resp.associatedData)).toBe(c.associatedData);
    expect(safetyNumber(backend, aliceAccount.publicKey, bobAccount.publicKey).displayable).toBe(
      c.safetyNumber,
    );
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))(
    'rejects the bundle of "%s" with its KEM kind flipped',
    async (_name, c) => {
      const b = parseBundle(c.bundle);
      const flipped = { ...b, kemPrekey: { ...b.kemPrekey, lastResort: !b.kemPrekey.lastResort } };
      await expect(verifyBundle(backend, flipped, b.address)).rejects.toThrow(InvalidBundleError);
    },
  );
});
