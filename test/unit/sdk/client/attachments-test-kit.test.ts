/**
 * Attachments end to end through the test kit (`@sealpost/testing`): the real attachment
 * routes and the in-process object service behind their presigned targets, with a small
 * multipart threshold and part size, so a file of a few hundred KiB goes in several parts.
 * Alice sends Bob a multi-part attachment and a small one; Bob downloads and verifies both.
 */
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { blobLayout } from '#sdk/attachments/index.ts';
import { AttachmentNotFoundError, type FetchLike, SealpostClient } from '#sdk/client/index.ts';
import { drain, fileBytes, same } from './attachments-fake.ts';

const PART = 64 * 1024;

describe('attachments through the test kit', () => {
  it('sends a multi-part attachment and a form-sized one that the recipient downloads', async () => {
    const sealpost = await TestSealpost.start({
      config: { attachmentMultipartBytes: 100 * 1024, attachmentPartSize: PART },
    });
    // Counts the part PUTs and form POSTs that reach the object service.
    const transfers: string[] = [];
    const fetch: FetchLike = (url, init) => {
      const method = init.method ?? 'GET';
      if (!new URL(url).pathname.startsWith('/v1/')) transfers.push(method);
      return sealpost.fetch(url, init);
    };
    const alice = await SealpostClient.register({ ...sealpost.clientOptions(), fetch });
    const bob = await sealpost.register();
    await alice.addContact(bob.contactCard());

    const video = fileBytes(450_000);
    const sticker = fileBytes(2_000, 3);
    const seen: number[] = [];
    await alice.send(
      bob.address,
      {
        text: 'see attached',
        attachments: [
          {
            data: new Blob([video]),
            contentType: 'video/mp4',
            fileName: 'clip.mp4',
            durationMs: 4_000,
          },
          { data: sticker, contentType: 'image/webp' },
        ],
      },
      { onProgress: (sent) => seen.push(sent) },
    );
    const parts = Math.ceil(blobLayout(450_000).blobSize / PART);
    expect(transfers.filter((m) => m === 'PUT')).toHaveLength(parts);
    expect(transfers.filter((m) => m === 'POST')).toHaveLength(1);
    const total = blobLayout(450_000).blobSize + blobLayout(2_000).blobSize;
    expect(seen.at(-1)).toBe(total);

    const [message] = (await bob.receiveBatch()).messages;
    expect(message!.text).toBe('see attached');
    const [clip, small] = message!.attachments;
    expect(clip).toMatchObject({ contentType: 'video/mp4', fileName: 'clip.mp4', size: 450_000 });
    const downloaded = await drain(await clip!.download());
    expect(downloaded.error).toBeUndefined();
    expect(same(downloaded.bytes, video)).toBe(true);
    expect(same(await small!.bytes(), sticker)).toBe(true);
    expect(await alice.pendingUploads()).toEqual([]);
  });

  it('answers ATTACHMENT_NOT_FOUND for a pointer whose blob the store does not hold', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const pointer = await alice.uploadAttachment({ data: fileBytes(1_000) });
    const missing = {
      ...pointer,
      id: `${pointer.id.slice(0, 20)}${pointer.id[20] === 'A' ? 'B' : 'A'}A`,
    };
    await expect(alice.downloadAttachment(missing)).rejects.toBeInstanceOf(AttachmentNotFoundError);
  });
});
