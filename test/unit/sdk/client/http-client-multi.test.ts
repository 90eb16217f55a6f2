/**
 * The multi-recipient send operations of the HTTP client (docs/PROTOCOL.md §14.4) against a
 * fake `fetch`: the body goes out as the exact bytes with the multi-recipient media type,
 * `sendMulti` anonymous (no signature, no access-key or token header), `sendMultiIdentified`
 * signed over those bytes; refusals carry their `accounts` (malformed entries left out), and
 * `deviceRefusalFor` cuts one account's part out of a 409/410.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  DeviceMismatchError,
  deviceRefusalFor,
  StaleDevicesError,
} from '#sdk/client/errors.ts';
import { type FetchLike, SealpostHttpClient } from '#sdk/client/http-client.ts';
import { seedSigner } from '#sdk/client/request-signing.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '#sdk/wire/api/routes.ts';
import {
  ACCESS_KEY_HEADER,
  AUTH_HEADERS,
  requestSignaturePayload,
  TOKEN_HEADER,
} from '#sdk/wire/api/signing.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const BASE = 'http://sealpost.test';
const ADDRESS = addressFromBytes(new Uint8Array(20).fill(3));
const OTHER = addressFromBytes(new Uint8Array(20).fill(5));
const TRUST_ROOT = new Uint8Array(32).fill(4);
const SEED = new Uint8Array(32).fill(9);
const NOW = 1_750_000_000_000;
const BODY = Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff);
const OK = { messageId: 'AAAAAAAAAAAAAAAAAAAAAA', duplicate: false };

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

interface Recorded {
  readonly url: string;
  readonly init: RequestInit;
}

function scripted(answer: () => Response) {
  const calls: Recorded[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return answer();
  };
  const http = new SealpostHttpClient({
    baseUrl: BASE,
    fetch,
    backend: nobleBackend,
    signer: seedSigner(nobleBackend, ADDRESS, 2, SEED),
    trustRoot: TRUST_ROOT,
    now: () => NOW,
    retries: 0,
  });
  return { http, calls };
}

const headersOf = (r: Recorded) => r.init.headers as Record<string, string>;

describe('sendMulti', () => {
  it('PUTs the exact bytes as the multi-recipient media type, with no credentials', async () => {
    const { http, calls } = scripted(() => json(200, OK));
    expect(await http.sendMulti(BODY)).toEqual(OK);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe(`${BASE}/v1/messages/multi`);
    expect(call!.init.method).toBe('PUT');
    expect(call!.init.body).toEqual(BODY);
    const headers = headersOf(call!);
    expect(headers['content-type']).toBe(MULTI_RECIPIENT_CONTENT_TYPE);
    for (const name of [...Object.values(AUTH_HEADERS), ACCESS_KEY_HEADER, TOKEN_HEADER]) {
      expect(headers[name], name).toBeUndefined();
    }
  });

  it('sends a view of a larger buffer as the view alone', async () => {
    const { http, calls } = scripted(() => json(200, OK));
    const outer = new Uint8Array(BODY.length + 10);
    outer.set(BODY, 5);
    await http.sendMulti(outer.subarray(5, 5 + BODY.length));
    expect(new Uint8Array(calls[0]!.init.body as Uint8Array)).toEqual(BODY);
  });
});

describe('sendMultiIdentified', () => {
  it('signs the request over SHA-256 of the binary body', async () => {
    const { http, calls } = scripted(() => json(200, OK));
    await http.sendMultiIdentified(BODY);
    const [call] = calls;
    expect(call!.url).toBe(`${BASE}/v1/messages/multi/identified`);
    const headers = headersOf(call!);
    expect(headers['content-type']).toBe(MULTI_RECIPIENT_CONTENT_TYPE);
    expect(headers[AUTH_HEADERS.address]).toBe(ADDRESS);
    expect(headers[AUTH_HEADERS.device]).toBe('2');
    const input = {
      audience: TRUST_ROOT,
      method: 'PUT',
      pathAndQuery: '/v1/messages/multi/identified',
      bodyHash: nobleBackend.sha256(BODY),
      timestamp: NOW,
      nonce: fromBase64Url(headers[AUTH_HEADERS.nonce]!),
      address: ADDRESS,
      deviceId: 2,
    };
    const signature = fromBase64Url(headers[AUTH_HEADERS.signature]!);
    const publicKey = await nobleBackend.ed25519PublicKey(SEED);
    expect(
      await nobleBackend.ed25519Verify(publicKey, requestSignaturePayload(input), signature),
    ).toBe(true);
    // Over the bytes themselves: a signature over any other body does not verify.
    const other = { ...input, bodyHash: nobleBackend.sha256(BODY.subarray(1)) };
    expect(
      await nobleBackend.ed25519Verify(publicKey, requestSignaturePayload(other), signature),
    ).toBe(false);
  });
});

describe('multi-recipient refusals', () => {
  const refuse = (status: number, error: object) =>
    scripted(() => json(status, { error: { message: 'refused', ...error } }));

  it('carry per-account device lists on 409 and 410, the top-level lists empty', async () => {
    const e409 = await refuse(409, {
      code: 'DEVICE_MISMATCH',
      accounts: [
        { address: ADDRESS, missing: [3], extra: [] },
        { address: OTHER, missing: [], extra: [2, 4] },
      ],
    })
      .http.sendMulti(BODY)
      .catch((e: unknown) => e);
    expect(e409).toBeInstanceOf(DeviceMismatchError);
    expect(e409).toMatchObject({
      code: 'DEVICE_MISMATCH',
      status: 409,
      operationId: 'sendMulti',
      missing: [],
      extra: [],
      accounts: [
        { address: ADDRESS, missing: [3], extra: [] },
        { address: OTHER, missing: [], extra: [2, 4] },
      ],
    });
    const e410 = await refuse(410, {
      code: 'STALE_DEVICES',
      accounts: [{ address: OTHER, stale: [1] }],
    })
      .http.sendMultiIdentified(BODY)
      .catch((e: unknown) => e);
    expect(e410).toBeInstanceOf(StaleDevicesError);
    expect(e410).toMatchObject({ stale: [], accounts: [{ address: OTHER, stale: [1] }] });
  });

  it('name the refused accounts on 401 and token errors, keeping the code', async () => {
    for (const [status, code] of [
      [401, 'UNAUTHORIZED'],
      [401, 'INVALID_TOKEN'],
      [401, 'TOKEN_SPENT'],
      [429, 'REQUEST_LIMIT'],
    ] as const) {
      const err = await refuse(status, { code, accounts: [{ address: OTHER }] })
        .http.sendMulti(BODY)
        .catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code, status, accounts: [{ address: OTHER }] });
    }
  });

  it('keep only well-formed accounts and device ids', async () => {
    const err = await refuse(409, {
      code: 'DEVICE_MISMATCH',
      accounts: [
        { address: 'not an address', missing: [1] },
        null,
        7,
        { address: ADDRESS, missing: [1, 0, 'x', 2 ** 32], extra: 'y' },
      ],
    })
      .http.sendMulti(BODY)
      .catch((e: unknown) => e);
    expect((err as ApiError).accounts).toEqual([{ address: ADDRESS, missing: [1], extra: [] }]);
    const none = await refuse(401, { code: 'UNAUTHORIZED', accounts: 'all' })
      .http.sendMulti(BODY)
      .catch((e: unknown) => e);
    expect((none as ApiError).accounts).toEqual([]);
  });

  it('are cut per account by deviceRefusalFor; a single-recipient refusal is itself', () => {
    const multi = new DeviceMismatchError(
      'sendMulti',
      'refused',
      [],
      [],
      [
        { address: ADDRESS, missing: [3] },
        { address: OTHER, extra: [2] },
      ],
    );
    expect(deviceRefusalFor(multi, OTHER)).toMatchObject({
      code: 'DEVICE_MISMATCH',
      missing: [],
      extra: [2],
      accounts: [],
    });
    expect(deviceRefusalFor(multi, ADDRESS)).toMatchObject({ missing: [3], extra: [] });
    const stale = new StaleDevicesError(
      'sendMulti',
      'refused',
      [],
      [{ address: OTHER, stale: [1] }],
    );
    const own = deviceRefusalFor(stale, OTHER);
    expect(own).toBeInstanceOf(StaleDevicesError);
    expect(own).toMatchObject({ stale: [1] });
    expect(deviceRefusalFor(stale, ADDRESS)).toBeUndefined();
    const single = new DeviceMismatchError('sendSealed', 'refused', [2], []);
    expect(deviceRefusalFor(single, ADDRESS)).toBe(single);
  });
});
