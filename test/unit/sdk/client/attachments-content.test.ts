/**
 * Attachment pointers in the client content frame (docs/SDK.md §Content frame): the layout of
 * the attachment section, round trips, the size limit of the whole frame, and strict decoding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AttachmentPointer, encodeAttachmentPointer } from '#sdk/attachments/index.ts';
import {
  attachmentSectionBytes,
  CONTENT_KIND_MESSAGE,
  CONTENT_KIND_SYNC,
  type Content,
  decodeContent,
  encodeContent,
  MAX_ATTACHMENTS,
  MAX_MESSAGE_BYTES,
} from '#sdk/client/content.ts';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';
import { MAX_PLAINTEXT_BYTES } from '#sdk/wire/messages.ts';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const HEADER = 3 + 16 + 8;

const pointer = (i: number, extra: Partial<AttachmentPointer> = {}): AttachmentPointer => ({
  id: `${'A'.repeat(20)}${String.fromCharCode(65 + (i % 26))}A`,
  key: new Uint8Array(32).fill(i),
  digest: new Uint8Array(32).fill(255 - i),
  size: 1000 * i,
  contentType: 'image/jpeg',
  ...extra,
});

const message = (attachments: AttachmentPointer[], body = Uint8Array.of(1, 2)): Content => ({
  kind: CONTENT_KIND_MESSAGE,
  text: true,
  senderAccessKey: KEY,
  sentAt: 1_750_000_000_000,
  attachments,
  body,
});

describe('attachments in the content frame', () => {
  it('sets flag bit 1 and writes count and length-prefixed pointers before the body', () => {
    const a = pointer(1, { fileName: 'a.jpg' });
    const b = pointer(2, { thumbnail: Uint8Array.of(9) });
    const bytes = encodeContent(message([a, b], Uint8Array.of(7, 7)));
    expect(bytes[2]).toBe(0x03);
    const ea = encodeAttachmentPointer(a);
    const eb = encodeAttachmentPointer(b);
    let at = HEADER;
    expect(bytes[at++]).toBe(2);
    expect((bytes[at]! << 8) | bytes[at + 1]!).toBe(ea.length);
    expect(bytes.subarray(at + 2, at + 2 + ea.length)).toEqual(ea);
    at += 2 + ea.length;
    expect((bytes[at]! << 8) | bytes[at + 1]!).toBe(eb.length);
    at += 2 + eb.length;
    expect([...bytes.subarray(at)]).toEqual([7, 7]);
    expect(attachmentSectionBytes([a, b])).toBe(1 + 2 + ea.length + 2 + eb.length);
    expect(attachmentSectionBytes([])).toBe(0);
  });

  it('round-trips message and sync frames with 1..32 pointers; none or [] leaves the flag off', () => {
    const all = Array.from({ length: MAX_ATTACHMENTS }, (_, i) =>
      pointer(i, i % 2 ? { fileName: `f${i}`, width: i, height: i + 1, durationMs: i } : {}),
    );
    const sync: Content = {
      ...message(all.slice(0, 3)),
      kind: CONTENT_KIND_SYNC,
      destination: addressFromBytes(new Uint8Array(20).fill(3)),
    };
    for (const c of [message(all.slice(0, 1)), message(all), sync]) {
      expect(decodeContent(encodeContent(c))).toEqual(c);
    }
    const { attachments: _a, ...plain } = message([]);
    expect(encodeContent(message([]))).toEqual(encodeContent(plain));
    expect(encodeContent(message([]))[2]).toBe(0x01);
    expect(decodeContent(encodeContent(message([]))).attachments).toBeUndefined();
  });

  it('round-trips any pointers (property)', () => {
    const arbPointer = fc.record({
      id: fc
        .uint8Array({ minLength: 16, maxLength: 16 })
        .map((b) => Buffer.from(b).toString('base64url')),
      key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      size: fc.integer({ min: 0, max: 2 ** 32 - 2 ** 26 }),
      contentType: fc.constantFrom('image/png', 'application/octet-stream', 'video/mp4'),
    });
    fc.assert(
      fc.property(
        fc.array(arbPointer, { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 64 }),
        (ps, body) => {
          const c = message(ps, body);
          expect(decodeContent(encodeContent(c))).toEqual(c);
        },
      ),
      { numRuns: 100 },
    );
  });

  describe('encoder rejects', () => {
    it('more than 32 attachments, and a list that is not an array', () => {
      const many = Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => pointer(i));
      expect(() => encodeContent(message(many))).toThrow(ArgumentRangeError);
      expect(() =>
        encodeContent({ ...message([]), attachments: 'x' as unknown as AttachmentPointer[] }),
      ).toThrow(ArgumentTypeError);
    });

    it('a frame whose body and pointers pass the plaintext limit, also for the sync copy', () => {
      const a = pointer(1);
      const section = attachmentSectionBytes([a]);
      const fits = new Uint8Array(MAX_MESSAGE_BYTES - section);
      const frame = encodeContent(message([a], fits));
      // The limit leaves room for the destination of the sync copy.
      expect(frame.length).toBe(MAX_PLAINTEXT_BYTES - 20);
      expect(() => encodeContent(message([a], new Uint8Array(fits.length + 1)))).toThrow(
        ArgumentRangeError,
      );
      const thumbs = Array.from({ length: 12 }, (_, i) =>
        pointer(i, { thumbnail: new Uint8Array(8192), fileName: 'n'.repeat(255) }),
      );
      expect(() => encodeContent(message(thumbs, new Uint8Array(0)))).toThrow(ArgumentRangeError);
    });

    it('an invalid pointer', () => {
      expect(() => encodeContent(message([pointer(1, { contentType: 'Image/JPEG' })]))).toThrow(
        ArgumentRangeError,
      );
      expect(() => encodeContent(message([pointer(1, { key: new Uint8Array(31) })]))).toThrow(
        ArgumentRangeError,
      );
    });
  });

  describe('decoder rejects', () => {
    const good = () => encodeContent(message([pointer(1), pointer(2)], Uint8Array.of(5)));

    it('a count of 0 or above 32', () => {
      for (const count of [0, 33, 255]) {
        const bytes = good();
        bytes[HEADER] = count;
        expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
      }
    });

    it('a pointer length that runs past the frame, and every truncation of the section', () => {
      const bytes = good();
      bytes[HEADER + 1] = 0xff;
      expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
      const section = attachmentSectionBytes([pointer(1), pointer(2)]);
      const whole = good();
      for (let n = HEADER; n < HEADER + section; n++) {
        expect(() => decodeContent(whole.subarray(0, n)), `length ${n}`).toThrow(
          MalformedEnvelopeError,
        );
      }
    });

    it('a pointer that does not decode exactly (short length, unknown flag, other version)', () => {
      const short = good();
      short[HEADER + 2] = short[HEADER + 2]! - 1; // the first pointer loses its last byte
      expect(() => decodeContent(short)).toThrow(MalformedEnvelopeError);
      const flagged = good();
      // Pointer flags byte: after version, id, key, digest and size.
      flagged[HEADER + 3 + 1 + 16 + 32 + 32 + 8] = 0x10;
      expect(() => decodeContent(flagged)).toThrow(MalformedEnvelopeError);
      const versioned = good();
      versioned[HEADER + 3] = 2;
      expect(() => decodeContent(versioned)).toThrow(UnsupportedVersionError);
    });

    it('flag bits above the attachment bit', () => {
      for (const flags of [0x04, 0x07, 0x80]) {
        const bytes = good();
        bytes[2] = flags;
        expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
      }
    });
  });
});
