/**
 * Where the local object service keeps bytes: objects by key, and the parts of unfinished
 * multipart uploads, with S3's semantics (a part written again replaces the earlier one; parts
 * are kept until the upload is completed or aborted; completing concatenates the named parts
 * in order). Two backends: {@link MemoryObjectStorage} here (tests, the test kit) and
 * `DirectoryObjectStorage` (directory-object-storage.ts: files, streamed, for the local server).
 *
 * Bodies arrive as async iterables that throw when the transfer must fail (too many bytes, a
 * malformed form, a dropped connection); a backend stores nothing of a body that threw.
 */
import { createHash } from 'node:crypto';

/** One stored part. The etag is the quoted hex SHA-256 of the part (S3 quotes its etags). */
export interface PartRecord {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
}

/** An inclusive byte range of an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** The outcome of {@link ObjectStorage.completeUpload}. */
export type CompleteOutcome = 'completed' | 'no-such-upload' | 'invalid-part';

/** Bytes by key, and multipart uploads by id. Keys are checked by the callers (isObjectKey). */
export interface ObjectStorage {
  /** Stores `body` as the object `key` once it ended without error; returns its size. */
  putObject(key: string, body: AsyncIterable<Uint8Array>): Promise<number>;
  /**
   * The bytes of `range` of the object (all of it without a range), or undefined if there is
   * no such object. The range must lie inside the object.
   */
  readObject(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | undefined>;
  /** The object's size, or undefined. */
  objectSize(key: string): Promise<number | undefined>;
  /** Deletes the object; a missing one is ignored. */
  deleteObject(key: string): Promise<void>;
  /** Opens a multipart upload `uploadId` of the object `key` (ids are random and new). */
  createUpload(key: string, uploadId: string): Promise<void>;
  /** Whether the upload exists (open, not completed or aborted). */
  hasUpload(key: string, uploadId: string): Promise<boolean>;
  /**
   * Stores `body` as part `partNumber`, replacing an earlier one; undefined if the upload does
   * not exist (then `body` is not read).
   */
  putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
  ): Promise<PartRecord | undefined>;
  /** The stored parts in part-number order, or undefined if the upload does not exist. */
  listParts(key: string, uploadId: string): Promise<PartRecord[] | undefined>;
  /**
   * Makes the object `key` of the named parts in the given order and closes the upload. Each
   * part must be stored with that etag (`invalid-part` otherwise, nothing changed).
   */
  completeUpload(
    key: string,
    uploadId: string,
    parts: readonly { readonly partNumber: number; readonly etag: string }[],
  ): Promise<CompleteOutcome>;
  /** Drops the upload and its parts; an unknown one is ignored. */
  abortUpload(key: string, uploadId: string): Promise<void>;
}

/**
 * Counts and hashes the chunks of a body as they pass. `etag()` is final once the body ended.
 *
 * @example const meter = new BodyMeter(); for await (const c of meter.pass(body)) write(c);
 */
export class BodyMeter {
  private readonly hash = createHash('sha256');
  size = 0;

  async *pass(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      this.size += chunk.length;
      this.hash.update(chunk);
      yield chunk;
    }
  }

  /** The quoted hex SHA-256 of what passed. */
  etag(): string {
    return `"${this.hash.digest('hex')}"`;
  }
}

interface MemoryUpload {
  readonly key: string;
  readonly parts: Map<number, { readonly bytes: Uint8Array; readonly etag: string }>;
}

/**
 * Objects and parts in `Map`s: for tests and the test kit (a blob lives in memory twice at
 * most while its upload completes).
 *
 * @example const storage = new MemoryObjectStorage(); await storage.objectSize('attachments/x')
 */
export class MemoryObjectStorage implements ObjectStorage {
  /** The stored objects by key; visible to tests that inspect what the service holds. */
  readonly objects = new Map<string, Uint8Array>();
  private readonly uploads = new Map<string, MemoryUpload>();

  async putObject(key: string, body: AsyncIterable<Uint8Array>): Promise<number> {
    const bytes = await collect(body);
    this.objects.set(key, bytes);
    return bytes.length;
  }

  async readObject(
    key: string,
    range?: ByteRange,
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    const bytes = this.objects.get(key);
    if (!bytes) return undefined;
    const view = range ? bytes.slice(range.start, range.end + 1) : bytes.slice();
    return new ReadableStream({
      start(controller) {
        if (view.length > 0) controller.enqueue(view);
        controller.close();
      },
    });
  }

  async objectSize(key: string): Promise<number | undefined> {
    return this.objects.get(key)?.length;
  }

  async deleteObject(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async createUpload(key: string, uploadId: string): Promise<void> {
    if (this.uploads.has(uploadId)) throw new Error('upload id already in use');
    this.uploads.set(uploadId, { key, parts: new Map() });
  }

  async hasUpload(key: string, uploadId: string): Promise<boolean> {
    return this.upload(key, uploadId) !== undefined;
  }

  async putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
  ): Promise<PartRecord | undefined> {
    if (!this.upload(key, uploadId)) return undefined;
    const meter = new BodyMeter();
    const bytes = await collect(meter.pass(body));
    // Aborted or completed while the body arrived: the part has nowhere to go.
    const upload = this.upload(key, uploadId);
    if (!upload) return undefined;
    const etag = meter.etag();
    upload.parts.set(partNumber, { bytes, etag });
    return { partNumber, size: bytes.length, etag };
  }

  async listParts(key: string, uploadId: string): Promise<PartRecord[] | undefined> {
    const upload = this.upload(key, uploadId);
    if (!upload) return undefined;
    return [...upload.parts]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, p]) => ({ partNumber, size: p.bytes.length, etag: p.etag }));
  }

  async completeUpload(
    key: string,
    uploadId: string,
    parts: readonly { readonly partNumber: number; readonly etag: string }[],
  ): Promise<CompleteOutcome> {
    const upload = this.upload(key, uploadId);
    if (!upload) return 'no-such-upload';
    const chosen: Uint8Array[] = [];
    for (const { partNumber, etag } of parts) {
      const part = upload.parts.get(partNumber);
      if (!part || part.etag !== etag) return 'invalid-part';
      chosen.push(part.bytes);
    }
    this.objects.set(key, new Uint8Array(Buffer.concat(chosen)));
    this.uploads.delete(uploadId);
    return 'completed';
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    if (this.upload(key, uploadId)) this.uploads.delete(uploadId);
  }

  private upload(key: string, uploadId: string): MemoryUpload | undefined {
    const upload = this.uploads.get(uploadId);
    return upload?.key === key ? upload : undefined;
  }
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}
