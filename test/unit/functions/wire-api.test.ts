/** Known answers and properties of the API contract in sdk/wire/api. */
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { bytesField } from '#sdk/wire/api/fields.ts';
import { MAX_ENVELOPE_BYTES } from '#sdk/wire/api/limits.ts';
import { createMessageId, messageIdTimestamp } from '#sdk/wire/api/message-id.ts';
import { SendRequestSchema } from '#sdk/wire/api/schemas.ts';
import {
  accountRequestPayload,
  registrationPayload,
  requestSignaturePayload,
} from '#sdk/wire/api/signing.ts';
import { IDENTITY_BUNDLE_BYTES } from '#sdk/wire/identity.ts';
import { MAX_SEALED_ENVELOPE_BYTES } from '#sdk/wire/sealed.ts';

const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('request signature payload', () => {
  it('is label || audience || var16(method) || var16(path) || bodyHash || u64 ts || nonce || address || u32 device', () => {
    const payload = requestSignaturePayload({
      audience: new Uint8Array(32).fill(0xcc),
      method: 'GET',
      pathAndQuery: '/v1/messages?limit=2',
      bodyHash: new Uint8Array(32).fill(0xaa),
      timestamp: 0x0102030405,
      nonce: new Uint8Array(16).fill(0xbb),
      address: ADDRESS,
      deviceId: 0x01020304,
    });
    const label = Buffer.from('Sealpost-Request-v1').toString('hex');
    const path = Buffer.from('/v1/messages?limit=2').toString('hex');
    expect(hex(payload)).toBe(
      `${label}${'cc'.repeat(32)}0003474554` +
        `0014${path}` +
        'aa'.repeat(32) +
        '0000000102030405' +
        'bb'.repeat(16) +
        '00443214c74254b635cf84653a56d7c675be77df' +
        '01020304',
    );
    const account = accountRequestPayload({
      audience: new Uint8Array(32).fill(0xcc),
      method: 'GET',
      pathAndQuery: '/v1/messages?limit=2',
      bodyHash: new Uint8Array(32).fill(0xaa),
      timestamp: 0x0102030405,
      nonce: new Uint8Array(16).fill(0xbb),
      address: ADDRESS,
      deviceId: 0x01020304,
    });
    const accountLabel = Buffer.from('Sealpost-AccountRequest-v1').toString('hex');
    expect(hex(account)).toBe(accountLabel + hex(payload).slice(label.length));
  });

  it('rejects lower-case methods, relative paths and wrong sizes', () => {
    const base = {
      audience: new Uint8Array(32),
      method: 'GET',
      pathAndQuery: '/x',
      bodyHash: new Uint8Array(32),
      timestamp: 1,
      nonce: new Uint8Array(16),
      address: ADDRESS,
      deviceId: 1,
    };
    expect(() => requestSignaturePayload({ ...base, method: 'get' })).toThrow(ArgumentTypeError);
    expect(() => requestSignaturePayload({ ...base, pathAndQuery: 'x' })).toThrow(
      ArgumentTypeError,
    );
    expect(() => requestSignaturePayload({ ...base, nonce: new Uint8Array(15) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => requestSignaturePayload({ ...base, bodyHash: new Uint8Array(31) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => requestSignaturePayload({ ...base, timestamp: -1 })).toThrow(/timestamp/);
    expect(() => requestSignaturePayload({ ...base, deviceId: 0 })).toThrow(/deviceId/);
    expect(() => requestSignaturePayload({ ...base, audience: new Uint8Array(31) })).toThrow(
      ArgumentRangeError,
    );
  });

  it('registration payload is label || audience || address bytes || bundle || u64 timestamp', () => {
    const bundle = new Uint8Array(IDENTITY_BUNDLE_BYTES).fill(1);
    const p = registrationPayload(ADDRESS, bundle, 258, new Uint8Array(32).fill(0xdd));
    const label = 'Sealpost-Registration-v1'.length;
    expect(p.length).toBe(label + 32 + 20 + IDENTITY_BUNDLE_BYTES + 8);
    expect(hex(p.subarray(label, label + 32))).toBe('dd'.repeat(32));
    expect(hex(p.subarray(label + 32, label + 52))).toBe(
      '00443214c74254b635cf84653a56d7c675be77df',
    );
    expect(hex(p.subarray(p.length - 8))).toBe('0000000000000102');
    expect(() => registrationPayload(ADDRESS, bundle, 258, new Uint8Array(16))).toThrow(
      ArgumentRangeError,
    );
  });
});

describe('message ids', () => {
  it('carry their timestamp and sort like it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        (a, b) => {
          const ia = createMessageId(a, new Uint8Array(10).fill(0xff));
          const ib = createMessageId(b, new Uint8Array(10));
          expect(messageIdTimestamp(ia)).toBe(a);
          if (a < b) expect(hex(ia) < hex(ib)).toBe(true);
        },
      ),
    );
    expect(() => createMessageId(2 ** 48, new Uint8Array(10))).toThrow(ArgumentRangeError);
  });
});

describe('schemas', () => {
  it('accepts exactly canonical base64url of the right length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(v.is(bytesField(16), toBase64Url(bytes))).toBe(true);
      }),
    );
    expect(v.is(bytesField(16), 'AAAAAAAAAAAAAAAAAAAAAB')).toBe(false);
    expect(v.is(bytesField(16), 'AAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(v.is(bytesField(16), 'AAAAAAAAAAAAAAAAAAAA+A')).toBe(false);
  });

  it('rejects a send that names a device twice and caps envelopes at the protocol bound', () => {
    const env = toBase64Url(new Uint8Array(4));
    const id = toBase64Url(new Uint8Array(16));
    expect(
      v.is(SendRequestSchema, {
        messageId: id,
        envelopes: [
          { deviceId: 1, envelope: env },
          { deviceId: 1, envelope: env },
        ],
      }),
    ).toBe(false);
    expect(
      v.is(SendRequestSchema, { messageId: id, envelopes: [{ deviceId: 1, envelope: env }] }),
    ).toBe(true);
    expect(MAX_ENVELOPE_BYTES).toBe(MAX_SEALED_ENVELOPE_BYTES);
    const big = toBase64Url(new Uint8Array(MAX_ENVELOPE_BYTES + 1));
    expect(
      v.is(SendRequestSchema, { messageId: id, envelopes: [{ deviceId: 1, envelope: big }] }),
    ).toBe(false);
  });
});
