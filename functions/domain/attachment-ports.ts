/**
 * Ports of attachment transfer (docs/SERVICE.md §7.6). The service never touches an
 * attachment's bytes: it hands out presigned targets on the object store, checks sizes before
 * completing a multipart upload, and keeps an upload session only while the upload runs. What
 * it stores is opaque: an object named by a random id under the attachment prefix, with no
 * content type, file name or plaintext size.
 */

/** A presigned browser-style POST: the client sends `fields`, then the blob as `file`. */
export interface FormTarget {
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** One part already stored by a multipart upload. */
export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  /** The store's entity tag of the part, needed to complete the upload. */
  readonly etag: string;
}

/**
 * Where attachment blobs live: S3 on AWS; an in-process object service locally and in the test
 * kit (functions/adapters/local-objects). Every URL it returns is presigned, expires at the
 * given time, and names exactly one object (and, for parts, one upload and part number).
 */
export interface AttachmentObjects {
  /**
   * A POST target for the object `id` that the store accepts only until `expiresAt` and only
   * with a body of exactly `size` bytes (S3: a policy with `content-length-range` and the
   * exact key). No content type or metadata may be set by the uploader.
   */
  createForm(id: string, size: number, expiresAt: number): Promise<FormTarget>;
  /** Starts a multipart upload of the object `id`; returns the store's upload id. */
  startMultipart(id: string): Promise<string>;
  /**
   * A presigned PUT of part `partNumber` of `uploadId`, valid until `expiresAt`, for a body of
   * exactly `size` bytes (S3: `content-length` is a signed header, so another length fails the
   * signature).
   */
  presignPart(
    id: string,
    uploadId: string,
    partNumber: number,
    expiresAt: number,
    size: number,
  ): Promise<string>;
  /**
   * The parts stored so far (S3 ListParts), in part-number order. An upload that no longer
   * exists (completed or aborted) has none: `[]`.
   */
  listParts(id: string, uploadId: string): Promise<StoredPart[]>;
  /**
   * Completes the multipart upload from `parts` (checked by the caller). A store that refuses
   * the parts (S3: `InvalidPart`, `EntityTooSmall`, `NoSuchUpload`) answers a `ServiceError`
   * with code `UPLOAD_INCOMPLETE`.
   */
  completeMultipart(id: string, uploadId: string, parts: readonly StoredPart[]): Promise<void>;
  /** Abandons a multipart upload; an unknown or finished one is ignored. */
  abortMultipart(id: string, uploadId: string): Promise<void>;
  /** The stored object's size, or undefined if there is none. */
  size(id: string): Promise<number | undefined>;
  /** Deletes the object; a missing one is ignored. */
  delete(id: string): Promise<void>;
  /** A presigned GET of the object, valid until `expiresAt`. Does not check that it exists. */
  presignGet(id: string, expiresAt: number): Promise<string>;
}

/** An upload in progress, kept only until it completes or `expiresAt` (a day by default). */
export interface UploadSession {
  /** The attachment id (base64url of 16 random bytes). */
  readonly id: string;
  /** The uploading account: only it may resume, complete or abort. Forgotten on completion. */
  readonly account: string;
  /** The declared blob size in bytes. */
  readonly size: number;
  /** Store upload id for a multipart upload; absent for a form upload. */
  readonly uploadId?: string;
  /** Part size of a multipart upload. */
  readonly partSize?: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Upload sessions by attachment id. */
export interface UploadSessionStore {
  /** Stores a new session (ids are random; an existing one is an error). */
  put(session: UploadSession): Promise<void>;
  /** The session, or undefined if unknown or expired at `now`. */
  get(id: string, now: number): Promise<UploadSession | undefined>;
  /** Removes the session; true if one existed. */
  delete(id: string): Promise<boolean>;
}

/**
 * Per-account attachment storage accounting: the bytes an account uploaded within the
 * retention period, counted per UTC day so that nothing finer than a day is kept.
 */
export interface AttachmentQuota {
  /**
   * Adds `bytes` to `account`'s day of `now` unless the bytes of the last `retentionDays`
   * days plus `bytes` would pass `maxBytes`, or the bytes of that day would pass
   * `maxBytesPerDay`. Atomic against concurrent reservations of the same account.
   */
  reserve(
    account: string,
    bytes: number,
    limits: QuotaLimits,
    now: number,
  ): Promise<'ok' | 'quota' | 'daily'>;
  /** Gives back `bytes` reserved on the day of `reservedAt` (an upload abandoned unfinished). */
  release(account: string, bytes: number, reservedAt: number): Promise<void>;
}

/** Every port of attachment transfer. */
export interface AttachmentPorts {
  readonly objects: AttachmentObjects;
  readonly sessions: UploadSessionStore;
  readonly quota: AttachmentQuota;
}

/** Limits of {@link AttachmentQuota.reserve}. */
export interface QuotaLimits {
  /** Bytes over the last `retentionDays` UTC days (today included). */
  readonly maxBytes: number;
  /** Bytes of one UTC day. */
  readonly maxBytesPerDay: number;
  readonly retentionDays: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The UTC day number of a time (days since the epoch): the finest time the quota keeps.
 *
 * @example utcDay(Date.UTC(2026, 0, 2, 13)) // 20455
 */
export const utcDay = (ms: number): number => Math.floor(ms / DAY_MS);

/**
 * The quota's rule, shared by every adapter: drops days older than the retention period, then
 * adds `bytes` to the day of `now` if neither limit would be passed. Returns the verdict and
 * the days to store (unchanged on a refusal, apart from the pruning).
 *
 * @example reserveDays(new Map(), 10, { maxBytes: 100, maxBytesPerDay: 50, retentionDays: 30 }, now)
 *   // { verdict: 'ok', days: Map { <today> => 10 } }
 */
export function reserveDays(
  days: ReadonlyMap<number, number>,
  bytes: number,
  limits: QuotaLimits,
  now: number,
): { verdict: 'ok' | 'quota' | 'daily'; days: Map<number, number> } {
  const today = utcDay(now);
  const oldest = today - limits.retentionDays + 1;
  const kept = new Map([...days].filter(([day, n]) => day >= oldest && n > 0));
  const total = [...kept.values()].reduce((sum, n) => sum + n, 0);
  const ofToday = kept.get(today) ?? 0;
  if (total + bytes > limits.maxBytes) return { verdict: 'quota', days: kept };
  if (ofToday + bytes > limits.maxBytesPerDay) return { verdict: 'daily', days: kept };
  kept.set(today, ofToday + bytes);
  return { verdict: 'ok', days: kept };
}

/**
 * Gives `bytes` back to the day of `reservedAt` (never below zero; a day no longer kept stays
 * gone). Returns the days to store.
 *
 * @example releaseDays(new Map([[20455, 10]]), 4, Date.UTC(2026, 0, 2)) // Map { 20455 => 6 }
 */
export function releaseDays(
  days: ReadonlyMap<number, number>,
  bytes: number,
  reservedAt: number,
): Map<number, number> {
  const day = utcDay(reservedAt);
  const next = new Map(days);
  const held = next.get(day);
  if (held === undefined) return next;
  if (held - bytes > 0) next.set(day, held - bytes);
  else next.delete(day);
  return next;
}
