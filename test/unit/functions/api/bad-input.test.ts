/**
 * Generated malformed requests (bad JSON, wrong types, oversized bodies, bad base64, bad or
 * replayed signatures, wrong content types, unknown routes): every one gets a 4xx with the
 * JSON error body whose status matches the code table; none gets a 5xx or a 2xx.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryAttachmentPorts } from '#functions/adapters/memory-ports.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { API_ERROR_STATUS, isApiErrorCode } from '#sdk/wire/api/errors.ts';
import { ROUTES } from '#sdk/wire/api/routes.ts';
import { ACCESS_KEY_HEADER, AUTH_HEADERS } from '#sdk/wire/api/signing.ts';
import { FakeAttachmentObjects } from '../attachment-fixture.ts';
import {
  accessHeaders,
  type CallResult,
  harness,
  kemPrekey,
  memoryPorts,
  newAccount,
  newDevice,
  newMessageId,
  oneTimePrekey,
  registrationBody,
  sendBody,
  signHeaders,
  testMaterial,
} from '../fixtures.ts';

const RUNS = 150;

async function setup() {
  const h = harness(memoryPorts(testMaterial()), {
    config: { bundleRateLimit: { limit: 1e6, windowMs: 1e6 } },
    attachments: memoryAttachmentPorts(new FakeAttachmentObjects()),
  });
  const bob = await h.register(new Uint8Array(16).fill(2));
  let count = 0;
  async function expectRejected(res: Promise<CallResult>, label: string) {
    const r = await res;
    count++;
    expect(r.status, `${label}: ${JSON.stringify(r.body).slice(0, 200)}`).toBeGreaterThanOrEqual(
      400,
    );
    expect(r.status, label).toBeLessThan(500);
    expect(isApiErrorCode(r.body?.error?.code), label).toBe(true);
    expect(typeof r.body.error.message).toBe('string');
    expect(API_ERROR_STATUS[r.body.error.code as keyof typeof API_ERROR_STATUS]).toBe(r.status);
  }
  return { h, bob, expectRejected, count: () => count };
}

/** Replaces the value at a random path of a JSON value with `replacement`. */
function mutate(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value };
  copy[key] = mutate((value as Record<string, unknown>)[key], path.slice(1), replacement);
  return copy;
}

const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 30 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  fc.constant('!!!notbase64!!!'),
  fc.constant('AAAAAAAAAAAAAAAAAAAAAB'), // right length for 16 bytes, non-canonical tail
);

describe('malformed requests', () => {
  it('answers at least 1,000 generated malformed requests with a JSON 4xx and never a 5xx', async () => {
    const { h, bob, expectRejected, count } = await setup();
    const now = () => h.clock.now;
    const validBodies: [string, string, () => unknown, boolean][] = [
      [
        'PUT',
        `/v1/accounts/${newAccount().address}`,
        () => registrationBody(newDevice(newAccount()), now()),
        false,
      ],
      [
        'PUT',
        '/v1/prekeys',
        () => ({ oneTimePrekeys: [oneTimePrekey(1)], kemPrekeys: [kemPrekey(bob, 2, false)] }),
        true,
      ],
      [
        'PUT',
        `/v1/messages/${bob.account.address}`,
        () => sendBody(newMessageId(now()), [[1, new Uint8Array(10)]]),
        false,
      ],
      ['POST', '/v1/messages/ack', () => ({ messageIds: [newMessageId(now())] }), true],
      ['PUT', '/v1/account/settings', () => ({ accessKey: toBase64Url(new Uint8Array(16)) }), true],
    ];

    // 1. Wrong types and bad base64 at random places of otherwise valid bodies.
    await fc.assert(
      fc.asyncProperty(
        fc.nat(validBodies.length - 1),
        fc.array(fc.nat(20), { minLength: 1, maxLength: 4 }),
        wrongValue,
        async (which, path, replacement) => {
          const [method, url, body, signed] = validBodies[which]!;
          const mutated = mutate(body(), path, replacement);
          const res = await h.call({
            method,
            path: url,
            json: mutated,
            ...(signed ? { signer: bob } : {}),
          });
          // Some mutations keep the body valid (e.g. replacing an optional flag with a boolean).
          if (res.status >= 200 && res.status < 300) return;
          await expectRejected(Promise.resolve(res), `${method} ${url} ${JSON.stringify(path)}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );

    // 2. Bodies that are not JSON at all.
    await fc.assert(
      fc.asyncProperty(
        fc.nat(validBodies.length - 1),
        fc.string({ maxLength: 200 }),
        async (which, text) => {
          const [method, url, , signed] = validBodies[which]!;
          fc.pre(!/^\s*(\{|\[|"|-?\d|true|false|null)/.test(text));
          await expectRejected(
            h.call({
              method,
              path: url,
              rawBody: text,
              headers: { 'content-type': 'application/json' },
              ...(signed ? { signer: bob } : {}),
            }),
            `${method} ${url} text`,
          );
        },
      ),
      { numRuns: RUNS },
    );

    // 3. Wrong or missing content types.
    await fc.assert(
      fc.asyncProperty(
        fc.nat(validBodies.length - 1),
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/jsonx',
          '',
        ),
        async (which, type) => {
          const [method, url, body, signed] = validBodies[which]!;
          const raw = JSON.stringify(body());
          const headers: Record<string, string> = type ? { 'content-type': type } : {};
          await expectRejected(
            h.call({
              method,
              path: url,
              rawBody: raw,
              headers,
              ...(signed ? { signer: bob } : {}),
            }),
            `type ${type}`,
          );
        },
      ),
      { numRuns: RUNS },
    );

    // 4. Oversized bodies, declared or streamed.
    await fc.assert(
      fc.asyncProperty(
        fc.nat(validBodies.length - 1),
        fc.integer({ min: 1, max: 50_000 }),
        async (which, extra) => {
          const [method, url] = validBodies[which]!;
          const limit = url.startsWith('/v1/messages/') && method === 'PUT' ? 2_200_000 : 262_144;
          const raw = new Uint8Array(limit + extra).fill(0x20);
          await expectRejected(
            h.call({
              method,
              path: url,
              rawBody: raw,
              headers: { 'content-type': 'application/json' },
            }),
            'oversized',
          );
        },
      ),
      { numRuns: 40 },
    );

    // 5. Bad, tampered and replayed owner signatures.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.values(AUTH_HEADERS)),
        fc.string({ maxLength: 100 }),
        fc.boolean(),
        async (header, value, replay) => {
          const headers = signHeaders(bob, 'GET', '/v1/prekeys/count', new Uint8Array(), now());
          if (replay) {
            expect(
              (await h.call({ method: 'GET', path: '/v1/prekeys/count', headers })).status,
            ).toBe(200);
          } else {
            fc.pre(value !== headers[header]);
            headers[header] = value;
          }
          await expectRejected(
            h.call({ method: 'GET', path: '/v1/prekeys/count', headers }),
            `auth ${header}`,
          );
        },
      ),
      { numRuns: RUNS },
    );

    // 6. Bad access keys, bad path parameters, unknown routes and methods.
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH'),
        fc.stringMatching(/^[a-zA-Z0-9/_.-]{0,40}$/),
        async (key, method, junk) => {
          fc.pre(key !== toBase64Url(new Uint8Array(16).fill(2)));
          await expectRejected(
            h.call({
              method: 'PUT',
              path: `/v1/messages/${bob.account.address}`,
              json: sendBody(newMessageId(now()), [[1, new Uint8Array(4)]]),
              headers: { [ACCESS_KEY_HEADER]: key },
            }),
            'access key',
          );
          await expectRejected(h.call({ method, path: `/v1/nope/${junk}` }), 'unknown route');
          await expectRejected(
            h.call({
              method: 'GET',
              path: `/v1/bundles/${junk.replace(/\//g, '') || 'x'}`,
              signer: bob,
            }),
            'bad address',
          );
        },
      ),
      { numRuns: RUNS },
    );

    expect(count()).toBeGreaterThanOrEqual(1000);
  });

  it('refuses a body on every GET route, however it is framed, with a JSON 400', async () => {
    const { h, bob } = await setup();
    const gets = ROUTES.filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(6);
    const upload = await h.call({
      method: 'POST',
      path: '/v1/attachments',
      json: { size: 2000 },
      signer: bob,
    });
    for (const route of gets) {
      const path = route.path
        .replace('{address}', bob.account.address)
        .replace('{deviceId}', '1')
        .replace('{attachmentId}', upload.body.id);
      const signed = () =>
        route.auth === 'owner'
          ? signHeaders(bob, 'GET', path, new Uint8Array(), h.clock.now)
          : route.auth === 'accessKey'
            ? accessHeaders(new Uint8Array(16).fill(2))
            : ({} as Record<string, string>);
      // As both runtimes hand it over: the framing headers stay, the bytes are dropped.
      const framings: Record<string, string>[] = [
        { 'content-length': '5' },
        { 'transfer-encoding': 'chunked' },
      ];
      for (const framing of framings) {
        const res = await h.call({ method: 'GET', path, headers: { ...signed(), ...framing } });
        expect(res.status, `${route.operationId} ${JSON.stringify(framing)}`).toBe(400);
        expect(res.body.error.code).toBe('BAD_REQUEST');
      }
      // On Lambda the body is only in the API Gateway event.
      const req = new Request(`http://localhost${path}`, { method: 'GET', headers: signed() });
      const lambda = await h.app.fetch(req, { event: { body: '{"x":1}' } });
      expect(lambda.status, route.operationId).toBe(400);
      expect(((await lambda.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
      // Without a body the same request is fine, and an empty declared length is no body.
      const plain = await h.call({
        method: 'GET',
        path,
        headers: { ...signed(), 'content-length': '0' },
      });
      expect(plain.status, route.operationId).toBe(200);
    }
  });
});
