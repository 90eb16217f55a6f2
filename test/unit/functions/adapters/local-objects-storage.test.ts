/**
 * The storage backends of the local object service, one contract run on both (memory, and
 * files in a directory), and the streaming form reader under arbitrary chunking.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalObjectService,
  DirectoryObjectStorage,
  MemoryObjectStorage,
  type ObjectStorage,
} from '#functions/adapters/local-objects/index.ts';

const KEY = 'attachments/q2mOO4B3tbgY8lq6HO0W1w';
const OTHER_KEY = 'attachments/AAAAAAAAAAAAAAAAAAAAAA';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sealpost-objects-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 7) & 0xff;
  return out;
}

/** `data` in chunks of `size` bytes. */
async function* chunks(data: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.slice(i, i + size);
}

/** `data`, then a failure (a dropped connection, a body past its bound). */
async function* failing(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield* chunks(data);
  throw new Error('the transfer broke');
}

async function read(storage: ObjectStorage, key: string, range?: { start: number; end: number }) {
  const stream = await storage.readObject(key, range);
  return stream && new Uint8Array(await new Response(stream).arrayBuffer());
}

const etagOf = (data: Uint8Array) => `"${createHash('sha256').update(data).digest('hex')}"`;

let dirs = 0;
const backends: [string, () => ObjectStorage][] = [
  ['memory', () => new MemoryObjectStorage()],
  ['directory', () => new DirectoryObjectStorage(join(root, `store-${dirs++}`))],
];

describe.each(backends)('%s object storage', (_name, create) => {
  it('stores, reads (whole and ranged), sizes and deletes objects', async () => {
    const storage = create();
    const data = bytes(5000);
    expect(await storage.putObject(KEY, chunks(data))).toBe(5000);
    expect(await storage.objectSize(KEY)).toBe(5000);
    expect(await read(storage, KEY)).toEqual(data);
    expect(await read(storage, KEY, { start: 1000, end: 2999 })).toEqual(data.slice(1000, 3000));
    expect(await storage.objectSize(OTHER_KEY)).toBeUndefined();
    expect(await storage.readObject(OTHER_KEY)).toBeUndefined();
    // Replaced whole by a second write.
    await storage.putObject(KEY, chunks(bytes(10, 2)));
    expect(await read(storage, KEY)).toEqual(bytes(10, 2));
    await storage.deleteObject(KEY);
    await storage.deleteObject(KEY);
    expect(await storage.objectSize(KEY)).toBeUndefined();
  });

  it('keeps nothing of a body that fails, and leaves an earlier object in place', async () => {
    const storage = create();
    await expect(storage.putObject(KEY, failing(bytes(3000)))).rejects.toThrow('broke');
    expect(await storage.objectSize(KEY)).toBeUndefined();
    await storage.putObject(KEY, chunks(bytes(10)));
    await expect(storage.putObject(KEY, failing(bytes(3000)))).rejects.toThrow('broke');
    expect(await read(storage, KEY)).toEqual(bytes(10));
  });

  it('keeps parts per upload, replaces a part written again, and completes in the given order', async () => {
    const storage = create();
    await storage.createUpload(KEY, 'up1');
    expect(await storage.hasUpload(KEY, 'up1')).toBe(true);
    expect(await storage.hasUpload(OTHER_KEY, 'up1')).toBe(false);
    expect(await storage.listParts(KEY, 'up1')).toEqual([]);
    const [a, b, b2] = [bytes(2000, 1), bytes(1500, 2), bytes(1800, 3)];
    await storage.putPart(KEY, 'up1', 2, chunks(b));
    expect(await storage.putPart(KEY, 'up1', 1, chunks(a))).toEqual({
      partNumber: 1,
      size: 2000,
      etag: etagOf(a),
    });
    await storage.putPart(KEY, 'up1', 2, chunks(b2));
    await expect(storage.putPart(KEY, 'up1', 3, failing(a))).rejects.toThrow('broke');
    const parts = await storage.listParts(KEY, 'up1');
    expect(parts).toEqual([
      { partNumber: 1, size: 2000, etag: etagOf(a) },
      { partNumber: 2, size: 1800, etag: etagOf(b2) },
    ]);
    expect(await storage.completeUpload(KEY, 'up1', [{ partNumber: 2, etag: etagOf(b) }])).toBe(
      'invalid-part',
    );
    expect(await storage.objectSize(KEY)).toBeUndefined();
    expect(await storage.completeUpload(KEY, 'up1', parts!)).toBe('completed');
    expect(await read(storage, KEY)).toEqual(new Uint8Array(Buffer.concat([a, b2])));
    expect(await storage.hasUpload(KEY, 'up1')).toBe(false);
    expect(await storage.listParts(KEY, 'up1')).toBeUndefined();
    expect(await storage.completeUpload(KEY, 'up1', parts!)).toBe('no-such-upload');
  });

  it('refuses parts of unknown or aborted uploads without reading them', async () => {
    const storage = create();
    let pulled = false;
    async function* watched() {
      pulled = true;
      yield bytes(10);
    }
    expect(await storage.putPart(KEY, 'nope', 1, watched())).toBeUndefined();
    expect(pulled).toBe(false);
    await storage.createUpload(KEY, 'up2');
    await storage.putPart(KEY, 'up2', 1, chunks(bytes(10)));
    // An upload of another object under the same id is not this one.
    expect(await storage.putPart(OTHER_KEY, 'up2', 1, watched())).toBeUndefined();
    await storage.abortUpload(KEY, 'up2');
    await storage.abortUpload(KEY, 'up2');
    expect(await storage.listParts(KEY, 'up2')).toBeUndefined();
    expect(await storage.putPart(KEY, 'up2', 1, watched())).toBeUndefined();
    expect(pulled).toBe(false);
  });
});

describe('directory object storage', () => {
  it('keeps uploads and objects across instances and leaves no temporary files', async () => {
    const dir = join(root, 'restart');
    const first = new DirectoryObjectStorage(dir);
    await first.createUpload(KEY, 'up');
    await first.putPart(KEY, 'up', 1, chunks(bytes(700)));
    await expect(first.putPart(KEY, 'up', 2, failing(bytes(700)))).rejects.toThrow();
    await expect(first.putObject(OTHER_KEY, failing(bytes(700)))).rejects.toThrow();
    const second = new DirectoryObjectStorage(dir);
    const parts = await second.listParts(KEY, 'up');
    expect(parts).toEqual([{ partNumber: 1, size: 700, etag: etagOf(bytes(700)) }]);
    expect(await second.completeUpload(KEY, 'up', parts!)).toBe('completed');
    expect(await read(second, KEY)).toEqual(bytes(700));
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await second.objectSize(OTHER_KEY)).toBeUndefined();
    // Nothing named by the attachment is left of the finished upload.
    expect(await readdir(join(dir, 'uploads', KEY, '..'))).toEqual([]);
  });

  it('leaves no directory of an aborted upload, and keeps the key’s while another is open', async () => {
    const storage = new DirectoryObjectStorage(join(root, 'abort'));
    await storage.createUpload(KEY, 'a');
    await storage.createUpload(KEY, 'b');
    await storage.abortUpload(KEY, 'a');
    expect(await readdir(join(root, 'abort', 'uploads', KEY))).toEqual(['b']);
    await storage.abortUpload(KEY, 'b');
    expect(await readdir(join(root, 'abort', 'uploads', KEY, '..'))).toEqual([]);
  });

  it('expires old objects and idle uploads as the bucket’s lifecycle rules would', async () => {
    const dir = join(root, 'lifecycle');
    const storage = new DirectoryObjectStorage(dir);
    const DAY = 86_400_000;
    const now = Date.now();
    await storage.putObject(KEY, chunks(bytes(10)));
    await storage.putObject(OTHER_KEY, chunks(bytes(10)));
    await storage.createUpload(KEY, 'old');
    await storage.putPart(KEY, 'old', 1, chunks(bytes(10)));
    await storage.createUpload(KEY, 'fresh');
    const age = async (path: string, ms: number) => {
      const when = new Date(now - ms);
      await utimes(path, when, when);
    };
    await age(join(dir, 'objects', KEY), 32 * DAY);
    await age(join(dir, 'objects', OTHER_KEY), 30 * DAY);
    await age(join(dir, 'uploads', KEY, 'old'), 2 * DAY);
    expect(await storage.expire(now, { objectMs: 31 * DAY, uploadMs: DAY })).toEqual({
      objects: 1,
      uploads: 1,
    });
    expect(await storage.objectSize(KEY)).toBeUndefined();
    expect(await storage.objectSize(OTHER_KEY)).toBe(10);
    expect(await storage.hasUpload(KEY, 'old')).toBe(false);
    expect(await storage.hasUpload(KEY, 'fresh')).toBe(true);
  });

  it('refuses keys and upload ids that could leave its directory', async () => {
    const storage = new DirectoryObjectStorage(join(root, 'guard'));
    await expect(storage.objectSize('attachments/../../etc/passwd')).rejects.toThrow(RangeError);
    await expect(storage.createUpload(KEY, '../x')).rejects.toThrow(RangeError);
  });
});

describe('form uploads under any chunking', () => {
  it('store exactly the file, whatever bytes it holds and however the body is cut', async () => {
    const boundary = 'b0uNd';
    await fc.assert(
      fc.asyncProperty(
        // Files full of near-delimiters: CR, LF, dashes and the boundary's letters.
        fc.array(fc.constantFrom(13, 10, 45, 98, 48, 117, 78, 100, 0, 255), {
          minLength: 0,
          maxLength: 300,
        }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        async (fileBytes, cuts) => {
          const file = new Uint8Array(fileBytes);
          const storage = new MemoryObjectStorage();
          const service = createLocalObjectService({
            storage,
            baseUrl: 'http://objects.test',
            partBytes: 1024,
          });
          const form = await service.objects.createForm(
            'q2mOO4B3tbgY8lq6HO0W1w',
            file.length,
            Date.now() + 60_000,
          );
          const parts = Object.entries(form.fields).map(
            ([name, value]) =>
              `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
          );
          const body = Buffer.concat([
            Buffer.from(parts.join('')),
            Buffer.from(
              `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\nContent-Type: application/octet-stream\r\n\r\n`,
            ),
            Buffer.from(file),
            Buffer.from(`\r\n--${boundary}--\r\n`),
          ]);
          let offset = 0;
          let cut = 0;
          const stream = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (offset >= body.length) {
                controller.close();
                return;
              }
              const size = cuts[cut++ % cuts.length]!;
              controller.enqueue(new Uint8Array(body.subarray(offset, offset + size)));
              offset += size;
            },
          });
          const res = await service.handle(
            new Request(form.url, {
              method: 'POST',
              body: stream,
              duplex: 'half',
              headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
            } as RequestInit),
          );
          expect(res.status).toBe(204);
          expect(storage.objects.get(form.fields['key']!)).toEqual(file);
        },
      ),
      { numRuns: 150 },
    );
  });
});
