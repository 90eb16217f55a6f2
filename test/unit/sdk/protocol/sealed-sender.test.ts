import { beforeAll, describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import {
  DecryptError,
  InvalidCertificateError,
  MalformedEnvelopeError,
  UnsupportedVersionError,
} from '#sdk/errors.ts';
import {
  issueSenderCertificate,
  issueServerCertificate,
  type TrustConfig,
} from '#sdk/protocol/certificates.ts';
import {
  assertCertificateMatchesIdentity,
  type DhIdentity,
  sealedSenderOpen,
  sealedSenderSeal,
} from '#sdk/protocol/sealed-sender.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { decodeSenderCertificate } from '#sdk/wire/certificates.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import { MAX_SEALED_MESSAGE_BYTES, type SealedFranking } from '#sdk/wire/sealed.ts';

const backend = defaultBackend;
const DAY = 86_400_000;
const NOW = 1_750_000_000_000;
const ZERO_NONCE = new Uint8Array(12);

interface World {
  rootSeed: Uint8Array;
  serverSeed: Uint8Array;
  serverCert: Uint8Array;
  trust: TrustConfig;
  alice: DhIdentity;
  bob: DhIdentity;
  carol: DhIdentity;
  aliceCert: Uint8Array;
  carolCert: Uint8Array;
}

async function dhIdentity(): Promise<DhIdentity> {
  const dhPrivate = systemRng(32);
  return { dhPrivate, dhPublic: await backend.x25519PublicKey(dhPrivate) };
}

async function makeWorld(serverNotAfter = NOW + 90 * DAY, keyId = 1): Promise<World> {
  const rootSeed = systemRng(32);
  const serverSeed = systemRng(32);
  const serverCert = await issueServerCertificate(backend, rootSeed, {
    keyId,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: serverNotAfter,
  });
  const [alice, bob, carol] = [await dhIdentity(), await dhIdentity(), await dhIdentity()];
  const certFor = (address: string, id: DhIdentity) =>
    issueSenderCertificate(backend, serverSeed, {
      address,
      deviceId: 1,
      identityKey: id.dhPublic,
      // Opaque at this layer: the engine checks franking keys (franking tests).
      frankingKey: systemRng(32),
      expires: NOW + 7 * DAY,
      serverCertificate: serverCert,
    });
  return {
    rootSeed,
    serverSeed,
    serverCert,
    trust: { trustRoot: await backend.ed25519PublicKey(rootSeed), revokedServerKeyIds: [] },
    alice,
    bob,
    carol,
    aliceCert: await certFor('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', alice),
    carolCert: await certFor('cccccccccccccccccccccccccccccccc', carol),
  };
}

/**
 * The sealed-sender layer carries franking fields without checking them (the engine does), so
 * random bytes of the right sizes stand in for a real commitment, opening key and signature.
 */
function randomFranking(): { commitment: Uint8Array; franking: SealedFranking } {
  return {
    commitment: systemRng(32),
    franking: {
      openingKey: systemRng(32),
      sessionKey: systemRng(32),
      signature: systemRng(304),
      messageSignature: systemRng(64),
    },
  };
}

/**
 * Builds an envelope straight from PROTOCOL.md §6 with the primitives, independently of the
 * implementation, so the layout is checked against the spec and arbitrary (even invalid)
 * static keys and inner contents can be sealed. Version 2: the commitment follows the version
 * byte in clear, and `version || commitment` is the inner layer's associated data.
 */
async function sealBySpec(
  ephemeralPrivate: Uint8Array,
  sender: { dhPrivate: Uint8Array; staticPublic: Uint8Array },
  recipientPublic: Uint8Array,
  inner: Uint8Array,
  commitment: Uint8Array = systemRng(32),
  aad: 'prefix' | 'empty' = 'prefix',
): Promise<Uint8Array> {
  const ePub = await backend.x25519PublicKey(ephemeralPrivate);
  const okm = backend.hkdfSha256(
    await backend.x25519(ephemeralPrivate, recipientPublic),
    new Uint8Array(32),
    concatBytes(LABELS.SEALED_EPHEMERAL, recipientPublic, ePub),
    64,
  );
  const encStatic = backend.aeadSeal(
    okm.slice(32),
    ZERO_NONCE,
    sender.staticPublic,
    new Uint8Array(0),
  );
  const k2 = backend.hkdfSha256(
    await backend.x25519(sender.dhPrivate, recipientPublic),
    concatBytes(okm.slice(0, 32), encStatic),
    LABELS.SEALED_STATIC,
    32,
  );
  const prefix = concatBytes(fromHex('02'), commitment);
  const encInner = backend.aeadSeal(
    k2,
    ZERO_NONCE,
    inner,
    aad === 'prefix' ? prefix : new Uint8Array(0),
  );
  return concatBytes(prefix, ePub, encStatic, encInner);
}

/**
 * `type || var16(cert) || u32 moderatorKeyId || openingKey(32) || signature(304) || u32 len ||
 * message || zeros` to the Padmé length.
 */
function innerBySpec(
  contentType: number,
  cert: Uint8Array,
  message: Uint8Array,
  franking: SealedFranking = randomFranking().franking,
): Uint8Array {
  const unpadded = 1 + 2 + cert.length + 32 + 32 + 304 + 64 + 4 + message.length;
  const out = new Uint8Array(padmeLength(unpadded));
  const view = new DataView(out.buffer);
  out[0] = contentType;
  view.setUint16(1, cert.length);
  out.set(cert, 3);
  let at = 3 + cert.length;
  out.set(franking.openingKey, at);
  out.set(franking.sessionKey, at + 32);
  out.set(franking.signature, at + 64);
  out.set(franking.messageSignature, at + 368);
  at += 432;
  view.setUint32(at, message.length);
  out.set(message, at + 4);
  return out;
}

const fixedRng = (bytes: Uint8Array) => (n: number) => {
  expect(n).toBe(32);
  return bytes.slice();
};

describe('sealed sender', () => {
  let w: World;
  const message = systemRng(1081);
  const { commitment, franking } = randomFranking();
  let envelope: Uint8Array;
  beforeAll(async () => {
    w = await makeWorld();
    envelope = await sealedSenderSeal(backend, systemRng, {
      senderIdentity: w.alice,
      recipientDhPublic: w.bob.dhPublic,
      senderCertificate: w.aliceCert,
      contentType: 2,
      message,
      commitment,
      franking,
    });
  });
  const open = (env: Uint8Array, overrides: Partial<{ now: number; trust: TrustConfig }> = {}) =>
    sealedSenderOpen(backend, {
      recipientIdentity: w.bob,
      envelope: env,
      trust: overrides.trust ?? w.trust,
      now: overrides.now ?? NOW,
    });

  it('round-trips sender, content type and message', async () => {
    const opened = await open(envelope);
    expect(opened.senderAddress).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(opened.senderDeviceId).toBe(1);
    expect(opened.senderIdentityKey).toEqual(w.alice.dhPublic);
    expect(opened.contentType).toBe(2);
    expect(opened.message).toEqual(message);
    expect(opened.certificate).toEqual(decodeSenderCertificate(w.aliceCert));
  });

  it('carries the commitment in clear and returns it and the franking block unchecked', async () => {
    expect(envelope.subarray(0, 33)).toEqual(concatBytes(fromHex('02'), commitment));
    const opened = await open(envelope);
    expect(opened.commitment).toEqual(commitment);
    // Random bytes: this layer neither opens the commitment nor verifies the signature.
    expect(opened.franking).toEqual(franking);
  });

  it('round-trips prekey messages and edge sizes', async () => {
    for (const size of [0, 1, 300, MAX_SEALED_MESSAGE_BYTES]) {
      const m = systemRng(size);
      const env = await sealedSenderSeal(backend, systemRng, {
        senderIdentity: w.alice,
        recipientDhPublic: w.bob.dhPublic,
        senderCertificate: w.aliceCert,
        contentType: 1,
        message: m,
        ...randomFranking(),
      });
      const opened = await open(env);
      expect(opened.contentType).toBe(1);
      expect(opened.message).toEqual(m);
    }
  });

  it('produces exactly the PROTOCOL.md §6 bytes and wipes the ephemeral private key', async () => {
    const ephemeral = systemRng(32);
    const drawn: Uint8Array[] = [];
    const env = await sealedSenderSeal(
      backend,
      (n) => {
        const b = fixedRng(ephemeral)(n);
        drawn.push(b);
        return b;
      },
      {
        senderIdentity: w.alice,
        recipientDhPublic: w.bob.dhPublic,
        senderCertificate: w.aliceCert,
        contentType: 2,
        message,
        commitment,
        franking,
      },
    );
    const expected = await sealBySpec(
      ephemeral,
      { dhPrivate: w.alice.dhPrivate, staticPublic: w.alice.dhPublic },
      w.bob.dhPublic,
      innerBySpec(2, w.aliceCert, message, franking),
      commitment,
    );
    expect(env).toEqual(expected);
    expect(drawn).toHaveLength(1);
    expect(drawn[0]).toEqual(new Uint8Array(32));
  });

  it('seals a 1 KiB steady-state message into 1,921 bytes, 496 of them franking', () => {
    // 1 version + 32 commitment + 32 E_pub + 48 encStatic + padme(1 + 2 + 272 cert
    //   + 32 + 32 + 304 + 64 franking block + 4 + 1081 = 1792) = 1792 + 16 tag
    expect(w.aliceCert.length).toBe(272);
    expect(envelope.length).toBe(1 + 32 + 32 + 48 + padmeLength(1 + 2 + 272 + 432 + 4 + 1081) + 16);
    expect(envelope.length).toBe(1921);
    // Franking adds 496 bytes before padding: the commitment (32), the franking key in the
    // certificate (32) and the inner block (opening key 32, session key 32, session signature
    // 304, message signature 64). Signal's sealed sender v1 (1,495 bytes for this plaintext)
    // carries none of it; everything else still fits under it.
    const frankingBytes = 32 + 32 + 32 + 32 + 304 + 64;
    expect(envelope.length - frankingBytes).toBeLessThanOrEqual(1495);
  });

  it('is randomized: sealing twice gives different envelopes', async () => {
    const again = await sealedSenderSeal(backend, systemRng, {
      senderIdentity: w.alice,
      recipientDhPublic: w.bob.dhPublic,
      senderCertificate: w.aliceCert,
      contentType: 2,
      message,
      commitment,
      franking,
    });
    // Same commitment and content, fresh E_pub (bytes 33..65) and so a fresh ciphertext.
    expect(again.subarray(0, 33)).toEqual(envelope.subarray(0, 33));
    expect(again.subarray(33, 65)).not.toEqual(envelope.subarray(33, 65));
    expect(again.subarray(113)).not.toEqual(envelope.subarray(113));
    expect((await open(again)).message).toEqual(message);
  });

  it('answers DecryptError to a modified byte in every layer, the clear commitment included', async () => {
    const layers = [
      [1, 33],
      [33, 65],
      [65, 113],
      [113, envelope.length - 16],
      [envelope.length - 16, envelope.length],
    ] as const;
    for (const [from, to] of layers) {
      for (let i = from; i < to; i += Math.max(1, Math.floor((to - from) / 12))) {
        const bad = envelope.slice();
        bad[i]! ^= 1 << (i % 8);
        await expect(open(bad), `byte ${i}`).rejects.toThrow(DecryptError);
      }
    }
  });

  it('authenticates the clear prefix: an inner layer sealed without it as AAD fails', async () => {
    const sender = { dhPrivate: w.alice.dhPrivate, staticPublic: w.alice.dhPublic };
    const inner = innerBySpec(2, w.aliceCert, message, franking);
    const ephemeral = systemRng(32);
    const withAad = await sealBySpec(ephemeral, sender, w.bob.dhPublic, inner, commitment);
    await expect(open(withAad)).resolves.toMatchObject({ commitment, franking, message });
    // The v1 construction (empty AAD) with the same keys: the service could then swap the
    // commitment undetected, so it must not open.
    const emptyAad = await sealBySpec(
      ephemeral,
      sender,
      w.bob.dhPublic,
      inner,
      commitment,
      'empty',
    );
    expect(emptyAad.subarray(0, 113)).toEqual(withAad.subarray(0, 113));
    await expect(open(emptyAad)).rejects.toThrow(DecryptError);
  });

  it('binds every bit of E_pub, including the one X25519 ignores', async () => {
    const bad = envelope.slice();
    bad[64]! ^= 0x80;
    await expect(open(bad)).rejects.toThrow(DecryptError);
  });

  it('answers DecryptError, not InvalidKeyError, to a low-order ephemeral or static key', async () => {
    const zeroEphemeral = envelope.slice();
    zeroEphemeral.fill(0, 33, 65);
    await expect(open(zeroEphemeral)).rejects.toThrow(DecryptError);

    const lowOrderStatic = new Uint8Array(32);
    lowOrderStatic[0] = 1; // u = 1 generates a subgroup of order 4 (RFC 7748 §6.1)
    const env = await sealBySpec(
      systemRng(32),
      { dhPrivate: w.alice.dhPrivate, staticPublic: lowOrderStatic },
      w.bob.dhPublic,
      innerBySpec(2, w.aliceCert, message),
    );
    const err = await open(env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect((err as DecryptError).message).toBe(new DecryptError().message);
  });

  it('answers DecryptError to an envelope for another recipient', async () => {
    await expect(
      sealedSenderOpen(backend, {
        recipientIdentity: w.carol,
        envelope,
        trust: w.trust,
        now: NOW,
      }),
    ).rejects.toThrow(DecryptError);
  });

  it('rejects another sender’s valid certificate', async () => {
    const env = await sealedSenderSeal(backend, systemRng, {
      senderIdentity: w.alice,
      recipientDhPublic: w.bob.dhPublic,
      senderCertificate: w.carolCert,
      contentType: 2,
      message,
      commitment,
      franking,
    });
    await expect(open(env)).rejects.toThrow(InvalidCertificateError);
    await expect(open(env)).rejects.toThrow(/does not match the sender key/);
  });

  it('rejects an expired sender certificate', async () => {
    await expect(open(envelope, { now: NOW + 7 * DAY })).rejects.toThrow(
      /sender certificate expired/,
    );
  });

  it('rejects an expired server certificate, a revoked key id and a wrong trust root', async () => {
    const short = await makeWorld(NOW + DAY, 9);
    const env = await sealedSenderSeal(backend, systemRng, {
      senderIdentity: short.alice,
      recipientDhPublic: short.bob.dhPublic,
      senderCertificate: short.aliceCert,
      contentType: 2,
      message,
      commitment,
      franking,
    });
    const openShort = (trust: TrustConfig, now: number) =>
      sealedSenderOpen(backend, { recipientIdentity: short.bob, envelope: env, trust, now });
    await expect(openShort(short.trust, NOW)).resolves.toMatchObject({ contentType: 2, message });
    await expect(openShort(short.trust, NOW + DAY + 1)).rejects.toThrow(
      /server certificate expired/,
    );
    await expect(openShort({ ...short.trust, revokedServerKeyIds: [9] }, NOW)).rejects.toThrow(
      /revoked/,
    );
    await expect(openShort(w.trust, NOW)).rejects.toThrow(InvalidCertificateError);
    await expect(openShort(w.trust, NOW)).rejects.toThrow(/trust root/);
  });

  it('rejects malformed content and certificates that decrypt correctly', async () => {
    const sender = { dhPrivate: w.alice.dhPrivate, staticPublic: w.alice.dhPublic };
    // 1,000 message bytes leave padding (1,711 -> 1,728); 1,081 would fill 1,792 exactly.
    const dirty = innerBySpec(2, w.aliceCert, message.subarray(0, 1000));
    expect(dirty.length).toBe(1728);
    dirty[dirty.length - 1] = 1;
    await expect(
      open(await sealBySpec(systemRng(32), sender, w.bob.dhPublic, dirty)),
    ).rejects.toThrow(MalformedEnvelopeError);
    const garbageCert = innerBySpec(2, systemRng(272), message);
    await expect(
      open(await sealBySpec(systemRng(32), sender, w.bob.dhPublic, garbageCert)),
    ).rejects.toThrow(InvalidCertificateError);
  });

  it('answers UnsupportedVersionError or MalformedEnvelopeError before any decryption', async () => {
    // Version 1 is the pre-franking layout: refused by its version byte, never misparsed.
    for (const version of [1, 3]) {
      const other = envelope.slice();
      other[0] = version;
      await expect(open(other)).rejects.toThrow(UnsupportedVersionError);
    }
    await expect(open(envelope.subarray(0, 90))).rejects.toThrow(MalformedEnvelopeError);
    // One byte short of the smallest v2 envelope (113 header + 455 inner).
    await expect(open(envelope.subarray(0, 113 + 454))).rejects.toThrow(MalformedEnvelopeError);
  });

  it('checks its arguments', async () => {
    const base = {
      senderIdentity: w.alice,
      recipientDhPublic: w.bob.dhPublic,
      senderCertificate: w.aliceCert,
      contentType: 2 as const,
      message,
      commitment,
      franking,
    };
    await expect(
      sealedSenderSeal(backend, systemRng, { ...base, contentType: 3 as unknown as 2 }),
    ).rejects.toThrow(ArgumentRangeError);
    // Franking fields are checked before any key is drawn.
    const untouched = () => {
      throw new Error('no key may be drawn for invalid input');
    };
    await expect(
      sealedSenderSeal(backend, untouched, { ...base, commitment: new Uint8Array(31) }),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(
      sealedSenderSeal(backend, untouched, {
        ...base,
        commitment: undefined as unknown as Uint8Array,
      }),
    ).rejects.toThrow(ArgumentTypeError);
    await expect(
      sealedSenderSeal(backend, untouched, {
        ...base,
        franking: { ...franking, signature: new Uint8Array(303) },
      }),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(
      sealedSenderSeal(backend, untouched, {
        ...base,
        franking: { ...franking, openingKey: new Uint8Array(33) },
      }),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(
      sealedSenderSeal(backend, untouched, {
        ...base,
        franking: { ...franking, messageSignature: new Uint8Array(63) },
      }),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(
      sealedSenderSeal(backend, untouched, {
        ...base,
        franking: undefined as unknown as SealedFranking,
      }),
    ).rejects.toThrow(ArgumentTypeError);
    await expect(
      sealedSenderSeal(backend, systemRng, {
        ...base,
        message: new Uint8Array(MAX_SEALED_MESSAGE_BYTES + 1),
      }),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(
      sealedSenderSeal(backend, systemRng, { ...base, recipientDhPublic: new Uint8Array(31) }),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(sealedSenderSeal(backend, () => new Uint8Array(16), base)).rejects.toThrow(
      ArgumentRangeError,
    );
  });
});

describe('assertCertificateMatchesIdentity', () => {
  it('accepts the certified key and rejects any other', async () => {
    const w = await makeWorld();
    const cert = decodeSenderCertificate(w.aliceCert);
    expect(() => assertCertificateMatchesIdentity(cert, w.alice.dhPublic)).not.toThrow();
    expect(() => assertCertificateMatchesIdentity(cert, w.carol.dhPublic)).toThrow(
      InvalidCertificateError,
    );
    expect(() => assertCertificateMatchesIdentity(cert, new Uint8Array(3))).toThrow(
      ArgumentRangeError,
    );
  });
});
