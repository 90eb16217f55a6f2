/**
 * The attachment routes through the app (docs/SERVICE.md §7.6): a form upload and a multipart
 * upload from start to download, the answers of every refusal with their statuses, and
 * generated malformed attachment requests, each answered with a JSON 4xx and never a 5xx.
 * The object store keeps sizes (the service never touches bytes).
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { memoryAttachmentPorts } from '#functions/adapters/memory-ports.ts';
import type { ServiceConfig } from '#functions/domain/config.ts';
import { API_ERROR_STATUS, isApiErrorCode } from '#sdk/wire/api/errors.ts';
import { ATTACHMENT_BLOB_LIMIT } from '#sdk/wire/api/limits.ts';
import { FakeAttachmentObjects } from '../attachment-fixture.ts';
import {
  type CallResult,
  harness,
  memoryPorts,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';

const MIB = 1024 * 1024;
const VALID_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

async function setup(config: Partial<ServiceConfig> = {}) {
  const objects = new FakeAttachmentObjects();
  const attachments = memoryAttachmentPorts(objects);
  const h = harness(memoryPorts(testMaterial()), { config, attachments });
  const alice = await h.register();
  const bob = await h.register();
  return { h, objects, attachments, alice, bob };
}

type Setup = Awaited<ReturnType<typeof setup>>;

function expectError(res: CallResult, code: keyof typeof API_ERROR_STATUS): void {
  expect(res.body.error?.code, JSON.stringify(res.body)).toBe(code);
  expect(res.status).toBe(API_ERROR_STATUS[code]);
}

describe('attachment routes', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup({ attachmentMultipartBytes: 8 * MIB });
  });

  const create = (signer: TestDevice, size: unknown) =>
    s.h.call({ method: 'POST', path: '/v1/attachments', json: { size }, signer });
  const status = (signer: TestDevice, id: string) =>
    s.h.call({ method: 'GET', path: `/v1/attachments/${id}/upload`, signer });
  const complete = (signer: TestDevice, id: string) =>
    s.h.call({ method: 'POST', path: `/v1/attachments/${id}/complete`, signer });
  const abort = (signer: TestDevice, id: string) =>
    s.h.call({ method: 'DELETE', path: `/v1/attachments/${id}`, signer });

  it('uploads with a form, completes, and presigns a download for anyone', async () => {
    const created = await create(s.alice, 5000);
    expect(created.status).toBe(200);
    expect(created.body.upload).toMatchObject({ kind: 'form', url: 'https://objects.test/bucket' });
    const id = created.body.id;
    expect((await status(s.alice, id)).body.uploaded).toEqual([]);
    expectError(await complete(s.alice, id), 'UPLOAD_INCOMPLETE');
    s.objects.putObject(id, 5000);
    const done = await complete(s.alice, id);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ id, size: 5000 });
    expectError(await complete(s.alice, id), 'NOT_FOUND');
    const download = await s.h.call({ method: 'GET', path: `/v1/attachments/${id}` });
    expect(download.status).toBe(200);
    expect(download.body).toEqual({
      url: `https://objects.test/bucket/attachments/${id}?expires=${s.h.clock.now + 600_000}`,
      expiresAt: s.h.clock.now + 600_000,
    });
  });

  it('resumes and completes a multipart upload', async () => {
    const created = await create(s.alice, 20 * MIB);
    expect(created.body.upload).toEqual({ kind: 'multipart', partSize: 16 * MIB, partCount: 2 });
    const id = created.body.id;
    const first = await status(s.alice, id);
    expect(first.status).toBe(200);
    expect(first.body.parts.map((p) => p.partNumber)).toEqual([1, 2]);
    const uploadId = new URL(first.body.parts[0]!.url).searchParams.get('uploadId')!;
    s.objects.putPart(uploadId, 1, 16 * MIB);
    const second = await status(s.alice, id);
    expect(second.body.uploaded).toEqual([{ partNumber: 1, size: 16 * MIB }]);
    expect(second.body.parts.map((p) => p.partNumber)).toEqual([2]);
    expectError(await complete(s.alice, id), 'UPLOAD_INCOMPLETE');
    s.objects.putPart(uploadId, 2, 4 * MIB);
    expect((await complete(s.alice, id)).body).toEqual({ id, size: 20 * MIB });
  });

  it("keeps one account's upload from every other account", async () => {
    const id = (await create(s.alice, 20 * MIB)).body.id;
    expectError(await status(s.bob, id), 'NOT_FOUND');
    expectError(await complete(s.bob, id), 'NOT_FOUND');
    expect((await abort(s.bob, id)).body).toEqual({ removed: false });
    expect((await status(s.alice, id)).status).toBe(200);
    expect((await abort(s.alice, id)).body).toEqual({ removed: true });
    expectError(await status(s.alice, id), 'NOT_FOUND');
  });

  it('answers ATTACHMENT_TOO_LARGE, QUOTA_EXCEEDED and RATE_LIMITED with their statuses', async () => {
    s = await setup({
      attachmentMaxBytes: 10 * MIB,
      attachmentBytesPerDay: 12 * MIB,
      attachmentUploadRateLimit: { limit: 2, windowMs: 3_600_000 },
    });
    // The size is checked before the rate: a refused size costs no upload start.
    expectError(await create(s.alice, 10 * MIB + 1), 'ATTACHMENT_TOO_LARGE');
    expect((await create(s.alice, 10 * MIB)).status).toBe(200);
    expectError(await create(s.alice, 2 * MIB + 1), 'QUOTA_EXCEEDED');
    expectError(await create(s.alice, 1), 'RATE_LIMITED');
    expect((await create(s.bob, 1)).status).toBe(200);
  });

  it('needs an owner signature for everything but the download', async () => {
    const unsigned = [
      s.h.call({ method: 'POST', path: '/v1/attachments', json: { size: 10 } }),
      s.h.call({ method: 'GET', path: `/v1/attachments/${VALID_ID}/upload` }),
      s.h.call({ method: 'POST', path: `/v1/attachments/${VALID_ID}/complete` }),
      s.h.call({ method: 'DELETE', path: `/v1/attachments/${VALID_ID}` }),
    ];
    for (const res of await Promise.all(unsigned)) expectError(res, 'UNAUTHORIZED');
  });

  it('answers NOT_CONFIGURED (404) on every route of a deployment without attachments', async () => {
    const h = harness(memoryPorts(testMaterial()));
    const alice = await h.register();
    const calls = [
      h.call({ method: 'POST', path: '/v1/attachments', json: { size: 10 }, signer: alice }),
      h.call({ method: 'GET', path: `/v1/attachments/${VALID_ID}/upload`, signer: alice }),
      h.call({ method: 'POST', path: `/v1/attachments/${VALID_ID}/complete`, signer: alice }),
      h.call({ method: 'DELETE', path: `/v1/attachments/${VALID_ID}`, signer: alice }),
      h.call({ method: 'GET', path: `/v1/attachments/${VALID_ID}` }),
    ];
    for (const res of await Promise.all(calls)) expectError(res, 'NOT_CONFIGURED');
  });

  it('refuses malformed ids, sizes and bodies with a JSON 400', async () => {
    const badIds = [
      'AAAAAAAAAAAAAAAAAAAAA', // 21 characters
      'AAAAAAAAAAAAAAAAAAAAAAA', // 23
      'AAAAAAAAAAAAAAAAAAAAAB', // non-canonical trailing bits
      'AAAAAAAAAAAAAAAAAAAA+A', // not base64url
      'AAAAAAAAAAAAAAAAAAAA%2F',
    ];
    for (const id of badIds) {
      expectError(await s.h.call({ method: 'GET', path: `/v1/attachments/${id}` }), 'BAD_REQUEST');
      expectError(await status(s.alice, id), 'BAD_REQUEST');
      expectError(await complete(s.alice, id), 'BAD_REQUEST');
      expectError(await abort(s.alice, id), 'BAD_REQUEST');
    }
    for (const size of [0, -1, 1.5, '10', null, ATTACHMENT_BLOB_LIMIT + 1, 1e300]) {
      expectError(await create(s.alice, size), 'BAD_REQUEST');
    }
    const extra = await s.h.call({
      method: 'POST',
      path: '/v1/attachments',
      json: { size: 10, contentType: 'image/png' },
      signer: s.alice,
    });
    expectError(extra, 'BAD_REQUEST');
    const withBody = await s.h.call({
      method: 'POST',
      path: `/v1/attachments/${VALID_ID}/complete`,
      json: { parts: [] },
      signer: s.alice,
    });
    expectError(withBody, 'BAD_REQUEST');
  });

  it('logs neither ids, sizes nor the account', async () => {
    const created = await create(s.alice, 20 * MIB);
    await status(s.alice, created.body.id);
    await complete(s.alice, created.body.id);
    await s.h.call({ method: 'GET', path: `/v1/attachments/${created.body.id}` });
    expect(s.h.logs.length).toBeGreaterThanOrEqual(4);
    for (const line of s.h.logs) {
      expect(line).not.toContain(created.body.id);
      expect(line).not.toContain(s.alice.account.address);
      expect(line).not.toContain(String(20 * MIB));
    }
  });
});

describe('malformed attachment requests', () => {
  it('answers at least 1,000 generated malformed requests with a JSON 4xx and never a 5xx', async () => {
    const s = await setup({ attachmentUploadRateLimit: { limit: 1e6, windowMs: 1e6 } });
    let count = 0;
    const expectRejected = (res: CallResult, label: string) => {
      count++;
      expect(
        res.status,
        `${label}: ${JSON.stringify(res.body).slice(0, 200)}`,
      ).toBeGreaterThanOrEqual(400);
      expect(res.status, label).toBeLessThan(500);
      expect(isApiErrorCode(res.body?.error?.code), label).toBe(true);
      expect(API_ERROR_STATUS[res.body.error.code as keyof typeof API_ERROR_STATUS]).toBe(
        res.status,
      );
    };
    const badSize = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: ATTACHMENT_BLOB_LIMIT + 1, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ noInteger: true }),
      fc.string({ maxLength: 12 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.nat(), { maxLength: 2 }),
    );
    const badId = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{1,21}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{23,40}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{21}[B-PR-fh-vx-z0-9_-]$/),
      fc
        .stringMatching(/^[A-Za-z0-9_.~!$&'()*+,;=:@-]{22}$/)
        .filter((id) => /[^A-Za-z0-9_-]/.test(id)),
    );
    const operations = [
      (id: string) => ({ method: 'GET', path: `/v1/attachments/${id}` }),
      (id: string) => ({ method: 'GET', path: `/v1/attachments/${id}/upload`, signer: s.alice }),
      (id: string) => ({
        method: 'POST',
        path: `/v1/attachments/${id}/complete`,
        signer: s.alice,
      }),
      (id: string) => ({ method: 'DELETE', path: `/v1/attachments/${id}`, signer: s.alice }),
    ];

    await fc.assert(
      fc.asyncProperty(badSize, async (size) => {
        const res = await s.h.call({
          method: 'POST',
          path: '/v1/attachments',
          json: { size },
          signer: s.alice,
        });
        expectRejected(res, `size ${JSON.stringify(size)}`);
      }),
      { numRuns: 250 },
    );
    await fc.assert(
      fc.asyncProperty(badId, fc.nat(operations.length - 1), async (id, which) => {
        fc.pre(id.length > 0);
        const res = await s.h.call(operations[which]!(encodeURIComponent(id)));
        expectRejected(res, `id ${id}`);
      }),
      { numRuns: 500 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .string({ maxLength: 100 })
            .filter((t) => !/^\s*(\{|\[|"|-?\d|true|false|null)/.test(t)),
          fc.json().map((j) => j),
        ),
        fc.constantFrom('application/json', 'text/plain', ''),
        async (text, type) => {
          const res = await s.h.call({
            method: 'POST',
            path: '/v1/attachments',
            rawBody: text,
            headers: type ? { 'content-type': type } : {},
            signer: s.alice,
          });
          // A generated JSON text may be a valid body ({"size": n}); everything else is refused.
          if (res.status === 200) return;
          expectRejected(res, `body ${text.slice(0, 40)}`);
        },
      ),
      { numRuns: 300 },
    );
    expect(count).toBeGreaterThanOrEqual(1000);
  });
});
