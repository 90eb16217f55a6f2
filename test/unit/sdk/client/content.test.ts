/**
 * The client content frame (docs/SDK.md §Content frame): exact layout, round trips, and every
 * rejection of the encoder and the strict decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_KIND_MESSAGE,
  CONTENT_KIND_SYNC,
  CONTENT_VERSION,
  type Content,
  decodeContent,
  encodeContent,
  MAX_MESSAGE_BYTES,
} from '#sdk/client/content.ts';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { addressFromBytes, addressToBytes } from '#sdk/wire/identity.ts';
import { MAX_PLAINTEXT_BYTES } from '#sdk/wire/messages.ts';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const DESTINATION = addressFromBytes(Uint8Array.from({ length: 20 }, (_, i) => i * 7));
const HEADER = 3 + 16 + 8;

const message = (body: Uint8Array, text = false): Content => ({
  kind: CONTENT_KIND_MESSAGE,
  text,
  senderAccessKey: KEY,
  sentAt: 1_750_000_000_123,
  body,
});

const sync = (body: Uint8Array): Content => ({
  ...message(body, true),
  kind: CONTENT_KIND_SYNC,
  destination: DESTINATION,
});

describe('content frame', () => {
  it('lays out a message frame byte for byte', () => {
    const bytes = encodeContent(message(Uint8Array.of(9, 8, 7), true));
    expect(bytes.length).toBe(HEADER + 3);
    expect([...bytes.subarray(0, 3)]).toEqual([CONTENT_VERSION, CONTENT_KIND_MESSAGE, 0x01]);
    expect(bytes.subarray(3, 19)).toEqual(KEY);
    const view = new DataView(bytes.buffer, bytes.byteOffset + 19, 8);
    expect(view.getUint32(0) * 2 ** 32 + view.getUint32(4)).toBe(1_750_000_000_123);
    expect([...bytes.subarray(HEADER)]).toEqual([9, 8, 7]);
  });

  it('puts the destination of a sync frame between the header and the body', () => {
    const bytes = encodeContent(sync(Uint8Array.of(1)));
    expect(bytes[1]).toBe(CONTENT_KIND_SYNC);
    expect(bytes.length).toBe(HEADER + 20 + 1);
    expect(bytes.subarray(HEADER, HEADER + 20)).toEqual(addressToBytes(DESTINATION));
    expect(bytes[HEADER + 20]).toBe(1);
  });

  it('round-trips message and sync frames, empty and largest bodies', () => {
    for (const c of [
      message(new Uint8Array(0)),
      message(new Uint8Array(MAX_MESSAGE_BYTES).fill(0x5a), true),
      sync(new Uint8Array(0)),
      sync(new Uint8Array(MAX_MESSAGE_BYTES).fill(0x33)),
    ]) {
      const bytes = encodeContent(c);
      expect(bytes.length).toBeLessThanOrEqual(MAX_PLAINTEXT_BYTES);
      expect(decodeContent(bytes)).toEqual(c);
    }
  });

  it('round-trips any frame (property)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ maxLength: 512 }),
        (isSync, text, senderAccessKey, sentAt, dest, body) => {
          const base = { text, senderAccessKey, sentAt, body };
          const c: Content = isSync
            ? { ...base, kind: CONTENT_KIND_SYNC, destination: addressFromBytes(dest) }
            : { ...base, kind: CONTENT_KIND_MESSAGE };
          expect(decodeContent(encodeContent(c))).toEqual(c);
        },
      ),
      { numRuns: 200 },
    );
  });

  describe('encoder rejects', () => {
    it('a body over MAX_MESSAGE_BYTES', () => {
      expect(MAX_MESSAGE_BYTES).toBe(MAX_PLAINTEXT_BYTES - HEADER - 20);
      expect(() => encodeContent(message(new Uint8Array(MAX_MESSAGE_BYTES + 1)))).toThrow(
        ArgumentRangeError,
      );
    });

    it('a sync frame without a destination and a message frame with one', () => {
      const { destination: _d, ...noDestination } = sync(new Uint8Array(1));
      expect(() => encodeContent(noDestination as Content)).toThrow(ArgumentRangeError);
      expect(() =>
        encodeContent({ ...message(new Uint8Array(1)), destination: DESTINATION }),
      ).toThrow(ArgumentRangeError);
    });

    it('an unknown kind', () => {
      for (const kind of [0, 4, 255]) {
        expect(() =>
          encodeContent({ ...message(new Uint8Array(1)), kind } as unknown as Content),
        ).toThrow(ArgumentRangeError);
      }
    });

    it('an access key of the wrong size or type, a bad sentAt, a bad destination', () => {
      for (const senderAccessKey of [new Uint8Array(15), new Uint8Array(17)]) {
        expect(() => encodeContent({ ...message(new Uint8Array(1)), senderAccessKey })).toThrow(
          ArgumentRangeError,
        );
      }
      expect(() =>
        encodeContent({
          ...message(new Uint8Array(1)),
          senderAccessKey: [...KEY] as unknown as Uint8Array,
        }),
      ).toThrow(ArgumentTypeError);
      expect(() =>
        encodeContent({ ...message(new Uint8Array(1)), body: 'text' as unknown as Uint8Array }),
      ).toThrow(ArgumentTypeError);
      for (const sentAt of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
        expect(() => encodeContent({ ...message(new Uint8Array(1)), sentAt })).toThrow(
          ArgumentRangeError,
        );
      }
      expect(() => encodeContent({ ...sync(new Uint8Array(1)), destination: 'nope' })).toThrow(
        ArgumentTypeError,
      );
    });
  });

  describe('decoder rejects', () => {
    const good = () => encodeContent(message(Uint8Array.of(1, 2, 3)));

    it('another version', () => {
      for (const version of [0, 2, 255]) {
        const bytes = good();
        bytes[0] = version;
        expect(() => decodeContent(bytes)).toThrow(UnsupportedVersionError);
        expect(() => decodeContent(bytes)).toThrow(`unsupported content version ${version}`);
      }
    });

    it('an unknown kind', () => {
      for (const kind of [0, 4, 0x81]) {
        const bytes = good();
        bytes[1] = kind;
        expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
      }
    });

    it('any flag but the text bit', () => {
      for (const flags of [0x02, 0x03, 0x80, 0xff]) {
        const bytes = good();
        bytes[2] = flags;
        expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
      }
    });

    it('every truncation of the header, and of the destination of a sync frame', () => {
      const header = good().subarray(0, HEADER);
      for (let n = 0; n < HEADER; n++) {
        expect(() => decodeContent(header.subarray(0, n))).toThrow(MalformedEnvelopeError);
      }
      const s = encodeContent(sync(new Uint8Array(0)));
      for (let n = HEADER; n < HEADER + 20; n++) {
        expect(() => decodeContent(s.subarray(0, n))).toThrow(MalformedEnvelopeError);
      }
    });

    it('a sentAt beyond the safe integer range', () => {
      const bytes = good();
      bytes.fill(0xff, 19, 27);
      expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
    });
  });
});
