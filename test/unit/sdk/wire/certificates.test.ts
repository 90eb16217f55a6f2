import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import {
  decodeModeratorCertificate,
  decodeSenderCertificate,
  decodeServerCertificate,
  encodeModeratorCertificate,
  encodeSenderCertificate,
  encodeServerCertificate,
  MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES,
  MAX_SENDER_CERTIFICATE_BYTES,
  MODERATOR_CERTIFICATE_BYTES,
  type ModeratorCertificate,
  moderatorCertificatePayload,
  SERVER_CERTIFICATE_BYTES,
  type SenderCertificate,
  type ServerCertificate,
  senderCertificatePayload,
  serverCertificatePayload,
} from '#sdk/wire/certificates.ts';
import { LABELS } from '#sdk/wire/labels.ts';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
/** Offset of the embedded server certificate's var16 length in a v2 sender certificate. */
const SERVER_CERTIFICATE_LENGTH_AT = 1 + 20 + 4 + 32 + 32 + 8;

const server: ServerCertificate = {
  keyId: 0x01020304,
  serverPublic: fill(32, 0xaa),
  notAfter: 0x0102_0304_0506,
  signature: fill(64, 0xbb),
};

function sender(overrides: Partial<SenderCertificate> = {}): SenderCertificate {
  return {
    address: 'aebagbafaydqqcikbmga2dqpcaireeyu',
    deviceId: 7,
    identityKey: fill(32, 0xcc),
    frankingKey: fill(32, 0xee),
    expires: 1_700_000_000_000,
    serverCertificate: encodeServerCertificate(server),
    signature: fill(64, 0xdd),
    ...overrides,
  };
}

const base32Char = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567');
const address = fc.array(base32Char, { minLength: 32, maxLength: 32 }).map((a) => a.join(''));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const time = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

describe('server certificate codec', () => {
  it('encodes the PROTOCOL.md §6 layout byte for byte', () => {
    const encoded = encodeServerCertificate(server);
    expect(encoded.length).toBe(SERVER_CERTIFICATE_BYTES);
    expect(SERVER_CERTIFICATE_BYTES).toBe(109);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('01' + '01020304'),
        server.serverPublic,
        fromHex('0000010203040506'),
        server.signature,
      ),
    );
  });

  it('signature payload is the label followed by the bytes before the signature', () => {
    const { signature: _sig, ...fields } = server;
    const payload = serverCertificatePayload(fields);
    const encoded = encodeServerCertificate(server);
    expect(payload).toEqual(concatBytes(LABELS.SERVER_CERTIFICATE, encoded.subarray(0, 45)));
  });

  it('round-trips arbitrary fields', () => {
    fc.assert(
      fc.property(u32, bytes(32), time, bytes(64), (keyId, serverPublic, notAfter, signature) => {
        const c = { keyId, serverPublic, notAfter, signature };
        expect(decodeServerCertificate(encodeServerCertificate(c))).toEqual(c);
      }),
    );
  });

  it('rejects unknown versions, truncation and trailing bytes', () => {
    const encoded = encodeServerCertificate(server);
    const v2 = encoded.slice();
    v2[0] = 2;
    expect(() => decodeServerCertificate(v2)).toThrow(UnsupportedVersionError);
    for (const n of [0, 1, 5, 44, 108]) {
      expect(() => decodeServerCertificate(encoded.subarray(0, n))).toThrow(MalformedEnvelopeError);
    }
    expect(() => decodeServerCertificate(concatBytes(encoded, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
  });

  it('rejects a time beyond 2^53 rather than losing precision', () => {
    const encoded = encodeServerCertificate(server);
    encoded[37] = 0x00;
    encoded[38] = 0x20; // high word >= 2^21, so notAfter >= 2^53
    expect(() => decodeServerCertificate(encoded)).toThrow(MalformedEnvelopeError);
  });

  it('checks field sizes and ranges when encoding', () => {
    expect(() => encodeServerCertificate({ ...server, serverPublic: fill(31, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeServerCertificate({ ...server, signature: fill(63, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeServerCertificate({ ...server, keyId: 2 ** 32 })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeServerCertificate({ ...server, notAfter: -1 })).toThrow(ArgumentRangeError);
    expect(() => encodeServerCertificate({ ...server, notAfter: 1.5 })).toThrow(ArgumentRangeError);
  });
});

describe('sender certificate codec', () => {
  it('encodes the PROTOCOL.md §6 layout with the raw 20-byte address', () => {
    const c = sender();
    const encoded = encodeSenderCertificate(c);
    // 1 + 20 + 4 + 32 + 32 + 8 + 2 + 109 + 64: version 2 adds the 32-byte franking key.
    expect(encoded.length).toBe(272);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('02'),
        fromHex('0102030405060708090a0b0c0d0e0f1011121314'),
        fromHex('00000007'),
        c.identityKey,
        c.frankingKey,
        fromHex('0000018bcfe56800'),
        fromHex('006d'),
        c.serverCertificate,
        c.signature,
      ),
    );
  });

  it('signature payload is the label followed by the bytes before the signature', () => {
    const { signature: _sig, ...fields } = sender();
    const encoded = encodeSenderCertificate(sender());
    expect(senderCertificatePayload(fields)).toEqual(
      concatBytes(LABELS.SENDER_CERTIFICATE, encoded.subarray(0, encoded.length - 64)),
    );
    // The label moved to v2 with the layout, so a v1 signature can never verify as v2.
    expect(LABELS.SENDER_CERTIFICATE).toEqual(
      new TextEncoder().encode('Sealpost-SenderCertificate-v2'),
    );
  });

  it('round-trips arbitrary fields, including the base32 address', () => {
    fc.assert(
      fc.property(
        address,
        u32,
        bytes(32),
        bytes(32),
        time,
        fc.uint8Array({ maxLength: MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES }),
        bytes(64),
        (addr, deviceId, identityKey, frankingKey, expires, serverCertificate, signature) => {
          const c = {
            address: addr,
            deviceId,
            identityKey,
            frankingKey,
            expires,
            serverCertificate,
            signature,
          };
          const encoded = encodeSenderCertificate(c);
          expect(encoded.length).toBeLessThanOrEqual(MAX_SENDER_CERTIFICATE_BYTES);
          expect(decodeSenderCertificate(encoded)).toEqual(c);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('maps address bytes to RFC 4648 lower-case base32', () => {
    const raw = fill(20, 0xf0);
    const encoded = encodeSenderCertificate(sender());
    encoded.set(raw, 1);
    expect(decodeSenderCertificate(encoded).address).toBe('6dypb4hq6dypb4hq6dypb4hq6dypb4hq');
  });

  it('rejects addresses that are not 32 lower-case base32 characters', () => {
    for (const bad of [
      'AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU',
      'aebagbafaydqqcikbmga2dqpcaireey',
      'aebagbafaydqqcikbmga2dqpcaireeyuu',
      'aebagbafaydqqcikbmga2dqpcaireey1',
      'aebagbafaydqqcikbmga2dqpcaireey=',
    ]) {
      expect(() => encodeSenderCertificate(sender({ address: bad }))).toThrow(ArgumentTypeError);
    }
  });

  it('rejects an oversized embedded server certificate on both sides', () => {
    const big = fill(MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES + 1, 1);
    expect(() => encodeSenderCertificate(sender({ serverCertificate: big }))).toThrow(
      ArgumentRangeError,
    );
    const ok = encodeSenderCertificate(
      sender({ serverCertificate: fill(MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES, 1) }),
    );
    // Raise the var16 length (at offset 97) by one and append a byte so only the bound is violated.
    const view = new DataView(ok.buffer);
    view.setUint16(SERVER_CERTIFICATE_LENGTH_AT, MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES + 1);
    expect(() => decodeSenderCertificate(concatBytes(ok, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
  });

  it('rejects unknown versions, truncation, trailing bytes and inconsistent lengths', () => {
    const encoded = encodeSenderCertificate(sender());
    for (const version of [0, 1, 3]) {
      // 1 is the pre-franking layout: it is no longer accepted.
      const other = encoded.slice();
      other[0] = version;
      expect(() => decodeSenderCertificate(other)).toThrow(UnsupportedVersionError);
    }
    for (let n = 0; n < encoded.length; n += 13) {
      expect(() => decodeSenderCertificate(encoded.subarray(0, n))).toThrow(MalformedEnvelopeError);
    }
    expect(() => decodeSenderCertificate(encoded.subarray(0, encoded.length - 1))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() => decodeSenderCertificate(concatBytes(encoded, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
    const shorter = encoded.slice();
    new DataView(shorter.buffer).setUint16(SERVER_CERTIFICATE_LENGTH_AT, 108);
    expect(() => decodeSenderCertificate(shorter)).toThrow(MalformedEnvelopeError);
  });

  it('never throws anything but the two decode errors on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
        try {
          decodeSenderCertificate(input);
        } catch (e) {
          expect(e instanceof MalformedEnvelopeError || e instanceof UnsupportedVersionError).toBe(
            true,
          );
        }
      }),
    );
  });

  it('checks field sizes and ranges when encoding', () => {
    expect(() => encodeSenderCertificate(sender({ identityKey: fill(33, 0) }))).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeSenderCertificate(sender({ frankingKey: fill(31, 0) }))).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encodeSenderCertificate(sender({ frankingKey: undefined as unknown as Uint8Array })),
    ).toThrow(ArgumentTypeError);
    expect(() => encodeSenderCertificate(sender({ deviceId: -1 }))).toThrow(ArgumentRangeError);
    expect(() => encodeSenderCertificate(sender({ expires: 2 ** 53 }))).toThrow(ArgumentRangeError);
    expect(() => encodeSenderCertificate(sender({ signature: fill(65, 0) }))).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeSenderCertificate(sender({ address: 42 as unknown as string }))).toThrow(
      ArgumentTypeError,
    );
  });
});

describe('sender certificate limits', () => {
  it('MAX_SENDER_CERTIFICATE_BYTES is the v2 fixed part plus the largest server certificate', () => {
    // 1 + 20 + 4 + 32 (identity) + 32 (franking) + 8 + 2 + 64 = 163 fixed, + 1,024 embedded.
    expect(MAX_SENDER_CERTIFICATE_BYTES).toBe(1_187);
    const largest = encodeSenderCertificate(
      sender({ serverCertificate: fill(MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES, 1) }),
    );
    expect(largest.length).toBe(MAX_SENDER_CERTIFICATE_BYTES);
  });
});

const moderator: ModeratorCertificate = {
  keyId: 0x0a0b0c0d,
  moderatorPublic: fill(32, 0x77),
  notAfter: 0x0102_0304_0506,
  signature: fill(64, 0x88),
};

describe('moderator certificate codec', () => {
  it('encodes u8 1 || u32 keyId || moderatorPublic || u64 notAfter || signature', () => {
    const encoded = encodeModeratorCertificate(moderator);
    expect(MODERATOR_CERTIFICATE_BYTES).toBe(109);
    expect(encoded.length).toBe(MODERATOR_CERTIFICATE_BYTES);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('01' + '0a0b0c0d'),
        moderator.moderatorPublic,
        fromHex('0000010203040506'),
        moderator.signature,
      ),
    );
  });

  it('signature payload is its own label followed by the bytes before the signature', () => {
    const { signature: _sig, ...fields } = moderator;
    const encoded = encodeModeratorCertificate(moderator);
    expect(moderatorCertificatePayload(fields)).toEqual(
      concatBytes(
        new TextEncoder().encode('Sealpost-ModeratorCertificate-v1'),
        encoded.subarray(0, 45),
      ),
    );
    // Same body layout as a server certificate, different label: the root's signature over
    // one can never pass as the other.
    const asServer = serverCertificatePayload({
      keyId: fields.keyId,
      serverPublic: fields.moderatorPublic,
      notAfter: fields.notAfter,
    });
    expect(asServer.subarray(asServer.length - 45)).toEqual(encoded.subarray(0, 45));
    expect(moderatorCertificatePayload(fields)).not.toEqual(asServer);
  });

  it('round-trips arbitrary fields', () => {
    fc.assert(
      fc.property(
        u32,
        bytes(32),
        time,
        bytes(64),
        (keyId, moderatorPublic, notAfter, signature) => {
          const c = { keyId, moderatorPublic, notAfter, signature };
          expect(decodeModeratorCertificate(encodeModeratorCertificate(c))).toEqual(c);
        },
      ),
    );
  });

  it('rejects unknown versions, truncation and trailing bytes', () => {
    const encoded = encodeModeratorCertificate(moderator);
    const v2 = encoded.slice();
    v2[0] = 2;
    expect(() => decodeModeratorCertificate(v2)).toThrow(UnsupportedVersionError);
    for (const n of [0, 1, 5, 44, 108]) {
      expect(() => decodeModeratorCertificate(encoded.subarray(0, n))).toThrow(
        MalformedEnvelopeError,
      );
    }
    expect(() => decodeModeratorCertificate(concatBytes(encoded, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
  });

  it('checks field sizes and ranges when encoding', () => {
    expect(() =>
      encodeModeratorCertificate({ ...moderator, moderatorPublic: fill(31, 0) }),
    ).toThrow(ArgumentRangeError);
    expect(() => encodeModeratorCertificate({ ...moderator, signature: fill(63, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeModeratorCertificate({ ...moderator, keyId: 2 ** 32 })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeModeratorCertificate({ ...moderator, notAfter: -1 })).toThrow(
      ArgumentRangeError,
    );
  });
});
