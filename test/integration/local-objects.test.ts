/**
 * Attachment transfer through the local object service, end to end over the HTTP routes with
 * plain `fetch` (owner-signed API calls, then the presigned URLs): on the local server (in
 * memory with blobs in files, and over DynamoDB Local), and on the test kit (its injected
 * `fetch`, and `listen()`). A multipart upload is interrupted, resumed from the upload status
 * and completed; form uploads are refused when larger than declared or expired.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSealpost } from '@sealpost/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer } from '#functions/api/local.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import {
  newAccount,
  newDevice,
  registrationBody,
  signHeaders,
  type TestDevice,
} from '../unit/functions/fixtures.ts';

const KIB = 1024;
const PART = 64 * KIB;
const MINUTE = 60_000;
/** Small thresholds, so a few hundred KiB make a multipart upload of several parts. */
const ATTACHMENTS: Partial<ServiceConfig> = {
  attachmentMultipartBytes: PART,
  attachmentPartSize: PART,
};

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** A running service, however it is reached. */
interface Target {
  readonly url: string;
  readonly fetch: Fetch;
  /** The trust root: the audience of owner signatures. */
  readonly audience: Uint8Array;
  now(): number;
  advance(ms: number): void;
  close(): Promise<void>;
}

let dataDir: string;
let aws: LocalAws;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sealpost-objects-'));
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function localServer(engine: 'memory' | 'dynamodb'): Promise<Target> {
  const clock = { now: Date.now() };
  const server = await startLocalServer({
    port: 0,
    dataDir,
    log: () => undefined,
    webPush: false,
    clock: () => clock.now,
    config: { ...DEFAULT_CONFIG, ...ATTACHMENTS },
    ...(engine === 'dynamodb'
      ? {
          aws: {
            dynamodb: aws.dynamoEndpoint,
            s3: aws.s3Endpoint,
            table: `objects-${Date.now()}`,
            bucket: aws.bucket,
          },
        }
      : {}),
  });
  return {
    url: server.url,
    fetch: (url, init) => fetch(url, init),
    audience: fromBase64Url(server.trustRoot),
    now: () => clock.now,
    advance: (ms) => {
      clock.now += ms;
    },
    close: () => server.close(),
  };
}

async function testKit(listen: boolean): Promise<Target> {
  const sealpost = await TestSealpost.start({ config: ATTACHMENTS });
  const listening = listen ? await sealpost.listen() : undefined;
  return {
    url: listening?.url ?? sealpost.baseUrl,
    fetch: listening
      ? (url, init) => fetch(url, init)
      : (url, init) => sealpost.fetch(url, init ?? {}),
    audience: sealpost.trust.trustRoot,
    now: sealpost.now,
    advance: (ms) => sealpost.advance(ms),
    close: async () => listening?.close(),
  };
}

const TARGETS: [string, () => Promise<Target>][] = [
  ['the local server in memory (blobs in files)', () => localServer('memory')],
  ['the local server over DynamoDB Local', () => localServer('dynamodb')],
  ['the test kit through its fetch', () => testKit(false)],
  ['the test kit through listen()', () => testKit(true)],
];

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON of several routes, asserted field by field
  body: any;
}

/** An API call, owner-signed when `device` is given. */
async function call(
  t: Target,
  device: TestDevice | undefined,
  method: string,
  path: string,
  json?: unknown,
): Promise<Answer> {
  const body = json === undefined ? undefined : new TextEncoder().encode(JSON.stringify(json));
  const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
  if (device) {
    Object.assign(
      headers,
      signHeaders(
        device,
        method,
        path,
        body ?? new Uint8Array(),
        t.now(),
        randomBytes(16),
        t.audience,
      ),
    );
  }
  const res = await t.fetch(`${t.url}${path}`, {
    method,
    headers,
    ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function register(t: Target): Promise<TestDevice> {
  const device = newDevice(newAccount());
  const res = await call(
    t,
    undefined,
    'PUT',
    `/v1/accounts/${device.account.address}`,
    registrationBody(device, t.now(), undefined, t.audience),
  );
  expect(res.status).toBe(200);
  device.deviceId = res.body.deviceId;
  return device;
}

/** SHA-256 hex: compares large bodies quickly, with a readable failure. */
function digest(data: ArrayBuffer | Uint8Array): string {
  return createHash('sha256').update(new Uint8Array(data)).digest('hex');
}

function blob(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 167 + seed) & 0xff;
  return out;
}

function putPart(t: Target, url: string, data: Uint8Array): Promise<Response> {
  return t.fetch(url, { method: 'PUT', body: data as Uint8Array<ArrayBuffer> });
}

/** A form post the way a browser sends it: the fields in order, then the file. */
function postForm(
  t: Target,
  upload: { url: string; fields: Record<string, string> },
  data: Uint8Array,
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([data as Uint8Array<ArrayBuffer>]), 'blob');
  return t.fetch(upload.url, { method: 'POST', body: form });
}

async function download(t: Target, id: string, range?: string): Promise<Response> {
  const link = await call(t, undefined, 'GET', `/v1/attachments/${id}`);
  expect(link.status).toBe(200);
  expect(link.body.url.startsWith(`${t.url}/_objects/attachments/${id}?`)).toBe(true);
  return t.fetch(link.body.url, range ? { headers: { range } } : {});
}

describe.each(TARGETS)('attachments on %s', (_name, open) => {
  let t: Target;
  let alice: TestDevice;
  beforeAll(async () => {
    t = await open();
    alice = await register(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs a multipart upload: parts, an interruption, status, resume, complete, download', async () => {
    const data = blob(3 * PART + 5000, 1);
    const part = (n: number) => data.subarray((n - 1) * PART, n * PART);
    const created = await call(t, alice, 'POST', '/v1/attachments', { size: data.length });
    expect(created.status).toBe(200);
    expect(created.body.upload).toEqual({ kind: 'multipart', partSize: PART, partCount: 4 });
    const id: string = created.body.id;
    const path = `/v1/attachments/${id}/upload`;

    const first = await call(t, alice, 'GET', path);
    expect(first.status).toBe(200);
    expect(first.body.uploaded).toEqual([]);
    const urls = new Map<number, string>(
      first.body.parts.map((p: { partNumber: number; url: string }) => [p.partNumber, p.url]),
    );
    expect([...urls.keys()]).toEqual([1, 2, 3, 4]);
    for (const n of [1, 2]) {
      const res = await putPart(t, urls.get(n)!, part(n));
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
      // Browsers completing parts must be able to read it.
      expect(res.headers.get('access-control-expose-headers')).toMatch(/etag/i);
    }
    // Part 3 breaks off after a few KiB; part 4 arrives one byte short.
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(part(3).slice(0, 4096));
      },
      pull(controller) {
        controller.error(new Error('connection lost'));
      },
    });
    const cut = await t
      .fetch(urls.get(3)!, { method: 'PUT', body: broken, duplex: 'half' } as RequestInit)
      .then((res) => res.status)
      .catch(() => 'failed');
    expect(cut).not.toBe(200);
    expect((await putPart(t, urls.get(4)!, part(4).subarray(1))).status).toBe(200);

    const early = await call(t, alice, 'POST', `/v1/attachments/${id}/complete`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('UPLOAD_INCOMPLETE');

    const resumed = await call(t, alice, 'GET', path);
    expect(resumed.body.uploaded).toEqual([
      { partNumber: 1, size: PART },
      { partNumber: 2, size: PART },
      { partNumber: 4, size: 4999 },
    ]);
    expect(resumed.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([3, 4]);
    for (const { partNumber, url } of resumed.body.parts) {
      expect((await putPart(t, url, part(partNumber))).status).toBe(200);
    }
    const done = await call(t, alice, 'GET', path);
    expect(done.body.parts).toEqual([]);

    const completed = await call(t, alice, 'POST', `/v1/attachments/${id}/complete`);
    expect(completed).toEqual({ status: 200, body: { id, size: data.length } });
    // The session is gone: nothing links the id to the account any more.
    expect((await call(t, alice, 'GET', path)).status).toBe(404);

    const whole = await download(t, id);
    expect(whole.status).toBe(200);
    expect(digest(await whole.arrayBuffer())).toBe(digest(data));
    const ranged = await download(t, id, `bytes=${PART - 10}-${PART + 9}`);
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(data.subarray(PART - 10, PART + 10));
  });

  it('runs a form upload, refusing a bigger file than declared and an expired form', async () => {
    const data = blob(3000, 2);
    const created = await call(t, alice, 'POST', '/v1/attachments', { size: data.length });
    expect(created.body.upload.kind).toBe('form');
    const id: string = created.body.id;

    const bigger = await postForm(t, created.body.upload, blob(3001, 2));
    expect(bigger.status).toBe(413);
    const nothing = await call(t, alice, 'POST', `/v1/attachments/${id}/complete`);
    expect(nothing.status).toBe(409);
    expect((await download(t, id)).status).toBe(404);

    // The upload URLs last 15 minutes; the session a day.
    t.advance(16 * MINUTE);
    const expired = await postForm(t, created.body.upload, data);
    expect(expired.status).toBe(403);
    const status = await call(t, alice, 'GET', `/v1/attachments/${id}/upload`);
    expect(status.body.uploaded).toEqual([]);
    expect(status.body.upload.fields).not.toEqual(created.body.upload.fields);
    expect((await postForm(t, status.body.upload, data)).status).toBe(204);
    const uploaded = await call(t, alice, 'GET', `/v1/attachments/${id}/upload`);
    expect(uploaded.body.uploaded).toEqual([{ partNumber: 1, size: 3000 }]);

    const completed = await call(t, alice, 'POST', `/v1/attachments/${id}/complete`);
    expect(completed).toEqual({ status: 200, body: { id, size: 3000 } });
    const fetched = await download(t, id);
    expect(new Uint8Array(await fetched.arrayBuffer())).toEqual(data);
  });

  it('aborts an unfinished multipart upload and refuses its part URLs afterwards', async () => {
    const created = await call(t, alice, 'POST', '/v1/attachments', { size: 2 * PART });
    const id: string = created.body.id;
    const status = await call(t, alice, 'GET', `/v1/attachments/${id}/upload`);
    const url: string = status.body.parts[0].url;
    expect((await putPart(t, url, blob(PART, 3))).status).toBe(200);
    const aborted = await call(t, alice, 'DELETE', `/v1/attachments/${id}`);
    expect(aborted).toEqual({ status: 200, body: { removed: true } });
    expect((await putPart(t, status.body.parts[1].url, blob(PART, 4))).status).toBe(404);
    expect((await download(t, id)).status).toBe(404);
  });
});
