/**
 * The attachment pointer codec (docs/PROTOCOL.md §10.6): exact layout, round trips of every
 * combination of optional fields, argument checks on encode and strict decoding (one encoding
 * per pointer).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttachmentPointer,
  decodeAttachmentPointer,
  encodeAttachmentPointer,
  MAX_ATTACHMENT_POINTER_BYTES,
  MAX_ATTACHMENT_SIZE,
} from '#sdk/attachments/index.ts';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, toBase64Url, toHex, utf8 } from '#sdk/util/bytes.ts';

const idBytes = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const base: AttachmentPointer = {
  id: toBase64Url(idBytes),
  key: new Uint8Array(32).fill(0x11),
  digest: new Uint8Array(32).fill(0x22),
  size: 0xf1020304,
  contentType: 'image/jpeg',
};
const full: AttachmentPointer = {
  ...base,
  fileName: 'Ferien 2025 – Strand.jpg',
  width: 4032,
  height: 3024,
  durationMs: 0,
  thumbnail: new Uint8Array(8192).fill(0x33),
};

describe('attachment pointer', () => {
  it('encodes the documented layout', () => {
    const bytes = encodeAttachmentPointer({ ...base, width: 2, height: 3, fileName: 'a.b' });
    expect(toHex(bytes)).toBe(
      [
        '01',
        toHex(idBytes),
        '11'.repeat(32),
        '22'.repeat(32),
        '00000000f1020304',
        '03', // flags: file name, dimensions
        '0a',
        toHex(utf8('image/jpeg')),
        '0003',
        toHex(utf8('a.b')),
        '00000002',
        '00000003',
      ].join(''),
    );
    expect(encodeAttachmentPointer(base).length).toBe(1 + 16 + 32 + 32 + 8 + 1 + 1 + 10);
  });

  it('round-trips with every optional field present, and at its largest', () => {
    const largest = {
      ...full,
      contentType: `application/${'x'.repeat(115)}`,
      fileName: `${'é'.repeat(127)}x`,
    };
    for (const pointer of [base, full, largest]) {
      const bytes = encodeAttachmentPointer(pointer);
      expect(decodeAttachmentPointer(bytes)).toEqual(pointer);
    }
    expect(encodeAttachmentPointer(largest).length).toBe(MAX_ATTACHMENT_POINTER_BYTES);
  });

  it('round-trips any combination of optional fields', () => {
    const optional = fc.record(
      {
        fileName: fc
          .string({ minLength: 1, maxLength: 60 })
          .filter((s) => /^[^/\0.\uFEFF]/.test(s)),
        dims: fc.tuple(fc.nat(), fc.nat()),
        durationMs: fc.nat(),
        thumbnail: fc.uint8Array({ minLength: 1, maxLength: 300 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(optional, fc.integer({ min: 0, max: MAX_ATTACHMENT_SIZE }), (o, size) => {
        const { dims, ...rest } = o;
        const pointer: AttachmentPointer = {
          ...base,
          size,
          ...rest,
          ...(dims ? { width: dims[0], height: dims[1] } : {}),
        };
        if (pointer.fileName !== undefined && !/^[^/\0]*$/.test(pointer.fileName)) return;
        if (pointer.fileName !== undefined && /\p{Surrogate}/u.test(pointer.fileName)) return;
        const decoded = decodeAttachmentPointer(encodeAttachmentPointer(pointer));
        expect(decoded).toEqual(pointer);
        // Absent fields are absent, not undefined (exactOptionalPropertyTypes callers).
        expect(Object.keys(decoded).sort()).toEqual(Object.keys(pointer).sort());
      }),
      { numRuns: 300 },
    );
  });

  it('returns copies the caller owns', () => {
    const bytes = encodeAttachmentPointer(full);
    const decoded = decodeAttachmentPointer(bytes);
    bytes.fill(0);
    expect(toHex(decoded.key)).toBe('11'.repeat(32));
    expect(decoded.thumbnail?.[0]).toBe(0x33);
  });

  it('checks every field on encode', () => {
    const bad: [Partial<Record<keyof AttachmentPointer, unknown>>, typeof ArgumentRangeError][] = [
      [{ id: 'short' }, ArgumentRangeError],
      [{ id: toBase64Url(new Uint8Array(17)) }, ArgumentRangeError],
      [{ id: `${toBase64Url(idBytes).slice(0, 21)}B` }, ArgumentRangeError], // non-canonical
      [{ id: 7 }, ArgumentTypeError],
      [{ key: new Uint8Array(31) }, ArgumentRangeError],
      [{ digest: 'digest' }, ArgumentTypeError],
      [{ size: -1 }, ArgumentRangeError],
      [{ size: MAX_ATTACHMENT_SIZE + 1 }, ArgumentRangeError],
      [{ size: 1.5 }, ArgumentRangeError],
      [{ contentType: 'Image/JPEG' }, ArgumentRangeError],
      [{ contentType: 'image/jpeg; q=1' }, ArgumentRangeError],
      [{ contentType: 'jpeg' }, ArgumentRangeError],
      [{ contentType: '' }, ArgumentRangeError],
      [{ contentType: `a/${'b'.repeat(126)}` }, ArgumentRangeError],
      [{ contentType: 'image/jpég' }, ArgumentRangeError],
      [{ contentType: 5 }, ArgumentTypeError],
      [{ fileName: '' }, ArgumentRangeError],
      [{ fileName: 'a/b' }, ArgumentRangeError],
      [{ fileName: 'a\0b' }, ArgumentRangeError],
      [{ fileName: '..' }, ArgumentRangeError],
      [{ fileName: '.' }, ArgumentRangeError],
      [{ fileName: '\uFEFFname' }, ArgumentRangeError],
      [{ fileName: 'é'.repeat(128) }, ArgumentRangeError], // 256 bytes
      [{ fileName: 'a\uD800' }, ArgumentTypeError],
      [{ fileName: 3 }, ArgumentTypeError],
      [{ width: 10 }, ArgumentRangeError],
      [{ height: 10 }, ArgumentRangeError],
      [{ width: -1, height: 1 }, ArgumentRangeError],
      [{ width: 2 ** 32, height: 1 }, ArgumentRangeError],
      [{ durationMs: 1.5 }, ArgumentRangeError],
      [{ thumbnail: new Uint8Array(0) }, ArgumentRangeError],
      [{ thumbnail: new Uint8Array(8193) }, ArgumentRangeError],
      [{ thumbnail: [1] }, ArgumentTypeError],
    ];
    for (const [change, error] of bad) {
      expect(
        () => encodeAttachmentPointer({ ...base, ...change } as AttachmentPointer),
        JSON.stringify(change),
      ).toThrow(error);
    }
    expect(() => encodeAttachmentPointer(null as never)).toThrow(ArgumentTypeError);
  });

  describe('strict decoding', () => {
    const good = encodeAttachmentPointer(full);
    /** Offsets in `good`: the fixed part is 90 bytes, then flags, content type, file name, … */
    const FLAGS = 89;
    const TYPE_LEN = 90;
    const NAME_LEN = 91 + 10;
    const withByte = (bytes: Uint8Array, at: number, value: number) => {
      const out = bytes.slice();
      out[at] = value;
      return out;
    };
    const simple = encodeAttachmentPointer(base);

    it('decodes the good encoding', () => {
      expect(good[FLAGS]).toBe(0x0f);
      expect(good[TYPE_LEN]).toBe(10);
      expect(decodeAttachmentPointer(good)).toEqual(full);
    });

    it('refuses another version with UnsupportedVersionError', () => {
      expect(() => decodeAttachmentPointer(withByte(good, 0, 2))).toThrow(UnsupportedVersionError);
    });

    it.each([
      ['unknown flag', withByte(simple, FLAGS, 0x10)],
      ['unknown high flag', withByte(simple, FLAGS, 0x80)],
      ['truncated fixed part', simple.subarray(0, 50)],
      ['empty', new Uint8Array(0)],
      ['truncated content type', simple.subarray(0, simple.length - 1)],
      ['trailing byte', concatBytes(simple, new Uint8Array(1))],
      ['flag without its field', withByte(simple, FLAGS, 0x04)],
      [
        'size above the largest file',
        concatBytes(
          simple.subarray(0, 81),
          Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0),
          simple.subarray(89),
        ),
      ],
      [
        'size of 2^53 or more',
        concatBytes(
          simple.subarray(0, 81),
          Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0),
          simple.subarray(89),
        ),
      ],
      ['empty content type', concatBytes(simple.subarray(0, TYPE_LEN), Uint8Array.of(0))],
      ['upper-case content type', withByte(simple, TYPE_LEN + 1, 0x49)],
      ['content type with a NUL', withByte(simple, TYPE_LEN + 2, 0)],
      ['non-ASCII content type', withByte(simple, TYPE_LEN + 2, 0xe9)],
      ['empty file name', withByte(withByte(good, NAME_LEN, 0), NAME_LEN + 1, 0)],
      ['file name of invalid UTF-8', withByte(good, NAME_LEN + 2, 0xff)],
      ['file name with a slash', withByte(good, NAME_LEN + 2, 0x2f)],
      [
        'file name with a byte order mark',
        concatBytes(
          simple.subarray(0, FLAGS),
          Uint8Array.of(1),
          simple.subarray(TYPE_LEN),
          Uint8Array.of(0, 4, 0xef, 0xbb, 0xbf, 0x61),
        ),
      ],
      [
        'empty thumbnail',
        concatBytes(
          simple.subarray(0, FLAGS),
          Uint8Array.of(8),
          simple.subarray(TYPE_LEN),
          Uint8Array.of(0, 0),
        ),
      ],
      [
        'thumbnail over 8192 bytes',
        concatBytes(
          simple.subarray(0, FLAGS),
          Uint8Array.of(8),
          simple.subarray(TYPE_LEN),
          Uint8Array.of(0x20, 0x01),
          new Uint8Array(8193),
        ),
      ],
      ['longer than any pointer', new Uint8Array(MAX_ATTACHMENT_POINTER_BYTES + 1).fill(1)],
    ])('refuses %s with MalformedEnvelopeError', (_name, bytes) => {
      expect(() => decodeAttachmentPointer(bytes)).toThrow(MalformedEnvelopeError);
    });

    it('refuses every truncation and every extension of a full pointer', () => {
      for (let n = 0; n < good.length; n += 97) {
        expect(() => decodeAttachmentPointer(good.subarray(0, n))).toThrow(MalformedEnvelopeError);
      }
      expect(() => decodeAttachmentPointer(good.subarray(0, good.length - 1))).toThrow(
        MalformedEnvelopeError,
      );
      expect(() => decodeAttachmentPointer(concatBytes(good, Uint8Array.of(0)))).toThrow(
        MalformedEnvelopeError,
      );
    });

    it('has one encoding per pointer: any byte string that decodes re-encodes to itself', () => {
      fc.assert(
        fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
          const bytes = withByte(good, at, value);
          let decoded: AttachmentPointer;
          try {
            decoded = decodeAttachmentPointer(bytes);
          } catch (e) {
            expect(
              e instanceof MalformedEnvelopeError || e instanceof UnsupportedVersionError,
            ).toBe(true);
            return;
          }
          expect(toHex(encodeAttachmentPointer(decoded))).toBe(toHex(bytes));
        }),
        { numRuns: 2000 },
      );
    });
  });
});
