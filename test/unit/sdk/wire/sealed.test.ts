import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { MAX_SENDER_CERTIFICATE_BYTES } from '#sdk/wire/certificates.ts';
import {
  decodeSealedContent,
  decodeSealedEnvelope,
  encodeSealedContent,
  encodeSealedEnvelope,
  MAX_SEALED_ENVELOPE_BYTES,
  MAX_SEALED_MESSAGE_BYTES,
  SEALED_HEADER_BYTES,
  type SealedContent,
} from '#sdk/wire/sealed.ts';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

describe('sealed envelope codec', () => {
  const parts = {
    ephemeralPublic: fill(32, 1),
    encryptedStatic: fill(48, 2),
    encryptedInner: fill(100, 3),
  };

  it('lays out version || E_pub || encStatic || encInner', () => {
    const encoded = encodeSealedEnvelope(parts);
    expect(SEALED_HEADER_BYTES).toBe(81);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('01'),
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
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.uint8Array({ minLength: 23, maxLength: 2000 }),
        (ephemeralPublic, encryptedStatic, encryptedInner) => {
          const e = { ephemeralPublic, encryptedStatic, encryptedInner };
          expect(decodeSealedEnvelope(encodeSealedEnvelope(e))).toEqual(e);
        },
      ),
    );
  });

  it('rejects unknown versions with UnsupportedVersionError', () => {
    for (const v of [0, 2, 255]) {
      const encoded = encodeSealedEnvelope(parts);
      encoded[0] = v;
      expect(() => decodeSealedEnvelope(encoded)).toThrow(UnsupportedVersionError);
    }
  });

  it('rejects empty, truncated and oversized envelopes', () => {
    const encoded = encodeSealedEnvelope(parts);
    for (const n of [0, 1, 32, 33, 80, 81, 81 + 22]) {
      expect(() => decodeSealedEnvelope(encoded.subarray(0, n))).toThrow(MalformedEnvelopeError);
    }
    expect(decodeSealedEnvelope(encoded.subarray(0, 81 + 23)).encryptedInner.length).toBe(23);
    const atLimit = concatBytes(encoded.subarray(0, 81), fill(MAX_SEALED_ENVELOPE_BYTES - 81, 0));
    expect(decodeSealedEnvelope(atLimit).encryptedInner.length).toBe(
      MAX_SEALED_ENVELOPE_BYTES - 81,
    );
    expect(() => decodeSealedEnvelope(concatBytes(atLimit, fill(1, 0)))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() =>
      encodeSealedEnvelope({ ...parts, encryptedInner: fill(MAX_SEALED_ENVELOPE_BYTES - 80, 0) }),
    ).toThrow(ArgumentRangeError);
  });

  it('checks part sizes when encoding', () => {
    expect(() => encodeSealedEnvelope({ ...parts, ephemeralPublic: fill(31, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeSealedEnvelope({ ...parts, encryptedStatic: fill(47, 0) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeSealedEnvelope({ ...parts, encryptedInner: fill(22, 0) })).toThrow(
      ArgumentRangeError,
    );
  });
});

describe('sealed content codec', () => {
  const content: SealedContent = {
    contentType: 2,
    senderCertificate: fill(240, 9),
    message: fill(1081, 7),
  };

  it('lays out type || var16(cert) || u32 len || message || zeros to the Padmé length', () => {
    const encoded = encodeSealedContent(content);
    const unpadded = 1 + 2 + 240 + 4 + 1081;
    expect(unpadded).toBe(1328);
    expect(encoded.length).toBe(1344);
    expect(encoded).toEqual(
      concatBytes(
        fromHex('02' + '00f0'),
        content.senderCertificate,
        fromHex('00000439'),
        content.message,
        new Uint8Array(1344 - 1328),
      ),
    );
    expect(decodeSealedContent(encoded)).toEqual(content);
  });

  it('round-trips and always pads to exactly the Padmé length', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 5000 }),
        (contentType, senderCertificate, message) => {
          const c = { contentType, senderCertificate, message };
          const encoded = encodeSealedContent(c);
          expect(encoded.length).toBe(padmeLength(7 + senderCertificate.length + message.length));
          expect(decodeSealedContent(encoded)).toEqual(c);
        },
      ),
    );
  });

  it('rejects non-zero padding, missing or extra padding', () => {
    const encoded = encodeSealedContent(content);
    const dirty = encoded.slice();
    dirty[dirty.length - 1] = 1;
    expect(() => decodeSealedContent(dirty)).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(encoded.subarray(0, 1328))).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(encoded.subarray(0, 1343))).toThrow(MalformedEnvelopeError);
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
    new DataView(longMessage.buffer).setUint32(243, 1081 + 100);
    expect(() => decodeSealedContent(longMessage)).toThrow(MalformedEnvelopeError);
    expect(() => decodeSealedContent(new Uint8Array(0))).toThrow(MalformedEnvelopeError);
  });

  it('enforces the certificate and message limits on both sides', () => {
    expect(MAX_SEALED_MESSAGE_BYTES).toBe(98_304 + 1_785 + 57);
    const maxContent = {
      contentType: 1 as const,
      senderCertificate: fill(MAX_SENDER_CERTIFICATE_BYTES, 1),
      message: fill(MAX_SEALED_MESSAGE_BYTES, 2),
    };
    const maxInner = encodeSealedContent(maxContent);
    // The largest envelope a sender can build stays under the envelope limit.
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
    new DataView(overLimit.buffer).setUint32(243, MAX_SEALED_MESSAGE_BYTES + 1);
    expect(() => decodeSealedContent(overLimit)).toThrow(/too long/);
  });

  it('rejects a content type outside 1 and 2 when encoding', () => {
    expect(() => encodeSealedContent({ ...content, contentType: 3 as unknown as 1 })).toThrow(
      ArgumentRangeError,
    );
  });
});
