import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import {
  decodePrekeyMessage,
  decodeRatchetMessage,
  encodePrekeyMessage,
  encodeRatchetMessage,
  MAX_PLAINTEXT_BYTES,
  MAX_PREKEY_MESSAGE_BYTES,
  MAX_RATCHET_MESSAGE_BYTES,
  PREKEY_PREFIX_BYTES,
  type PrekeyMessage,
  RATCHET_HEADER_BYTES,
  type RatchetMessage,
  ratchetMessageHeader,
  writeRatchetHeader,
} from '#sdk/wire/messages.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u32 = fc.nat({ max: 0xffffffff });
const id = fc.integer({ min: 1, max: 0xffffffff });
const ratchetMessage: fc.Arbitrary<RatchetMessage> = fc.record({
  ratchetKey: bytes(32),
  previousCounter: u32,
  counter: u32,
  ciphertext: fc.uint8Array({ minLength: 16, maxLength: 200 }),
});
const prekeyMessage: fc.Arbitrary<PrekeyMessage> = fc.record({
  identity: bytes(172),
  signedPrekeyId: id,
  oneTimePrekeyId: u32,
  kemPrekeyId: id,
  kemCiphertext: bytes(1568),
  baseKey: bytes(32),
  message: ratchetMessage.map(encodeRatchetMessage),
});

describe('ratchet message codec', () => {
  it('round-trips and lays out the 41-byte header as PROTOCOL.md §5 says', () => {
    fc.assert(
      fc.property(ratchetMessage, (m) => {
        const encoded = encodeRatchetMessage(m);
        expect(encoded).toHaveLength(RATCHET_HEADER_BYTES + m.ciphertext.length);
        expect(encoded[0]).toBe(1);
        expect(encoded.subarray(1, 33)).toEqual(m.ratchetKey);
        const view = new DataView(encoded.buffer);
        expect(view.getUint32(33)).toBe(m.previousCounter);
        expect(view.getUint32(37)).toBe(m.counter);
        expect(ratchetMessageHeader(encoded)).toEqual(encoded.subarray(0, 41));
        const decoded = decodeRatchetMessage(encoded);
        expect({ ...decoded }).toEqual({ ...m });
        const header = new Uint8Array(45);
        writeRatchetHeader(header, 4, m.ratchetKey, m.previousCounter, m.counter);
        expect(header.subarray(4)).toEqual(encoded.subarray(0, 41));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects wrong versions, truncation and oversize with typed errors', () => {
    const m = encodeRatchetMessage({
      ratchetKey: new Uint8Array(32).fill(1),
      previousCounter: 0,
      counter: 0,
      ciphertext: new Uint8Array(16),
    });
    expect(() => decodeRatchetMessage(new Uint8Array(0))).toThrow(MalformedEnvelopeError);
    for (let cut = 1; cut < m.length; cut++) {
      expect(() => decodeRatchetMessage(m.subarray(0, cut))).toThrow(MalformedEnvelopeError);
    }
    const v2 = m.slice();
    v2[0] = 2;
    expect(() => decodeRatchetMessage(v2)).toThrow(UnsupportedVersionError);
    const longest = concatBytes(m.subarray(0, 41), new Uint8Array(MAX_PLAINTEXT_BYTES + 16));
    expect(decodeRatchetMessage(longest).ciphertext).toHaveLength(MAX_PLAINTEXT_BYTES + 16);
    expect(longest).toHaveLength(MAX_RATCHET_MESSAGE_BYTES);
    expect(() => decodeRatchetMessage(concatBytes(longest, new Uint8Array(1)))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() => ratchetMessageHeader(m.subarray(0, 40))).toThrow(MalformedEnvelopeError);
  });

  it('refuses to encode fields of the wrong size', () => {
    const ok = {
      ratchetKey: new Uint8Array(32),
      previousCounter: 0,
      counter: 0,
      ciphertext: new Uint8Array(16),
    };
    expect(() => encodeRatchetMessage({ ...ok, ratchetKey: new Uint8Array(31) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeRatchetMessage({ ...ok, ciphertext: new Uint8Array(15) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeRatchetMessage({ ...ok, counter: 2 ** 32 })).toThrow(ArgumentRangeError);
    expect(() => encodeRatchetMessage({ ...ok, previousCounter: -1 })).toThrow(ArgumentRangeError);
  });
});

describe('prekey message codec', () => {
  it('round-trips with the PROTOCOL.md §5 layout', () => {
    fc.assert(
      fc.property(prekeyMessage, (m) => {
        const encoded = encodePrekeyMessage(m);
        expect(encoded).toHaveLength(PREKEY_PREFIX_BYTES + m.message.length);
        expect(encoded[0]).toBe(1);
        expect(encoded.subarray(1, 173)).toEqual(m.identity);
        const view = new DataView(encoded.buffer);
        expect([view.getUint32(173), view.getUint32(177), view.getUint32(181)]).toEqual([
          m.signedPrekeyId,
          m.oneTimePrekeyId,
          m.kemPrekeyId,
        ]);
        expect(encoded.subarray(185, 1753)).toEqual(m.kemCiphertext);
        expect(encoded.subarray(1753, 1785)).toEqual(m.baseKey);
        expect({ ...decodePrekeyMessage(encoded) }).toEqual({ ...m });
      }),
      { numRuns: 50 },
    );
  });

  it('rejects bad versions, id 0, truncation, oversize and a bad embedded message', () => {
    const sample = fc.sample(prekeyMessage, { numRuns: 1, seed: 1 })[0]!;
    const m = encodePrekeyMessage(sample);
    // Down to the prefix plus the smallest ratchet message (41 + 16 bytes).
    for (const cut of [0, 1, 172, 1784, 1785, 1785 + 40, 1785 + 56]) {
      expect(() => decodePrekeyMessage(m.subarray(0, cut))).toThrow(MalformedEnvelopeError);
    }
    const v0 = m.slice();
    v0[0] = 0;
    expect(() => decodePrekeyMessage(v0)).toThrow(UnsupportedVersionError);
    const innerVersion = m.slice();
    innerVersion[PREKEY_PREFIX_BYTES] = 9;
    expect(() => decodePrekeyMessage(innerVersion)).toThrow(UnsupportedVersionError);
    for (const offset of [173, 181]) {
      const zeroId = m.slice();
      zeroId.fill(0, offset, offset + 4);
      expect(() => decodePrekeyMessage(zeroId)).toThrow(MalformedEnvelopeError);
    }
    const noOpk = m.slice();
    noOpk.fill(0, 177, 181);
    expect(decodePrekeyMessage(noOpk).oneTimePrekeyId).toBe(0);
    const tooLong = new Uint8Array(MAX_PREKEY_MESSAGE_BYTES + 1);
    tooLong.set(m.subarray(0, PREKEY_PREFIX_BYTES + 1));
    expect(() => decodePrekeyMessage(tooLong)).toThrow(MalformedEnvelopeError);
    expect(() => encodePrekeyMessage({ ...sample, signedPrekeyId: 0 })).toThrow(ArgumentRangeError);
    expect(() => encodePrekeyMessage({ ...sample, kemPrekeyId: 0 })).toThrow(ArgumentRangeError);
    expect(() => encodePrekeyMessage({ ...sample, message: new Uint8Array(10) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodePrekeyMessage({ ...sample, baseKey: new Uint8Array(33) })).toThrow(
      ArgumentRangeError,
    );
  });

  it('only ever throws the two wire errors on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (input, prekey) => {
        if (prekey) input[0] = 1;
        try {
          if (prekey) decodePrekeyMessage(input);
          else decodeRatchetMessage(input);
        } catch (error) {
          expect(
            error instanceof MalformedEnvelopeError || error instanceof UnsupportedVersionError,
          ).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
