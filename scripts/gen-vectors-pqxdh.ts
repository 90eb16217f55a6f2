/**
 * Generates test/vectors/pqxdh.json: PQXDH known-answer vectors (docs/PROTOCOL.md §4
 * §Vectors). Every private input comes from a fixed seeded stream, so rerunning the script
 * reproduces the file byte for byte.
 *
 * Each case runs the SDK (identity, prekeys, bundle verification, both PQXDH sides) and,
 * independently, PROTOCOL.md §4 with bare `@noble/*` primitives; the script refuses to write vectors
 * if the two disagree.
 *
 * Run: `npx tsx scripts/gen-vectors-pqxdh.ts`
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { type CryptoBackend, nobleBackend, type Rng } from '#sdk/crypto/index.ts';
import { verifyBundle } from '#sdk/protocol/bundle.ts';
import { address, generateAccountKey, generateDeviceIdentity } from '#sdk/protocol/identity.ts';
import { pqxdhInitiate, pqxdhRespond } from '#sdk/protocol/pqxdh.ts';
import {
  generateKemPrekeys,
  generateLastResortKemPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
  toKemPrekey,
  toOneTimePrekey,
  toSignedPrekey,
} from '#sdk/protocol/prekeys.ts';
import { safetyNumber } from '#sdk/protocol/safety-number.ts';
import { concatBytes, constantTimeEqual, toHex } from '#sdk/util/bytes.ts';
import { encodeIdentityBundle } from '#sdk/wire/identity.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import type { PrekeyBundle } from '#sdk/wire/prekeys.ts';
import { seededRng } from './lib/seeded-rng.ts';

const backend: CryptoBackend = nobleBackend;
const CREATED_AT_MS = Date.UTC(2025, 0, 1);
/** Alice's link: device 1, linked at the vectors' creation time. */
const ALICE_LINK = { deviceId: 1, linkEpoch: CREATED_AT_MS };
const SEED = 'Sealpost PQXDH vectors v1';

interface CaseSpec {
  name: string;
  withOneTimePrekey: boolean;
  lastResort: boolean;
  deviceId: number;
  signedPrekeyId: number;
  oneTimePrekeyId: number;
  kemPrekeyId: number;
}

const specs: CaseSpec[] = [
  {
    name: 'one-time EC prekey and one-time KEM prekey',
    withOneTimePrekey: true,
    lastResort: false,
    deviceId: 1,
    signedPrekeyId: 1,
    oneTimePrekeyId: 100,
    kemPrekeyId: 200,
  },
  {
    name: 'no one-time EC prekey, last-resort KEM prekey',
    withOneTimePrekey: false,
    lastResort: true,
    deviceId: 7,
    signedPrekeyId: 0xfffffffe,
    oneTimePrekeyId: 0,
    kemPrekeyId: 0xffffffff,
  },
];

/** Hands out `values` in order and checks each requested length. */
function queueRng(values: Uint8Array[]): Rng {
  const queue = [...values];
  return (length) => {
    const next = queue.shift();
    if (!next || next.length !== length) throw new Error('rng draw out of order');
    return next.slice();
  };
}

/** PROTOCOL.md §4 from bare primitives, as a cross-check of the SDK. */
function independentSecret(i: Record<string, Uint8Array>, spec: CaseSpec): Uint8Array {
  const dh = (priv: Uint8Array, pub: Uint8Array) => x25519.getSharedSecret(priv, pub);
  const spkPub = x25519.getPublicKey(i.bobSignedPrekeyPrivate!);
  const ek = i.ephemeralPrivate!;
  const parts = [
    dh(i.aliceDhPrivate!, spkPub),
    dh(ek, x25519.getPublicKey(i.bobDhPrivate!)),
    dh(ek, spkPub),
  ];
  if (spec.withOneTimePrekey) parts.push(dh(ek, x25519.getPublicKey(i.bobOneTimePrekeyPrivate!)));
  const kemPub = ml_kem1024.keygen(i.bobKemPrekeySeed!).publicKey;
  parts.push(ml_kem1024.encapsulate(kemPub, i.kemEncapsSeed!).sharedSecret);
  const ikm = concatBytes(new Uint8Array(32).fill(0xff), ...parts);
  return hkdf(sha256, ikm, new Uint8Array(32), LABELS.PQXDH_INFO, 32);
}

async function buildCase(spec: CaseSpec) {
  const rng = seededRng(`${SEED}: ${spec.name}`);
  // The order here is the order in which the SDK draws from its rng (docs/PROTOCOL.md §4).
  const names = [
    ['aliceAccountSeed', 32],
    ['aliceSigningSeed', 32],
    ['aliceDhPrivate', 32],
    ['bobAccountSeed', 32],
    ['bobSigningSeed', 32],
    ['bobDhPrivate', 32],
    ['bobSignedPrekeyPrivate', 32],
    ...(spec.withOneTimePrekey ? [['bobOneTimePrekeyPrivate', 32] as const] : []),
    ['bobKemPrekeySeed', 64],
    ['ephemeralPrivate', 32],
    ['kemEncapsSeed', 32],
  ] as const;
  const inputs: Record<string, Uint8Array> = {};
  for (const [name, length] of names) inputs[name] = rng(length);
  const q = queueRng(names.map(([name]) => inputs[name]!));

  const aliceAccount = await generateAccountKey(backend, q);
  // docs/PROTOCOL.md §1.3: each identity is linked as the device id its bundle is served under.
  const alice = await generateDeviceIdentity(backend, q, aliceAccount, { link: ALICE_LINK });
  const bobAccount = await generateAccountKey(backend, q);
  const bob = await generateDeviceIdentity(backend, q, bobAccount, {
    link: { deviceId: spec.deviceId, linkEpoch: CREATED_AT_MS },
  });
  const spk = await generateSignedPrekey(backend, q, bob, spec.signedPrekeyId, CREATED_AT_MS);
  const opk = spec.withOneTimePrekey
    ? (await generateOneTimePrekeys(backend, q, spec.oneTimePrekeyId, 1))[0]
    : undefined;
  const kem = spec.lastResort
    ? await generateLastResortKemPrekey(backend, q, bob, spec.kemPrekeyId, CREATED_AT_MS)
    : (await generateKemPrekeys(backend, q, bob, spec.kemPrekeyId, 1, CREATED_AT_MS))[0]!;
  const bobAddress = address(backend, bobAccount.publicKey);
  const bundle: PrekeyBundle = {
    address: bobAddress,
    deviceId: spec.deviceId,
    identity: bob.bundle,
    signedPrekey: toSignedPrekey(spk),
    ...(opk ? { oneTimePrekey: toOneTimePrekey(opk) } : {}),
    kemPrekey: toKemPrekey(kem),
  };
  const verified = await verifyBundle(backend, bundle, bobAddress);
  const init = await pqxdhInitiate(backend, q, { localIdentity: alice, bundle: verified });
  const resp = await pqxdhRespond(backend, {
    localIdentity: bob,
    remoteIdentity: alice.bundle,
    signedPrekey: spk,
    ...(opk ? { oneTimePrekey: opk } : {}),
    kemPrekey: kem,
    kemCiphertext: init.prekeyFields.kemCiphertext,
    baseKey: init.prekeyFields.baseKey,
  });
  const expected = independentSecret(inputs, spec);
  if (
    !constantTimeEqual(init.sharedSecret, expected) ||
    !constantTimeEqual(resp.sharedSecret, expected) ||
    !constantTimeEqual(resp.associatedData, init.associatedData)
  ) {
    throw new Error(`case "${spec.name}": the SDK and the independent computation disagree`);
  }

  const hex = (o: Record<string, Uint8Array>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toHex(v)]));
  return {
    name: spec.name,
    inputs: {
      ...hex(inputs),
      deviceId: spec.deviceId,
      signedPrekeyId: spec.signedPrekeyId,
      oneTimePrekeyId: spec.oneTimePrekeyId,
      kemPrekeyId: spec.kemPrekeyId,
      lastResort: spec.lastResort,
    },
    alice: {
      address: address(backend, aliceAccount.publicKey),
      identityBundle: toHex(encodeIdentityBundle(alice.bundle)),
    },
    bundle: {
      address: bundle.address,
      deviceId: bundle.deviceId,
      identity: {
        ...hex({
          accountPublic: bundle.identity.accountPublic,
          signingPublic: bundle.identity.signingPublic,
          dhPublic: bundle.identity.dhPublic,
          linkSignature: bundle.identity.linkSignature,
        }),
        deviceId: bundle.identity.deviceId,
        linkEpoch: bundle.identity.linkEpoch,
      },
      signedPrekey: { id: spk.id, ...hex({ publicKey: spk.publicKey, signature: spk.signature }) },
      ...(opk ? { oneTimePrekey: { id: opk.id, publicKey: toHex(opk.publicKey) } } : {}),
      kemPrekey: {
        id: kem.id,
        ...hex({ publicKey: kem.publicKey, signature: kem.signature }),
        lastResort: kem.lastResort,
      },
    },
    prekeyFields: {
      signedPrekeyId: init.prekeyFields.signedPrekeyId,
      oneTimePrekeyId: init.prekeyFields.oneTimePrekeyId,
      kemPrekeyId: init.prekeyFields.kemPrekeyId,
      ...hex({
        kemCiphertext: init.prekeyFields.kemCiphertext,
        baseKey: init.prekeyFields.baseKey,
      }),
    },
    sharedSecret: toHex(init.sharedSecret),
    associatedData: toHex(init.associatedData),
    safetyNumber: safetyNumber(backend, aliceAccount.publicKey, bobAccount.publicKey).displayable,
  };
}

const vectors = {
  description:
    'PQXDH (PROTOCOL.md §4) from fixed private inputs: identities, a verified prekey bundle, the ' +
    'initiator prekey-message fields, SK and AD; plus the safety number of the two accounts.',
  generator: 'scripts/gen-vectors-pqxdh.ts',
  rng:
    'inputs are consecutive slices, in the order listed, of SHA-256 counter mode over ' +
    'utf8("Sealpost PQXDH vectors v1: " + case name): block i = SHA-256(seed || u32be(i))',
  cases: [] as unknown[],
};
for (const spec of specs) vectors.cases.push(await buildCase(spec));

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'pqxdh.json');
writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${vectors.cases.length} cases to ${out}`);
