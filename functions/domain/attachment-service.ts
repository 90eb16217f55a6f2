/**
 * Attachment transfer (docs/SERVICE.md §7.6). Clients encrypt an attachment into an opaque,
 * padded blob and upload it straight to the object store through presigned targets: one form
 * (POST) up to the multipart threshold, a multipart upload of fixed-size parts above it. The
 * service never touches the bytes. It counts each upload against the account's upload rate,
 * its bytes per day and its storage quota over the retention period, keeps an upload session
 * (account, declared size, multipart upload id) while the upload runs, checks every part's size
 * before completing, and then forgets the session: nothing links a stored attachment to an
 * account. Downloads are presigned GETs of `attachments/<id>` for anyone who knows the id; the
 * blob is authenticated by the digest in the (end-to-end encrypted) pointer, not by the server.
 * Nothing is logged here: the request log line names the route template only.
 */
import type {
  AttachmentAborted,
  AttachmentCompleted,
  AttachmentCreated,
  AttachmentDownload,
  UploadStatus,
} from 'sealpost/wire/api';
import { ATTACHMENT_ID_BYTES, MAX_ATTACHMENT_PARTS, toBase64Url } from 'sealpost/wire/api';
import type { AttachmentPorts, FormTarget, StoredPart, UploadSession } from './attachment-ports.ts';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { ServiceError } from './errors.ts';
import type { Random } from './mailbox-positions.ts';
import type { Clock, RateLimiter } from './ports.ts';
import { assertNotSuspended } from './suspension-service.ts';

const MIB = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/** An attachment id as the route table checks it: base64url of 16 bytes, 22 characters. */
const ATTACHMENT_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** The part of the service config attachments read. */
export type AttachmentConfig = Pick<
  ServiceConfig,
  | 'messageTtlMs'
  | 'attachmentMaxBytes'
  | 'attachmentMultipartBytes'
  | 'attachmentPartSize'
  | 'attachmentUploadTtlMs'
  | 'attachmentDownloadTtlMs'
  | 'attachmentSessionTtlMs'
  | 'attachmentUploadRateLimit'
  | 'attachmentBytesPerDay'
  | 'attachmentStorageQuota'
>;

/** How a multipart upload of `size` bytes is cut: `partCount` parts of `partSize`, the last the rest. */
export interface MultipartPlan {
  readonly partSize: number;
  readonly partCount: number;
}

/**
 * The parts of a multipart upload of `size` bytes: `partSize` as configured, raised to a whole
 * number of MiB when `size` would otherwise need more than `MAX_ATTACHMENT_PARTS` parts.
 *
 * @example multipartPlan(100 * 2 ** 20, 16 * 2 ** 20) // { partSize: 16 MiB, partCount: 7 }
 * @throws {RangeError} if `size` or `partSize` is not a positive safe integer.
 */
export function multipartPlan(size: number, partSize: number): MultipartPlan {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('size must be positive');
  if (!Number.isSafeInteger(partSize) || partSize < 1) {
    throw new RangeError('partSize must be positive');
  }
  const raised =
    Math.ceil(size / partSize) > MAX_ATTACHMENT_PARTS
      ? Math.ceil(size / MAX_ATTACHMENT_PARTS / MIB) * MIB
      : partSize;
  return { partSize: raised, partCount: Math.ceil(size / raised) };
}

/**
 * The exact size of part `partNumber` (1-based) of `plan` for a blob of `size` bytes.
 *
 * @example partBytes({ partSize: 10, partCount: 3 }, 25, 3) // 5
 */
export function partBytes(plan: MultipartPlan, size: number, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : size - (plan.partCount - 1) * plan.partSize;
}

const notConfigured = () =>
  new ServiceError('NOT_CONFIGURED', 'attachments are not configured on this deployment');
const notFound = () => new ServiceError('NOT_FOUND', 'no such upload');
const incomplete = (why: string) =>
  new ServiceError('UPLOAD_INCOMPLETE', `the upload is not complete: ${why}`);

/**
 * Uploads and downloads of attachment blobs.
 *
 * @example
 * const attachments = new AttachmentService(ports, limiter, Date.now, DEFAULT_CONFIG, randomBytes);
 * const created = await attachments.create(caller, blobSize);
 * // ...the client uploads to created.upload...
 * await attachments.complete(caller, created.id);
 */
export class AttachmentService {
  constructor(
    private readonly ports: AttachmentPorts | undefined,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: AttachmentConfig,
    private readonly random: Random,
  ) {}

  /** True when this deployment stores attachments. */
  get enabled(): boolean {
    return this.ports !== undefined;
  }

  /**
   * Starts an upload of a blob of `size` bytes for the caller's account: checks the size, the
   * account's upload rate and its quota (reserving the bytes), draws a random id, and answers
   * a presigned form (up to the multipart threshold) or a multipart plan (part URLs come from
   * {@link status}).
   *
   * @example await attachments.create(caller, 1_074) // { id, size, expiresAt, upload: { kind: 'form', ... } }
   * @throws {ServiceError} `ATTACHMENT_TOO_LARGE`, `RATE_LIMITED`, `QUOTA_EXCEEDED`,
   *   `NOT_CONFIGURED`; `BAD_REQUEST` if `size` is not a positive integer.
   */
  async create(caller: Caller, size: number): Promise<AttachmentCreated> {
    const ports = this.required();
    assertNotSuspended(caller.view.account);
    const c = this.config;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new ServiceError('BAD_REQUEST', 'size must be a positive integer');
    }
    if (size > c.attachmentMaxBytes) {
      throw new ServiceError(
        'ATTACHMENT_TOO_LARGE',
        `an attachment blob may have at most ${c.attachmentMaxBytes} bytes on this deployment`,
      );
    }
    const now = this.clock();
    const { limit, windowMs } = c.attachmentUploadRateLimit;
    if (!(await this.limiter.hit(`attach:${caller.address}`, limit, windowMs, now))) {
      throw new ServiceError('RATE_LIMITED', 'too many attachment uploads; retry later');
    }
    const limits = {
      maxBytes: c.attachmentStorageQuota,
      maxBytesPerDay: c.attachmentBytesPerDay,
      retentionDays: this.retentionDays(),
    };
    const verdict = await ports.quota.reserve(caller.address, size, limits, now);
    if (verdict === 'quota') {
      throw new ServiceError(
        'QUOTA_EXCEEDED',
        'the attachment storage quota is used up; retry when older uploads expire',
      );
    }
    if (verdict === 'daily') {
      throw new ServiceError('QUOTA_EXCEEDED', 'the attachment bytes of today are used up');
    }

    const id = toBase64Url(this.random(ATTACHMENT_ID_BYTES));
    const expiresAt = now + c.attachmentSessionTtlMs;
    const session: UploadSession = { id, account: caller.address, size, createdAt: now, expiresAt };
    let uploadId: string | undefined;
    try {
      if (size <= c.attachmentMultipartBytes) {
        const form = await ports.objects.createForm(id, size, this.urlsExpireAt(now, expiresAt));
        await ports.sessions.put(session);
        return { id, size, expiresAt, upload: formUpload(form) };
      }
      const plan = multipartPlan(size, c.attachmentPartSize);
      uploadId = await ports.objects.startMultipart(id);
      await ports.sessions.put({ ...session, uploadId, partSize: plan.partSize });
      return { id, size, expiresAt, upload: { kind: 'multipart', ...plan } };
    } catch (err) {
      // The client never learns this id, so nothing can be uploaded under it: give the bytes
      // back and drop the store's upload (best effort; the bucket's lifecycle aborts leftovers).
      const started = uploadId;
      await Promise.allSettled([
        ports.quota.release(caller.address, size, now),
        ...(started === undefined ? [] : [ports.objects.abortMultipart(id, started)]),
      ]);
      throw err;
    }
  }

  /**
   * Where an upload of the caller's account stands: the parts (or the form's object) the store
   * holds, and fresh presigned targets for everything still missing or of the wrong size.
   *
   * @example await attachments.status(caller, id) // { uploaded: [{ partNumber: 1, size }], parts: [...] }
   * @throws {ServiceError} `NOT_FOUND` (unknown, expired, completed, or another account's),
   *   `NOT_CONFIGURED`.
   */
  async status(caller: Caller, id: string): Promise<UploadStatus> {
    const ports = this.required();
    const now = this.clock();
    const session = await this.session(ports, caller, id, now);
    const urlsExpireAt = this.urlsExpireAt(now, session.expiresAt);
    const head = { id, size: session.size, expiresAt: session.expiresAt, urlsExpireAt };
    if (session.uploadId === undefined) {
      const [form, stored] = await Promise.all([
        ports.objects.createForm(id, session.size, urlsExpireAt),
        ports.objects.size(id),
      ]);
      const uploaded = stored === undefined ? [] : [{ partNumber: 1, size: stored }];
      return { ...head, upload: formUpload(form), uploaded, parts: [] };
    }
    const uploadId = session.uploadId;
    const plan = planOf(session);
    const stored = inPlan(await ports.objects.listParts(id, uploadId), plan);
    const missing: number[] = [];
    for (let n = 1; n <= plan.partCount; n++) {
      if (stored.get(n)?.size !== partBytes(plan, session.size, n)) missing.push(n);
    }
    const parts = await Promise.all(
      missing.map(async (partNumber) => ({
        partNumber,
        url: await ports.objects.presignPart(
          id,
          uploadId,
          partNumber,
          urlsExpireAt,
          partBytes(plan, session.size, partNumber),
        ),
      })),
    );
    return {
      ...head,
      upload: { kind: 'multipart', ...plan },
      uploaded: [...stored.values()].map((p) => ({ partNumber: p.partNumber, size: p.size })),
      parts,
    };
  }

  /**
   * Completes an upload of the caller's account after checking it exactly: a form's object
   * must have the declared size; a multipart upload must hold every part 1..partCount with
   * its exact size (`partSize`, the last the rest) adding up to the declared size. Then the
   * session is deleted, so nothing links the attachment to the account any more. A repeat
   * after the session is gone answers `NOT_FOUND`; a repeat while it remains (the first
   * attempt completed the object but failed before deleting it) succeeds.
   *
   * @example await attachments.complete(caller, id) // { id, size }
   * @throws {ServiceError} `UPLOAD_INCOMPLETE`, `NOT_FOUND`, `NOT_CONFIGURED`.
   */
  async complete(caller: Caller, id: string): Promise<AttachmentCompleted> {
    const ports = this.required();
    const session = await this.session(ports, caller, id, this.clock());
    if (session.uploadId === undefined) {
      const stored = await ports.objects.size(id);
      if (stored === undefined) throw incomplete('nothing was uploaded');
      if (stored !== session.size) throw incomplete('the object has another size than declared');
    } else {
      await this.completeMultipart(ports, session, session.uploadId);
    }
    await ports.sessions.delete(id);
    return { id, size: session.size };
  }

  /**
   * Abandons an unfinished upload of the caller's account: aborts the multipart upload (or
   * deletes a form's object), deletes the session, and gives its bytes back to the quota.
   * Anything else (unknown, completed, another account's) answers `removed: false`.
   *
   * @example await attachments.abort(caller, id) // { removed: true }
   * @throws {ServiceError} `NOT_CONFIGURED`.
   */
  async abort(caller: Caller, id: string): Promise<AttachmentAborted> {
    const ports = this.required();
    checkId(id);
    const session = await ports.sessions.get(id, this.clock());
    if (!session || session.account !== caller.address) return { removed: false };
    if (session.uploadId !== undefined) await ports.objects.abortMultipart(id, session.uploadId);
    else await ports.objects.delete(id);
    // Only the call that removed the session gives the bytes back: a retry cannot release twice.
    if (!(await ports.sessions.delete(id))) return { removed: false };
    await ports.quota.release(caller.address, session.size, session.createdAt);
    return { removed: true };
  }

  /**
   * A presigned download of the blob `id`, valid for the download lifetime. No account, no
   * lookup: the server learns nothing about who fetches, and the store answers 404 for an id
   * that never completed or has expired.
   *
   * @example await attachments.download(id) // { url: 'https://…/attachments/<id>?X-Amz-…', expiresAt }
   * @throws {ServiceError} `NOT_CONFIGURED`; `BAD_REQUEST` for a malformed id.
   */
  async download(id: string): Promise<AttachmentDownload> {
    const ports = this.required();
    checkId(id);
    const expiresAt = this.clock() + this.config.attachmentDownloadTtlMs;
    return { url: await ports.objects.presignGet(id, expiresAt), expiresAt };
  }

  private async completeMultipart(
    ports: AttachmentPorts,
    session: UploadSession,
    uploadId: string,
  ): Promise<void> {
    const { id, size } = session;
    const plan = planOf(session);
    const stored = inPlan(await ports.objects.listParts(id, uploadId), plan);
    const parts: StoredPart[] = [];
    let problem: string | undefined;
    for (let n = 1; n <= plan.partCount && problem === undefined; n++) {
      const part = stored.get(n);
      if (part === undefined) problem = `part ${n} is missing`;
      else if (part.size !== partBytes(plan, size, n)) problem = `part ${n} has the wrong size`;
      else parts.push(part);
    }
    if (problem === undefined && parts.reduce((sum, p) => sum + p.size, 0) !== size) {
      problem = 'the parts do not add up to the declared size';
    }
    try {
      if (problem !== undefined) throw incomplete(problem);
      await ports.objects.completeMultipart(id, uploadId, parts);
    } catch (err) {
      // The store forgets a multipart upload once it completes: a retry of a complete that
      // finished the object (and failed before deleting the session) finds no parts but the
      // object, whole.
      if (isIncomplete(err) && (await ports.objects.size(id)) === size) return;
      throw err;
    }
  }

  private async session(
    ports: AttachmentPorts,
    caller: Caller,
    id: string,
    now: number,
  ): Promise<UploadSession> {
    checkId(id);
    const session = await ports.sessions.get(id, now);
    // Another account's upload is indistinguishable from none.
    if (!session || session.account !== caller.address) throw notFound();
    return session;
  }

  /** Presigned upload targets never outlive the session they belong to. */
  private urlsExpireAt(now: number, sessionExpiresAt: number): number {
    return Math.min(now + this.config.attachmentUploadTtlMs, sessionExpiresAt);
  }

  /** The quota's period: the message lifetime in whole days (a pointer travels in a message). */
  private retentionDays(): number {
    return Math.max(1, Math.ceil(this.config.messageTtlMs / DAY_MS));
  }

  private required(): AttachmentPorts {
    if (!this.ports) throw notConfigured();
    return this.ports;
  }
}

function checkId(id: string): void {
  if (!ATTACHMENT_ID.test(id)) throw new ServiceError('BAD_REQUEST', 'invalid attachment id');
}

function formUpload(form: FormTarget): AttachmentCreated['upload'] {
  return { kind: 'form', url: form.url, fields: { ...form.fields } };
}

function planOf(session: UploadSession): MultipartPlan {
  const partSize = session.partSize;
  if (partSize === undefined) throw new Error('multipart session without a part size');
  return { partSize, partCount: Math.ceil(session.size / partSize) };
}

/** The stored parts that belong to `plan`, by part number. */
function inPlan(parts: readonly StoredPart[], plan: MultipartPlan): Map<number, StoredPart> {
  const byNumber = new Map<number, StoredPart>();
  for (const p of parts) {
    if (p.partNumber >= 1 && p.partNumber <= plan.partCount) byNumber.set(p.partNumber, p);
  }
  return byNumber;
}

function isIncomplete(err: unknown): boolean {
  return err instanceof ServiceError && err.code === 'UPLOAD_INCOMPLETE';
}
