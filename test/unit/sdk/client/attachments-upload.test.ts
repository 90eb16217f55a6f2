/**
 * Uploads of attachments (docs/SDK.md §Attachments) against the fake attachment routes and
 * object store of attachments-fake.ts: form and multipart uploads whose blobs decrypt to the
 * file, retries of a failing part, renewal of an expired part URL, cancellation, resume after
 * a restart, resume with other data, progress, a completion whose answer was lost, and the
 * checks that run before any request.
 */
import { describe, expect, it } from 'vitest';
import { blobLayout, decryptAttachmentBytes } from '#sdk/attachments/index.ts';
import {
  AbortedError,
  AttachmentResumeMismatchError,
  SealpostClient,
  TransferFailedError,
} from '#sdk/client/index.ts';
import { defaultBackend } from '#sdk/crypto/index.ts';
import type { StateStore, StoreOp } from '#sdk/state/store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { fileBytes, same, setupAttachments } from './attachments-fake.ts';

const PART = 64 * 1024;

/** The upload records of a store, as ops that put them back. */
async function snapshot(store: StateStore): Promise<StoreOp[]> {
  const keys = await store.keys('upload');
  return Promise.all(
    keys.map(async (key) => ({
      ns: 'upload' as const,
      key,
      value: (await store.get('upload', key))!,
    })),
  );
}

/** Parts of the blob of a file of `size` bytes at the fake's part size. */
const partsOf = (size: number) => Math.ceil(blobLayout(size).blobSize / PART);

describe('uploadAttachment', () => {
  it('uploads a small file in one form POST; the stored blob decrypts to it', async () => {
    const { fake, alice } = await setupAttachments();
    const data = fileBytes(5_000);
    const seen: [number, number][] = [];
    const pointer = await alice.uploadAttachment(
      { data, contentType: 'Image/PNG', fileName: 'cat.png', width: 40, height: 30 },
      { onProgress: (sent, total) => seen.push([sent, total]) },
    );
    expect(fake.log).toEqual(['create', 'post', 'complete']);
    const blob = fake.objects.get(pointer.id)!;
    expect(blob.length).toBe(blobLayout(5_000).blobSize);
    expect(
      same(await decryptAttachmentBytes(blob, pointer, { backend: defaultBackend }), data),
    ).toBe(true);
    expect(pointer).toMatchObject({
      size: 5_000,
      contentType: 'image/png',
      fileName: 'cat.png',
      width: 40,
      height: 30,
    });
    expect(pointer.key).toHaveLength(32);
    expect(seen).toEqual([[blob.length, blob.length]]);
    expect(await alice.pendingUploads()).toEqual([]);
  });

  it('uploads a large file part by part, reporting monotonic progress up to the total', async () => {
    const { fake, alice } = await setupAttachments();
    const data = fileBytes(300_000);
    const seen: [number, number][] = [];
    const pointer = await alice.uploadAttachment(
      { data: new Blob([data]) },
      { onProgress: (sent, total) => seen.push([sent, total]) },
    );
    const count = partsOf(300_000);
    expect(count).toBeGreaterThan(3);
    expect(fake.puts).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(fake.log.filter((l) => !l.startsWith('put'))).toEqual(['create', 'status', 'complete']);
    const blob = fake.objects.get(pointer.id)!;
    expect(
      same(await decryptAttachmentBytes(blob, pointer, { backend: defaultBackend }), data),
    ).toBe(true);
    expect(pointer.contentType).toBe('application/octet-stream');
    expect(seen).toHaveLength(count);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
    expect(seen.at(-1)).toEqual([blob.length, blob.length]);
    expect(seen.every(([, total]) => total === blob.length)).toBe(true);
  });

  it('uploads a stream of declared size; a stream of another length fails', async () => {
    const { fake, alice } = await setupAttachments();
    const data = fileBytes(150_000);
    const pointer = await alice.uploadAttachment({
      data: new Blob([data]).stream(),
      size: 150_000,
    });
    const blob = fake.objects.get(pointer.id)!;
    expect(
      same(await decryptAttachmentBytes(blob, pointer, { backend: defaultBackend }), data),
    ).toBe(true);
    await expect(
      alice.uploadAttachment({ data: new Blob([data]).stream(), size: 150_001 }),
    ).rejects.toMatchObject({ code: 'ATTACHMENT_SIZE_MISMATCH' });
  });

  it('retries a part that fails twice, and gives up after three failures', async () => {
    const { fake, alice } = await setupAttachments();
    fake.partFailures.set(2, [500, 503]);
    const pointer = await alice.uploadAttachment({ data: fileBytes(200_000) });
    expect(fake.puts.filter((n) => n === 2)).toHaveLength(3);
    expect(fake.objects.has(pointer.id)).toBe(true);

    fake.partFailures.set(1, [500, 500, 500]);
    const err = await alice.uploadAttachment({ data: fileBytes(200_000) }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferFailedError);
    expect(err).toMatchObject({ code: 'TRANSFER_FAILED', status: 500, retryable: true });
    expect(String(err.message)).not.toContain('/part/');
    // Kept to resume.
    expect(await alice.pendingUploads()).toHaveLength(1);
  });

  it('fetches fresh part URLs when one has expired (403) and when the clock passed their expiry', async () => {
    const { sealpost, fake, alice } = await setupAttachments();
    fake.onPart = (n) => {
      if (n === 1) fake.expiredTokens.add(`t${3}`); // part 3's first URL expires meanwhile
    };
    const data = fileBytes(250_000);
    const pointer = await alice.uploadAttachment({ data });
    expect(fake.log.filter((l) => l === 'status')).toHaveLength(2);
    expect(fake.puts.filter((n) => n === 3)).toHaveLength(2);

    fake.onPart = (n) => {
      if (n === 1) sealpost.advance(20 * 60 * 1000);
    };
    fake.log.length = 0;
    await alice.uploadAttachment({ data });
    // Renewed before part 2 went out, without a failed attempt.
    expect(fake.log.filter((l) => l === 'status')).toHaveLength(2);
    expect(fake.puts).toEqual(Array.from({ length: partsOf(250_000) }, (_, i) => i + 1));
    expect(fake.objects.has(pointer.id)).toBe(true);
  });

  it('stops when its signal aborts: abortAttachment, AbortedError, nothing pending', async () => {
    const { fake, alice } = await setupAttachments();
    const controller = new AbortController();
    fake.onPart = (n) => {
      if (n === 2) controller.abort(new Error('user cancelled'));
    };
    const err = await alice
      .uploadAttachment({ data: fileBytes(300_000) }, { signal: controller.signal })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.code).toBe('ABORTED');
    const aborted = fake.log.filter((l) => l.startsWith('abort '));
    expect(aborted).toHaveLength(1);
    expect(fake.sessions.size).toBe(0);
    expect(fake.log).not.toContain('complete');
    expect(fake.puts.every((n) => n <= 2)).toBe(true);
    expect(await alice.pendingUploads()).toEqual([]);
  });

  it('resumes after a restart with a fresh client over the same store: only missing parts go out', async () => {
    const { fake, store, clientOptions, alice } = await setupAttachments();
    const data = fileBytes(400_000);
    const input = { data, fileName: 'movie.mp4', contentType: 'video/mp4', durationMs: 1234 };
    fake.partFailures.set(4, [500, 500, 500]);
    await expect(alice.uploadAttachment(input)).rejects.toBeInstanceOf(TransferFailedError);
    alice.close();

    const restarted = await SealpostClient.open(clientOptions(store));
    const [pending] = await restarted.pendingUploads();
    expect(pending).toMatchObject({
      size: 400_000,
      fileName: 'movie.mp4',
      contentType: 'video/mp4',
    });
    expect(pending!.createdAt).toBeTypeOf('number');
    fake.log.length = 0;
    const seen: number[] = [];
    const pointer = await restarted.uploadAttachment(input, {
      resume: pending!.resumeId,
      onProgress: (sent) => seen.push(sent),
    });
    const count = partsOf(400_000);
    expect(fake.puts).toEqual(Array.from({ length: count - 3 }, (_, i) => i + 4));
    expect(pointer.id).toBe(pending!.resumeId);
    const blob = fake.objects.get(pointer.id)!;
    expect(
      same(await decryptAttachmentBytes(blob, pointer, { backend: defaultBackend }), data),
    ).toBe(true);
    expect(seen[0]).toBe(PART); // the first verified part counts at once
    expect(seen.at(-1)).toBe(blob.length);
    expect(await restarted.pendingUploads()).toEqual([]);
  });

  it('refuses to resume with other data, and keeps the upload pending', async () => {
    const { fake, alice } = await setupAttachments();
    fake.partFailures.set(3, [500, 500, 500]);
    await expect(alice.uploadAttachment({ data: fileBytes(300_000) })).rejects.toBeInstanceOf(
      TransferFailedError,
    );
    const [pending] = await alice.pendingUploads();
    fake.log.length = 0;
    const other = await alice
      .uploadAttachment({ data: fileBytes(300_000, 2) }, { resume: pending!.resumeId })
      .catch((e) => e);
    expect(other).toBeInstanceOf(AttachmentResumeMismatchError);
    expect(other.code).toBe('ATTACHMENT_RESUME_MISMATCH');
    expect(fake.puts).toEqual([]);
    const shorter = await alice
      .uploadAttachment({ data: fileBytes(299_999) }, { resume: pending!.resumeId })
      .catch((e) => e);
    expect(shorter).toBeInstanceOf(AttachmentResumeMismatchError);
    expect(await alice.pendingUploads()).toHaveLength(1);
    // The right data still completes it.
    const pointer = await alice.uploadAttachment(
      { data: fileBytes(300_000) },
      { resume: pending!.resumeId },
    );
    expect(fake.objects.has(pointer.id)).toBe(true);
  });

  it('discards a pending upload: the service is told, the state forgotten', async () => {
    const { fake, alice } = await setupAttachments();
    fake.partFailures.set(1, [500, 500, 500]);
    await expect(alice.uploadAttachment({ data: fileBytes(100_000) })).rejects.toThrow();
    const [pending] = await alice.pendingUploads();
    expect(await alice.discardUpload(pending!.resumeId)).toBe(true);
    expect(fake.log).toContain(`abort ${pending!.resumeId}`);
    expect(await alice.pendingUploads()).toEqual([]);
    expect(await alice.discardUpload(pending!.resumeId)).toBe(false);
    await expect(
      alice.uploadAttachment({ data: fileBytes(100_000) }, { resume: pending!.resumeId }),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
  });

  it('treats a completion whose answer was lost as done once the blob header is in place', async () => {
    const { fake, alice } = await setupAttachments();
    fake.loseCompleteAnswer = true;
    const data = fileBytes(90_000);
    const pointer = await alice.uploadAttachment({ data });
    expect(fake.log.filter((l) => l === 'complete')).toHaveLength(2);
    expect(fake.log).toContain('get range');
    expect(await alice.pendingUploads()).toEqual([]);
    const blob = fake.objects.get(pointer.id)!;
    expect(
      same(await decryptAttachmentBytes(blob, pointer, { backend: defaultBackend }), data),
    ).toBe(true);
  });

  it('finishes a resume whose upload had completed before the restart; drops an expired one', async () => {
    const { fake, store, alice } = await setupAttachments();
    const data = fileBytes(200_000);
    const count = partsOf(200_000);
    // The state as a crash after the completion, before the state was removed, leaves it.
    let saved: Promise<StoreOp[]> | undefined;
    fake.onPart = (n) => {
      if (n === count) saved = snapshot(store);
    };
    const first = await alice.uploadAttachment({ data });
    fake.onPart = undefined;
    expect(await alice.pendingUploads()).toEqual([]);
    await store.commit(await saved!);
    const [pending] = await alice.pendingUploads();
    expect(pending!.resumeId).toBe(first.id);

    fake.log.length = 0;
    const again = await alice.uploadAttachment({ data }, { resume: first.id });
    expect(again).toEqual(first);
    expect(fake.log).toEqual(['status', 'download', 'get range']);
    expect(await alice.pendingUploads()).toEqual([]);

    await store.commit(await saved!);
    await expect(
      alice.uploadAttachment({ data: fileBytes(200_000, 9) }, { resume: first.id }),
    ).rejects.toBeInstanceOf(AttachmentResumeMismatchError);
    expect(await alice.pendingUploads()).toHaveLength(1);

    // Gone from the store too: it expired, and its state is dropped.
    fake.objects.delete(first.id);
    await expect(alice.uploadAttachment({ data }, { resume: first.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await alice.pendingUploads()).toEqual([]);
  });

  it('checks every input before any request', async () => {
    const { fake, alice } = await setupAttachments();
    const bad: [unknown, unknown][] = [
      [{ data: 'text' }, ArgumentTypeError],
      [{ data: new Blob([new Uint8Array(3)]).stream() }, ArgumentRangeError],
      [{ data: new Uint8Array(3), size: 4 }, ArgumentRangeError],
      [{ data: new Uint8Array(3), contentType: 'not a type' }, ArgumentRangeError],
      [{ data: new Uint8Array(3), contentType: 'text/plain; charset=utf-8' }, ArgumentRangeError],
      [{ data: new Uint8Array(3), fileName: 'a/b' }, ArgumentRangeError],
      [{ data: new Uint8Array(3), fileName: 'x'.repeat(256) }, ArgumentRangeError],
      [{ data: new Uint8Array(3), width: 10 }, ArgumentRangeError],
      [{ data: new Uint8Array(3), width: 10, height: -1 }, ArgumentRangeError],
      [{ data: new Uint8Array(3), durationMs: 1.5 }, ArgumentRangeError],
      [{ data: new Uint8Array(3), thumbnail: new Uint8Array(8193) }, ArgumentRangeError],
      [{ data: new Uint8Array(3), thumbnail: new Uint8Array(0) }, ArgumentRangeError],
      [{ data: new Blob([]).stream(), size: 2 ** 32 }, ArgumentRangeError],
      [null, ArgumentTypeError],
    ];
    for (const [input, cls] of bad) {
      await expect(
        alice.uploadAttachment(input as never),
        JSON.stringify(input),
      ).rejects.toBeInstanceOf(cls as never);
    }
    await expect(
      alice.uploadAttachment({ data: new Uint8Array(3) }, { onProgress: 'x' as never }),
    ).rejects.toBeInstanceOf(ArgumentTypeError);
    await expect(
      alice.uploadAttachment({ data: new Uint8Array(3) }, { resume: 'AAAAAAAAAAAAAAAAAAAAAA' }),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
    const aborted = AbortSignal.abort();
    await expect(
      alice.uploadAttachment({ data: new Uint8Array(3) }, { signal: aborted }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(fake.log).toEqual([]);
  });
});
