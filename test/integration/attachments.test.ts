/**
 * Attachments on the local engines (docs/SERVICE.md §7.6): the session and quota contracts on
 * the in-memory adapters and on DynamoDB Local; the S3 adapter against s3rver (a form POST with
 * the returned fields, a multipart upload through presigned part URLs, presigned downloads);
 * and the HTTP app from upload to download over DynamoDB Local and s3rver.
 *
 * s3rver does not evaluate POST policies (it stores whatever a form sends, whatever its length
 * or expiry), and has no ListParts and no AbortMultipartUpload: the policy is checked in the
 * unit tests (decoded and its signature recomputed), ListParts and abort against the exact
 * commands there, and the in-process local object service enforces all of them.
 */
import { describe, expect, it } from 'vitest';
import { awsAttachmentPorts } from '#functions/adapters/aws-ports.ts';
import { DynamoAttachmentQuota, DynamoUploadSessions } from '#functions/adapters/dynamodb/index.ts';
import { MemoryAttachmentQuota, MemoryUploadSessions } from '#functions/adapters/memory/index.ts';
import { S3AttachmentObjects } from '#functions/adapters/s3/s3-attachment-objects.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { harness, memoryPorts, testMaterial } from '../unit/functions/fixtures.ts';
import {
  attachmentQuotaContract,
  uploadSessionStoreContract,
} from './contracts/attachment-stores.ts';

const local = useLocalAws();

uploadSessionStoreContract('memory', async () => new MemoryUploadSessions());
uploadSessionStoreContract(
  'dynamodb',
  async () => new DynamoUploadSessions(local.aws.dynamodb, local.table),
);
attachmentQuotaContract('memory', async () => new MemoryAttachmentQuota());
attachmentQuotaContract(
  'dynamodb',
  async () => new DynamoAttachmentQuota(local.aws.dynamodb, local.table),
);

const newId = () => toBase64Url(randomBytes(16));

/** Posts a blob through a presigned form: the fields in order, then the file. */
async function postForm(
  form: { url: string; fields: Readonly<Record<string, string>> },
  blob: Uint8Array,
) {
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append(
    'file',
    new Blob([blob as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  const res = await fetch(form.url, { method: 'POST', body });
  // Read to the end, so the connection is free for the next request.
  await res.arrayBuffer();
  return res.status;
}

async function download(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe('S3AttachmentObjects on s3rver', () => {
  const objects = () => new S3AttachmentObjects(local.aws.s3, local.aws.bucket);

  it('takes a form upload with the returned fields and serves it through a presigned GET', async () => {
    const store = objects();
    const id = newId();
    const blob = randomBytes(70_000);
    expect(await store.size(id)).toBeUndefined();
    const form = await store.createForm(id, blob.length, Date.now() + 15 * 60_000);
    expect(await postForm(form, blob)).toBeLessThan(300);
    expect(await store.size(id)).toBe(blob.length);
    expect(await download(await store.presignGet(id, Date.now() + 60_000))).toEqual(blob);
    await store.delete(id);
    expect(await store.size(id)).toBeUndefined();
    await store.delete(id);
  });

  it('runs a multipart upload through presigned part URLs and completes it', async () => {
    const store = objects();
    const id = newId();
    const parts = [randomBytes(300_000), randomBytes(123_457)];
    const uploadId = await store.startMultipart(id);
    const expiresAt = Date.now() + 15 * 60_000;
    const stored = [];
    for (const [i, bytes] of parts.entries()) {
      const url = await store.presignPart(id, uploadId, i + 1, expiresAt, bytes.length);
      const res = await fetch(url, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      const etag = res.headers.get('etag');
      expect(etag).toBeTruthy();
      stored.push({ partNumber: i + 1, size: bytes.length, etag: etag! });
    }
    await store.completeMultipart(id, uploadId, stored);
    expect(await store.size(id)).toBe(423_457);
    const whole = await download(await store.presignGet(id, Date.now() + 60_000));
    expect(whole).toEqual(new Uint8Array([...parts[0]!, ...parts[1]!]));
  });

  it('answers 404 for a download of an id that was never uploaded (no lookup before)', async () => {
    const url = await objects().presignGet(newId(), Date.now() + 60_000);
    const res = await fetch(url);
    await res.arrayBuffer();
    expect(res.status).toBe(404);
  });
});

describe('attachment routes over DynamoDB Local and s3rver', () => {
  it('creates, uploads by form, completes and downloads; the session is gone afterwards', async () => {
    const attachments = awsAttachmentPorts({
      dynamodb: local.aws.dynamodb,
      s3: local.aws.s3,
      table: local.table,
      bucket: local.aws.bucket,
    });
    // The app's clock is the real one here: s3rver checks presigned URLs against its own.
    const h = harness(memoryPorts(testMaterial()), { attachments, start: Date.now() });
    const alice = await h.register();
    const blob = randomBytes(5000);
    const created = await h.call({
      method: 'POST',
      path: '/v1/attachments',
      json: { size: blob.length },
      signer: alice,
    });
    expect(created.status).toBe(200);
    const upload = created.body.upload;
    if (upload.kind !== 'form') throw new Error('expected a form upload');
    expect(await postForm(upload, blob)).toBeLessThan(300);
    const id = created.body.id;
    const status = await h.call({
      method: 'GET',
      path: `/v1/attachments/${id}/upload`,
      signer: alice,
    });
    expect(status.body.uploaded).toEqual([{ partNumber: 1, size: 5000 }]);
    const done = await h.call({
      method: 'POST',
      path: `/v1/attachments/${id}/complete`,
      signer: alice,
    });
    expect(done.status).toBe(200);
    expect(await attachments.sessions.get(id, Date.now())).toBeUndefined();
    const link = await h.call({ method: 'GET', path: `/v1/attachments/${id}` });
    expect(link.status).toBe(200);
    expect(await download(link.body.url)).toEqual(blob);
  });
});
