/**
 * Bad input on the token routes (docs/SERVICE.md §15): 1,000 mutated token headers on sealed
 * sends, 1,000 mutated issuance bodies and 1,000 malformed sealed bundle fetches and sends all
 * get a JSON 4xx with a known error code, and nothing is stored, claimed, counted or spent:
 * afterwards the mailbox is empty, the one-time keys are all there, the genuine token still
 * pays and the account's whole daily quota is left.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { API_ERROR_STATUS, isApiErrorCode } from '#sdk/wire/api/errors.ts';
import { ACCESS_KEY_HEADER, TOKEN_HEADER } from '#sdk/wire/api/signing.ts';
import {
  BOB_ACCESS_KEY,
  type CallResult,
  harness,
  memoryPorts,
  newAccount,
  newMessageId,
  oneTimePrekey,
  sendBody,
  testMaterial,
} from '../fixtures.ts';
import { issueTokens, tokenHeaders, tokenRequests } from '../token-fixture.ts';

const DAY_MS = 86_400_000;
const START = 20_250 * DAY_MS + DAY_MS / 2;
const RUNS = 1000;

async function setup() {
  const h = harness(memoryPorts(testMaterial()), {
    start: START - 8 * DAY_MS,
    tokens: memoryTokenPorts(),
    config: {
      sealedBundleRateLimit: { limit: 1e6, windowMs: 1e6 },
      requestsPerRecipientPerDay: 1000,
    },
  });
  const sender = await h.register();
  const bob = await h.register(BOB_ACCESS_KEY, { firstContact: 'requests' });
  const carol = await h.register(new Uint8Array(16).fill(3), { firstContact: 'contacts' });
  h.clock.now = START;
  await h.call({
    method: 'PUT',
    path: '/v1/prekeys',
    json: { oneTimePrekeys: [oneTimePrekey(1), oneTimePrekey(2)] },
    signer: bob,
  });
  return { h, sender, bob, carol };
}

function expectJson4xx(r: CallResult, label: string): void {
  expect(
    r.status,
    `${label}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`,
  ).toBeGreaterThanOrEqual(400);
  expect(r.status, label).toBeLessThan(500);
  const code = r.body?.error?.code;
  expect(isApiErrorCode(code), `${label}: ${code}`).toBe(true);
  expect(API_ERROR_STATUS[code as keyof typeof API_ERROR_STATUS], label).toBe(r.status);
  expect(r.headers.get('content-type'), label).toContain('application/json');
}

/** A mutation of `bytes`: flipped bits, cut, extended, or replaced. */
const mutatedBytes = (bytes: Uint8Array) =>
  fc.oneof(
    fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
      const b = bytes.slice();
      b[at] = b[at]! ^ x;
      return b;
    }),
    fc.nat(bytes.length - 1).map((n) => bytes.slice(0, n)),
    fc
      .uint8Array({ minLength: 1, maxLength: 40 })
      .map((tail) => new Uint8Array([...bytes, ...tail])),
    fc.uint8Array({ minLength: bytes.length, maxLength: bytes.length }),
  );

describe('bad input on the token routes', () => {
  it(`refuses ${RUNS} mutated token headers on sealed sends, storing and spending nothing`, async () => {
    const { h, sender, bob, carol } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const header = fc.oneof(
      { weight: 6, arbitrary: mutatedBytes(token!).map(toBase64Url) },
      { weight: 1, arbitrary: fc.string({ maxLength: 600 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.nat(471), fc.constantFrom('=', '+', '/', '.', ' ', '\u00e9'))
          .map(([at, c]) => {
            const s = toBase64Url(token!);
            return s.slice(0, at) + c + s.slice(at + 1);
          }),
      },
    );
    let count = 0;
    await fc.assert(
      fc.asyncProperty(header, fc.boolean(), async (value, toCarol) => {
        const to = toCarol ? carol : bob;
        let r: CallResult;
        try {
          r = await h.call({
            method: 'PUT',
            path: `/v1/messages/${to.account.address}`,
            json: sendBody(newMessageId(0), [[1, new Uint8Array([1])]]),
            headers: { [TOKEN_HEADER]: value },
          });
        } catch {
          // A header the Request constructor refuses never reaches the service.
          return;
        }
        count++;
        expectJson4xx(r, 'token header');
      }),
      { numRuns: RUNS, seed: 1501 },
    );
    expect(count).toBeGreaterThanOrEqual(RUNS * 0.9);
    for (const d of [bob, carol]) {
      const inbox = await h.call({ method: 'GET', path: '/v1/messages', signer: d });
      expect(inbox.body.messages).toHaveLength(0);
    }
    const paid = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(0), [[1, new Uint8Array([1])]]),
      headers: tokenHeaders(token!),
    });
    expect(paid.status).toBe(200);
  });

  it(`refuses ${RUNS} mutated issuance bodies, counting nothing`, async () => {
    const { h, sender } = await setup();
    const { body } = await tokenRequests(h, 3);
    const request = Buffer.from(body.requests[0]!, 'base64url');
    const keyId = Buffer.from(body.keyId, 'base64url');
    const bodies = fc.oneof(
      mutatedBytes(new Uint8Array(keyId)).map((k) => ({ ...body, keyId: toBase64Url(k) })),
      // Only mutations that make it no request for this key: any blinded message below the
      // modulus is a valid one, so the body bytes are not flipped.
      fc
        .oneof(
          fc.tuple(fc.nat(2), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
            const b = new Uint8Array(request);
            b[at] = b[at]! ^ x;
            return b;
          }),
          fc.nat(request.length - 1).map((n) => new Uint8Array(request.subarray(0, n))),
          fc
            .uint8Array({ minLength: 1, maxLength: 40 })
            .map((tail) => new Uint8Array([...request, ...tail])),
          fc.constant(
            new Uint8Array([...request.subarray(0, 3), ...new Uint8Array(256).fill(255)]),
          ),
        )
        .map((r) => ({ ...body, requests: [body.requests[1]!, toBase64Url(r)] })),
      fc
        .array(fc.constant(body.requests[0]!), { minLength: 21, maxLength: 25 })
        .map((requests) => ({
          ...body,
          requests,
        })),
      fc.constant({ ...body, requests: [] }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      fc.jsonValue({ maxDepth: 3 }),
      fc.constant({ ...body, extra: 1 }),
      fc.record({ keyId: fc.jsonValue(), requests: fc.jsonValue() }),
    );
    let count = 0;
    await fc.assert(
      fc.asyncProperty(bodies, async (json) => {
        const r = await h.call({ method: 'POST', path: '/v1/tokens', json, signer: sender });
        count++;
        expectJson4xx(r, 'issue body');
      }),
      { numRuns: RUNS, seed: 1502 },
    );
    expect(count).toBe(RUNS);
    // Nothing was counted: the whole daily quota is left.
    expect(await issueTokens(h, sender, 20)).toHaveLength(20);
  });

  it(`refuses ${RUNS} malformed sealed bundle fetches and sends, claiming and storing nothing`, async () => {
    const { h, sender, bob } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const addresses = fc.oneof(
      fc.constant(bob.account.address),
      fc.constant(newAccount().address),
      fc.stringMatching(/^[a-z2-7]{0,40}$/),
    );
    const headers = fc.oneof(
      fc.constant({} as Record<string, string>),
      mutatedBytes(BOB_ACCESS_KEY).map((k) => ({ [ACCESS_KEY_HEADER]: toBase64Url(k) })),
      mutatedBytes(token!).map((t) => ({ [TOKEN_HEADER]: toBase64Url(t) })),
      fc.constant({ [ACCESS_KEY_HEADER]: toBase64Url(BOB_ACCESS_KEY), ...tokenHeaders(token!) }),
      fc.string({ maxLength: 40 }).map((s) => ({ [ACCESS_KEY_HEADER]: s })),
    );
    const paths = fc.oneof(
      addresses.map((a) => `/v1/sealed/bundles/${a}`),
      fc
        .tuple(addresses, fc.oneof(fc.integer({ min: -5, max: 10 }), fc.string({ maxLength: 6 })))
        .map(([a, d]) => `/v1/sealed/bundles/${a}/${encodeURIComponent(String(d))}`),
      addresses.map((a) => `/v1/messages/${a}`),
    );
    let count = 0;
    await fc.assert(
      fc.asyncProperty(paths, headers, async (path, hdrs) => {
        const send = path.startsWith('/v1/messages/');
        let r: CallResult;
        try {
          r = await h.call({
            method: send ? 'PUT' : 'GET',
            path,
            headers: hdrs,
            ...(send ? { json: sendBody(newMessageId(0), [[1, new Uint8Array([1])]]) } : {}),
          });
        } catch {
          return;
        }
        count++;
        expectJson4xx(r, `${send ? 'PUT' : 'GET'} ${path}`);
      }),
      { numRuns: RUNS, seed: 1503 },
    );
    expect(count).toBeGreaterThanOrEqual(RUNS * 0.9);
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', signer: bob })).body).toEqual({
      ec: 2,
      pq: 0,
    });
    const inbox = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(inbox.body.messages).toHaveLength(0);
  });
});
