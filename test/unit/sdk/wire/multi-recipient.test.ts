/**
 * Multi-recipient wire codecs (docs/PROTOCOL.md §14): the request of test/vectors/shared-payload.json
 * and every invalid one, the layout field by field, round trips (fast-check), encoder argument
 * errors, one encoding per request, and the payload, body and reference codecs.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, SealpostError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex, toHex, u32be } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';
import {
  decodeMultiRecipientRequest,
  decodePayloadReference,
  decodeSharedPayload,
  decodeSharedPayloadBody,
  encodeMultiRecipientRequest,
  encodePayloadReference,
  encodeSharedPayload,
  encodeSharedPayloadBody,
  isPayloadReference,
  MAX_DEVICE_HEADER_BYTES,
  MAX_MULTI_RECIPIENT_ACCOUNTS,
  MAX_MULTI_RECIPIENT_BYTES,
  MAX_MULTI_RECIPIENT_DEVICES,
  MAX_SHARED_PAYLOAD_BYTES,
  MAX_SHARED_PAYLOAD_CONTENT_BYTES,
  MIN_DEVICE_HEADER_BYTES,
  MIN_SHARED_PAYLOAD_BYTES,
  type MultiRecipientAccount,
  type MultiRecipientAuth,
  type MultiRecipientRequest,
  PAYLOAD_REFERENCE_BYTES,
} from '#sdk/wire/index.ts';

interface VectorAccount {
  address: string;
  auth: { kind: string; accessKey?: string; token?: string };
  devices: { deviceId: number; registrationId: number; header: string }[];
}

const text = readFileSync(new URL('../../../vectors/shared-payload.json', import.meta.url), 'utf8');
const vectors = JSON.parse(text) as {
  payloads: { name: string; payload?: string; reference: string; key: string; digest: string }[];
  invalidReferences: { name: string; reference: string }[];
  request: { requestId: string; accounts: VectorAccount[]; encoded: string };
  invalidRequests: {
    name: string;
    code: string;
    offset?: number;
    replace?: string;
    truncate?: number;
    append?: string;
    request?: string;
  }[];
};

const samplePayload = fromHex(vectors.payloads.find((p) => p.name === '1 KiB')!.payload!);
const encoded = fromHex(vectors.request.encoded);

function authOf(a: VectorAccount['auth']): MultiRecipientAuth {
  if (a.kind === 'accessKey') return { kind: 'accessKey', accessKey: fromHex(a.accessKey!) };
  if (a.kind === 'token') return { kind: 'token', token: fromHex(a.token!) };
  return { kind: 'none' };
}

const vectorRequest: MultiRecipientRequest = {
  requestId: fromHex(vectors.request.requestId),
  accounts: vectors.request.accounts.map((a) => ({
    address: a.address,
    auth: authOf(a.auth),
    devices: a.devices.map((d) => ({ ...d, header: fromHex(d.header) })),
  })),
  payload: samplePayload,
};

function applyEdit(c: (typeof vectors.invalidRequests)[number]): Uint8Array {
  if (c.request !== undefined) return fromHex(c.request);
  if (c.truncate !== undefined) return encoded.subarray(0, c.truncate);
  if (c.append !== undefined) return concatBytes(encoded, fromHex(c.append));
  const out = encoded.slice();
  out.set(fromHex(c.replace!), c.offset!);
  return out;
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SealpostError) return e.code;
    throw e;
  }
  return 'none';
}

/** A header as the codec sees it: version byte 2 and `size - 1` more bytes. */
const header = (size: number, fill = 7) => {
  const h = new Uint8Array(size).fill(fill);
  h[0] = 2;
  return h;
};
const address = (n: number) => addressFromBytes(new Uint8Array(20).fill(n));
const oneAccount = (devices = [{ deviceId: 1, registrationId: 1, header: header(600) }]) => ({
  address: address(1),
  auth: { kind: 'none' } as const,
  devices,
});
const request = (accounts: MultiRecipientAccount[], payload = samplePayload) => ({
  requestId: new Uint8Array(16).fill(9),
  accounts,
  payload,
});

describe('multi-recipient request vectors', () => {
  it('encode to the recorded bytes and decode back', () => {
    expect(toHex(encodeMultiRecipientRequest(vectorRequest))).toBe(vectors.request.encoded);
    expect(decodeMultiRecipientRequest(encoded)).toEqual(vectorRequest);
  });

  it('lay out every field where PROTOCOL.md §14.4 puts it', () => {
    const [alice] = vectorRequest.accounts;
    expect(encoded[0]).toBe(1);
    expect(encoded.subarray(1, 17)).toEqual(vectorRequest.requestId);
    expect((encoded[17]! << 8) | encoded[18]!).toBe(3);
    expect(addressFromBytes(encoded.subarray(19, 39))).toBe(alice!.address);
    expect(encoded[39]).toBe(1);
    expect(encoded[56]).toBe(2);
    expect(encoded.subarray(57, 61)).toEqual(u32be(1));
    expect(encoded.subarray(61, 65)).toEqual(u32be(0xdeadbeef));
    expect((encoded[65]! << 8) | encoded[66]!).toBe(993);
    expect(encoded.subarray(-samplePayload.length)).toEqual(samplePayload);
    expect(encoded.subarray(-samplePayload.length - 4, -samplePayload.length)).toEqual(
      u32be(samplePayload.length),
    );
  });

  it('refuse every invalid request with its code', () => {
    expect(vectors.invalidRequests.length).toBeGreaterThanOrEqual(16);
    for (const c of vectors.invalidRequests) {
      expect(
        codeOf(() => decodeMultiRecipientRequest(applyEdit(c))),
        c.name,
      ).toBe(c.code);
    }
  });
});

describe('decodeMultiRecipientRequest', () => {
  it('refuses an oversized body before reading anything', () => {
    const big = new Uint8Array(MAX_MULTI_RECIPIENT_BYTES + 1);
    big[0] = 1;
    expect(() => decodeMultiRecipientRequest(big)).toThrow('too long');
    expect(() => decodeMultiRecipientRequest(new Uint8Array(0))).toThrow(MalformedEnvelopeError);
    expect(() => decodeMultiRecipientRequest(Uint8Array.of(9))).toThrow(UnsupportedVersionError);
    expect(() => decodeMultiRecipientRequest('x' as never)).toThrow(ArgumentTypeError);
  });

  it('refuses a header length over its bound before reading the header', () => {
    // The header length is read first: 0xffff must fail as too long, not as truncated.
    const out = encoded.slice();
    out.set([0xff, 0xff], 65);
    expect(() => decodeMultiRecipientRequest(out)).toThrow('field too long');
  });

  it('refuses a payload length over its bound and a payload under the minimum', () => {
    const lengthAt = encoded.length - samplePayload.length - 4;
    const over = encoded.slice();
    over.set(u32be(MAX_SHARED_PAYLOAD_BYTES + 1), lengthAt);
    expect(() => decodeMultiRecipientRequest(over)).toThrow('field too long');
    const short = concatBytes(
      encoded.subarray(0, lengthAt),
      u32be(52),
      samplePayload.subarray(0, 52),
    );
    expect(() => decodeMultiRecipientRequest(short)).toThrow('truncated');
  });

  it('accepts the limits: 256 accounts, 12 devices, 1,024 devices in all, headers of 568 and 4,096 bytes', () => {
    const accounts = Array.from({ length: MAX_MULTI_RECIPIENT_ACCOUNTS }, (_, i) => ({
      address: addressFromBytes(new Uint8Array(20).fill(0).map((_, j) => (j === 0 ? i : j))),
      auth: { kind: 'none' } as const,
      devices: Array.from({ length: i < 69 ? 12 : i === 69 ? 10 : 1 }, (_, j) => ({
        deviceId: j + 1,
        registrationId: j,
        header: header(j === 0 ? MIN_DEVICE_HEADER_BYTES : 600),
      })),
    }));
    const total = accounts.reduce((n, a) => n + a.devices.length, 0);
    expect(total).toBe(MAX_MULTI_RECIPIENT_DEVICES);
    const bytes = encodeMultiRecipientRequest(request(accounts));
    expect(decodeMultiRecipientRequest(bytes).accounts).toHaveLength(256);
    const big = encodeMultiRecipientRequest(
      request([
        oneAccount([{ deviceId: 1, registrationId: 0, header: header(MAX_DEVICE_HEADER_BYTES) }]),
      ]),
    );
    expect(decodeMultiRecipientRequest(big).accounts[0]!.devices[0]!.header).toHaveLength(4096);
  });

  it('refuses more than 1,024 devices in all', () => {
    // 86 accounts of 12 devices = 1,032, built by hand (the encoder refuses it too).
    const accounts = Array.from({ length: 86 }, (_, i) => ({
      address: addressFromBytes(new Uint8Array(20).fill(i + 1)),
      auth: { kind: 'none' } as const,
      devices: Array.from({ length: 12 }, (_, j) => ({
        deviceId: j + 1,
        registrationId: 0,
        header: header(MIN_DEVICE_HEADER_BYTES),
      })),
    }));
    expect(() => encodeMultiRecipientRequest(request(accounts))).toThrow('at most 1024 devices');
    const ok = encodeMultiRecipientRequest(request(accounts.slice(0, 85)));
    // Splice one more account of 12 devices into the 85 and raise the count to 86.
    const prefix = ok.subarray(0, ok.length - samplePayload.length - 4);
    const extra = encodeMultiRecipientRequest(request([accounts[85]!]));
    const extraAccount = extra.subarray(19, extra.length - samplePayload.length - 4);
    const bytes = concatBytes(
      prefix.subarray(0, 17),
      Uint8Array.of(0, 86),
      prefix.subarray(19),
      extraAccount,
      u32be(samplePayload.length),
      samplePayload,
    );
    expect(() => decodeMultiRecipientRequest(bytes)).toThrow('too many devices');
  });

  it('decodes what it decodes to exactly the same bytes (one encoding per request)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 250 }), { minLength: 1, maxLength: 5 }),
        fc.array(
          fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 12 }),
          {
            minLength: 5,
            maxLength: 5,
          },
        ),
        fc.constantFrom<MultiRecipientAuth['kind']>('none', 'accessKey', 'token'),
        fc.integer({ min: MIN_DEVICE_HEADER_BYTES, max: 700 }),
        (addrs, deviceIds, kind, size) => {
          const auth: MultiRecipientAuth =
            kind === 'none'
              ? { kind }
              : kind === 'accessKey'
                ? { kind, accessKey: new Uint8Array(16).fill(3) }
                : { kind, token: new Uint8Array(354).fill(4) };
          const accounts = addrs.map((a, i) => ({
            address: address(a),
            auth,
            devices: deviceIds[i]!.map((id) => ({
              deviceId: id,
              registrationId: id >>> 1,
              header: header(size, a),
            })),
          }));
          const bytes = encodeMultiRecipientRequest(request(accounts));
          const decoded = decodeMultiRecipientRequest(bytes);
          expect(decoded.accounts).toEqual(accounts);
          expect(encodeMultiRecipientRequest(decoded)).toEqual(bytes);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('never throws anything but its own errors on damaged input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: encoded.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const out = encoded.slice();
          out[at]! ^= x;
          const code = codeOf(() => decodeMultiRecipientRequest(out));
          expect(['none', 'MALFORMED_ENVELOPE', 'UNSUPPORTED_VERSION']).toContain(code);
        },
      ),
      { numRuns: 300 },
    );
    for (let n = 0; n < encoded.length; n += 97) {
      expect(codeOf(() => decodeMultiRecipientRequest(encoded.subarray(0, n)))).not.toBe('none');
    }
  });
});

describe('encodeMultiRecipientRequest', () => {
  const refusals: [
    string,
    () => unknown,
    typeof ArgumentTypeError | typeof ArgumentRangeError,
    string,
  ][] = [
    [
      'not an object',
      () => encodeMultiRecipientRequest(null as never),
      ArgumentTypeError,
      'request',
    ],
    [
      'short request id',
      () =>
        encodeMultiRecipientRequest({ ...request([oneAccount()]), requestId: new Uint8Array(15) }),
      ArgumentRangeError,
      'requestId',
    ],
    [
      'no payload',
      () => encodeMultiRecipientRequest(request([oneAccount()], 'x' as never)),
      ArgumentTypeError,
      'payload',
    ],
    [
      'a payload that does not decode',
      () => encodeMultiRecipientRequest(request([oneAccount()], new Uint8Array(60))),
      ArgumentRangeError,
      'payload',
    ],
    [
      'accounts not an array',
      () => encodeMultiRecipientRequest(request('x' as never)),
      ArgumentTypeError,
      'accounts',
    ],
    ['no account', () => encodeMultiRecipientRequest(request([])), ArgumentRangeError, 'accounts'],
    [
      '257 accounts',
      () => encodeMultiRecipientRequest(request(Array.from({ length: 257 }, () => oneAccount()))),
      ArgumentRangeError,
      'accounts',
    ],
    [
      'a bad address',
      () => encodeMultiRecipientRequest(request([{ ...oneAccount(), address: 'nope' }])),
      ArgumentTypeError,
      'address',
    ],
    [
      'a repeated address',
      () => encodeMultiRecipientRequest(request([oneAccount(), oneAccount()])),
      ArgumentRangeError,
      'accounts[1].address',
    ],
    [
      'no auth',
      () => encodeMultiRecipientRequest(request([{ ...oneAccount(), auth: null as never }])),
      ArgumentTypeError,
      'accounts[0].auth',
    ],
    [
      'an unknown auth kind',
      () =>
        encodeMultiRecipientRequest(request([{ ...oneAccount(), auth: { kind: 'x' } as never }])),
      ArgumentRangeError,
      'accounts[0].auth.kind',
    ],
    [
      'a short access key',
      () =>
        encodeMultiRecipientRequest(
          request([
            { ...oneAccount(), auth: { kind: 'accessKey', accessKey: new Uint8Array(15) } },
          ]),
        ),
      ArgumentRangeError,
      'accessKey',
    ],
    [
      'a short token',
      () =>
        encodeMultiRecipientRequest(
          request([{ ...oneAccount(), auth: { kind: 'token', token: new Uint8Array(353) } }]),
        ),
      ArgumentRangeError,
      'token',
    ],
    [
      'devices not an array',
      () => encodeMultiRecipientRequest(request([oneAccount(null as never)])),
      ArgumentTypeError,
      'devices',
    ],
    [
      'no device',
      () => encodeMultiRecipientRequest(request([oneAccount([])])),
      ArgumentRangeError,
      'devices',
    ],
    [
      '13 devices',
      () =>
        encodeMultiRecipientRequest(
          request([
            oneAccount(
              Array.from({ length: 13 }, (_, i) => ({
                deviceId: i + 1,
                registrationId: 0,
                header: header(600),
              })),
            ),
          ]),
        ),
      ArgumentRangeError,
      'devices',
    ],
    [
      'a device that is not an object',
      () => encodeMultiRecipientRequest(request([oneAccount([null as never])])),
      ArgumentTypeError,
      'devices[0]',
    ],
    [
      'device id 0',
      () =>
        encodeMultiRecipientRequest(
          request([oneAccount([{ deviceId: 0, registrationId: 0, header: header(600) }])]),
        ),
      ArgumentRangeError,
      'deviceId',
    ],
    [
      'a fractional device id',
      () =>
        encodeMultiRecipientRequest(
          request([oneAccount([{ deviceId: 1.5, registrationId: 0, header: header(600) }])]),
        ),
      ArgumentRangeError,
      'deviceId',
    ],
    [
      'a repeated device id',
      () =>
        encodeMultiRecipientRequest(
          request([
            oneAccount([
              { deviceId: 2, registrationId: 0, header: header(600) },
              { deviceId: 2, registrationId: 1, header: header(600) },
            ]),
          ]),
        ),
      ArgumentRangeError,
      'devices[1].deviceId',
    ],
    [
      'a registration id over u32',
      () =>
        encodeMultiRecipientRequest(
          request([oneAccount([{ deviceId: 1, registrationId: 2 ** 32, header: header(600) }])]),
        ),
      ArgumentRangeError,
      'registrationId',
    ],
    [
      'a header under 568 bytes',
      () =>
        encodeMultiRecipientRequest(
          request([oneAccount([{ deviceId: 1, registrationId: 0, header: header(567) }])]),
        ),
      ArgumentRangeError,
      'header',
    ],
    [
      'a header over 4,096 bytes',
      () =>
        encodeMultiRecipientRequest(
          request([oneAccount([{ deviceId: 1, registrationId: 0, header: header(4097) }])]),
        ),
      ArgumentRangeError,
      'header',
    ],
    [
      'a header of version 1',
      () =>
        encodeMultiRecipientRequest(
          request([
            oneAccount([{ deviceId: 1, registrationId: 0, header: header(600).fill(1, 0, 1) }]),
          ]),
        ),
      ArgumentRangeError,
      'header',
    ],
    [
      'a header that is not bytes',
      () =>
        encodeMultiRecipientRequest(
          request([oneAccount([{ deviceId: 1, registrationId: 0, header: 'x' as never }])]),
        ),
      ArgumentTypeError,
      'header',
    ],
  ];
  for (const [name, f, type, field] of refusals) {
    it(`refuses ${name}, naming the field`, () => {
      expect(f).toThrow(type);
      expect(f).toThrow(field);
    });
  }

  it('refuses a body over 2,200,000 bytes', () => {
    const accounts = Array.from({ length: 90 }, (_, i) => ({
      address: addressFromBytes(new Uint8Array(20).fill(i + 1)),
      auth: { kind: 'none' } as const,
      devices: Array.from({ length: 6 }, (_, j) => ({
        deviceId: j + 1,
        registrationId: 0,
        header: header(MAX_DEVICE_HEADER_BYTES),
      })),
    }));
    expect(() => encodeMultiRecipientRequest(request(accounts))).toThrow('at most 2200000 bytes');
  });
});

describe('shared payload codecs', () => {
  it('encode and decode the payload layout strictly', () => {
    const keyCommitment = new Uint8Array(32).fill(5);
    const ciphertext = new Uint8Array(20).fill(6);
    const bytes = encodeSharedPayload({ keyCommitment, ciphertext });
    expect(bytes[0]).toBe(1);
    expect(bytes.length).toBe(53);
    expect(MIN_SHARED_PAYLOAD_BYTES).toBe(53);
    expect(decodeSharedPayload(bytes)).toEqual({ keyCommitment, ciphertext });
    expect(() => decodeSharedPayload(bytes.subarray(0, 52))).toThrow(MalformedEnvelopeError);
    expect(() => decodeSharedPayload(new Uint8Array(0))).toThrow(MalformedEnvelopeError);
    expect(() => decodeSharedPayload(concatBytes(Uint8Array.of(2), bytes.subarray(1)))).toThrow(
      UnsupportedVersionError,
    );
    const big = new Uint8Array(MAX_SHARED_PAYLOAD_BYTES + 1);
    big[0] = 1;
    expect(() => decodeSharedPayload(big)).toThrow('too long');
    expect(() => encodeSharedPayload({ keyCommitment: new Uint8Array(31), ciphertext })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeSharedPayload({ keyCommitment, ciphertext: new Uint8Array(19) })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encodeSharedPayload({
        keyCommitment,
        ciphertext: new Uint8Array(MAX_SHARED_PAYLOAD_BYTES - 32),
      }),
    ).toThrow(ArgumentRangeError);
  });

  it('pad the body to the Padmé length of 4 + n with zeros, and decode only that encoding', () => {
    for (const n of [0, 1, 2, 60, 1024, 1533, MAX_SHARED_PAYLOAD_CONTENT_BYTES]) {
      const content = new Uint8Array(n).fill(0xee);
      const body = encodeSharedPayloadBody(content);
      expect(body.length).toBe(padmeLength(4 + n));
      expect(body.subarray(0, 4)).toEqual(u32be(n));
      expect(body.subarray(4 + n).every((b) => b === 0)).toBe(true);
      expect(decodeSharedPayloadBody(body)).toEqual(content);
    }
    // 4 + 61 = 65 pads to 72: seven bytes of padding.
    const body = encodeSharedPayloadBody(new Uint8Array(61).fill(1));
    expect(body.length).toBe(72);
    const dirty = body.slice();
    dirty[body.length - 1] = 1;
    expect(() => decodeSharedPayloadBody(dirty)).toThrow('wrong padding');
    expect(() => decodeSharedPayloadBody(body.subarray(0, 71))).toThrow('wrong padding');
    expect(() => decodeSharedPayloadBody(concatBytes(body, Uint8Array.of(0)))).toThrow(
      'wrong padding',
    );
    expect(() => decodeSharedPayloadBody(Uint8Array.of(0, 0, 0))).toThrow('truncated');
    const over = concatBytes(u32be(MAX_SHARED_PAYLOAD_CONTENT_BYTES + 1), new Uint8Array(10));
    expect(() => decodeSharedPayloadBody(over)).toThrow('field too long');
    expect(() =>
      encodeSharedPayloadBody(new Uint8Array(MAX_SHARED_PAYLOAD_CONTENT_BYTES + 1)),
    ).toThrow(ArgumentRangeError);
    expect(() => encodeSharedPayloadBody([1] as never)).toThrow(ArgumentTypeError);
  });

  it('encode the reference as 0xA1 || key || digest and decode only that', () => {
    for (const p of vectors.payloads) {
      const ref = fromHex(p.reference);
      expect(ref.length).toBe(PAYLOAD_REFERENCE_BYTES);
      expect(isPayloadReference(ref)).toBe(true);
      const decoded = decodePayloadReference(ref);
      expect(toHex(decoded.key)).toBe(p.key);
      expect(toHex(decoded.digest)).toBe(p.digest);
      expect(encodePayloadReference(decoded)).toEqual(ref);
    }
    for (const c of vectors.invalidReferences) {
      expect(() => decodePayloadReference(fromHex(c.reference)), c.name).toThrow(
        MalformedEnvelopeError,
      );
    }
    // A content frame (version 1) is never a reference.
    expect(isPayloadReference(Uint8Array.of(1, 1, 0))).toBe(false);
    expect(isPayloadReference(new Uint8Array(0))).toBe(false);
    expect(() =>
      encodePayloadReference({ key: new Uint8Array(31), digest: new Uint8Array(32) }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      encodePayloadReference({ key: new Uint8Array(32), digest: new Uint8Array(33) }),
    ).toThrow(ArgumentRangeError);
  });
});
