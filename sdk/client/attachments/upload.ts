/**
 * Uploading an attachment (docs/SDK.md §Attachments): a fresh key, the file encrypted as it is
 * read (sdk/attachments), the blob sent straight to the object store through presigned targets
 * (the service never handles its bytes), then completed. A blob at most the deployment's
 * multipart threshold goes in one form POST; a larger one part by part, one part in memory at
 * a time, each retried on its own. The upload's state is in the client's store while it runs,
 * so a restarted app can resume it: the encryption is deterministic given key and data, so the
 * same data encrypts to the same parts, which the stored part hashes prove.
 */
import {
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_KEY_BYTES,
  encryptAttachment,
} from '../../attachments/index.ts';
import type { CryptoBackend, Rng } from '../../crypto/backend.ts';
import { StateCorruptError } from '../../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../../util/argument-errors.ts';
import type { UploadTarget } from '../../wire/api/schemas.ts';
import type { CallOptions } from '../call-options.ts';
import { callOf } from '../client-options.ts';
import {
  AbortedError,
  ApiError,
  AttachmentResumeMismatchError,
  InvalidResponseError,
} from '../errors.ts';
import type { SealpostHttpClient } from '../http-client.ts';
import { type PreparedInput, prepareInput } from './input.ts';
import { openTransfer, type TransferContext } from './object-transfer.ts';
import { PartReader } from './part-reader.ts';
import type { PendingUploads, UploadRecord } from './pending-uploads.ts';
import { Progress } from './progress.ts';
import { blobStored } from './stored-blob.ts';
import type { AttachmentInput, UploadedAttachment, UploadOptions } from './types.ts';
import {
  cancelOnAbort,
  partUrl,
  type Run,
  sendWithAttempts,
  targetShape,
  useStatus,
  verifyStored,
} from './upload-targets.ts';

export { PART_ATTEMPTS, URL_RENEW_MARGIN_MS } from './upload-targets.ts';

/** Bound of the best-effort `abortAttachment` after a cancelled upload (ms). */
export const ABORT_TIMEOUT_MS = 5_000;

const OPERATION = 'uploadAttachment';

/** What an uploader works with. */
export interface UploaderContext {
  readonly http: SealpostHttpClient;
  readonly transfer: TransferContext;
  readonly pending: PendingUploads;
  readonly backend: CryptoBackend;
  readonly rng: Rng;
  /** The local clock, for the record's creation time. */
  readonly now: () => number;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'NOT_FOUND';
}

/** Uploads attachments of one client. */
export class AttachmentUploader {
  constructor(private readonly ctx: UploaderContext) {}

  /**
   * Uploads `input`, or resumes the pending upload `options.resume` with it, and returns the
   * pointer a message carries.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} for a bad input or option (before any
   *   request), or a `resume` that names no pending upload.
   * @throws {AttachmentResumeMismatchError} if resumed with other data.
   * @throws {AbortedError} when `signal` aborts: the upload is abandoned and forgotten.
   * @throws {ApiError | NetworkError | TransferFailedError} when the service or the object store
   *   fails; the upload stays pending, to resume.
   */
  upload(input: AttachmentInput, options: UploadOptions = {}): Promise<UploadedAttachment> {
    let prepared: PreparedInput;
    try {
      prepared = prepareInput(input);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.uploadPrepared(prepared, options);
  }

  /** {@link upload} of an input already checked by `prepareInput`. */
  async uploadPrepared(
    prepared: PreparedInput,
    options: UploadOptions = {},
  ): Promise<UploadedAttachment> {
    const progress = new Progress(prepared.layout.blobSize, options.onProgress);
    if (options.resume !== undefined && typeof options.resume !== 'string') {
      throw new ArgumentTypeError('resume must be a resumeId string');
    }
    const call = callOf(options);
    const signal = call?.signal;
    if (signal?.aborted) throw new AbortedError(OPERATION, signal.reason);
    const resuming = options.resume !== undefined;
    const record = resuming
      ? await this.load(options.resume as string, prepared)
      : await this.start(prepared, call);
    try {
      return await this.run(record, prepared, progress, call, resuming);
    } catch (err) {
      if (err instanceof AbortedError || signal?.aborted) {
        await this.abandon(record.id);
        throw err instanceof AbortedError ? err : new AbortedError(OPERATION, signal?.reason);
      }
      throw err;
    }
  }

  /**
   * Abandons the pending upload `resumeId` on the service and forgets it. Resolves false when
   * no such upload is pending here (nothing is sent).
   *
   * @throws {ApiError | NetworkError} if the service could not be told: the upload stays
   *   pending, so this can be called again.
   */
  async discard(resumeId: string, call?: CallOptions): Promise<boolean> {
    if (typeof resumeId !== 'string') throw new ArgumentTypeError('resumeId must be a string');
    const known = await this.ctx.pending.get(resumeId).then(
      (r) => r !== undefined,
      (err: unknown) => {
        // A record that does not decode is still discarded; any other failure is the caller's.
        if (err instanceof StateCorruptError) return true;
        throw err;
      },
    );
    if (!known) return false;
    await this.ctx.http.abortAttachment(resumeId, call);
    await this.ctx.pending.remove(resumeId);
    return true;
  }

  private async start(prepared: PreparedInput, call: CallOptions | undefined) {
    const { blobSize } = prepared.layout;
    const created = await this.ctx.http.createAttachment({ size: blobSize }, call);
    if (created.size !== blobSize) {
      throw new InvalidResponseError(`${OPERATION}: the service created a blob of another size`);
    }
    const shape = targetShape(created.upload, blobSize);
    const record: UploadRecord = {
      id: created.id,
      key: this.ctx.rng(ATTACHMENT_KEY_BYTES),
      size: prepared.size,
      meta: prepared.meta,
      createdAt: this.ctx.now(),
      expiresAt: created.expiresAt,
      ...shape,
      parts: new Map(),
    };
    try {
      await this.ctx.pending.put(record);
    } catch (err) {
      await this.abandon(record.id);
      throw err;
    }
    return { ...record, form: created.upload.kind === 'form' ? created.upload : undefined };
  }

  private async load(resumeId: string, prepared: PreparedInput) {
    const record = await this.ctx.pending.get(resumeId);
    if (!record) throw new ArgumentRangeError('resume names no pending upload');
    if (record.size !== prepared.size) {
      throw new AttachmentResumeMismatchError(
        'the data has another size than the upload being resumed',
      );
    }
    // The blob depends on key and data only; the metadata given now is what the pointer says.
    return { ...record, meta: prepared.meta, form: undefined };
  }

  private async run(
    loaded: UploadRecord & { form: Extract<UploadTarget, { kind: 'form' }> | undefined },
    prepared: PreparedInput,
    progress: Progress,
    call: CallOptions | undefined,
    resuming: boolean,
  ): Promise<UploadedAttachment> {
    const { form, ...record } = loaded;
    const run: Run = {
      record,
      prepared,
      parts: new Map(record.parts),
      call,
      progress,
      uploaded: new Map(),
      target: { ...(form ? { form } : {}), urls: new Map() },
      urlsExpireAt: Number.POSITIVE_INFINITY,
    };
    if (resuming || record.kind === 'multipart') {
      try {
        useStatus(run, await this.ctx.http.attachmentUploadStatus(record.id, call));
      } catch (err) {
        // A resumed upload the service no longer knows: completed before the app stopped (its
        // state not yet removed), or expired.
        if (resuming && isNotFound(err)) return this.finishedEarlier(run, err);
        throw err;
      }
    }
    const encrypted = encryptAttachment(prepared.open(), {
      key: record.key,
      size: prepared.size,
      backend: this.ctx.backend,
    });
    const reader = new PartReader(encrypted.blob, prepared.layout.blobSize);
    const release = cancelOnAbort(reader, call?.signal);
    try {
      const header =
        record.kind === 'form'
          ? await this.sendForm(run, reader)
          : await this.sendParts(run, reader);
      await reader.finish();
      const digest = await encrypted.digest;
      await this.complete(run, header);
      await this.ctx.pending.remove(record.id);
      progress.end();
      return this.pointer(run, digest);
    } catch (err) {
      await reader.cancel(err);
      throw err;
    } finally {
      release();
    }
  }

  /** The blob in one form POST (at most the multipart threshold, so it fits in memory). */
  private async sendForm(run: Run, reader: PartReader): Promise<Uint8Array> {
    const { blobSize } = run.prepared.layout;
    const blob = await reader.next(blobSize);
    const hash = this.ctx.backend.sha256(blob);
    verifyStored(run, 1, hash);
    // A form can always be posted again, so an object in place is skipped only when proven.
    if (!(run.parts.has(1) && run.uploaded.get(1) === blobSize)) {
      await this.remember(run, 1, hash);
      await sendWithAttempts(this.ctx, run, 'uploadForm', 1, blobSize, async (timeoutMs) => {
        const form = run.target.form;
        if (!form) throw new InvalidResponseError(`${OPERATION}: no form to upload with`);
        const body = new FormData();
        // S3 reads the policy fields first; `file` must be the last field.
        for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
        body.append('file', new Blob([blob]));
        return openTransfer(
          this.ctx.transfer,
          form.url,
          { method: 'POST', body },
          {
            operation: 'uploadForm',
            timeoutMs,
            signal: run.call?.signal,
          },
        );
      });
    }
    run.progress.advance(blobSize);
    return blob.slice(0, ATTACHMENT_HEADER_BYTES);
  }

  /**
   * The blob part by part, in order. Each part's hash is stored before the part is sent
   * (write-ahead), so a part the store holds always has its hash, and the hashes stored are
   * always the first parts: a resume checks every one of them before it sends anything.
   */
  private async sendParts(run: Run, reader: PartReader): Promise<Uint8Array> {
    const { partSize, partCount } = run.record;
    const { blobSize } = run.prepared.layout;
    let header: Uint8Array | undefined;
    for (let n = 1; n <= partCount; n++) {
      const length = n < partCount ? partSize : blobSize - partSize * (partCount - 1);
      const part = await reader.next(length);
      header ??= part.slice(0, ATTACHMENT_HEADER_BYTES);
      const hash = this.ctx.backend.sha256(part);
      verifyStored(run, n, hash);
      const inStore = run.uploaded.get(n) === length;
      if (inStore && !run.parts.has(n)) {
        // Not written by this SDK's order of work: nothing proves the part is this data's.
        throw new AttachmentResumeMismatchError(
          `part ${n} is in place but its hash was never recorded`,
        );
      }
      if (!inStore) {
        await this.remember(run, n, hash);
        await sendWithAttempts(this.ctx, run, 'uploadPart', n, length, async (timeoutMs) => {
          const url = await partUrl(this.ctx, run, n);
          return openTransfer(
            this.ctx.transfer,
            url,
            { method: 'PUT', body: part },
            {
              operation: 'uploadPart',
              timeoutMs,
              signal: run.call?.signal,
            },
          );
        });
      }
      run.progress.advance(length);
    }
    if (!header) throw new InvalidResponseError(`${OPERATION}: a multipart upload without parts`);
    return header;
  }

  private async remember(run: Run, n: number, hash: Uint8Array): Promise<void> {
    if (run.parts.has(n)) return;
    run.parts.set(n, hash);
    run.record = { ...run.record, parts: run.parts };
    await this.ctx.pending.put(run.record);
  }

  /**
   * Completes the upload. `NOT_FOUND` means the service no longer has the session: an earlier
   * attempt of this request completed it and its answer was lost (the HTTP client retried), or
   * it expired. The blob's header, read back by a ranged GET, tells which.
   */
  private async complete(run: Run, header: Uint8Array): Promise<void> {
    try {
      await this.ctx.http.completeAttachment(run.record.id, run.call);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const stored = await blobStored(
        this.ctx.http,
        this.ctx.transfer,
        run.record.id,
        { header, blobSize: run.prepared.layout.blobSize },
        run.call,
      );
      if (!stored) throw err;
    }
  }

  /**
   * A resumed upload the service no longer knows: if the blob is in the store under this key
   * and the data encrypts to every recorded part, the upload had completed and only the state
   * was left; otherwise it expired, and the state is dropped.
   */
  private async finishedEarlier(run: Run, notFound: unknown): Promise<UploadedAttachment> {
    const { prepared, record } = run;
    const { blobSize } = prepared.layout;
    const encrypted = encryptAttachment(prepared.open(), {
      key: record.key,
      size: prepared.size,
      backend: this.ctx.backend,
    });
    const reader = new PartReader(encrypted.blob, blobSize);
    const release = cancelOnAbort(reader, run.call?.signal);
    try {
      let header: Uint8Array | undefined;
      for (let n = 1; n <= record.partCount; n++) {
        const length =
          n < record.partCount
            ? record.partSize
            : blobSize - record.partSize * (record.partCount - 1);
        const part = await reader.next(length);
        if (!header) {
          header = part.slice(0, ATTACHMENT_HEADER_BYTES);
          const stored = await blobStored(
            this.ctx.http,
            this.ctx.transfer,
            record.id,
            { header, blobSize },
            run.call,
          );
          if (!stored) {
            await this.ctx.pending.remove(record.id);
            throw notFound;
          }
        }
        const hash = this.ctx.backend.sha256(part);
        if (!run.parts.has(n)) {
          throw new AttachmentResumeMismatchError(
            `part ${n} of the stored blob was never recorded`,
          );
        }
        verifyStored(run, n, hash);
        run.progress.advance(length);
      }
      await reader.finish();
      const digest = await encrypted.digest;
      await this.ctx.pending.remove(record.id);
      run.progress.end();
      return this.pointer(run, digest);
    } catch (err) {
      await reader.cancel(err);
      throw err;
    } finally {
      release();
    }
  }

  private pointer(run: Run, digest: Uint8Array): UploadedAttachment {
    return {
      ...run.prepared.meta,
      id: run.record.id,
      key: run.record.key,
      digest,
      size: run.prepared.size,
    };
  }

  /** Best effort: tells the service to drop the upload (bounded wait) and forgets it. */
  private async abandon(id: string): Promise<void> {
    await this.ctx.http.abortAttachment(id, { timeoutMs: ABORT_TIMEOUT_MS }).catch(() => undefined);
    await this.ctx.pending.remove(id).catch(() => undefined);
  }
}
