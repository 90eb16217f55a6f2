/**
 * {@link AttachmentObjects} over the local object service: what the S3 adapter does on AWS,
 * for the local server (memory engine and DynamoDB Local alike) and the test kit. s3rver, the
 * local S3 stand-in of the envelope store, cannot play this part: it ignores POST policies
 * and has neither ListParts nor AbortMultipartUpload. The URLs it hands out point at
 * `${baseUrl}/_objects` and are served by {@link createObjectTransfer} with the same signer.
 */
import { randomBytes } from 'node:crypto';
import type { AttachmentObjects, FormTarget, StoredPart } from '../../domain/attachment-ports.ts';
import { ServiceError } from '../../domain/errors.ts';
import {
  attachmentKey,
  encodePolicy,
  OBJECTS_PATH,
  type ObjectSigner,
  type UrlGrant,
} from './object-signing.ts';
import type { ObjectStorage } from './object-storage.ts';
import { MAX_PART_NUMBER } from './object-transfer.ts';

/** Bytes of a multipart upload id (base64url, like S3's opaque ids). */
const UPLOAD_ID_BYTES = 24;

/** S3's largest part: a part URL never admits more. */
const MAX_PART_BYTES = 5 * 1024 ** 3;

/** Options of {@link LocalAttachmentObjects}. */
export interface LocalAttachmentObjectsOptions {
  /**
   * Origin the object service is reached at (the local server's URL); a function when it is
   * known only once the server listens, or changes (the test kit's `listen()`).
   */
  readonly baseUrl: string | (() => string);
  /** Signs the URLs; the transfer handler verifies with the same signer. */
  readonly signer: ObjectSigner;
  /**
   * Most bytes a part URL admits when the caller does not give the part's size: the
   * deployment's part size (parts are that size, the last one smaller).
   */
  readonly partBytes: number;
}

/**
 * Attachment objects in `storage`, transferred through presigned URLs of the local object
 * service.
 *
 * @example
 * const signer = ObjectSigner.random();
 * const objects = new LocalAttachmentObjects(new MemoryObjectStorage(), {
 *   baseUrl: 'http://127.0.0.1:8787',
 *   signer,
 *   partBytes: 16 * 1024 * 1024,
 * });
 * const form = await objects.createForm(id, size, Date.now() + 900_000);
 */
export class LocalAttachmentObjects implements AttachmentObjects {
  private readonly storage: ObjectStorage;
  private readonly signer: ObjectSigner;
  private readonly baseUrl: () => string;
  private readonly partBytes: number;

  /** @throws {RangeError} if `partBytes` is not an integer in 1..5 GiB. */
  constructor(storage: ObjectStorage, options: LocalAttachmentObjectsOptions) {
    const { baseUrl, partBytes } = options;
    if (!Number.isSafeInteger(partBytes) || partBytes < 1 || partBytes > MAX_PART_BYTES) {
      throw new RangeError('partBytes must be an integer in 1..5 GiB');
    }
    this.storage = storage;
    this.signer = options.signer;
    this.baseUrl = typeof baseUrl === 'string' ? () => baseUrl : baseUrl;
    this.partBytes = partBytes;
  }

  async createForm(id: string, size: number, expiresAt: number): Promise<FormTarget> {
    const key = attachmentKey(id);
    checkCount('size', size);
    checkCount('expiresAt', expiresAt);
    const policy = encodePolicy({ key, size, expires: expiresAt });
    return {
      url: `${this.origin()}${OBJECTS_PATH}`,
      fields: { key, policy, signature: this.signer.signPolicy(policy) },
    };
  }

  async startMultipart(id: string): Promise<string> {
    const uploadId = randomBytes(UPLOAD_ID_BYTES).toString('base64url');
    await this.storage.createUpload(attachmentKey(id), uploadId);
    return uploadId;
  }

  /**
   * A presigned PUT of one part. The URL admits at most `size` bytes (the part's exact size;
   * the configured part size when absent). S3 admits exactly `size` (a signed
   * `content-length`); here a shorter part is stored and then refused at completion.
   *
   * @throws {RangeError} if the part number is not in 1..10,000, or a size or time is not a
   *   non-negative integer.
   */
  async presignPart(
    id: string,
    uploadId: string,
    partNumber: number,
    expiresAt: number,
    size?: number,
  ): Promise<string> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new RangeError('partNumber must be an integer in 1..10000');
    }
    if (size !== undefined) checkCount('size', size);
    checkCount('expiresAt', expiresAt);
    const grant: UrlGrant = {
      method: 'PUT',
      key: attachmentKey(id),
      uploadId,
      partNumber,
      maxBytes: size ?? this.partBytes,
      expires: expiresAt,
    };
    const query = new URLSearchParams({
      uploadId,
      partNumber: String(partNumber),
      maxBytes: String(grant.maxBytes),
      expires: String(expiresAt),
      signature: this.signer.signUrl(grant),
    });
    return `${this.origin()}${OBJECTS_PATH}/${grant.key}?${query}`;
  }

  /** The stored parts; none for an unknown or finished upload. */
  async listParts(id: string, uploadId: string): Promise<StoredPart[]> {
    return (await this.storage.listParts(attachmentKey(id), uploadId)) ?? [];
  }

  /**
   * Completes the upload as S3 does: parts in ascending order, each stored with its etag.
   *
   * @throws {ServiceError} `UPLOAD_INCOMPLETE` where S3's CompleteMultipartUpload answers
   *   `InvalidPartOrder`, `InvalidPart` or `NoSuchUpload` (as the S3 adapter translates them);
   *   nothing changed.
   */
  async completeMultipart(
    id: string,
    uploadId: string,
    parts: readonly StoredPart[],
  ): Promise<void> {
    if (parts.length === 0) throw refused('no parts');
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) {
        throw refused('parts out of order');
      }
    }
    const outcome = await this.storage.completeUpload(attachmentKey(id), uploadId, parts);
    if (outcome === 'no-such-upload') throw refused('no such upload');
    if (outcome === 'invalid-part') throw refused('a part is missing or has another etag');
  }

  async abortMultipart(id: string, uploadId: string): Promise<void> {
    await this.storage.abortUpload(attachmentKey(id), uploadId);
  }

  async size(id: string): Promise<number | undefined> {
    return this.storage.objectSize(attachmentKey(id));
  }

  async delete(id: string): Promise<void> {
    await this.storage.deleteObject(attachmentKey(id));
  }

  async presignGet(id: string, expiresAt: number): Promise<string> {
    const key = attachmentKey(id);
    checkCount('expiresAt', expiresAt);
    const signature = this.signer.signUrl({ method: 'GET', key, expires: expiresAt });
    const query = new URLSearchParams({ expires: String(expiresAt), signature });
    return `${this.origin()}${OBJECTS_PATH}/${key}?${query}`;
  }

  private origin(): string {
    return this.baseUrl().replace(/\/+$/, '');
  }
}

function refused(why: string): ServiceError {
  return new ServiceError('UPLOAD_INCOMPLETE', `the upload is not complete: ${why}`);
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer`);
  }
}
