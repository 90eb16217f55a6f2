import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { MalformedEnvelopeError } from '#sdk/errors.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import {
  ByteReader,
  ByteWriter,
  constantTimeEqual,
  fromBase64Url,
  fromHex,
  fromUtf8,
  toBase64Url,
  toHex,
  tryFromBase64Url,
  utf8,
} from '#sdk/util/bytes.ts';

describe('base64url', () => {
  it('round-trips arbitrary bytes and matches RFC 4648 §10 vectors', () => {
    const rfc: [string, string][] = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of rfc) {
      expect(toBase64Url(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(fromBase64Url(encoded))).toBe(plain);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('rejects padding, whitespace, standard alphabet and non-canonical trailing bits', () => {
    for (const bad of ['Zg==', 'Zm9v YmFy', 'a+b/', 'Zh', 'Zm9', 'A', '\u00e9\u00e9']) {
      expect(tryFromBase64Url(bad)).toBeUndefined();
    }
    expect(() => fromBase64Url('Zg==', 'field')).toThrow(/field/);
  });
});

describe('UTF-8', () => {
  it('decodes what it encodes, a leading byte-order mark included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => fromUtf8(utf8(text)) === text),
    );
    expect(fromUtf8(utf8('\uFEFFhello'))).toBe('\uFEFFhello');
  });

  it('refuses invalid UTF-8', () => {
    expect(() => fromUtf8(new Uint8Array([0xc3]))).toThrow(MalformedEnvelopeError);
  });
});

describe('hex and constant-time equality', () => {
  it('round-trips hex and rejects bad digits', () => {
    expect(toHex(fromHex('00ff10Ab'))).toBe('00ff10ab');
    expect(() => fromHex('0g')).toThrow(ArgumentTypeError);
    expect(() => fromHex('abc')).toThrow(ArgumentTypeError);
  });
  it('compares by content and length', () => {
    expect(constantTimeEqual(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(constantTimeEqual(fromHex('0102'), fromHex('0103'))).toBe(false);
    expect(constantTimeEqual(fromHex('0102'), fromHex('010200'))).toBe(false);
  });
});

describe('ByteWriter/ByteReader', () => {
  it('round-trips every field type', () => {
    const w = new ByteWriter(1)
      .u8(7)
      .u16(513)
      .u32(0xdeadbeef)
      .u64(2 ** 52 + 3)
      .var16(fromHex('aabb'))
      .var32(fromHex('cc'));
    const r = new ByteReader(w.finish());
    expect([r.u8(), r.u16(), r.u32(), r.u64()]).toEqual([7, 513, 0xdeadbeef, 2 ** 52 + 3]);
    expect(r.var16()).toEqual(fromHex('aabb'));
    expect(r.var32(10)).toEqual(fromHex('cc'));
    r.end();
  });
  it('throws MalformedEnvelopeError on truncation, oversize fields and trailing bytes', () => {
    expect(() => new ByteReader(fromHex('00')).u16()).toThrow(MalformedEnvelopeError);
    expect(() => new ByteReader(fromHex('0003aabb')).var16()).toThrow(MalformedEnvelopeError);
    expect(() => new ByteReader(fromHex('0002aabb')).var16(1)).toThrow(MalformedEnvelopeError);
    const r = new ByteReader(fromHex('0102'));
    r.u8();
    expect(() => r.end()).toThrow(MalformedEnvelopeError);
  });
});

describe('default backend', () => {
  it('is selected for this runtime', () => {
    expect(typeof defaultBackend.name).toBe('string');
  });
});
