import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { MAX_SENDER_CERTIFICATE_BYTES } from '#sdk/wire/certificates.ts';
import {
  decodeSealedContent,
  decodeSealedEnvelope,
  encodeSealedContent,
  encodeSealedEnvelope,
  envelopeCommitment,
  FRANKING_COMMITMENT_BYTES,
  FRANKING_OPENING_KEY_BYTES,
  FRANKING_SIGNATURE_BYTES,
  MAX_SEALED_ENVELOPE_BYTES,
  MAX_SEALED_MESSAGE_BYTES,
  SEALED_HEADER_BYTES,
  SEALED_PREFIX_BYTES,
  type SealedContent,
} from '#sdk/wire/sealed.ts';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
/**
 * Smallest `encInner`: type (1) + var16 length (2) + franking block (32 + 32 + 304 + 64) + u32
 * length (4) + tag (16) = 455, for an empty certificate and message.
 */
const MIN_ENC_INNER = 1 + 2 + 32 + 32 + 304 + 64 + 4 + 16;
/** version (1) + commitment (32) + E_pub (32) + encStatic (48). */
const HEADER = 113;

describe('sealed envelope codec', () => {
  const parts = {
    commitment: fill(32, 4),
    ephemeralPublic: fill(32, 1),
    encryptedStatic: fill(48, 2),
    encryptedInner: fill(500, 3),
  };

  it('lays out version || commitment || E_pub || encStatic || encInner', () => {
    const encoded = encodeSealedEnvelope(parts);
    expect(SEALED_HEADER_BYTES).toBe(HEADER);
    expect(SEALED_PREFIX_BYTES).toBe(33);
    expect(FRANKING_COMMITMENT_BYTES).toBe(32);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('02'),
        parts.commitment,
        parts.ephemeralPublic,
        parts.encryptedStatic,
        parts.encryptedInner,
      ),
    );
    expect(decodeSealedEnvelope(encoded)).toEqual(parts);
  });

  it('round-trips arbitrary parts', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.uint8Array({ minLength: MIN_ENC_INNER, maxLength: 2000 }),
        (commitment, ephemeralPublic, encryptedStatic, encryptedInner) => {
          const e = { commitment, ephemeralPublic, encryptedStatic, encryptedInner };
          expect(decodeSealedEnvelope(encodeSealedEnvelope(e))).toEqual(e);
        },
      ),
    );
  });

  it('rejects unknown versions with UnsupportedVersionError', () => {
    // 1 is the pre-franking layout (no commitment): rejected by version, not misparsed.
    for (const v of [0, 1, 3, 255]) {
      const encoded = encodeSealedEnvelope(parts);
      encoded[0] = v;
      expect(() => decodeSealedEnvelope(encoded)).toThrow(UnsupportedVersionError);
    }
  });

  it('rejects empty, truncated and oversized envelopes', () => {
    const encoded = encodeSealedEnvelope(parts);
    for (const n of [0, 1, 32, 33, 65, 112, HEADER, HEADER + MIN_ENC_INNER - 1]) {
      expect(() => decodeSealedEnvelope(encoded.subarray(0, n))).toThrow(MalformedEnvelopeError);
    }
    expect(
      decodeSealedEnvelope(encoded.subarray(0, HEADER + MIN_ENC_INNER)).encryptedInner.length,
    ).toBe(MIN_ENC_INNER);
    const atLimit = concatBytes(
      encoded.subarray(0, HEADER),
      fill(MAX_SEALED_ENVELOPE_BYTES - HEADER, 0),
    );
    expect(decodeSealedEnvelope(atLimit).encryptedInner.length).toBe(
      MAX_SEALED_ENVELOPE_BYTES - HEADER,
    );
    expect(() => decodeSealedEnvelope(concatBytes(atLimit, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() =>
      encodeSealedEnvelope({
        ...parts,
        encryptedInner: fill(MAX_SEALED_ENVELOPE_BYTES - HEADER + 1, 0),
      }),
    ).toThrow(ArgumentRangeError);
  });

  it('checks part sizes when encoding', () => {
    expect(() => encodeSealedEnvelope({ ...parts, commitment: fill(31, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encodeSealedEnvelope({ ...parts, commitment: undefined as unknown as Uint8Array }),
    ).toThrow(ArgumentTypeError);
    expect(() => encodeSealedEnvelope({ ...parts, ephemeralPublic: fill(31, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeSealedEnvelope({ ...parts, encryptedStatic: fill(47, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encodeSealedEnvelope({ ...parts, encryptedInner: fill(MIN_ENC_INNER - 1, 0) }),
    ).toThrow(ArgumentRangeError);
  });
});

describe('envelopeCommitment (the service view)', () => {
  const parts = {
    commitment: fill(32, 4),
    ephemeralPublic: fill(32, 1),
    encryptedStatic: fill(48, 2),
    encryptedInner: fill(MIN_ENC_INNER, 3),
  };

  it('returns bytes 1..33 of a well-sized v2 envelope', () => {
    const encoded = encodeSealedEnvelope(parts);
    expect(envelopeCommitment(encoded)).toEqual(parts.commitment);
  });

  it('returns undefined for another version, a short or an oversized envelope', () => {
    const encoded = encodeSealedEnvelope(parts);
    const v1 = encoded.slice();
    v1[0] = 1;
    expect(envelopeCommitment(v1)).toBeUndefined();
    expect(envelopeCommitment(encoded.subarray(0, encoded.length - 1))).toBeUndefined();
    expect(envelopeCommitment(new Uint8Array(0))).toBeUndefined();
    const big = concatBytes(encoded, fill(MAX_SEALED_ENVELOPE_BYTES - encoded.length + 1, 0));
    expect(envelopeCommitment(big)).toBeUndefined();
    expect(envelopeCommitment(big.subarray(0, MAX_SEALED_ENVELOPE_BYTES))).toEqual(
      parts.commitment,
    );
  });
});

describe('sealed content codec', () => {
  const content: SealedContent = {
    contentType: 2,
    senderCertificate: fill(272, 9),
    franking: {
      openingKey: fill(32, 5),
      sessionKey: fill(32, 3),
      signature: fill(304, 6),
      messageSignature: fill(64, 4),
    },
    message: fill(1081, 7),
  };
  /** Offset of the message's u32 length: type, var16(272-byte cert), franking block. */
  const MESSAGE_LENGTH_AT = 1 + 2 + 272 + 32 + 32 + 304 + 64;

  it('lays out type || var16(cert) || opening || session key || signature || message signature || u32 len || message || zeros', () => {
    const encoded = encodeSealedContent(content);
    // A v2 sender certificate (272 bytes) and the franking block (32 + 32 + 304 + 64 = 432).
    const unpadded = 1 + 2 + 272 + 32 + 32 + 304 + 64 + 4 + 1081;
    expect(unpadded).toBe(1792);
    expect(encoded.length).toBe(padmeLength(1792));
    expect(encoded.length).toBe(1792);
    expect(FRANKING_OPENING_KEY_BYTES).toBe(32);
    expect(FRANKING_SIGNATURE_BYTES).toBe(304);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('02' + '0110'),
        content.senderCertificate,
        content.franking.openingKey,
        content.franking.sessionKey,
        content.franking.signature,
        content.franking.messageSignature,
        fromHex('00000439'),
        content.message,
      ),
    );
    expect(decodeSealedContent(encoded)).toEqual(content);
  });

  it('round-trips and always pads to exactly the Padmé length', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const),
        fc.uint8Array({ maxLength: 300 }),
        fc.record({
          openingKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          sessionKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          signature: fc.uint8Array({ minLength: 304, maxLength: 304 }),
          messageSignature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
        }),
        fc.uint8Array({ maxLength: 5000 }),
        (contentType, senderCertificate, franking, message) => {
          const c = { contentType, senderCertificate, franking, message };
          const encoded = encodeSealedContent(c);
          expect(encoded.length).toBe(
            padmeLength(7 + 432 + senderCertificate.length + message.length),
          );
          expect(decodeSealedContent(encoded)).toEqual(c);
        },
      ),
    );
  });

  it('rejects non-zero padding, missing or extra padding', () => {
    // 1,000 message bytes: 1,711 unpadded, padded to 1,728.
    const encoded = encodeSealedContent({ ...content, message: fill(1000, 7) });
    expect(encoded.length).toBe(1728);
    const dirty = encoded.slice();
    dirty[dirty.length - 1] = 1;
    expect(() => decodeSealedContent(dirty)).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(encoded.subarray(0, 1711))).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(encoded.subarray(0, 1727))).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(concatBytes(encoded, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
  });

  it('rejects unknown content types and inconsistent lengths', () => {
    for (const t of [0, 3, 255]) {
      const encoded = encodeSealedContent(content);
      encoded[0] = t;
      expect(() => decodeSealedContent(encoded)).toThrow(MalformedEnvelopeError);
    }
    const longMessage = encodeSealedContent(content);
    new DataView(longMessage.buffer).setUint32(MESSAGE_LENGTH_AT, 1081 + 100);
    expect(() => decodeSealedContent(longMessage)).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(new Uint8Array(0))).toThrow(MalformedEnvelopeError);
    // Cut inside the franking block: too short to hold the opening key and signature.
    const cut = encodeSealedContent({ ...content, message: new Uint8Array(0) });
    expect(() => decodeSealedContent(cut.subarray(0, 1 + 2 + 272 + 32 + 32 + 100))).toThrow(
      MalformedEnvelopeError,
    );
  });

  it('checks the franking block when encoding', () => {
    const bad = (franking: unknown) => () =>
      encodeSealedContent({ ...content, franking: franking as SealedContent['franking'] });
    expect(bad(undefined)).toThrow(ArgumentTypeError);
    expect(bad(null)).toThrow(ArgumentTypeError);
    expect(bad({ ...content.franking, sessionKey: fill(33, 0) })).toThrow(ArgumentRangeError);
    expect(bad({ ...content.franking, messageSignature: fill(63, 0) })).toThrow(ArgumentRangeError);
    expect(bad({ ...content.franking, openingKey: fill(31, 0) })).toThrow(ArgumentRangeError);
    expect(bad({ ...content.franking, signature: fill(303, 0) })).toThrow(ArgumentRangeError);
    expect(bad({ ...content.franking, signature: 'x' })).toThrow(ArgumentTypeError);
  });

  it('enforces the certificate and message limits on both sides', () => {
    expect(MAX_SEALED_MESSAGE_BYTES).toBe(98_304 + 1_785 + 57);
    const maxContent = {
      contentType: 1 as const,
      senderCertificate: fill(MAX_SENDER_CERTIFICATE_BYTES, 1),
      franking: content.franking,
      message: fill(MAX_SEALED_MESSAGE_BYTES, 2),
    };
    const maxInner = encodeSealedContent(maxContent);
    // The largest envelope a sender can build stays under the envelope limit:
    // 113 + padme(1 + 2 + 1,187 + 432 + 4 + 100,146 = 101,772) + 16 = 113 + 102,400 + 16.
    expect(maxInner.length).toBe(102_400);
    expect(SEALED_HEADER_BYTES + maxInner.length + 16).toBe(102_529);
    expect(SEALED_HEADER_BYTES + maxInner.length + 16).toBeLessThanOrEqual(
      MAX_SEALED_ENVELOPE_BYTES,
    );
    expect(decodeSealedContent(maxInner).message.length).toBe(MAX_SEALED_MESSAGE_BYTES);
    expect(() =>
      encodeSealedContent({ ...maxContent, message: fill(MAX_SEALED_MESSAGE_BYTES + 1, 0) }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      encodeSealedContent({
        ...maxContent,
        senderCertificate: fill(MAX_SENDER_CERTIFICATE_BYTES + 1, 0),
      }),
    ).toThrow(ArgumentRangeError);
    // A length field above the limit is rejected before any padding or allocation check.
    const overLimit = encodeSealedContent({ ...content, message: new Uint8Array(0) });
    new DataView(overLimit.buffer).setUint32(MESSAGE_LENGTH_AT, MAX_SEALED_MESSAGE_BYTES + 1);
    expect(() => decodeSealedContent(overLimit)).toThrow(/too long/);
  });

  it('rejects a content type outside 1 and 2 when encoding', () => {
    expect(() => encodeSealedContent({ ...content, contentType: 3 as unknown as 1 })).toThrow(
      ArgumentRangeError,
    );
  });
});
