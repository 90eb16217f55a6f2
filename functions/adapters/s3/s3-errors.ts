/**
 * Translation of S3 errors shared by the envelope and payload object stores: throttling, 5xx
 * and socket failures become {@link UnavailableError} (503, safe to retry); the answers that
 * mean "the object is not there" or "it is there already" are recognised here once.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { UnavailableError } from '../../domain/errors.ts';
import { isNetworkError } from '../network-errors.ts';

const TRANSIENT = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
]);

/**
 * The HTTP status of an S3 error, if it has one.
 *
 * @example if (s3Status(err) === 412) return; // stored by an earlier attempt
 */
export function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
}

/**
 * Rethrows `err`, as {@link UnavailableError} when it is transient (throttling, 5xx, socket).
 *
 * @throws {UnavailableError} for a transient failure; `err` itself otherwise
 * @example try { await client.send(command) } catch (err) { translateS3(err) }
 */
export function translateS3(err: unknown): never {
  if (
    (err instanceof Error && (TRANSIENT.has(err.name) || (s3Status(err) ?? 0) >= 500)) ||
    isNetworkError(err)
  ) {
    throw new UnavailableError(undefined, { cause: err });
  }
  throw err;
}

/**
 * True when a GET found no object. Without `s3:ListBucket` (the functions have none) S3 answers
 * a GET of a missing key with 403 AccessDenied, not 404 NoSuchKey; both mean "not there".
 *
 * @example if (isMissingObject(err)) return undefined;
 */
export function isMissingObject(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'NoSuchKey' || s3Status(err) === 404 || s3Status(err) === 403)
  );
}

/**
 * True when a conditional PUT (`If-None-Match: *`) found the object there already: 412 (a
 * previous attempt stored it) or 409 (a concurrent attempt is storing it right now).
 *
 * @example if (!isAlreadyStored(err)) translateS3(err);
 */
export function isAlreadyStored(err: unknown): boolean {
  const code = s3Status(err);
  return code === 412 || code === 409;
}

/**
 * Stores `body` at `key` unless an object is there already (`If-None-Match: *`): a retried send
 * cannot replace what its first attempt stored, and finding the object (412, or 409 while a
 * concurrent attempt stores it) is success. Opaque bytes, no user metadata.
 *
 * @throws {UnavailableError} on throttling or a transient S3 fault
 * @example await putIfAbsent(client, bucket, envelopeObjectKey(mailbox, position), envelope);
 */
export async function putIfAbsent(
  client: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
): Promise<void> {
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/octet-stream',
        IfNoneMatch: '*',
      }),
    );
  } catch (err) {
    if (!isAlreadyStored(err)) translateS3(err);
  }
}
