/**
 * Generates test/vectors/sealed-sender.json: sealed-sender known-answer vectors, envelope
 * version 2 (docs/PROTOCOL.md §6 §Vectors). Every input comes from a fixed seeded stream
 * and a fixed clock, so rerunning the script reproduces the file byte for byte.
 *
 * The franking fields (commitment, opening key, signature) are opaque to this layer: they are
 * fixed bytes from the stream, not a real commitment or signature (test/vectors/franking.json
 * covers those). The senders' franking keys are the real ones derived from their DH identity
 * keys (PROTOCOL.md §11), so the certificates are what a device would present.
 *
 * Each envelope is produced by the SDK and, independently, from PROTOCOL.md §6 with bare primitives;
 * the script refuses to write vectors if the two disagree. Intermediate keys are recorded so
 * another implementation can locate a mismatch.
 *
 * Run: `npx tsx scripts/gen-vectors-sealed.ts`
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CryptoBackend, nobleBackend } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { deriveFrankingKeyPair } from '#sdk/franking/index.ts';
import { issueSenderCertificate, issueServerCertificate } from '#sdk/protocol/certificates.ts';
import { sealedSenderOpen, sealedSenderSeal } from '#sdk/protocol/sealed-sender.ts';
import { concatBytes, constantTimeEqual, fromHex, toHex } from '#sdk/util/bytes.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import {
  encodeSealedContent,
  type SealedContentType,
  type SealedFranking,
} from '#sdk/wire/sealed.ts';
import { seededRng } from './lib/seeded-rng.ts';

const backend: CryptoBackend = nobleBackend;
const NOW = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const ZERO_NONCE = new Uint8Array(12);
const EMPTY = new Uint8Array(0);

const rng = seededRng('Sealpost sealed-sender vectors v2');
/** The moderator key id every franking block names (any u32: this layer does not check it). */

interface Party {
  address: string;
  deviceId: number;
  dhPrivate: Uint8Array;
  dhPublic: Uint8Array;
  frankingKey: Uint8Array;
}

async function party(address: string, deviceId: number): Promise<Party> {
  const dhPrivate = rng(32);
  return {
    address,
    deviceId,
    dhPrivate,
    dhPublic: await backend.x25519PublicKey(dhPrivate),
    frankingKey: deriveFrankingKeyPair(dhPrivate).publicKey,
  };
}

const rootSeed = rng(32);
const rootPublic = await backend.ed25519PublicKey(rootSeed);
const serverSeed = rng(32);
const serverPublic = await backend.ed25519PublicKey(serverSeed);
const keyId = 7;
const notAfter = NOW + 365 * DAY;
const serverCertificate = await issueServerCertificate(backend, rootSeed, {
  keyId,
  serverPublic,
  notAfter,
});
const trust = { trustRoot: rootPublic, revokedServerKeyIds: [] as number[] };
const recipient = await party('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 2);
const senders = [
  await party('aebagbafaydqqcikbmga2dqpcaireeyu', 1),
  await party('6dypb4hq6dypb4hq6dypb4hq6dypb4hq', 3),
];
const expires = NOW + 7 * DAY;
const certificates = await Promise.all(
  senders.map((s) =>
    issueSenderCertificate(backend, serverSeed, {
      address: s.address,
      deviceId: s.deviceId,
      identityKey: s.dhPublic,
      frankingKey: s.frankingKey,
      expires,
      serverCertificate,
    }),
  ),
);

/** PROTOCOL.md §6 with bare primitives, independent of sdk/protocol/sealed-sender.ts. */
async function sealBySpec(
  ephemeralPrivate: Uint8Array,
  sender: Party,
  commitment: Uint8Array,
  inner: Uint8Array,
) {
  const R = recipient.dhPublic;
  const ephemeralPublic = await backend.x25519PublicKey(ephemeralPrivate);
  const okm = backend.hkdfSha256(
    await backend.x25519(ephemeralPrivate, R),
    new Uint8Array(32),
    concatBytes(LABELS.SEALED_EPHEMERAL, R, ephemeralPublic),
    64,
  );
  const ck = okm.slice(0, 32);
  const k1 = okm.slice(32);
  const encStatic = backend.aeadSeal(k1, ZERO_NONCE, sender.dhPublic, EMPTY);
  const k2 = backend.hkdfSha256(
    await backend.x25519(sender.dhPrivate, R),
    concatBytes(ck, encStatic),
    LABELS.SEALED_STATIC,
    32,
  );
  // The clear prefix `version || commitment` is the inner layer's associated data.
  const prefix = concatBytes(new Uint8Array([2]), commitment);
  const envelope = concatBytes(
    prefix,
    ephemeralPublic,
    encStatic,
    backend.aeadSeal(k2, ZERO_NONCE, inner, prefix),
  );
  return { ephemeralPublic, ck, k1, k2, envelope };
}

async function makeCase(
  name: string,
  senderIndex: number,
  certIndex: number,
  contentType: SealedContentType,
  message: Uint8Array,
) {
  const sender = senders[senderIndex]!;
  const senderCertificate = certificates[certIndex]!;
  // Drawn in this order: commitment, opening key, session key, signature, message signature,
  // then the ephemeral key.
  const commitment = rng(32);
  const franking: SealedFranking = {
    openingKey: rng(32),
    sessionKey: rng(32),
    signature: rng(304),
    messageSignature: rng(64),
  };
  const ephemeralPrivate = rng(32);
  const inner = encodeSealedContent({ contentType, senderCertificate, franking, message });
  const spec = await sealBySpec(ephemeralPrivate, sender, commitment, inner);
  const envelope = await sealedSenderSeal(backend, () => ephemeralPrivate.slice(), {
    senderIdentity: sender,
    recipientDhPublic: recipient.dhPublic,
    senderCertificate,
    contentType,
    message,
    commitment,
    franking,
  });
  if (!constantTimeEqual(envelope, spec.envelope)) {
    throw new Error(`${name}: implementation and specification disagree`);
  }
  return {
    name,
    sender: {
      address: sender.address,
      deviceId: sender.deviceId,
      dhPrivate: toHex(sender.dhPrivate),
      dhPublic: toHex(sender.dhPublic),
      frankingKey: toHex(sender.frankingKey),
    },
    senderCertificate: toHex(senderCertificate),
    contentType,
    message: toHex(message),
    commitment: toHex(commitment),
    franking: {
      openingKey: toHex(franking.openingKey),
      sessionKey: toHex(franking.sessionKey),
      signature: toHex(franking.signature),
      messageSignature: toHex(franking.messageSignature),
    },
    ephemeralPrivate: toHex(ephemeralPrivate),
    ephemeralPublic: toHex(spec.ephemeralPublic),
    chainKey: toHex(spec.ck),
    ephemeralKey: toHex(spec.k1),
    staticKey: toHex(spec.k2),
    inner: toHex(inner),
    envelope: toHex(envelope),
  };
}

const valid = [
  // A 1 KiB steady-state message: a 1,081-byte ratchet message (41 header + 1024 + 16 tag).
  await makeCase('ratchet-1kib', 0, 0, 2, rng(1081)),
  await makeCase('prekey-small', 1, 1, 1, rng(300)),
  await makeCase('ratchet-empty', 0, 0, 2, new Uint8Array(0)),
];
const swapped = await makeCase('swapped-certificate', 0, 1, 2, rng(64));

const base = fromHex(valid[0]!.envelope);
const mutate = (f: (e: Uint8Array) => void) => {
  const e = base.slice();
  f(e);
  return e;
};
// Envelope offsets (version 2): commitment 1..33, E_pub 33..65, encStatic 65..113.
const invalidInputs = [
  { name: 'ephemeral-top-bit', envelope: mutate((e) => (e[64]! ^= 0x80)), now: NOW },
  { name: 'static-tag', envelope: mutate((e) => (e[112]! ^= 0x01)), now: NOW },
  { name: 'inner-tag', envelope: mutate((e) => (e[e.length - 1]! ^= 0x01)), now: NOW },
  // The clear commitment is the inner layer's associated data: swapping it breaks the tag.
  { name: 'commitment', envelope: mutate((e) => (e[1]! ^= 0x01)), now: NOW },
  { name: 'version-1', envelope: mutate((e) => (e[0] = 1)), now: NOW },
  { name: 'truncated', envelope: base.subarray(0, 400), now: NOW },
  { name: 'sender-certificate-expired', envelope: base, now: expires },
  { name: 'server-certificate-expired', envelope: base, now: notAfter + 1 },
  { name: 'server-key-revoked', envelope: base, now: NOW, revokedServerKeyIds: [keyId] },
  {
    name: 'swapped-certificate',
    envelope: fromHex(swapped.envelope),
    now: NOW,
  },
];
const invalid = [];
for (const input of invalidInputs) {
  const revokedServerKeyIds = input.revokedServerKeyIds ?? [];
  const error = await sealedSenderOpen(backend, {
    recipientIdentity: recipient,
    envelope: input.envelope,
    trust: { ...trust, revokedServerKeyIds },
    now: input.now,
  }).then(
    () => {
      throw new Error(`${input.name}: opened`);
    },
    (e: unknown) => {
      if (!(e instanceof SealpostError)) throw e;
      return e.code;
    },
  );
  invalid.push({
    name: input.name,
    envelope: toHex(input.envelope),
    now: input.now,
    revokedServerKeyIds,
    error,
  });
}

const vectors = {
  description:
    'Sealpost sealed sender, envelope version 2 (docs/PROTOCOL.md §6). Franking fields are opaque bytes at this layer. Byte strings are hex; times are ms since the Unix epoch.',
  generator: 'scripts/gen-vectors-sealed.ts',
  now: NOW,
  trustRoot: { seed: toHex(rootSeed), publicKey: toHex(rootPublic) },
  server: {
    seed: toHex(serverSeed),
    publicKey: toHex(serverPublic),
    keyId,
    notAfter,
    certificate: toHex(serverCertificate),
  },
  recipient: {
    address: recipient.address,
    deviceId: recipient.deviceId,
    dhPrivate: toHex(recipient.dhPrivate),
    dhPublic: toHex(recipient.dhPublic),
  },
  senderCertificateExpires: expires,
  valid,
  invalid,
};

const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'vectors',
  'sealed-sender.json',
);
writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors to ${out}`);
