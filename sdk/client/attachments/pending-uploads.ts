/**
 * Uploads in progress, kept in the client's store so that an upload can be resumed after a
 * restart (docs/SDK.md §Attachments, "Resume"). One record per upload in the `upload`
 * namespace, key = the attachment id (the `resumeId`), written when the service accepted the
 * upload, rewritten after each part and removed when the upload completes or is abandoned:
 *
 * ```
 * u8 version = 1 || u64 createdAtMs || u64 expiresAtMs || u8 kind (1 form, 2 multipart)
 *   || u64 partSize || u16 partCount
 *   || var16(pointer)                  id, key, file size and metadata; digest all zero
 *   || u16 n || n x (u16 partNumber || SHA-256 of the part as uploaded (32))
 * ```
 *
 * The key is the attachment's content key: the record is as confidential as the store's
 * session records. The part hashes let a resumed upload prove that data given again encrypts to
 * the parts the store already holds (the encryption is deterministic given key and data).
 */
import {
  ATTACHMENT_DIGEST_BYTES,
  type AttachmentPointer,
  decodeAttachmentPointer,
  encodeAttachmentPointer,
} from '../../attachments/index.ts';
import { StateCorruptError } from '../../errors.ts';
import type { StateStore, StoreOp } from '../../state/store.ts';
import { ByteReader, ByteWriter } from '../../util/bytes.ts';
import type { AttachmentMeta } from './input.ts';
import type { PendingUpload } from './types.ts';

const VERSION = 1;
const NS = 'upload';
const KIND_FORM = 1;
const KIND_MULTIPART = 2;
/** Bytes of a part hash (SHA-256). */
export const PART_HASH_BYTES = 32;

/** One upload in progress, as stored. */
export interface UploadRecord {
  /** The attachment id, also the `resumeId`. */
  readonly id: string;
  readonly key: Uint8Array;
  /** The file's size. */
  readonly size: number;
  readonly meta: AttachmentMeta;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly kind: 'form' | 'multipart';
  /** The blob's size for a form, the part size for a multipart upload. */
  readonly partSize: number;
  /** 1 for a form. */
  readonly partCount: number;
  /** SHA-256 of every part uploaded so far, by part number. */
  readonly parts: ReadonlyMap<number, Uint8Array>;
}

function metaOf(p: AttachmentPointer): AttachmentMeta {
  const { id: _id, key: _key, digest: _digest, size: _size, ...meta } = p;
  return meta;
}

/**
 * Encodes an upload record.
 *
 * @example store.commit([{ ns: 'upload', key: r.id, value: encodeUploadRecord(r) }]);
 */
export function encodeUploadRecord(r: UploadRecord): Uint8Array {
  const pointer = encodeAttachmentPointer({
    ...r.meta,
    id: r.id,
    key: r.key,
    digest: new Uint8Array(ATTACHMENT_DIGEST_BYTES),
    size: r.size,
  });
  const w = new ByteWriter(40 + pointer.length + r.parts.size * (2 + PART_HASH_BYTES))
    .u8(VERSION)
    .u64(r.createdAt)
    .u64(r.expiresAt)
    .u8(r.kind === 'form' ? KIND_FORM : KIND_MULTIPART)
    .u64(r.partSize)
    .u16(r.partCount)
    .var16(pointer)
    .u16(r.parts.size);
  for (const [n, hash] of [...r.parts].sort((a, b) => a[0] - b[0])) w.u16(n).bytes(hash);
  return w.finish();
}

/**
 * Decodes an upload record strictly.
 *
 * @example const record = decodeUploadRecord(bytes);
 * @throws {StateCorruptError} if the record is malformed.
 */
export function decodeUploadRecord(bytes: Uint8Array): UploadRecord {
  const r = new ByteReader(bytes, 'upload record', (m) => new StateCorruptError(m));
  if (r.u8() !== VERSION) throw new StateCorruptError('upload record version');
  const createdAt = r.u64();
  const expiresAt = r.u64();
  const kindByte = r.u8();
  if (kindByte !== KIND_FORM && kindByte !== KIND_MULTIPART) {
    throw new StateCorruptError('upload record kind');
  }
  const partSize = r.u64();
  const partCount = r.u16();
  let pointer: AttachmentPointer;
  try {
    pointer = decodeAttachmentPointer(r.var16());
  } catch (cause) {
    throw new StateCorruptError('upload record pointer', { cause });
  }
  const parts = new Map<number, Uint8Array>();
  const n = r.u16();
  for (let i = 0; i < n; i++) {
    const partNumber = r.u16();
    if (partNumber < 1 || partNumber > partCount || parts.has(partNumber)) {
      throw new StateCorruptError('upload record part number');
    }
    parts.set(partNumber, r.bytes(PART_HASH_BYTES));
  }
  r.end();
  if (partSize < 1 || partCount < 1) throw new StateCorruptError('upload record parts');
  return {
    id: pointer.id,
    key: pointer.key,
    size: pointer.size,
    meta: metaOf(pointer),
    createdAt,
    expiresAt,
    kind: kindByte === KIND_FORM ? 'form' : 'multipart',
    partSize,
    partCount,
    parts,
  };
}

/** The uploads in progress of one client's store. */
export class PendingUploads {
  constructor(private readonly store: StateStore) {}

  /** The record of `id`, or undefined. @throws {StateCorruptError} for a malformed record. */
  async get(id: string): Promise<UploadRecord | undefined> {
    const bytes = await this.store.get(NS, id);
    return bytes && decodeUploadRecord(bytes);
  }

  /** Writes (or rewrites) a record. */
  async put(record: UploadRecord): Promise<void> {
    await this.store.commit([this.putOp(record)]);
  }

  /** Removes a record; an absent one is ignored. */
  async remove(id: string): Promise<void> {
    await this.store.commit([{ ns: NS, key: id, value: null }]);
  }

  /** Every upload in progress, oldest first. Records that do not decode are skipped. */
  async list(): Promise<PendingUpload[]> {
    const out: PendingUpload[] = [];
    for (const key of await this.store.keys(NS)) {
      const bytes = await this.store.get(NS, key);
      if (!bytes) continue;
      let record: UploadRecord;
      try {
        record = decodeUploadRecord(bytes);
      } catch {
        continue;
      }
      out.push({
        resumeId: record.id,
        size: record.size,
        fileName: record.meta.fileName,
        contentType: record.meta.contentType,
        createdAt: record.createdAt,
        expiresAt: record.expiresAt,
      });
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.resumeId.localeCompare(b.resumeId));
  }

  private putOp(record: UploadRecord): StoreOp {
    return { ns: NS, key: record.id, value: encodeUploadRecord(record) };
  }
}
