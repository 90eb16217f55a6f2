/**
 * The targets of a running upload (docs/SDK.md §Attachments): the presigned part URLs or form
 * the service handed out, renewed when they are about to expire or the store refused them,
 * and the attempts of each transfer to them. Split from upload.ts, which holds the order of
 * work.
 */
import { type Rng, randomFraction } from '../../crypto/backend.ts';
import { constantTimeEqual } from '../../util/bytes.ts';
import type { UploadStatus, UploadTarget } from '../../wire/api/schemas.ts';
import type { CallOptions } from '../call-options.ts';
import {
  AttachmentResumeMismatchError,
  InvalidResponseError,
  NetworkError,
  type TransferFailedError,
} from '../errors.ts';
import type { SealpostHttpClient } from '../http-client.ts';
import { abortableSleep, backoffMs } from '../http-retry.ts';
import type { PreparedInput } from './input.ts';
import {
  type openTransfer,
  type TransferContext,
  transferFailure,
  transferTimeoutMs,
} from './object-transfer.ts';
import type { PartReader } from './part-reader.ts';
import type { UploadRecord } from './pending-uploads.ts';
import type { Progress } from './progress.ts';

/** Attempts of one part (or form) transfer before the upload fails with the last error. */
export const PART_ATTEMPTS = 3;
/** Presigned URLs this close to their expiry (ms, service clock) are renewed before use. */
export const URL_RENEW_MARGIN_MS = 60_000;
const OPERATION = 'uploadAttachment';

/** What renewing targets and sending to them needs. */
export interface TargetContext {
  readonly http: SealpostHttpClient;
  readonly transfer: TransferContext;
  /** Backoff jitter. */
  readonly rng: Rng;
}

/** One run of an upload: its record (part hashes change as parts go out) and its targets. */
export interface Run {
  record: UploadRecord;
  readonly prepared: PreparedInput;
  readonly parts: Map<number, Uint8Array>;
  readonly call: CallOptions | undefined;
  readonly progress: Progress;
  /** Parts the store holds (a resume), by number, with their sizes. */
  uploaded: Map<number, number>;
  /** Fresh presigned part URLs by number, or the form. */
  target: { readonly form?: Extract<UploadTarget, { kind: 'form' }>; urls: Map<number, string> };
  urlsExpireAt: number;
}

/**
 * Throws when the data's part `n` differs from the part recorded earlier.
 *
 * @example verifyStored(run, 1, backend.sha256(part));
 * @throws {AttachmentResumeMismatchError} on a difference.
 */
export function verifyStored(run: Run, n: number, hash: Uint8Array): void {
  const stored = run.parts.get(n);
  if (stored && !constantTimeEqual(stored, hash)) {
    throw new AttachmentResumeMismatchError(`part ${n} differs from the part uploaded before`);
  }
}

/**
 * Sends one part (or the form) with up to {@link PART_ATTEMPTS} attempts: network failures,
 * timeouts and 5xx/408/429 answers are retried after a jittered backoff; a 403 (a presigned
 * URL or policy that expired) renews the targets from the service first.
 *
 * @example await sendWithAttempts(ctx, run, 'uploadPart', n, part.length, (ms) => putPart(ms));
 * @throws {NetworkError | TransferFailedError} the last failure; {@link AbortedError} at once.
 */
export async function sendWithAttempts(
  ctx: TargetContext,
  run: Run,
  operation: string,
  n: number,
  bytes: number,
  send: (timeoutMs: number) => ReturnType<typeof openTransfer>,
): Promise<void> {
  const signal = run.call?.signal;
  const timeoutMs = transferTimeoutMs(run.call?.timeoutMs ?? ctx.transfer.timeoutMs, bytes);
  for (let attempt = 1; ; attempt++) {
    let failure: NetworkError | TransferFailedError;
    try {
      const opened = await send(timeoutMs);
      await opened.discard();
      if (opened.response.ok) return;
      failure = transferFailure(operation, opened);
      if (opened.response.status === 403) {
        // Expired or refused: the next attempt goes out with targets issued now.
        if (attempt < PART_ATTEMPTS) await renewTargets(ctx, run);
      } else if (!failure.retryable) {
        throw failure;
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      failure = err;
    }
    if (attempt >= PART_ATTEMPTS) throw failure;
    const wait = backoffMs(attempt - 1, randomFraction(ctx.rng));
    await abortableSleep(wait, signal, `${operation} ${n}`);
  }
}

/**
 * Part `n`'s presigned URL, renewed first when missing or about to expire.
 *
 * @example const url = await partUrl(ctx, run, 2);
 * @throws {InvalidResponseError} if the service gives none for the part.
 */
export async function partUrl(ctx: TargetContext, run: Run, n: number): Promise<string> {
  if (!run.target.urls.has(n) || ctx.http.serverNow() >= run.urlsExpireAt - URL_RENEW_MARGIN_MS) {
    await renewTargets(ctx, run);
  }
  const url = run.target.urls.get(n);
  if (url === undefined) {
    throw new InvalidResponseError(`${OPERATION}: the service gave no URL for part ${n}`);
  }
  return url;
}

/**
 * Fresh targets (and the parts in place) from the service.
 *
 * @example await renewTargets(ctx, run);
 */
export async function renewTargets(ctx: TargetContext, run: Run): Promise<void> {
  useStatus(run, await ctx.http.attachmentUploadStatus(run.record.id, run.call));
}

/**
 * Takes the targets and the parts in place of a status, checked against the upload.
 *
 * @example useStatus(run, await http.attachmentUploadStatus(id));
 * @throws {InvalidResponseError} if the upload's sizes changed on the service.
 */
export function useStatus(run: Run, status: UploadStatus): void {
  const { blobSize } = run.prepared.layout;
  const shape = targetShape(status.upload, blobSize);
  if (
    status.size !== blobSize ||
    shape.kind !== run.record.kind ||
    shape.partSize !== run.record.partSize ||
    shape.partCount !== run.record.partCount
  ) {
    throw new InvalidResponseError(`${OPERATION}: the upload's shape changed on the service`);
  }
  run.uploaded = new Map(status.uploaded.map((p) => [p.partNumber, p.size]));
  run.target = {
    ...(status.upload.kind === 'form' ? { form: status.upload } : {}),
    urls: new Map(status.parts.map((p) => [p.partNumber, p.url])),
  };
  run.urlsExpireAt = status.urlsExpireAt;
}

/**
 * Stops reading the data when `signal` aborts, so an app's stream that stalls cannot hold up
 * the cancellation; returns the function that removes the listener.
 *
 * @example const release = cancelOnAbort(reader, signal); try { ... } finally { release(); }
 */
export function cancelOnAbort(reader: PartReader, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const stop = () => void reader.cancel(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  return () => signal.removeEventListener('abort', stop);
}

/**
 * The part layout of an upload target, checked against the blob size: a form holds the whole
 * blob as its one part; multipart parts of `partSize` cover it exactly, the last holding the
 * rest.
 *
 * @example targetShape({ kind: 'multipart', partSize: 16, partCount: 2 }, 20) // { kind: 'multipart', partSize: 16, partCount: 2 }
 * @throws {InvalidResponseError} if the parts do not cover the blob.
 */
export function targetShape(
  upload: UploadTarget,
  blobSize: number,
): Pick<UploadRecord, 'kind' | 'partSize' | 'partCount'> {
  if (upload.kind === 'form') return { kind: 'form', partSize: blobSize, partCount: 1 };
  const { partSize, partCount } = upload;
  if (partSize * (partCount - 1) >= blobSize || partSize * partCount < blobSize) {
    throw new InvalidResponseError(`${OPERATION}: the parts do not cover the blob`);
  }
  return { kind: 'multipart', partSize, partCount };
}
