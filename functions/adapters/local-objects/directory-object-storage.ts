/**
 * The {@link ObjectStorage} of the local server: files under one directory, written and read
 * as streams, so a large attachment passes through the local server without sitting in memory.
 *
 * Layout under the root: `objects/<key>` (the objects), `uploads/<key>/<uploadId>/` (one
 * directory per open multipart upload, its parts named `<partNumber>.<hex sha-256>` so the
 * etag survives restarts without a second file), and `tmp/` (bodies being received; renamed
 * into place only once complete, so a failed transfer never leaves a partial object or part).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ATTACHMENT_KEY_PREFIX, isObjectKey } from './object-signing.ts';
import {
  BodyMeter,
  type ByteRange,
  type CompleteOutcome,
  type ObjectStorage,
  type PartRecord,
} from './object-storage.ts';

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const PART_FILE_PATTERN = /^([1-9][0-9]{0,4})\.([0-9a-f]{64})$/;

/**
 * Objects and parts as files under `root` (created on first write).
 *
 * @example const storage = new DirectoryObjectStorage('.local/objects');
 */
export class DirectoryObjectStorage implements ObjectStorage {
  private readonly root: string;
  /** Serializes the commit of one part number (rename, then removal of the replaced file). */
  private readonly partLocks = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = root;
  }

  async putObject(key: string, body: AsyncIterable<Uint8Array>): Promise<number> {
    const path = this.objectPath(key);
    const meter = new BodyMeter();
    const tmp = await this.receive(meter.pass(body));
    await mkdir(join(path, '..'), { recursive: true });
    await rename(tmp, path);
    return meter.size;
  }

  async readObject(
    key: string,
    range?: ByteRange,
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    let handle: FileHandle;
    try {
      // Opened first: a replacement or deletion after this point does not disturb the read.
      handle = await open(this.objectPath(key), 'r');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    const stream = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    return toWebStream(stream);
  }

  async objectSize(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.objectPath(key))).size;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async deleteObject(key: string): Promise<void> {
    await rm(this.objectPath(key), { force: true });
  }

  async createUpload(key: string, uploadId: string): Promise<void> {
    const dir = this.uploadDir(key, uploadId);
    await mkdir(join(dir, '..'), { recursive: true });
    await mkdir(dir);
  }

  async hasUpload(key: string, uploadId: string): Promise<boolean> {
    try {
      return (await stat(this.uploadDir(key, uploadId))).isDirectory();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
  ): Promise<PartRecord | undefined> {
    if (!(await this.hasUpload(key, uploadId))) return undefined;
    const dir = this.uploadDir(key, uploadId);
    const meter = new BodyMeter();
    const tmp = await this.receive(meter.pass(body));
    const etag = meter.etag();
    const name = `${partNumber}.${etag.slice(1, -1)}`;
    const committed = await this.withPartLock(`${uploadId}/${partNumber}`, async () => {
      try {
        await rename(tmp, join(dir, name));
      } catch (err) {
        await rm(tmp, { force: true });
        // Aborted or completed while the body arrived: the part has nowhere to go.
        if (isMissing(err)) return false;
        throw err;
      }
      for (const other of await readdir(dir).catch(() => [])) {
        if (other !== name && other.startsWith(`${partNumber}.`)) {
          await rm(join(dir, other), { force: true });
        }
      }
      return true;
    });
    return committed ? { partNumber, size: meter.size, etag } : undefined;
  }

  async listParts(key: string, uploadId: string): Promise<PartRecord[] | undefined> {
    const files = await this.partFiles(key, uploadId);
    if (!files) return undefined;
    const parts: PartRecord[] = [];
    for (const [partNumber, file] of files) {
      try {
        const { size } = await stat(file.path);
        parts.push({ partNumber, size, etag: `"${file.hex}"` });
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeUpload(
    key: string,
    uploadId: string,
    parts: readonly { readonly partNumber: number; readonly etag: string }[],
  ): Promise<CompleteOutcome> {
    const files = await this.partFiles(key, uploadId);
    if (!files) return 'no-such-upload';
    const chosen: string[] = [];
    for (const { partNumber, etag } of parts) {
      const file = files.get(partNumber);
      if (!file || `"${file.hex}"` !== etag) return 'invalid-part';
      chosen.push(file.path);
    }
    let tmp: string;
    try {
      tmp = await this.receive(concatenate(chosen));
    } catch (err) {
      if (isMissing(err)) return 'no-such-upload';
      throw err;
    }
    const path = this.objectPath(key);
    await mkdir(join(path, '..'), { recursive: true });
    await rename(tmp, path);
    await this.removeUpload(key, uploadId);
    return 'completed';
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    await this.removeUpload(key, uploadId);
  }

  /** Removes an upload's directory, and its key's directory once that is empty. */
  private async removeUpload(key: string, uploadId: string): Promise<void> {
    const dir = this.uploadDir(key, uploadId);
    await rm(dir, { recursive: true, force: true });
    // Fails while another upload of the key is open (or the directory is gone): kept then.
    await rmdir(join(dir, '..')).catch(() => undefined);
  }

  /**
   * Removes what S3's lifecycle rules would have removed by `now`: objects last written more
   * than `objectMs` ago, and open uploads last written more than `uploadMs` ago (their parts
   * with them). Returns how many of each went. Call it before serving: it also clears `tmp/`
   * of bodies a previous process left half-received.
   *
   * @example await storage.expire(Date.now(), { objectMs: 31 * DAY, uploadMs: DAY })
   */
  async expire(
    now: number,
    ages: { readonly objectMs: number; readonly uploadMs: number },
  ): Promise<{ objects: number; uploads: number }> {
    const removed = { objects: 0, uploads: 0 };
    const prefixDir = (area: string) => join(this.root, area, ATTACHMENT_KEY_PREFIX);
    for (const name of await readdir(prefixDir('objects')).catch(() => [] as string[])) {
      const path = join(prefixDir('objects'), name);
      const written = (await stat(path).catch(() => undefined))?.mtimeMs;
      if (written !== undefined && written < now - ages.objectMs) {
        await rm(path, { force: true });
        removed.objects++;
      }
    }
    for (const name of await readdir(prefixDir('uploads')).catch(() => [] as string[])) {
      const keyDir = join(prefixDir('uploads'), name);
      for (const uploadId of await readdir(keyDir).catch(() => [] as string[])) {
        const dir = join(keyDir, uploadId);
        const written = (await stat(dir).catch(() => undefined))?.mtimeMs;
        if (written !== undefined && written < now - ages.uploadMs) {
          await rm(dir, { recursive: true, force: true });
          removed.uploads++;
        }
      }
      await rmdir(keyDir).catch(() => undefined);
    }
    // Bodies that were being received when a previous process ended.
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
    return removed;
  }

  /** The part files of an upload by part number (the newest if a replacement is mid-commit). */
  private async partFiles(
    key: string,
    uploadId: string,
  ): Promise<Map<number, { path: string; hex: string }> | undefined> {
    const dir = this.uploadDir(key, uploadId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    const files = new Map<number, { path: string; hex: string; mtime: number }>();
    for (const name of names) {
      const match = PART_FILE_PATTERN.exec(name);
      if (!match) continue;
      const path = join(dir, name);
      const mtime = (await stat(path).catch(() => undefined))?.mtimeMs;
      if (mtime === undefined) continue;
      const partNumber = Number(match[1]);
      const seen = files.get(partNumber);
      if (!seen || seen.mtime < mtime) files.set(partNumber, { path, hex: match[2]!, mtime });
    }
    return files;
  }

  /** Writes `body` to a fresh file under `tmp/`; removes it and rethrows if the body fails. */
  private async receive(body: AsyncIterable<Uint8Array>): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, randomBytes(12).toString('hex'));
    const handle = await open(tmp, 'wx', 0o600);
    try {
      for await (const chunk of body) await handle.write(chunk);
      await handle.close();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    return tmp;
  }

  private async withPartLock<T>(name: string, run: () => Promise<T>): Promise<T> {
    const before = this.partLocks.get(name) ?? Promise.resolve();
    const result = before.then(run);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.partLocks.set(name, settled);
    try {
      return await result;
    } finally {
      if (this.partLocks.get(name) === settled) this.partLocks.delete(name);
    }
  }

  private objectPath(key: string): string {
    if (!isObjectKey(key)) throw new RangeError('not an object key');
    return join(this.root, 'objects', key);
  }

  private uploadDir(key: string, uploadId: string): string {
    if (!isObjectKey(key)) throw new RangeError('not an object key');
    if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new RangeError('not an upload id');
    return join(this.root, 'uploads', key, uploadId);
  }
}

async function* concatenate(paths: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const path of paths) {
    for await (const chunk of createReadStream(path)) yield chunk as Buffer;
  }
}

/** A web stream over a Node stream, pulled on demand (backpressure kept), destroyed on cancel. */
function toWebStream(stream: Readable): ReadableStream<Uint8Array> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      } catch (err) {
        controller.error(err);
      }
    },
    cancel() {
      stream.destroy();
    },
  });
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}
