/**
 * The local object service (functions/adapters/local-objects): the presigned URLs and forms
 * of `LocalAttachmentObjects` and what its HTTP handler accepts and refuses. The handler must
 * enforce what the S3 adapter asks S3 to enforce: exact key, exact size, expiry, signatures.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createLocalObjectService,
  FORM_OVERHEAD_BYTES,
  MemoryObjectStorage,
  ObjectSigner,
} from '#functions/adapters/local-objects/index.ts';
import { parseRange } from '#functions/adapters/local-objects/object-transfer.ts';
import { ServiceError } from '#functions/domain/errors.ts';

const START = 1_750_000_000_000;
const ID = 'q2mOO4B3tbgY8lq6HO0W1w';
const OTHER_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const MINUTE = 60_000;

function setup(partBytes = 1024) {
  const clock = { now: START };
  const storage = new MemoryObjectStorage();
  const service = createLocalObjectService({
    storage,
    baseUrl: 'http://objects.test/',
    partBytes,
    clock: () => clock.now,
  });
  return { ...service, storage, clock };
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** The form the way a browser or the SDK posts it: the fields in order, then `file`. */
function formRequest(
  url: string,
  fields: Readonly<Record<string, string>>,
  file: Uint8Array,
): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file as Uint8Array<ArrayBuffer>]), 'blob');
  return new Request(url, { method: 'POST', body: form });
}

/** A hand-made multipart body, for shapes FormData cannot produce. */
function rawForm(parts: readonly { headers: string; body: Uint8Array | string }[]): {
  body: Uint8Array;
  contentType: string;
} {
  const boundary = 'xYzBoUnDaRy42';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers}\r\n\r\n`));
    chunks.push(Buffer.from(part.body));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: new Uint8Array(Buffer.concat(chunks)),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

const field = (name: string, value: string) => ({
  headers: `Content-Disposition: form-data; name="${name}"`,
  body: value,
});
const filePart = (body: Uint8Array) => ({
  headers: 'Content-Disposition: form-data; name="file"; filename="blob"',
  body,
});

async function postRaw(
  handle: (r: Request) => Promise<Response>,
  url: string,
  parts: readonly { headers: string; body: Uint8Array | string }[],
): Promise<Response> {
  const { body, contentType } = rawForm(parts);
  return handle(
    new Request(url, {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': contentType },
    }),
  );
}

/** A body that yields `chunk` forever and counts what was pulled from it. */
function endless(chunk: Uint8Array) {
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      counter.pulled += chunk.length;
      controller.enqueue(chunk.slice());
    },
  });
  return { stream, counter };
}

async function errorCode(res: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1];
}

function put(url: string, body: Uint8Array): Request {
  return new Request(url, { method: 'PUT', body: body as Uint8Array<ArrayBuffer> });
}

describe('LocalAttachmentObjects form uploads', () => {
  it('stores exactly the declared bytes under attachments/<id> through a presigned form', async () => {
    const { objects, handle, storage } = setup();
    const form = await objects.createForm(ID, 3000, START + 15 * MINUTE);
    expect(form.url).toBe('http://objects.test/_objects');
    expect(Object.keys(form.fields)).toEqual(['key', 'policy', 'signature']);
    expect(form.fields['key']).toBe(`attachments/${ID}`);
    const blob = bytes(3000);
    const res = await handle(formRequest(form.url, form.fields, blob));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(storage.objects.get(`attachments/${ID}`)).toEqual(blob);
    expect(await objects.size(ID)).toBe(3000);
  });

  it('refuses a file larger than the policy with 413 and stores nothing', async () => {
    const { objects, handle, storage } = setup();
    const form = await objects.createForm(ID, 3000, START + MINUTE);
    const res = await handle(formRequest(form.url, form.fields, bytes(3001)));
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('EntityTooLarge');
    expect(storage.objects.size).toBe(0);
  });

  it('refuses a file smaller than the policy (exact size) and stores nothing', async () => {
    const { objects, handle, storage } = setup();
    const form = await objects.createForm(ID, 3000, START + MINUTE);
    const res = await handle(formRequest(form.url, form.fields, bytes(2999)));
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('EntityTooSmall');
    expect(storage.objects.size).toBe(0);
  });

  it('refuses an expired form', async () => {
    const { objects, handle, storage, clock } = setup();
    const form = await objects.createForm(ID, 100, START + MINUTE);
    clock.now = START + MINUTE; // the last valid instant
    expect((await handle(formRequest(form.url, form.fields, bytes(100)))).status).toBe(204);
    clock.now = START + MINUTE + 1;
    storage.objects.clear();
    const res = await handle(formRequest(form.url, form.fields, bytes(100)));
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('AccessDenied');
    expect(storage.objects.size).toBe(0);
  });

  it('refuses a forged policy, a policy of another signer, and a key other than the policy’s', async () => {
    const { objects, handle, storage } = setup();
    const form = await objects.createForm(ID, 100, START + MINUTE);
    const policy = JSON.parse(Buffer.from(form.fields['policy']!, 'base64url').toString('utf8'));
    const bigger = Buffer.from(JSON.stringify({ ...policy, size: 200 })).toString('base64url');
    const forged = await handle(
      formRequest(form.url, { ...form.fields, policy: bigger }, bytes(200)),
    );
    expect(forged.status).toBe(403);
    expect(await errorCode(forged)).toBe('SignatureDoesNotMatch');

    const stranger = createLocalObjectService({
      storage,
      baseUrl: 'http://objects.test',
      partBytes: 1024,
      signer: ObjectSigner.random(),
    });
    const foreign = await stranger.objects.createForm(ID, 100, START + MINUTE);
    expect((await handle(formRequest(form.url, foreign.fields, bytes(100)))).status).toBe(403);

    const otherKey = await handle(
      formRequest(form.url, { ...form.fields, key: `attachments/${OTHER_ID}` }, bytes(100)),
    );
    expect(otherKey.status).toBe(403);
    expect(storage.objects.size).toBe(0);
  });

  it('refuses extra fields, a missing field, a second file and a file before the fields', async () => {
    const { objects, handle, storage } = setup();
    const form = await objects.createForm(ID, 10, START + MINUTE);
    const f = form.fields;
    const signed = [
      field('key', f['key']!),
      field('policy', f['policy']!),
      field('signature', f['signature']!),
    ];

    const typed = await postRaw(handle, form.url, [
      ...signed,
      field('Content-Type', 'image/png'),
      filePart(bytes(10)),
    ]);
    expect(typed.status).toBe(403);

    const unsigned = await postRaw(handle, form.url, [...signed.slice(0, 2), filePart(bytes(10))]);
    expect(unsigned.status).toBe(403);

    const twoFiles = await postRaw(handle, form.url, [
      ...signed,
      filePart(bytes(10)),
      filePart(bytes(10, 7)),
    ]);
    expect(twoFiles.status).toBe(400);

    // S3 reads fields only before the file: this form has none (400: no key).
    const fileFirst = await postRaw(handle, form.url, [filePart(bytes(10)), ...signed]);
    expect(fileFirst.status).toBe(400);

    const noFile = await postRaw(handle, form.url, signed);
    expect(noFile.status).toBe(400);
    expect(storage.objects.size).toBe(0);

    // The same fields hand-made, correctly: accepted (the shapes above fail for their defect).
    expect((await postRaw(handle, form.url, [...signed, filePart(bytes(10))])).status).toBe(204);
    expect(storage.objects.get(`attachments/${ID}`)).toEqual(bytes(10));
  });

  it('answers 413 on a declared length past the bound without reading the body', async () => {
    const { objects, handle } = setup();
    const form = await objects.createForm(ID, 100, START + MINUTE);
    const { stream, counter } = endless(new Uint8Array(1024));
    const res = await handle(
      new Request(form.url, {
        method: 'POST',
        body: stream,
        duplex: 'half',
        headers: {
          'content-type': 'multipart/form-data; boundary=b',
          'content-length': String(5 * 1024 ** 4),
        },
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeLessThanOrEqual(64 * 1024);
  });

  it('stops reading an endless file soon after the policy’s size (413), holding nothing of it', async () => {
    const { objects, handle, storage } = setup();
    const size = 4096;
    const form = await objects.createForm(ID, size, START + MINUTE);
    const { body: head } = rawForm([
      field('key', form.fields['key']!),
      field('policy', form.fields['policy']!),
      field('signature', form.fields['signature']!),
    ]);
    // The fields, then a file part that never ends.
    const preamble = Buffer.concat([
      Buffer.from(head).subarray(0, head.length - '--xYzBoUnDaRy42--\r\n'.length),
      Buffer.from('--xYzBoUnDaRy42\r\nContent-Disposition: form-data; name="file"\r\n\r\n'),
    ]);
    let sentHead = false;
    const counter = { pulled: 0 };
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = sentHead ? new Uint8Array(1000) : new Uint8Array(preamble);
        sentHead = true;
        counter.pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await handle(
      new Request(form.url, {
        method: 'POST',
        body: stream,
        duplex: 'half',
        headers: { 'content-type': 'multipart/form-data; boundary=xYzBoUnDaRy42' },
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeLessThan(preamble.length + size + FORM_OVERHEAD_BYTES);
    expect(storage.objects.size).toBe(0);
  });

  it('refuses what is not a form', async () => {
    const { handle } = setup();
    const res = await handle(
      new Request('http://objects.test/_objects', { method: 'POST', body: 'hello' }),
    );
    expect(res.status).toBe(412);
    const truncated = new Request('http://objects.test/_objects', {
      method: 'POST',
      body: '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nattach',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    });
    const res2 = await handle(truncated);
    expect(res2.status).toBe(400);
    expect(await errorCode(res2)).toBe('MalformedPOSTRequest');
  });
});

describe('LocalAttachmentObjects multipart uploads', () => {
  async function started(partBytes = 1024) {
    const s = setup(partBytes);
    const uploadId = await s.objects.startMultipart(ID);
    return { ...s, uploadId };
  }

  it('takes parts through presigned PUTs, lists their sizes and etags, and completes in order', async () => {
    const { objects, handle, uploadId, storage } = await started();
    const parts = [bytes(1024, 1), bytes(1024, 2), bytes(500, 3)];
    // Out of order, and part 2 twice: the later body replaces the earlier one.
    for (const n of [3, 2, 1, 2]) {
      const url = await objects.presignPart(ID, uploadId, n, START + MINUTE);
      const res = await handle(put(url, parts[n - 1]!));
      expect(res.status).toBe(200);
      const etag = `"${createHash('sha256')
        .update(parts[n - 1]!)
        .digest('hex')}"`;
      expect(res.headers.get('etag')).toBe(etag);
    }
    const listed = await objects.listParts(ID, uploadId);
    expect(listed.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 1024],
      [2, 1024],
      [3, 500],
    ]);
    expect(storage.objects.size).toBe(0);
    await objects.completeMultipart(ID, uploadId, listed);
    expect(storage.objects.get(`attachments/${ID}`)).toEqual(new Uint8Array(Buffer.concat(parts)));
    // S3 forgets a completed upload: no parts, and no second completion.
    expect(await objects.listParts(ID, uploadId)).toEqual([]);
    await expect(objects.completeMultipart(ID, uploadId, listed)).rejects.toMatchObject({
      code: 'UPLOAD_INCOMPLETE',
    });
  });

  it('refuses to complete with a stale etag, out of order, or with no parts (UPLOAD_INCOMPLETE)', async () => {
    const { objects, handle, uploadId, storage } = await started();
    for (const n of [1, 2]) {
      await handle(put(await objects.presignPart(ID, uploadId, n, START + MINUTE), bytes(10, n)));
    }
    const listed = await objects.listParts(ID, uploadId);
    const stale = [listed[0]!, { ...listed[1]!, etag: '"00"' }];
    for (const parts of [stale, [listed[1]!, listed[0]!], []]) {
      const err = await objects.completeMultipart(ID, uploadId, parts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).code).toBe('UPLOAD_INCOMPLETE');
    }
    expect(storage.objects.size).toBe(0);
    expect(await objects.listParts(ID, uploadId)).toHaveLength(2);
  });

  it('refuses a part larger than its URL admits (413, declared or streamed) and keeps nothing', async () => {
    const { objects, handle, uploadId } = await started(1024);
    const url = await objects.presignPart(ID, uploadId, 1, START + MINUTE);
    const res = await handle(put(url, bytes(1025)));
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('EntityTooLarge');

    const { stream, counter } = endless(new Uint8Array(100));
    const streamed = await handle(
      new Request(url, { method: 'PUT', body: stream, duplex: 'half' } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(counter.pulled).toBeLessThanOrEqual(1024 + 100 * 2);
    expect(await objects.listParts(ID, uploadId)).toEqual([]);

    // The exact size, when the caller gives it, is the bound instead of the part size.
    const exact = await objects.presignPart(ID, uploadId, 2, START + MINUTE, 10);
    expect(new URL(exact).searchParams.get('maxBytes')).toBe('10');
    expect((await handle(put(exact, bytes(11)))).status).toBe(413);
    expect((await handle(put(exact, bytes(10)))).status).toBe(200);
  });

  it('refuses a URL whose part number, upload id, object, bound or expiry was changed', async () => {
    const { objects, handle, uploadId } = await started();
    const url = new URL(await objects.presignPart(ID, uploadId, 1, START + MINUTE));
    const tampered = (edit: (u: URL) => void) => {
      const copy = new URL(url);
      edit(copy);
      return copy.toString();
    };
    const other = await objects.startMultipart(ID);
    const cases = [
      tampered((u) => u.searchParams.set('partNumber', '2')),
      tampered((u) => u.searchParams.set('uploadId', other)),
      tampered((u) => {
        u.pathname = `/_objects/attachments/${OTHER_ID}`;
      }),
      tampered((u) => u.searchParams.set('maxBytes', '999999')),
      tampered((u) => u.searchParams.set('expires', String(START + 60 * MINUTE))),
      tampered((u) => {
        const s = u.searchParams.get('signature')!;
        u.searchParams.set('signature', `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`);
      }),
      tampered((u) => u.searchParams.delete('signature')),
    ];
    for (const target of cases) {
      const res = await handle(put(target, bytes(10)));
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('SignatureDoesNotMatch');
    }
    expect(await objects.listParts(ID, uploadId)).toEqual([]);
    expect(await objects.listParts(ID, other)).toEqual([]);
    expect((await handle(put(url.toString(), bytes(10)))).status).toBe(200);
  });

  it('refuses a signature that differs only in the unused bits of its last character', async () => {
    const { objects, handle, uploadId } = await started();
    const url = new URL(await objects.presignPart(ID, uploadId, 1, START + MINUTE));
    const s = url.searchParams.get('signature')!;
    // 32 bytes in 43 characters: the last one carries 4 data bits and 2 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1)!);
    const twin = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    url.searchParams.set('signature', twin);
    const res = await handle(put(url.toString(), bytes(10)));
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('SignatureDoesNotMatch');
  });

  it('refuses an expired part URL and a malformed one', async () => {
    const { objects, handle, uploadId, clock } = await started();
    const url = await objects.presignPart(ID, uploadId, 1, START + MINUTE);
    clock.now = START + MINUTE + 1;
    const res = await handle(put(url, bytes(10)));
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('AccessDenied');
    const malformed = new URL(url);
    malformed.searchParams.set('partNumber', '10001');
    expect((await handle(put(malformed.toString(), bytes(10)))).status).toBe(400);
    await expect(objects.presignPart(ID, uploadId, 0, START)).rejects.toThrow(RangeError);
  });

  it('answers 404 for a part of an aborted upload and drops the parts on abort', async () => {
    const { objects, handle, uploadId } = await started();
    await handle(put(await objects.presignPart(ID, uploadId, 1, START + MINUTE), bytes(10)));
    expect(await objects.listParts(ID, uploadId)).toHaveLength(1);
    await objects.abortMultipart(ID, uploadId);
    await objects.abortMultipart(ID, uploadId); // unknown: ignored
    expect(await objects.listParts(ID, uploadId)).toEqual([]);
    const res = await handle(
      put(await objects.presignPart(ID, uploadId, 2, START + MINUTE), bytes(10)),
    );
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('NoSuchUpload');
    // A signed URL naming an upload of another object is no use either.
    const mine = await objects.startMultipart(ID);
    const foreign = await objects.presignPart(OTHER_ID, mine, 1, START + MINUTE);
    expect((await handle(put(foreign, bytes(10)))).status).toBe(404);
  });
});

describe('LocalAttachmentObjects downloads', () => {
  async function stored(size = 100) {
    const s = setup();
    const blob = bytes(size);
    await s.storage.putObject(
      `attachments/${ID}`,
      (async function* () {
        yield blob;
      })(),
    );
    const url = await s.objects.presignGet(ID, START + MINUTE);
    return { ...s, blob, url };
  }

  it('serves the object through a presigned GET, and 404 for a missing one', async () => {
    const { objects, handle, blob, url } = await stored();
    const res = await handle(new Request(url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('100');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(blob);
    const missing = await handle(new Request(await objects.presignGet(OTHER_ID, START + MINUTE)));
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe('NoSuchKey');
  });

  it('serves single ranges with 206 and refuses one past the end with 416', async () => {
    const { handle, blob, url } = await stored();
    const ranged = async (range: string) => handle(new Request(url, { headers: { range } }));
    const first = await ranged('bytes=10-19');
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe('bytes 10-19/100');
    expect(first.headers.get('content-length')).toBe('10');
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(blob.slice(10, 20));
    const open = await ranged('bytes=95-');
    expect(new Uint8Array(await open.arrayBuffer())).toEqual(blob.slice(95));
    const suffix = await ranged('bytes=-3');
    expect(suffix.headers.get('content-range')).toBe('bytes 97-99/100');
    const clipped = await ranged('bytes=90-1000');
    expect(clipped.headers.get('content-range')).toBe('bytes 90-99/100');
    const past = await ranged('bytes=100-');
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */100');
    // Several ranges: S3 answers the whole object.
    expect((await ranged('bytes=0-1,5-6')).status).toBe(200);
  });

  it('refuses a tampered, foreign or expired download URL', async () => {
    const { objects, handle, url, clock } = await stored();
    const other = new URL(url);
    other.pathname = `/_objects/attachments/${OTHER_ID}`;
    expect((await handle(new Request(other))).status).toBe(403);
    const later = new URL(url);
    later.searchParams.set('expires', String(START + 10 * MINUTE));
    expect((await handle(new Request(later))).status).toBe(403);
    // A part URL's signature does not open a GET of the same object.
    const uploadId = await objects.startMultipart(ID);
    const part = new URL(await objects.presignPart(ID, uploadId, 1, START + MINUTE));
    const crossed = new URL(url);
    crossed.searchParams.set('signature', part.searchParams.get('signature')!);
    expect((await handle(new Request(crossed))).status).toBe(403);
    expect((await handle(new Request(url))).status).toBe(200);
    clock.now = START + MINUTE + 1;
    const expired = await handle(new Request(url));
    expect(expired.status).toBe(403);
    expect(await errorCode(expired)).toBe('AccessDenied');
  });

  it('answers CORS preflights for browsers and refuses other methods', async () => {
    const { handle, url } = await stored();
    const pre = await handle(
      new Request(url, {
        method: 'OPTIONS',
        headers: { origin: 'http://app.test', 'access-control-request-method': 'PUT' },
      }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(pre.headers.get('access-control-allow-headers')).toContain('Range');
    const get = await handle(new Request(url));
    expect(get.headers.get('access-control-expose-headers')).toContain('ETag');
    // The SDK reads a ranged GET's total size after a lost completion.
    expect(get.headers.get('access-control-expose-headers')).toContain('Content-Range');
    expect((await handle(new Request(url, { method: 'DELETE' }))).status).toBe(405);
    expect((await handle(new Request('http://objects.test/_objects/../etc'))).status).toBe(404);
  });
});

describe('parseRange', () => {
  it('reads one range as S3 does and ignores what it ignores', () => {
    expect(parseRange(null, 10)).toBeUndefined();
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=3-', 10)).toEqual({ start: 3, end: 9 });
    expect(parseRange('bytes=-20', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=10-12', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
  });
});

describe('ObjectSigner', () => {
  it('takes a 32-byte secret and separates URL from form signatures', () => {
    expect(() => new ObjectSigner(new Uint8Array(31))).toThrow(RangeError);
    const signer = new ObjectSigner(new Uint8Array(32).fill(1));
    const grant = { method: 'GET' as const, key: `attachments/${ID}`, expires: START };
    const signature = signer.signUrl(grant);
    expect(signer.verifyUrl(grant, signature)).toBe(true);
    expect(signer.verifyUrl({ ...grant, method: 'PUT' }, signature)).toBe(false);
    expect(signer.verifyPolicy('abc', signature)).toBe(false);
    expect(signer.verifyUrl(grant, `${signature}A`)).toBe(false);
    expect(new ObjectSigner(new Uint8Array(32).fill(2)).verifyUrl(grant, signature)).toBe(false);
  });
});
