/**
 * The attachment service (docs/SERVICE.md §7.6) over in-memory sessions, quota and rate
 * limiter and a store that keeps sizes: every refusal (size, rate, quota, someone else's
 * upload, an incomplete upload), the part plan, the quota's days, and what complete and abort
 * leave behind.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MemoryAttachmentQuota,
  MemoryRateLimiter,
  MemoryUploadSessions,
} from '#functions/adapters/memory/index.ts';
import { utcDay } from '#functions/domain/attachment-ports.ts';
import {
  AttachmentService,
  multipartPlan,
  partBytes,
} from '#functions/domain/attachment-service.ts';
import type { Caller } from '#functions/domain/auth-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { ServiceError } from '#functions/domain/errors.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { MAX_ATTACHMENT_PARTS } from '#sdk/wire/api/limits.ts';
import { FakeAttachmentObjects, testCaller } from '../attachment-fixture.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const DAY = 24 * 60 * 60 * 1000;
/** 2026-01-01 10:00 UTC. */
const START = Date.UTC(2026, 0, 1, 10);

function setup(config: Partial<ServiceConfig> = {}, random = randomBytes) {
  const clock = { now: START };
  const objects = new FakeAttachmentObjects();
  const sessions = new MemoryUploadSessions();
  const quota = new MemoryAttachmentQuota();
  const service = new AttachmentService(
    { objects, sessions, quota },
    new MemoryRateLimiter(),
    () => clock.now,
    { ...DEFAULT_CONFIG, ...config },
    random,
  );
  return { clock, objects, sessions, quota, service };
}

type Setup = ReturnType<typeof setup>;

/** Starts a multipart upload and returns its id and store upload id. */
async function startMultipart(f: Setup, caller: Caller, size: number) {
  const created = await f.service.create(caller, size);
  if (created.upload.kind !== 'multipart') throw new Error('expected a multipart upload');
  const session = await f.sessions.get(created.id, f.clock.now);
  return { created, plan: created.upload, uploadId: session!.uploadId! };
}

describe('multipartPlan', () => {
  it('cuts a blob into parts of the configured size, the last holding the rest', () => {
    expect(multipartPlan(100 * MIB, 16 * MIB)).toEqual({ partSize: 16 * MIB, partCount: 7 });
    expect(multipartPlan(64 * MIB, 16 * MIB)).toEqual({ partSize: 16 * MIB, partCount: 4 });
    const plan = multipartPlan(100 * MIB, 16 * MIB);
    expect(partBytes(plan, 100 * MIB, 1)).toBe(16 * MIB);
    expect(partBytes(plan, 100 * MIB, 7)).toBe(4 * MIB);
    expect(partBytes(multipartPlan(64 * MIB, 16 * MIB), 64 * MIB, 4)).toBe(16 * MIB);
  });

  it('raises the part size in whole MiB when the parts would pass the part limit', () => {
    const plan = multipartPlan(4 * GIB, 1 * MIB);
    expect(plan).toEqual({ partSize: 5 * MIB, partCount: 820 });
    expect(plan.partCount).toBeLessThanOrEqual(MAX_ATTACHMENT_PARTS);
    // Exactly at the limit the configured size stays.
    expect(multipartPlan(MAX_ATTACHMENT_PARTS * MIB, MIB)).toEqual({
      partSize: MIB,
      partCount: MAX_ATTACHMENT_PARTS,
    });
    expect(multipartPlan(MAX_ATTACHMENT_PARTS * MIB + 1, MIB)).toEqual({
      partSize: 2 * MIB,
      partCount: 501,
    });
    for (const size of [5 * GIB + 7, 3 * GIB - 1, 1_234_567_891]) {
      const p = multipartPlan(size, 5 * MIB);
      expect(p.partCount).toBeLessThanOrEqual(MAX_ATTACHMENT_PARTS);
      expect((p.partCount - 1) * p.partSize).toBeLessThan(size);
      expect(p.partCount * p.partSize).toBeGreaterThanOrEqual(size);
      expect(p.partSize % MIB).toBe(0);
    }
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => multipartPlan(0, MIB)).toThrow(RangeError);
    expect(() => multipartPlan(1.5, MIB)).toThrow(RangeError);
    expect(() => multipartPlan(10, 0)).toThrow(RangeError);
  });
});

describe('AttachmentService.create', () => {
  let f: Setup;
  let caller: Caller;
  beforeEach(() => {
    f = setup();
    caller = testCaller();
  });

  it('answers a form up to the multipart threshold, with a random 16-byte id and a session', async () => {
    const created = await f.service.create(caller, 64 * MIB);
    expect(fromBase64Url(created.id, 'id')).toHaveLength(16);
    expect(created.size).toBe(64 * MIB);
    expect(created.expiresAt).toBe(START + DAY);
    expect(created.upload).toEqual({
      kind: 'form',
      url: 'https://objects.test/bucket',
      fields: {
        key: `attachments/${created.id}`,
        size: String(64 * MIB),
        // The form's own lifetime: 15 minutes, not the session's day.
        expires: String(START + 15 * 60_000),
      },
    });
    expect(await f.sessions.get(created.id, START)).toEqual({
      id: created.id,
      account: caller.address,
      size: 64 * MIB,
      createdAt: START,
      expiresAt: START + DAY,
    });
    expect(f.quota.days(caller.address)).toEqual(new Map([[utcDay(START), 64 * MIB]]));
    expect(f.objects.calls).toEqual(['createForm']);
  });

  it('starts a multipart upload above the threshold, with its part plan in the session', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 64 * MIB + 1);
    expect(created.upload).toEqual({ kind: 'multipart', partSize: 16 * MIB, partCount: 5 });
    expect(await f.sessions.get(created.id, START)).toMatchObject({
      account: caller.address,
      size: 64 * MIB + 1,
      uploadId,
      partSize: 16 * MIB,
    });
    expect(f.objects.uploads.get(uploadId)?.id).toBe(created.id);
  });

  it('refuses a blob above the maximum with ATTACHMENT_TOO_LARGE and reserves nothing', async () => {
    await expect(f.service.create(caller, 512 * MIB + 1)).rejects.toMatchObject({
      code: 'ATTACHMENT_TOO_LARGE',
    });
    expect(await f.service.create(caller, 512 * MIB)).toMatchObject({ size: 512 * MIB });
    expect(f.quota.days(caller.address).get(utcDay(START))).toBe(512 * MIB);
    await expect(f.service.create(caller, 0)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(f.service.create(caller, 2.5)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('limits upload starts per account and hour with RATE_LIMITED', async () => {
    f = setup({ attachmentUploadRateLimit: { limit: 2, windowMs: 60 * 60_000 } });
    await f.service.create(caller, 1000);
    await f.service.create(caller, 1000);
    await expect(f.service.create(caller, 1000)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // The refused start reserved nothing; other accounts are not affected.
    expect(f.quota.days(caller.address).get(utcDay(START))).toBe(2000);
    await expect(f.service.create(testCaller(), 1000)).resolves.toMatchObject({ size: 1000 });
    f.clock.now += 60 * 60_000;
    await expect(f.service.create(caller, 1000)).resolves.toMatchObject({ size: 1000 });
  });

  it('refuses with QUOTA_EXCEEDED past the bytes of a day, and a new UTC day starts afresh', async () => {
    f = setup({ attachmentBytesPerDay: 3000, attachmentStorageQuota: 10_000 });
    await f.service.create(caller, 2000);
    const refused = f.service.create(caller, 1001);
    await expect(refused).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await expect(refused).rejects.toThrow(/today/);
    await f.service.create(caller, 1000);
    // 2026-01-02 00:00 UTC: the day rolls over at midnight, not 24 hours after the first upload.
    f.clock.now = Date.UTC(2026, 0, 2);
    await f.service.create(caller, 3000);
    expect(f.quota.days(caller.address)).toEqual(
      new Map([
        [utcDay(START), 3000],
        [utcDay(START) + 1, 3000],
      ]),
    );
  });

  it('refuses with QUOTA_EXCEEDED past the storage quota until old days leave the retention', async () => {
    f = setup({
      attachmentBytesPerDay: 5000,
      attachmentStorageQuota: 6000,
      messageTtlMs: 3 * DAY,
    });
    await f.service.create(caller, 4000);
    f.clock.now += DAY;
    const refused = f.service.create(caller, 2001);
    await expect(refused).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await expect(refused).rejects.toThrow(/storage quota/);
    await f.service.create(caller, 2000);
    // Day 3 still counts the first day's 4000 (retention: 3 days, today included).
    f.clock.now += DAY;
    await expect(f.service.create(caller, 1)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    // Day 4: the first day left the retention and is forgotten.
    f.clock.now += DAY;
    await f.service.create(caller, 4000);
    expect(f.quota.days(caller.address)).toEqual(
      new Map([
        [utcDay(START) + 1, 2000],
        [utcDay(START) + 3, 4000],
      ]),
    );
  });

  it('gives the reservation back when the upload cannot be started', async () => {
    f.objects.failNext.set('startMultipart', new Error('store down'));
    await expect(f.service.create(caller, 100 * MIB)).rejects.toThrow('store down');
    expect(f.quota.days(caller.address)).toEqual(new Map());
    expect(f.sessions.size).toBe(0);
  });

  it('aborts the started multipart upload when its session cannot be stored', async () => {
    const sessions = f.sessions;
    const put = sessions.put.bind(sessions);
    sessions.put = async () => {
      throw new Error('table down');
    };
    await expect(f.service.create(caller, 100 * MIB)).rejects.toThrow('table down');
    sessions.put = put;
    expect(f.objects.calls).toEqual(['startMultipart', 'abortMultipart']);
    expect(f.objects.uploads.size).toBe(0);
    expect(f.quota.days(caller.address)).toEqual(new Map());
  });
});

describe('AttachmentService.status', () => {
  let f: Setup;
  let caller: Caller;
  beforeEach(() => {
    f = setup({ attachmentMultipartBytes: 8 * MIB });
    caller = testCaller();
  });

  it('lists stored parts and hands out fresh URLs for the missing and the wrongly sized', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 40 * MIB);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    f.objects.putPart(uploadId, 2, 15 * MIB);
    f.objects.putPart(uploadId, 9, 1); // not part of the plan: ignored
    f.clock.now += 60_000;
    const status = await f.service.status(caller, created.id);
    const expires = START + 60_000 + 15 * 60_000;
    expect(status).toEqual({
      id: created.id,
      size: 40 * MIB,
      expiresAt: START + DAY,
      urlsExpireAt: expires,
      upload: { kind: 'multipart', partSize: 16 * MIB, partCount: 3 },
      uploaded: [
        { partNumber: 1, size: 16 * MIB },
        { partNumber: 2, size: 15 * MIB },
      ],
      // Each URL is for the part's exact size: 16 MiB, and the rest (8 MiB) for the last.
      parts: [
        [2, 16 * MIB],
        [3, 8 * MIB],
      ].map(([n, size]) => ({
        partNumber: n,
        url: `https://objects.test/bucket/attachments/${created.id}?uploadId=${uploadId}&partNumber=${n}&expires=${expires}&size=${size}`,
      })),
    });
  });

  it('answers a form again, and the stored object once it exists', async () => {
    const created = await f.service.create(caller, 5000);
    const before = await f.service.status(caller, created.id);
    expect(before.upload.kind).toBe('form');
    expect(before.uploaded).toEqual([]);
    expect(before.parts).toEqual([]);
    f.objects.putObject(created.id, 5000);
    const after = await f.service.status(caller, created.id);
    expect(after.uploaded).toEqual([{ partNumber: 1, size: 5000 }]);
  });

  it('never hands out URLs that outlive the session', async () => {
    const created = await f.service.create(caller, 5000);
    f.clock.now = START + DAY - 60_000;
    const status = await f.service.status(caller, created.id);
    expect(status.urlsExpireAt).toBe(START + DAY);
    expect(status.upload).toMatchObject({ fields: { expires: String(START + DAY) } });
  });

  it("answers NOT_FOUND for another account's upload, an unknown id and an expired session", async () => {
    const created = await f.service.create(caller, 5000);
    await expect(f.service.status(testCaller(), created.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(f.service.status(caller, 'AAAAAAAAAAAAAAAAAAAAAA')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    f.clock.now = START + DAY;
    await expect(f.service.status(caller, created.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('AttachmentService.complete', () => {
  let f: Setup;
  let caller: Caller;
  beforeEach(() => {
    f = setup({ attachmentMultipartBytes: 8 * MIB });
    caller = testCaller();
  });

  it('completes a multipart upload with every part exact, then forgets the session', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 40 * MIB);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    f.objects.putPart(uploadId, 2, 16 * MIB);
    f.objects.putPart(uploadId, 3, 8 * MIB);
    expect(await f.service.complete(caller, created.id)).toEqual({
      id: created.id,
      size: 40 * MIB,
    });
    expect(f.objects.objects.get(created.id)).toBe(40 * MIB);
    expect(f.sessions.size).toBe(0);
    // Nothing links the id to the account any more: a repeat is NOT_FOUND.
    await expect(f.service.complete(caller, created.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // The bytes stay counted: the blob is stored.
    expect(f.quota.days(caller.address).get(utcDay(START))).toBe(40 * MIB);
  });

  it('refuses a missing part with UPLOAD_INCOMPLETE and keeps the session', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 40 * MIB);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    f.objects.putPart(uploadId, 3, 8 * MIB);
    const refused = f.service.complete(caller, created.id);
    await expect(refused).rejects.toMatchObject({ code: 'UPLOAD_INCOMPLETE' });
    await expect(refused).rejects.toThrow(/part 2 is missing/);
    expect(f.objects.calls).not.toContain('completeMultipart');
    expect(f.sessions.size).toBe(1);
  });

  it('refuses a part of the wrong size, the last one included', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 40 * MIB);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    f.objects.putPart(uploadId, 2, 16 * MIB - 1);
    f.objects.putPart(uploadId, 3, 8 * MIB + 1);
    await expect(f.service.complete(caller, created.id)).rejects.toThrow(/part 2 has the wrong/);
    f.objects.putPart(uploadId, 2, 16 * MIB);
    // The total would match, but the last part is one byte too large.
    f.objects.putPart(uploadId, 1, 16 * MIB - 1);
    await expect(f.service.complete(caller, created.id)).rejects.toThrow(/part 1 has the wrong/);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    await expect(f.service.complete(caller, created.id)).rejects.toThrow(/part 3 has the wrong/);
    f.objects.putPart(uploadId, 3, 8 * MIB);
    await expect(f.service.complete(caller, created.id)).resolves.toMatchObject({
      size: 40 * MIB,
    });
  });

  it('completes a form upload only when the object has exactly the declared size', async () => {
    const created = await f.service.create(caller, 5000);
    await expect(f.service.complete(caller, created.id)).rejects.toThrow(/nothing was uploaded/);
    f.objects.putObject(created.id, 4999);
    await expect(f.service.complete(caller, created.id)).rejects.toMatchObject({
      code: 'UPLOAD_INCOMPLETE',
    });
    f.objects.putObject(created.id, 5000);
    expect(await f.service.complete(caller, created.id)).toEqual({ id: created.id, size: 5000 });
    expect(f.sessions.size).toBe(0);
  });

  it('succeeds on a retry after the store completed but the session was not yet deleted', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 20 * MIB);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    f.objects.putPart(uploadId, 2, 4 * MIB);
    const sessions = f.sessions;
    const remove = sessions.delete.bind(sessions);
    sessions.delete = async () => {
      throw new Error('table down');
    };
    await expect(f.service.complete(caller, created.id)).rejects.toThrow('table down');
    sessions.delete = remove;
    // The store forgot the upload: no parts, but the whole object.
    expect(await f.service.complete(caller, created.id)).toEqual({
      id: created.id,
      size: 20 * MIB,
    });
    expect(f.sessions.size).toBe(0);
  });

  it('answers UPLOAD_INCOMPLETE when the store refuses the parts and no object exists', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 20 * MIB);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    f.objects.putPart(uploadId, 2, 4 * MIB);
    f.objects.failNext.set('completeMultipart', new ServiceError('UPLOAD_INCOMPLETE', 'refused'));
    await expect(f.service.complete(caller, created.id)).rejects.toMatchObject({
      code: 'UPLOAD_INCOMPLETE',
    });
    expect(f.sessions.size).toBe(1);
  });

  it("answers NOT_FOUND for another account's upload", async () => {
    const created = await f.service.create(caller, 5000);
    f.objects.putObject(created.id, 5000);
    await expect(f.service.complete(testCaller(), created.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(f.sessions.size).toBe(1);
  });
});

describe('AttachmentService.abort', () => {
  let f: Setup;
  let caller: Caller;
  beforeEach(() => {
    f = setup({ attachmentMultipartBytes: 8 * MIB });
    caller = testCaller();
  });

  it('aborts a multipart upload, deletes the session and releases the quota', async () => {
    const { created, uploadId } = await startMultipart(f, caller, 100 * MIB);
    await f.service.create(caller, 1000);
    f.objects.putPart(uploadId, 1, 16 * MIB);
    // Released on the day it was reserved, even when aborted the next (UTC) day.
    f.clock.now = Date.UTC(2026, 0, 2, 1);
    expect(await f.service.abort(caller, created.id)).toEqual({ removed: true });
    expect(f.objects.uploads.has(uploadId)).toBe(false);
    expect(f.quota.days(caller.address)).toEqual(new Map([[utcDay(START), 1000]]));
    expect(await f.sessions.get(created.id, f.clock.now)).toBeUndefined();
    // A repeat changes nothing and releases nothing twice.
    expect(await f.service.abort(caller, created.id)).toEqual({ removed: false });
    expect(f.quota.days(caller.address)).toEqual(new Map([[utcDay(START), 1000]]));
  });

  it("deletes a form upload's object", async () => {
    const created = await f.service.create(caller, 5000);
    f.objects.putObject(created.id, 5000);
    expect(await f.service.abort(caller, created.id)).toEqual({ removed: true });
    expect(f.objects.objects.has(created.id)).toBe(false);
    expect(f.quota.days(caller.address)).toEqual(new Map());
  });

  it("leaves another account's upload alone", async () => {
    const created = await f.service.create(caller, 5000);
    f.objects.putObject(created.id, 5000);
    expect(await f.service.abort(testCaller(), created.id)).toEqual({ removed: false });
    expect(f.objects.objects.get(created.id)).toBe(5000);
    expect(f.sessions.size).toBe(1);
    expect(f.quota.days(caller.address).get(utcDay(START))).toBe(5000);
  });

  it('does not abort a completed upload', async () => {
    const created = await f.service.create(caller, 5000);
    f.objects.putObject(created.id, 5000);
    await f.service.complete(caller, created.id);
    expect(await f.service.abort(caller, created.id)).toEqual({ removed: false });
    expect(f.objects.objects.get(created.id)).toBe(5000);
  });
});

describe('AttachmentService.download and configuration', () => {
  it('presigns a download without any lookup', async () => {
    const f = setup();
    const id = 'AAAAAAAAAAAAAAAAAAAAAQ';
    expect(await f.service.download(id)).toEqual({
      url: `https://objects.test/bucket/attachments/${id}?expires=${START + 10 * 60_000}`,
      expiresAt: START + 10 * 60_000,
    });
    expect(f.objects.calls).toEqual(['presignGet']);
    await expect(f.service.download('../etc/passwd')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('answers NOT_CONFIGURED on every operation without attachment ports', async () => {
    const service = new AttachmentService(
      undefined,
      new MemoryRateLimiter(),
      () => START,
      DEFAULT_CONFIG,
      randomBytes,
    );
    const caller = testCaller();
    const id = 'AAAAAAAAAAAAAAAAAAAAAA';
    expect(service.enabled).toBe(false);
    for (const call of [
      () => service.create(caller, 1000),
      () => service.status(caller, id),
      () => service.complete(caller, id),
      () => service.abort(caller, id),
      () => service.download(id),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
    }
  });

  it('draws the id from the injected random source', async () => {
    const f = setup({}, (n) => new Uint8Array(n).fill(0xff));
    const created = await f.service.create(testCaller(), 1000);
    expect(created.id).toBe('_____________________w');
  });
});
