/** The exact S3 commands of the blob store, with the client mocked. */

import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { envelopeObjectKey } from '#functions/adapters/s3/object-keys.ts';
import { S3BlobStore } from '#functions/adapters/s3/s3-blob-store.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const s3 = mockClient(S3Client);
const store = new S3BlobStore(new S3Client({ region: 'us-east-1' }), 'bucket');
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const mailbox = { address: ADDRESS, deviceId: 2, registrationId: 9 };
const id = new Uint8Array(16).fill(0x11);

const s3Error = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

beforeEach(() => s3.reset());

describe('S3BlobStore', () => {
  it('keys objects under env/ with a hash prefix and the mailbox path', () => {
    const key = envelopeObjectKey(mailbox, id);
    expect(key).toMatch(new RegExp(`^env/[0-9a-f]{4}/${ADDRESS}/2/9/${'11'.repeat(16)}$`));
    expect(envelopeObjectKey(mailbox, id)).toBe(key);
    expect(envelopeObjectKey({ ...mailbox, deviceId: 3 }, id).slice(0, 9)).not.toBe(
      key.slice(0, 9),
    );
  });

  it('writes with If-None-Match: * and no user metadata, treating 412 as already stored', async () => {
    s3.on(PutObjectCommand).resolvesOnce({}).rejectsOnce(s3Error('PreconditionFailed', 412));
    const body = new Uint8Array([1, 2, 3]);
    const key = envelopeObjectKey(mailbox, id);
    await store.put(mailbox, id, body);
    await store.put(mailbox, id, body);
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'bucket',
      Key: key,
      Body: body,
      ContentLength: 3,
      ContentType: 'application/octet-stream',
      IfNoneMatch: '*',
    });
  });

  it('turns 5xx and SlowDown into UnavailableError', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('SlowDown', 503));
    await expect(store.put(mailbox, id, new Uint8Array(1))).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it('reads bodies and answers a missing object with undefined', async () => {
    const stream = sdkStreamMixin(Readable.from([Buffer.from([9, 8, 7])]));
    const other = new Uint8Array(16).fill(0x22);
    s3.on(GetObjectCommand, { Key: envelopeObjectKey(mailbox, id) }).resolves({ Body: stream });
    s3.on(GetObjectCommand, { Key: envelopeObjectKey(mailbox, other) }).rejects(
      s3Error('NoSuchKey', 404),
    );
    expect(await store.get(mailbox, id)).toEqual(new Uint8Array([9, 8, 7]));
    expect(await store.get(mailbox, other)).toBeUndefined();
  });

  it('reads a 403 as a missing object (the function may not list the bucket)', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403));
    expect(await store.get(mailbox, id)).toBeUndefined();
  });

  it('deletes by derived keys (no read) in quiet batches of at most 1,000', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    const positions = Array.from({ length: 1500 }, (_, i) => {
      const p = new Uint8Array(16);
      new DataView(p.buffer).setUint32(0, i);
      return p;
    });
    await store.deleteMany(mailbox, positions);
    const calls = s3.commandCalls(DeleteObjectsCommand);
    expect(calls.map((c) => c.args[0].input.Delete?.Objects?.length)).toEqual([1000, 500]);
    expect(calls[0]!.args[0].input.Delete?.Quiet).toBe(true);
    expect(calls[1]!.args[0].input.Delete?.Objects?.[0]).toEqual({
      Key: envelopeObjectKey(mailbox, positions[1000]!),
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
