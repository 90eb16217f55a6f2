import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CryptoBackend, defaultBackend, nobleBackend } from '#sdk/crypto/index.ts';
import * as nodeModule from '#sdk/crypto/node-backend.ts';
import * as webModule from '#sdk/crypto/web-backend.ts';
import { SealpostError } from '#sdk/errors.ts';
import { deriveFrankingKeyPair } from '#sdk/franking/index.ts';
import { issueSenderCertificate, issueServerCertificate } from '#sdk/protocol/certificates.ts';
import { sealedSenderOpen, sealedSenderSeal } from '#sdk/protocol/sealed-sender.ts';
import { concatBytes, fromHex, toHex } from '#sdk/util/bytes.ts';
import { decodeSenderCertificate } from '#sdk/wire/certificates.ts';
import type { SealedContentType } from '#sdk/wire/sealed.ts';

interface ValidCase {
  name: string;
  sender: {
    address: string;
    deviceId: number;
    dhPrivate: string;
    dhPublic: string;
    frankingKey: string;
  };
  senderCertificate: string;
  contentType: SealedContentType;
  message: string;
  commitment: string;
  franking: { openingKey: string; sessionKey: string; signature: string; messageSignature: string };
  ephemeralPrivate: string;
  ephemeralPublic: string;
  chainKey: string;
  ephemeralKey: string;
  staticKey: string;
  inner: string;
  envelope: string;
}

interface Vectors {
  now: number;
  trustRoot: { seed: string; publicKey: string };
  server: { seed: string; publicKey: string; keyId: number; notAfter: number; certificate: string };
  recipient: { dhPrivate: string; dhPublic: string };
  senderCertificateExpires: number;
  valid: ValidCase[];
  invalid: {
    name: string;
    envelope: string;
    now: number;
    revokedServerKeyIds: number[];
    error: string;
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../vectors/sealed-sender.json', import.meta.url), 'utf8'),
) as Vectors;

const isBackend = (v: unknown): v is CryptoBackend =>
  typeof v === 'object' && v !== null && typeof (v as CryptoBackend).x25519 === 'function';

// Every backend the SDK exports on this runtime (the web module's exports run on Node's
// WebCrypto), each once.
const backends = [
  ...new Set([
    nobleBackend,
    defaultBackend,
    ...Object.values(nodeModule).filter(isBackend),
    ...Object.values(webModule).filter(isBackend),
  ]),
];

const ZERO_NONCE = new Uint8Array(12);
const EMPTY = new Uint8Array(0);

describe('sealed sender vectors (test/vectors/sealed-sender.json)', () => {
  it('covers the documented cases', () => {
    expect(vectors.valid.map((c) => c.name)).toEqual([
      'ratchet-1kib',
      'prekey-small',
      'ratchet-empty',
    ]);
    // 1 + 32 commitment + 32 + 48 + padme(1 + 2 + 272 + 432 + 4 + 1,081 = 1,792) + 16 (§6.3).
    expect(fromHex(vectors.valid[0]!.envelope).length).toBe(1921);
    expect(vectors.valid.every((c) => c.envelope.startsWith('02'))).toBe(true);
    expect(vectors.invalid.map((c) => c.name)).toEqual(
      expect.arrayContaining(['commitment', 'version-1', 'swapped-certificate']),
    );
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(10);
    expect(backends.length).toBeGreaterThanOrEqual(1);
  });

  it('certifies the franking key each sender derives from its DH identity key', () => {
    for (const c of vectors.valid) {
      const derived = deriveFrankingKeyPair(fromHex(c.sender.dhPrivate));
      expect(toHex(derived.publicKey)).toBe(c.sender.frankingKey);
      expect(toHex(decodeSenderCertificate(fromHex(c.senderCertificate)).frankingKey)).toBe(
        c.sender.frankingKey,
      );
    }
  });

  describe.each(backends.map((b) => [b.name, b] as const))('backend %s', (_name, backend) => {
    const recipient = {
      dhPrivate: fromHex(vectors.recipient.dhPrivate),
      dhPublic: fromHex(vectors.recipient.dhPublic),
    };
    const trust = { trustRoot: fromHex(vectors.trustRoot.publicKey), revokedServerKeyIds: [] };

    it('recomputes the trust root, server key and server certificate', async () => {
      const rootSeed = fromHex(vectors.trustRoot.seed);
      const serverSeed = fromHex(vectors.server.seed);
      expect(toHex(await backend.ed25519PublicKey(rootSeed))).toBe(vectors.trustRoot.publicKey);
      expect(toHex(await backend.ed25519PublicKey(serverSeed))).toBe(vectors.server.publicKey);
      const cert = await issueServerCertificate(backend, rootSeed, {
        keyId: vectors.server.keyId,
        serverPublic: fromHex(vectors.server.publicKey),
        notAfter: vectors.server.notAfter,
      });
      expect(toHex(cert)).toBe(vectors.server.certificate);
    });

    it.each(vectors.valid.map((c) => [c.name, c] as const))(
      'reproduces %s byte for byte and opens it',
      async (_caseName, c) => {
        const sender = {
          dhPrivate: fromHex(c.sender.dhPrivate),
          dhPublic: fromHex(c.sender.dhPublic),
        };
        expect(toHex(await backend.x25519PublicKey(sender.dhPrivate))).toBe(c.sender.dhPublic);
        const certificate = await issueSenderCertificate(backend, fromHex(vectors.server.seed), {
          address: c.sender.address,
          deviceId: c.sender.deviceId,
          identityKey: sender.dhPublic,
          frankingKey: fromHex(c.sender.frankingKey),
          expires: vectors.senderCertificateExpires,
          serverCertificate: fromHex(vectors.server.certificate),
        });
        expect(toHex(certificate)).toBe(c.senderCertificate);

        const franking = {
          openingKey: fromHex(c.franking.openingKey),
          sessionKey: fromHex(c.franking.sessionKey),
          signature: fromHex(c.franking.signature),
          messageSignature: fromHex(c.franking.messageSignature),
        };
        const envelope = await sealedSenderSeal(backend, () => fromHex(c.ephemeralPrivate), {
          senderIdentity: sender,
          recipientDhPublic: recipient.dhPublic,
          senderCertificate: certificate,
          contentType: c.contentType,
          message: fromHex(c.message),
          commitment: fromHex(c.commitment),
          franking,
        });
        expect(toHex(envelope)).toBe(c.envelope);

        // The recorded intermediate keys decrypt the two layers (PROTOCOL.md §6): version 2 is
        // `02 || commitment(32) || E_pub(32) || encStatic(48) || encInner`, and the inner
        // layer's associated data is the clear prefix `02 || commitment`.
        const prefix = envelope.subarray(0, 33);
        expect(toHex(prefix)).toBe(`02${c.commitment}`);
        expect(toHex(envelope.subarray(33, 65))).toBe(c.ephemeralPublic);
        const encStatic = envelope.subarray(65, 113);
        expect(toHex(backend.aeadOpen(fromHex(c.ephemeralKey), ZERO_NONCE, encStatic, EMPTY))).toBe(
          c.sender.dhPublic,
        );
        const inner = backend.aeadOpen(
          fromHex(c.staticKey),
          ZERO_NONCE,
          envelope.subarray(113),
          prefix,
        );
        expect(toHex(inner)).toBe(c.inner);
        // Without the prefix as associated data the recorded key does not open it.
        expect(() =>
          backend.aeadOpen(fromHex(c.staticKey), ZERO_NONCE, envelope.subarray(113), EMPTY),
        ).toThrow();
        // The inner content carries the franking block right after the certificate.
        const blockAt = 3 + certificate.length;
        expect(toHex(inner.subarray(blockAt, blockAt + 432))).toBe(
          toHex(
            concatBytes(
              franking.openingKey,
              franking.sessionKey,
              franking.signature,
              franking.messageSignature,
            ),
          ),
        );

        const opened = await sealedSenderOpen(backend, {
          recipientIdentity: recipient,
          envelope: fromHex(c.envelope),
          trust,
          now: vectors.now,
        });
        expect(opened.senderAddress).toBe(c.sender.address);
        expect(opened.senderDeviceId).toBe(c.sender.deviceId);
        expect(toHex(opened.senderIdentityKey)).toBe(c.sender.dhPublic);
        expect(opened.contentType).toBe(c.contentType);
        expect(toHex(opened.message)).toBe(c.message);
        expect(opened.certificate).toEqual(decodeSenderCertificate(certificate));
        expect(toHex(opened.commitment)).toBe(c.commitment);
        expect(opened.franking).toEqual(franking);
      },
    );

    it.each(vectors.invalid.map((c) => [c.name, c] as const))(
      'rejects %s with the recorded error code',
      async (_caseName, c) => {
        const error = await sealedSenderOpen(backend, {
          recipientIdentity: recipient,
          envelope: fromHex(c.envelope),
          trust: { ...trust, revokedServerKeyIds: c.revokedServerKeyIds },
          now: c.now,
        }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SealpostError);
        expect((error as SealpostError).code).toBe(c.error);
      },
    );
  });
});
