/**
 * The attachment object store on S3: the POST policy (decoded, every condition checked, the
 * signature recomputed with a derivation of this test's own, whose signing key matches AWS's
 * published example), presigned part and download URLs (expiry, no checksum of an empty body),
 * and the exact commands, with the client mocked.
 */
import { createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3AttachmentObjects, signingKey } from '#functions/adapters/s3/s3-attachment-objects.ts';
import { ServiceError, UnavailableError } from '#functions/domain/errors.ts';

const s3 = mockClient(S3Client);
/** 2026-03-04 05:06:07.089 UTC. */
const NOW = Date.UTC(2026, 2, 4, 5, 6, 7, 89);
const ID = 'AbCdEfGhIjKlMnOpQrStUw';
const KEY = `attachments/${ID}`;
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token/with+chars=',
};

function store(config: ConstructorParameters<typeof S3Client>[0] = {}) {
  const client = new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS, ...config });
  return new S3AttachmentObjects(client, 'sealpost-attachments', { clock: () => NOW });
}

const s3Error = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

/** SigV4 signing, written here from the specification rather than taken from the adapter. */
function independentSignature(secret: string, date: string, region: string, text: string) {
  const step = (key: Buffer | string, data: string) =>
    createHmac('sha256', key).update(data).digest();
  const key = step(step(step(step(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(text).digest('hex');
}

beforeEach(() => s3.reset());

describe('SigV4 signing key', () => {
  it("matches AWS's published derivation example", () => {
    // docs.aws.amazon.com, "Examples of how to derive a signing key for Signature Version 4".
    const key = signingKey(
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20120215',
      'us-east-1',
      'iam',
    );
    expect(key.toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });
});

describe('S3AttachmentObjects.createForm', () => {
  it('writes the fields in order and a policy that pins bucket, key, length, type and signer', async () => {
    const expiresAt = NOW + 15 * 60_000;
    const form = await store().createForm(ID, 70_000, expiresAt);
    expect(form.url).toBe('https://sealpost-attachments.s3.eu-west-1.amazonaws.com/');
    const credential = 'AKIDEXAMPLE/20260304/eu-west-1/s3/aws4_request';
    expect(Object.keys(form.fields)).toEqual([
      'key',
      'Content-Type',
      'x-amz-algorithm',
      'x-amz-credential',
      'x-amz-date',
      'x-amz-security-token',
      'policy',
      'x-amz-signature',
    ]);
    expect(form.fields).toMatchObject({
      key: KEY,
      'Content-Type': 'application/octet-stream',
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': credential,
      'x-amz-date': '20260304T050607Z',
      'x-amz-security-token': CREDENTIALS.sessionToken,
    });
    const policy = JSON.parse(Buffer.from(form.fields['policy']!, 'base64').toString('utf8'));
    expect(policy).toEqual({
      expiration: '2026-03-04T05:21:07.089Z',
      conditions: [
        { bucket: 'sealpost-attachments' },
        { key: KEY },
        ['content-length-range', 70_000, 70_000],
        { 'Content-Type': 'application/octet-stream' },
        { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
        { 'x-amz-credential': credential },
        { 'x-amz-date': '20260304T050607Z' },
        { 'x-amz-security-token': CREDENTIALS.sessionToken },
      ],
    });
    // Every field the uploader sends, except the policy and the signature, is a condition:
    // S3 refuses a POST with any field the policy does not name.
    const named = new Set(
      policy.conditions.flatMap((c: unknown) => (Array.isArray(c) ? [] : Object.keys(c as object))),
    );
    for (const field of Object.keys(form.fields)) {
      if (field !== 'policy' && field !== 'x-amz-signature')
        expect(named.has(field), field).toBe(true);
    }
    expect(form.fields['x-amz-signature']).toBe(
      independentSignature(
        CREDENTIALS.secretAccessKey,
        '20260304',
        'eu-west-1',
        form.fields['policy']!,
      ),
    );
  });

  it('leaves the token out for long-term credentials and posts to a custom path-style endpoint', async () => {
    const objects = new S3AttachmentObjects(
      new S3Client({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:4569',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
      'sealpost-test',
      { clock: () => NOW },
    );
    const form = await objects.createForm(ID, 10, NOW + 60_000);
    expect(form.url).toBe('http://127.0.0.1:4569/sealpost-test');
    expect(form.fields).not.toHaveProperty('x-amz-security-token');
    const policy = JSON.parse(Buffer.from(form.fields['policy']!, 'base64').toString('utf8'));
    expect(JSON.stringify(policy)).not.toContain('security-token');
    expect(form.fields['x-amz-signature']).toBe(
      independentSignature('S3RVER', '20260304', 'us-east-1', form.fields['policy']!),
    );
  });
});

describe('S3AttachmentObjects presigned URLs', () => {
  it('presigns a part PUT of an exact size until the expiry, without a checksum of an empty body', async () => {
    const url = new URL(await store().presignPart(ID, 'upload-1', 7, NOW + 15 * 60_000, 5000));
    // The part's length is signed: S3 refuses a body of any other size.
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect(`${url.origin}${url.pathname}`).toBe(
      `https://sealpost-attachments.s3.eu-west-1.amazonaws.com/${KEY}`,
    );
    const q = url.searchParams;
    expect(q.get('uploadId')).toBe('upload-1');
    expect(q.get('partNumber')).toBe('7');
    expect(q.get('X-Amz-Date')).toBe('20260304T050607Z');
    // Signed at the whole second (05:06:07), so valid until 05:21:07, before the expiry.
    expect(q.get('X-Amz-Expires')).toBe('900');
    expect(q.get('X-Amz-Security-Token')).toBe(CREDENTIALS.sessionToken);
    expect([...q.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
  });

  it('presigns a download GET of the object key only', async () => {
    const url = new URL(await store().presignGet(ID, NOW + 10 * 60_000 + 500));
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    // Whole seconds rounded down: a URL is never valid past the expiry it was asked for.
    const short = new URL(await store().presignGet(ID, NOW + 1999));
    expect(short.searchParams.get('X-Amz-Expires')).toBe('1');
    expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
  });

  it('clamps the expiry to SigV4 limits: at least one second, at most seven days', async () => {
    const past = new URL(await store().presignGet(ID, NOW - 5000));
    expect(past.searchParams.get('X-Amz-Expires')).toBe('1');
    const far = new URL(await store().presignGet(ID, NOW + 30 * 24 * 3_600_000));
    expect(far.searchParams.get('X-Amz-Expires')).toBe('604800');
  });
});

describe('S3AttachmentObjects commands', () => {
  it('starts a multipart upload as opaque bytes, without metadata', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-1' });
    expect(await store().startMultipart(ID)).toBe('u-1');
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'sealpost-attachments',
      Key: KEY,
      ContentType: 'application/octet-stream',
    });
  });

  it('lists parts page by page, in part order, and an unknown upload as none', async () => {
    s3.on(ListPartsCommand, { PartNumberMarker: undefined })
      .resolves({
        Parts: [
          { PartNumber: 2, Size: 5, ETag: '"b"' },
          { PartNumber: 1, Size: 5, ETag: '"a"' },
        ],
        IsTruncated: true,
        NextPartNumberMarker: '2',
      })
      .on(ListPartsCommand, { PartNumberMarker: '2' })
      .resolves({ Parts: [{ PartNumber: 3, Size: 1, ETag: '"c"' }], IsTruncated: false });
    expect(await store().listParts(ID, 'u-1')).toEqual([
      { partNumber: 1, size: 5, etag: '"a"' },
      { partNumber: 2, size: 5, etag: '"b"' },
      { partNumber: 3, size: 1, etag: '"c"' },
    ]);
    const calls = s3.commandCalls(ListPartsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { Bucket: 'sealpost-attachments', Key: KEY, UploadId: 'u-1' },
      { Bucket: 'sealpost-attachments', Key: KEY, UploadId: 'u-1', PartNumberMarker: '2' },
    ]);
    s3.reset();
    s3.on(ListPartsCommand).rejects(s3Error('NoSuchUpload', 404));
    expect(await store().listParts(ID, 'gone')).toEqual([]);
  });

  it('completes with the parts given and answers refused parts as UPLOAD_INCOMPLETE', async () => {
    s3.on(CompleteMultipartUploadCommand)
      .resolvesOnce({})
      .rejectsOnce(s3Error('InvalidPart', 400))
      .rejectsOnce(s3Error('EntityTooSmall', 400))
      .rejectsOnce(s3Error('InternalError', 500));
    const parts = [
      { partNumber: 1, size: 5, etag: '"a"' },
      { partNumber: 2, size: 1, etag: '"b"' },
    ];
    await store().completeMultipart(ID, 'u-1', parts);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'sealpost-attachments',
      Key: KEY,
      UploadId: 'u-1',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"a"' },
          { PartNumber: 2, ETag: '"b"' },
        ],
      },
    });
    for (let i = 0; i < 2; i++) {
      const err = await store()
        .completeMultipart(ID, 'u-1', parts)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceError);
      expect(err).toMatchObject({ code: 'UPLOAD_INCOMPLETE' });
    }
    await expect(store().completeMultipart(ID, 'u-1', parts)).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it('aborts, ignoring an upload S3 no longer knows', async () => {
    s3.on(AbortMultipartUploadCommand).resolvesOnce({}).rejectsOnce(s3Error('NoSuchUpload', 404));
    await store().abortMultipart(ID, 'u-1');
    await store().abortMultipart(ID, 'u-1');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'sealpost-attachments',
      Key: KEY,
      UploadId: 'u-1',
    });
  });

  it('reads the size with HEAD (a missing object is undefined) and deletes by key', async () => {
    s3.on(HeadObjectCommand)
      .resolvesOnce({ ContentLength: 1234 })
      .rejectsOnce(s3Error('NotFound', 404))
      // Without s3:ListBucket, S3 answers a HEAD of a missing key with 403.
      .rejectsOnce(s3Error('Forbidden', 403))
      .rejectsOnce(s3Error('SlowDown', 503));
    expect(await store().size(ID)).toBe(1234);
    expect(await store().size(ID)).toBeUndefined();
    expect(await store().size(ID)).toBeUndefined();
    await expect(store().size(ID)).rejects.toBeInstanceOf(UnavailableError);
    expect(s3.commandCalls(HeadObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'sealpost-attachments',
      Key: KEY,
    });
    s3.on(DeleteObjectCommand).resolves({});
    await store().delete(ID);
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'sealpost-attachments',
      Key: KEY,
    });
  });
});
