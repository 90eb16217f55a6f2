/** The exact S3 commands of the shared payload objects and their key layout, with the client mocked. */

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { payloadObjectKey } from '#functions/adapters/s3/object-keys.ts';
import { S3PayloadObjects } from '#functions/adapters/s3/s3-payload-objects.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const s3 = mockClient(S3Client);
const objects = new S3PayloadObjects(new S3Client({ region: 'us-east-1' }), 'bucket');
const id = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
const HEX = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff';

const s3Error = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

beforeEach(() => s3.reset());

describe('payloadObjectKey', () => {
  it('is pay/<4 hex of SHA-256(id)>/<hex id> (docs/PROTOCOL.md §14.8)', () => {
    const spread = createHash('sha256').update(id).digest('hex').slice(0, 4);
    expect(payloadObjectKey(id)).toBe(`pay/${spread}/${HEX}`);
    expect(payloadObjectKey(new Uint8Array(16))).toBe(
      // SHA-256 of 16 zero bytes starts 374708fff7719dd5979ec875d56cd228.
      `pay/3747/${'00'.repeat(16)}`,
    );
  });

  it('refuses an id that is not 16 bytes', () => {
    expect(() => payloadObjectKey(new Uint8Array(15))).toThrow(RangeError);
    expect(() => payloadObjectKey(new Uint8Array(17))).toThrow(RangeError);
  });
});

describe('S3PayloadObjects', () => {
  it('writes with If-None-Match: * and no metadata, treating 412 and 409 as already stored', async () => {
    s3.on(PutObjectCommand)
      .resolvesOnce({})
      .rejectsOnce(s3Error('PreconditionFailed', 412))
      .rejectsOnce(s3Error('ConditionalRequestConflict', 409));
    const body = new Uint8Array(53).fill(1);
    await objects.put(id, body);
    await objects.put(id, body);
    await objects.put(id, body);
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'bucket',
      Key: payloadObjectKey(id),
      Body: body,
      ContentLength: 53,
      ContentType: 'application/octet-stream',
      IfNoneMatch: '*',
    });
  });

  it('turns 5xx and SlowDown into UnavailableError and passes other errors on', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('SlowDown', 503));
    await expect(objects.put(id, new Uint8Array(1))).rejects.toBeInstanceOf(UnavailableError);
    s3.reset();
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    await expect(objects.put(id, new Uint8Array(1))).rejects.toThrow(S3ServiceException);
    s3.on(DeleteObjectCommand).rejects(s3Error('InternalError', 500));
    await expect(objects.delete(id)).rejects.toBeInstanceOf(UnavailableError);
    s3.on(GetObjectCommand).rejects(s3Error('ServiceUnavailable', 503));
    await expect(objects.get(id)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('reads bodies and answers a missing object (404, or 403 without ListBucket) with undefined', async () => {
    const other = new Uint8Array(16).fill(2);
    const third = new Uint8Array(16).fill(3);
    s3.on(GetObjectCommand, { Key: payloadObjectKey(id) }).resolves({
      Body: sdkStreamMixin(Readable.from([Buffer.from([9, 8, 7])])),
    });
    s3.on(GetObjectCommand, { Key: payloadObjectKey(other) }).rejects(s3Error('NoSuchKey', 404));
    s3.on(GetObjectCommand, { Key: payloadObjectKey(third) }).rejects(s3Error('AccessDenied', 403));
    expect(await objects.get(id)).toEqual(new Uint8Array([9, 8, 7]));
    expect(await objects.get(other)).toBeUndefined();
    expect(await objects.get(third)).toBeUndefined();
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'bucket',
      Key: payloadObjectKey(id),
    });
  });

  it('deletes by the derived key with one DeleteObject', async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await objects.delete(id);
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'bucket', Key: payloadObjectKey(id) },
    ]);
  });
});
