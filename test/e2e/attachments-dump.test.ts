/**
 * What the server keeps of attachments (docs/SERVICE.md §7.6, docs/SDK.md §Attachments "What
 * the server sees", docs/PROTOCOL.md §10.1): Alice and Bob, two devices each, on the real HTTP
 * app over DynamoDB Local and s3rver, with the local object service keeping blobs in files (as
 * the local server does). Alice sends a photo (one form upload) and a video (a multipart
 * upload), each with a distinctive name, an unusual size and a thumbnail; both of Bob's devices
 * download them, and Alice's phone downloads them from its sync copy.
 *
 * Dumps of every item, envelope object (with metadata), file of the object service and log
 * line, taken during the video's upload, while the messages wait and after everything was
 * downloaded and acknowledged, must hold no file name, content type, file size (as text or as
 * any object's length), thumbnail, plaintext, key or digest; outside the upload no attachment id
 * outside the blobs' own paths and no upload session, and a quota item of bytes per day only;
 * the blobs are exactly their padded sizes. Planted copies of each secret, one channel at a
 * time, must make the same checks fail.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AttributeValue, DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '#functions/domain/attachment-ports.ts';
import { blobLayout } from '#sdk/attachments/index.ts';
import type {
  AttachmentInput,
  FetchLike,
  ReceivedAttachment,
  SealpostClient,
  UploadedAttachment,
} from '#sdk/client/index.ts';
import {
  type AttachmentSecrets,
  checkAttachmentsUnseen,
  checkNoLinkToSyncCopies,
  checkNothingLinkable,
  checkUploadsForgotten,
  isMessageRecord,
  type People,
  recordingFetch,
} from './dump-checks.ts';
import { dumpServer, type ServerDump, type TimeWindow } from './server-dump.ts';
import { type E2eStack, introduce, startE2eStack } from './stack.ts';

const MIB = 1024 * 1024;
const HOUR = 3_600_000;
/** Blobs over 2 MiB go in parts of 1 MiB: the photo is one form upload, the video four parts. */
const CONFIG = { attachmentMultipartBytes: 2 * MIB, attachmentPartSize: MIB };

const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46];
const MP4 = [0x00, 0x00, 0x00, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d];

/** A file of `size` bytes: a format's magic bytes, then random bytes. */
function fileOf(size: number, magic: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(randomBytes(size));
  bytes.set(magic);
  return bytes;
}

/** 32-byte windows at the start, in the middle and at the end of `bytes`. */
function windows(bytes: Uint8Array): Uint8Array[] {
  const middle = Math.floor(bytes.length / 2) + 7;
  return [0, middle, bytes.length - 32].map((at) => bytes.slice(at, at + 32));
}

const photo = {
  data: fileOf(1_234_567, JPEG),
  fileName: 'holiday-photo-8217.jpg',
  contentType: 'image/jpeg',
  width: 4032,
  height: 3024,
  thumbnail: fileOf(2_345, JPEG),
} satisfies AttachmentInput;
const video = {
  data: fileOf(3_141_593, MP4),
  fileName: 'beach-video-4471.mp4',
  contentType: 'video/mp4',
  durationMs: 61_803,
  thumbnail: fileOf(3_456, JPEG),
} satisfies AttachmentInput;
const PHOTO_BLOB = blobLayout(photo.data.length).blobSize;
const VIDEO_BLOB = blobLayout(video.data.length).blobSize;

/** Both attachments of a received message, downloaded and compared with what Alice sent. */
async function downloadBoth(attachments: readonly ReceivedAttachment[]): Promise<void> {
  const [p, v] = attachments;
  expect(p).toMatchObject({
    fileName: photo.fileName,
    contentType: photo.contentType,
    size: photo.data.length,
    width: photo.width,
    height: photo.height,
    thumbnail: photo.thumbnail,
  });
  expect(v).toMatchObject({
    fileName: video.fileName,
    contentType: video.contentType,
    size: video.data.length,
    durationMs: video.durationMs,
    thumbnail: video.thumbnail,
  });
  expect(Buffer.from(await p!.bytes()).equals(photo.data)).toBe(true);
  // The video as a stream, as a player would read it.
  const chunks: Uint8Array[] = [];
  const reader = (await v!.download()).getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  expect(Buffer.concat(chunks).equals(video.data)).toBe(true);
}

describe('the storage dump of attachments between multi-device accounts', () => {
  let stack: E2eStack;
  /** What the run below learned, for the positive controls. */
  let observed:
    | {
        secrets: AttachmentSecrets;
        quotas: Record<string, Record<string, number>>;
        pointers: UploadedAttachment[];
        /** Alice's address. */
        uploader: string;
      }
    | undefined;

  beforeAll(async () => {
    stack = await startE2eStack({
      bucket: `sealpost-att-dump-${process.pid}`,
      objectStorage: 'directory',
      config: CONFIG,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps no name, type, size, thumbnail, plaintext or key, and no link to the uploader once uploaded', async () => {
    const requestIds: Uint8Array[] = [];
    const recording = recordingFetch(requestIds);
    // A dump taken while the video's second part is about to go out.
    let during: ServerDump | undefined;
    const fetch: FetchLike = async (url, init) => {
      const { pathname, searchParams } = new URL(url);
      if (
        init.method === 'PUT' &&
        pathname.startsWith('/_objects/') &&
        searchParams.get('partNumber') === '2' &&
        !during
      ) {
        during = await dumpServer(stack);
      }
      return recording(url, init);
    };
    const alice = await stack.register({ fetch });
    const alicePhone = await stack.link(alice, { fetch });
    const bob = await stack.register({ fetch });
    const bobPhone = await stack.link(bob, { fetch });
    await introduce(alice, bob);
    await alicePhone.addContact(bob.contactCard());
    await bobPhone.addContact(alice.contactCard());
    const people: People = { alice: [alice, alicePhone], bob: [bob, bobPhone] };
    const registrationIds = new Set<number>();
    for (const c of [alice, bob]) {
      for (const d of await c.knownDevices(c.address)) registrationIds.add(d.registrationId);
    }
    const window: TimeWindow = {
      from: stack.now() - 40 * 24 * HOUR,
      to: stack.now() + 40 * 24 * HOUR,
      notTimes: registrationIds,
    };
    const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);

    // A greeting, every copy delivered.
    await alice.send(bob.address, 'back from the beach');
    await alice.flushOutbox();
    for (const c of [bob, bobPhone, alicePhone]) {
      expect(await texts(c)).toEqual(['back from the beach']);
    }

    // Hours later Alice sends the photo and the video; her phone gets the sync copy.
    stack.advance(HOUR + 17 * 60_000 + 4_321);
    const day = utcDay(stack.now());
    await alice.send(bob.address, { text: 'the pictures', attachments: [photo, video] });
    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    expect(await alice.pendingUploads()).toEqual([]);

    // While the video uploaded, its session named Alice: the only link, and only while it ran.
    if (!during) throw new Error('no dump was taken during the multipart upload');
    const sessions = during.items.filter((r) => r.where.startsWith('att#'));
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.item?.['account']?.S).toBe(alice.address);
    expect(Number(sessions[0]!.item?.['size']?.N)).toBe(VIDEO_BLOB);
    // The object service held the photo's blob and the video's first part (its file named by
    // the part's hash), which the later dumps must no longer show.
    const held = during.files
      .filter((r) => r.body)
      .map((r) => [r.where.split('/')[0], r.body!.length]);
    expect(held.sort()).toEqual([
      ['objects', PHOTO_BLOB],
      ['uploads', MIB],
    ]);
    checkUploadsForgotten(
      during.items.filter((r) => !r.where.startsWith('att#')),
      { [alice.address]: { [day]: PHOTO_BLOB + VIDEO_BLOB } },
    );

    // While the messages wait for Bob's devices and Alice's phone.
    const pending = await dumpServer(stack);
    const { sealed } = checkNoLinkToSyncCopies(pending, bob, alice, window);
    expect(sealed.filter(isMessageRecord)).toHaveLength(2);

    // Bob's laptop, later his phone, and Alice's phone (the sync copy) download both files.
    stack.advance(23 * 60_000 + 1_234);
    const onLaptop = (await bob.receiveBatch()).messages;
    expect(onLaptop.map((m) => m.text)).toEqual(['the pictures']);
    await downloadBoth(onLaptop[0]!.attachments);
    stack.advance(2 * HOUR + 5_555);
    const onPhone = (await bobPhone.receiveBatch()).messages;
    expect(onPhone.map((m) => m.text)).toEqual(['the pictures']);
    await downloadBoth(onPhone[0]!.attachments);
    const copy = (await alicePhone.receiveBatch()).messages;
    expect(copy).toMatchObject([{ text: 'the pictures', sync: { destination: bob.address } }]);
    await downloadBoth(copy[0]!.attachments);
    for (const c of [alice, alicePhone, bob, bobPhone]) {
      expect((await c.http.fetchMessages()).messages).toEqual([]);
    }
    const after = await dumpServer(stack);

    const pointers = onLaptop[0]!.attachments.map((a) => a.pointer);
    const secrets: AttachmentSecrets = {
      names: [photo.fileName, photo.contentType, video.fileName, video.contentType],
      sizes: [photo.data.length, video.data.length],
      bytes: [
        ...[photo.data, photo.thumbnail, video.data, video.thumbnail].flatMap(windows),
        ...pointers.flatMap((p) => [p.key, p.digest]),
      ],
      ids: pointers.map((p) => p.id),
    };
    const quotas = { [alice.address]: { [day]: PHOTO_BLOB + VIDEO_BLOB } };
    // During the upload the session holds the video's id by design; nothing else may.
    checkAttachmentsUnseen(during, { ...secrets, ids: [] });
    for (const dump of [pending, after]) {
      checkAttachmentsUnseen(dump, secrets);
      checkUploadsForgotten(dump.items, quotas);
      checkNothingLinkable(
        dump.items,
        [...dump.objects, ...dump.files.filter((r) => r.body)],
        dump.logs,
        people,
        requestIds,
        window,
      );
      // The object service holds the two blobs, each exactly its padded size, and nothing
      // else: no part, no half-received body.
      const stored = dump.files.filter((r) => r.body).map((r) => [r.where, r.body!.length]);
      expect(stored.sort()).toEqual(
        [
          [`objects/attachments/${pointers[0]!.id}`, PHOTO_BLOB],
          [`objects/attachments/${pointers[1]!.id}`, VIDEO_BLOB],
        ].sort(),
      );
    }
    // The dumps judged the log lines of every attachment route (the object service's own
    // transfers are not the app's): they name route templates, never an id.
    const attachmentRoutes = new Set(
      after.logs
        .map((r) => JSON.parse(stack.logs[Number(r.where.slice('log line '.length))]!))
        .filter((l) => String(l.route).startsWith('/v1/attachments'))
        .map((l) => `${l.method} ${l.route}`),
    );
    expect([...attachmentRoutes].sort()).toEqual([
      'GET /v1/attachments/:attachmentId',
      'GET /v1/attachments/:attachmentId/upload',
      'POST /v1/attachments',
      'POST /v1/attachments/:attachmentId/complete',
    ]);
    // Acknowledged: no record and no object of any message is left; the blobs stay until the
    // bucket's lifecycle expires them.
    expect(after.items.filter(isMessageRecord).map((r) => r.where)).toEqual([]);
    expect(after.objects.map((r) => r.where)).toEqual([]);
    observed = { secrets, quotas, pointers, uploader: alice.address };
  });

  it('fails those checks when a secret is planted in any store or log', async () => {
    if (!observed) throw new Error('the run above recorded nothing');
    const { secrets, quotas, pointers, uploader } = observed;
    const { dynamodb, s3 } = stack.aws;
    const photoId = pointers[0]!.id;
    const unseen = (d: ServerDump) => checkAttachmentsUnseen(d, secrets);
    const forgotten = (d: ServerDump) => checkUploadsForgotten(d.items, quotas);
    const quotaItem = (await dumpServer(stack)).items.find((r) => r.where.startsWith('attq#'))!;
    const item = (pk: string, extra: Record<string, AttributeValue>) => ({
      put: () =>
        dynamodb.send(
          new PutItemCommand({
            TableName: stack.table,
            Item: { pk: { S: pk }, sk: { S: 'control' }, ...extra },
          }),
        ),
      remove: () =>
        dynamodb.send(
          new DeleteItemCommand({
            TableName: stack.table,
            Key: { pk: { S: pk }, sk: { S: 'control' } },
          }),
        ),
    });
    const object = (key: string, extra: Record<string, unknown>) => ({
      put: () => s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, ...extra })),
      remove: () => s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key })),
    });
    const logLine = (fields: Record<string, unknown>) => ({
      put: () => {
        stack.logs.push(JSON.stringify({ level: 'info', ...fields }));
      },
      remove: () => {
        stack.logs.pop();
      },
    });
    const controlFile = join(stack.objectsDir!, 'control');
    // A window of the video's plaintext at an odd offset inside other bytes.
    const hidden = new Uint8Array(randomBytes(1_001));
    hidden.set(windows(video.data)[1]!, 333);
    const controls: [
      string,
      { put: () => unknown; remove: () => unknown },
      (d: ServerDump) => void,
      RegExp,
    ][] = [
      [
        'a file name in an item',
        item('control#1', { note: { S: 'holiday-photo-8217.jpg' } }),
        unseen,
        /control#1 control holds holiday-photo/,
      ],
      [
        'a thumbnail in a binary attribute',
        item('control#2', { b: { B: windows(photo.thumbnail)[1]! } }),
        unseen,
        /control#2 control holds secret bytes/,
      ],
      [
        'a thumbnail in base64 inside a longer value',
        item('control#4', {
          s: {
            S: Buffer.concat([
              randomBytes(7),
              windows(video.thumbnail)[1]!,
              randomBytes(5),
            ]).toString('base64'),
          },
        }),
        unseen,
        /control#4 control holds secret bytes/,
      ],
      [
        'an id in an item',
        item('control#3', { ref: { S: `ref:${photoId}` } }),
        unseen,
        /control#3 control holds the id/,
      ],
      [
        'a content type in object metadata',
        object('control/meta', { Body: 'x', Metadata: { kind: 'image/jpeg' } }),
        unseen,
        /control\/meta holds image\/jpeg/,
      ],
      [
        'an object as long as a file',
        object('control/long', { Body: new Uint8Array(photo.data.length) }),
        unseen,
        /control\/long is 1234567 bytes long/,
      ],
      [
        'a size in a log line',
        logLine({ msg: 'upload', bytes: 3_141_593 }),
        unseen,
        /holds the size 3141593/,
      ],
      [
        'a key inside a log line',
        logLine({ msg: `k=${Buffer.from(pointers[0]!.key).toString('base64url')}.` }),
        unseen,
        /holds secret bytes/,
      ],
      [
        'plaintext in a file of the object service',
        { put: () => writeFile(controlFile, hidden), remove: () => rm(controlFile) },
        unseen,
        /^control body holds secret bytes/,
      ],
      [
        'an upload session left over',
        item(`att#${photoId}`, { account: { S: uploader } }),
        forgotten,
        /upload sessions left/,
      ],
      [
        'an id in the quota item',
        {
          put: () =>
            dynamodb.send(
              new PutItemCommand({
                TableName: stack.table,
                Item: { ...quotaItem.item!, last: { S: photoId } },
              }),
            ),
          remove: () =>
            dynamodb.send(new PutItemCommand({ TableName: stack.table, Item: quotaItem.item! })),
        },
        forgotten,
        /attq#/,
      ],
    ];
    for (const [what, { put, remove }, check, pattern] of controls) {
      await put();
      try {
        const dump = await dumpServer(stack);
        expect(() => check(dump), what).toThrow(pattern);
      } finally {
        await remove();
      }
    }
    // Every control removed: the same checks pass again.
    const clean = await dumpServer(stack);
    unseen(clean);
    forgotten(clean);
  });
});
