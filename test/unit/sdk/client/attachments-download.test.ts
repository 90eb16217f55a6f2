/**
 * Attachments sent, received and downloaded (docs/SDK.md §Attachments), against the fake
 * attachment routes and object store of attachments-fake.ts in front of the in-process
 * service: a message carries its pointers to the recipient and to the sender's own devices,
 * downloads verify as they stream, and a blob that was tampered with or is missing never yields
 * unverified bytes.
 */
import { describe, expect, it } from 'vitest';
import { blobLayout } from '#sdk/attachments/index.ts';
import {
  AttachmentNotFoundError,
  type ReceivedAttachment,
  SealpostClient,
  TransferFailedError,
} from '#sdk/client/index.ts';
import { AttachmentCorruptError, AttachmentDigestMismatchError } from '#sdk/errors.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { drain, fileBytes, same, setupAttachments } from './attachments-fake.ts';

const CHUNK = 256 * 1024;

async function withBob() {
  const env = await setupAttachments();
  const bob = await SealpostClient.register(env.clientOptions(new MemoryStore()));
  await env.alice.addContact(bob.contactCard());
  return { ...env, bob };
}

describe('attachments in messages', () => {
  it('sends inputs and uploaded pointers; the recipient and the own devices download them', async () => {
    const { fake, alice, bob, clientOptions } = await withBob();
    const laptop = await SealpostClient.link({
      ...clientOptions(new MemoryStore()),
      account: alice.exportAccountKey()!,
    });
    const photo = fileBytes(700_000);
    const note = fileBytes(3_000, 5);
    const uploaded = await alice.uploadAttachment({
      data: note,
      contentType: 'audio/ogg',
      durationMs: 2_500,
    });
    const seen: [number, number][] = [];
    const result = await alice.send(
      bob.address,
      {
        text: 'two files',
        attachments: [
          {
            data: photo,
            contentType: 'image/jpeg',
            fileName: 'photo.jpg',
            width: 800,
            height: 600,
            thumbnail: Uint8Array.of(1, 2, 3),
          },
          uploaded,
        ],
      },
      { onProgress: (sent, total) => seen.push([sent, total]) },
    );
    expect(result.recipientDevices).toBe(1);
    const total = blobLayout(700_000).blobSize;
    expect(seen.at(-1)).toEqual([total, total]);

    const [message] = (await bob.receiveBatch()).messages;
    expect(message!.text).toBe('two files');
    const [first, second] = message!.attachments as ReceivedAttachment[];
    expect(first).toMatchObject({
      contentType: 'image/jpeg',
      fileName: 'photo.jpg',
      size: 700_000,
      width: 800,
      height: 600,
      durationMs: undefined,
      thumbnail: Uint8Array.of(1, 2, 3),
    });
    expect(second).toMatchObject({ contentType: 'audio/ogg', durationMs: 2_500, size: 3_000 });
    expect(second!.pointer).toEqual(uploaded);

    const progress: number[] = [];
    const { bytes, error } = await drain(
      await first!.download({ onProgress: (n, size) => progress.push(n / size) }),
    );
    expect(error).toBeUndefined();
    expect(same(bytes, photo)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    expect(same(await second!.bytes(), note)).toBe(true);
    // The presigned GET is asked for without a signature: the service does not learn who.
    expect(fake.log.filter((l) => l === 'download').length).toBeGreaterThanOrEqual(2);

    await alice.flushOutbox();
    const [copy] = (await laptop.receiveBatch()).messages;
    expect(copy!.sync?.destination).toBe(bob.address);
    expect(copy!.attachments.map((a) => a.pointer)).toEqual(
      message!.attachments.map((a) => a.pointer),
    );
    const synced = await drain(await laptop.downloadAttachment(copy!.attachments[0]!.pointer));
    expect(synced.error).toBeUndefined();
    expect(same(synced.bytes, photo)).toBe(true);
  });

  it('gives messages without attachments an empty list, and keeps the string and bytes forms', async () => {
    const { alice, bob } = await withBob();
    await alice.send(bob.address, 'plain');
    await alice.send(bob.address, Uint8Array.of(7));
    await alice.send(bob.address, { body: Uint8Array.of(8), attachments: [] });
    const messages = (await bob.receiveBatch()).messages;
    expect(messages.map((m) => [m.text, [...m.body], m.attachments])).toEqual([
      ['plain', [...new TextEncoder().encode('plain')], []],
      [undefined, [7], []],
      [undefined, [8], []],
    ]);
  });

  it('checks the whole message before uploading anything', async () => {
    const { fake, alice, bob } = await withBob();
    const big = {
      data: new Uint8Array(10),
      thumbnail: new Uint8Array(8192),
      fileName: 'x'.repeat(255),
    };
    const cases: [unknown, unknown][] = [
      [{ attachments: Array.from({ length: 12 }, () => big) }, ArgumentRangeError],
      [
        { attachments: Array.from({ length: 33 }, () => ({ data: new Uint8Array(1) })) },
        ArgumentRangeError,
      ],
      [{ text: 'a', body: new Uint8Array(1) }, ArgumentTypeError],
      [{ attachments: [{ data: new Uint8Array(1) }, { id: 'nope' }] }, ArgumentRangeError],
      [{ attachments: [{ data: 5 }] }, ArgumentTypeError],
      [
        {
          text: 'x'.repeat(98_000),
          attachments: [{ data: new Uint8Array(1), thumbnail: new Uint8Array(800) }],
        },
        ArgumentRangeError,
      ],
      [{ attachments: 'x' }, ArgumentTypeError],
    ];
    for (const [content, cls] of cases) {
      await expect(alice.send(bob.address, content as never)).rejects.toBeInstanceOf(cls as never);
    }
    await expect(
      alice.send(
        bob.address,
        { attachments: [{ data: new Uint8Array(1) }] },
        { onProgress: 1 as never },
      ),
    ).rejects.toBeInstanceOf(ArgumentTypeError);
    expect(fake.log).toEqual([]);
  });
});

describe('downloadAttachment', () => {
  it('yields only verified bytes of a tampered blob, then errors with the cipher error', async () => {
    const { fake, alice } = await setupAttachments();
    const data = fileBytes(3 * CHUNK + 1000);
    const pointer = await alice.uploadAttachment({ data });
    const blob = fake.objects.get(pointer.id)!;
    // A byte of the second chunk's ciphertext.
    blob[34 + CHUNK + 16 + 100]! ^= 1;
    const { bytes, error } = await drain(await alice.downloadAttachment(pointer));
    expect(error).toBeInstanceOf(AttachmentCorruptError);
    expect(bytes.length).toBeLessThanOrEqual(CHUNK);
    expect(same(bytes, data.subarray(0, bytes.length))).toBe(true);
    await expect(
      alice.downloadAttachment(pointer).then((s) => new Response(s).arrayBuffer()),
    ).rejects.toBeInstanceOf(AttachmentCorruptError);
    blob[34 + CHUNK + 16 + 100]! ^= 1;
    const intact = await drain(await alice.downloadAttachment(pointer));
    expect(intact.error).toBeUndefined();
    expect(same(intact.bytes, data)).toBe(true);
  });

  it('withholds the final chunk of a blob that is not the one the pointer names', async () => {
    const { alice } = await setupAttachments();
    const data = fileBytes(CHUNK + 10);
    const pointer = await alice.uploadAttachment({ data });
    const digest = pointer.digest.slice();
    digest[0]! ^= 1;
    const { bytes, error } = await drain(await alice.downloadAttachment({ ...pointer, digest }));
    expect(error).toBeInstanceOf(AttachmentDigestMismatchError);
    expect(bytes.length).toBeLessThan(data.length);
  });

  it('answers ATTACHMENT_NOT_FOUND for a missing blob and TRANSFER_FAILED for other store errors', async () => {
    const { fake, alice } = await setupAttachments();
    const pointer = await alice.uploadAttachment({ data: fileBytes(2_000) });
    fake.objects.delete(pointer.id);
    const missing = await alice.downloadAttachment(pointer).catch((e) => e);
    expect(missing).toBeInstanceOf(AttachmentNotFoundError);
    expect(missing.code).toBe('ATTACHMENT_NOT_FOUND');
    expect(missing.message).not.toContain(pointer.id);

    const other = await alice.uploadAttachment({ data: fileBytes(2_000) });
    // S3 answers 403 for a key it does not have when the signer may not list the bucket.
    fake.getFailures.push(403);
    await expect(alice.downloadAttachment(other)).rejects.toBeInstanceOf(AttachmentNotFoundError);
    fake.getFailures.push(400);
    const refused = await alice.downloadAttachment(other).catch((e) => e);
    expect(refused).toBeInstanceOf(TransferFailedError);
    expect(refused).toMatchObject({ code: 'TRANSFER_FAILED', status: 400, retryable: false });
    expect(refused.message).not.toContain(other.id);

    fake.getFailures.push(500, 503);
    expect(await alice.downloadAttachment(other).then(drain)).toMatchObject({ error: undefined });
    fake.getFailures.push(500, 500, 500);
    await expect(alice.downloadAttachment(other)).rejects.toMatchObject({
      code: 'TRANSFER_FAILED',
      status: 500,
      retryable: true,
    });
    await expect(
      alice.downloadAttachment({ ...pointer, key: new Uint8Array(3) }),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
  });
});
