/**
 * Downloading an attachment (docs/SDK.md §Attachments): a presigned GET from the service
 * (unsigned: the service does not learn who fetches), the blob from the object store through
 * the client's `fetch`, decrypted and verified as it arrives (sdk/attachments), so the app's
 * stream yields only bytes that verified and errors instead of ending when anything is wrong.
 */
import {
  type AttachmentPointer,
  decryptAttachment,
  encodeAttachmentPointer,
} from '../../attachments/index.ts';
import { type CryptoBackend, type Rng, randomFraction } from '../../crypto/backend.ts';
import { ArgumentTypeError } from '../../util/argument-errors.ts';
import { callOf } from '../client-options.ts';
import { AttachmentNotFoundError, NetworkError, type TransferFailedError } from '../errors.ts';
import type { SealpostHttpClient } from '../http-client.ts';
import { abortableSleep, backoffMs } from '../http-retry.ts';
import {
  isMissing,
  type OpenedTransfer,
  openTransfer,
  type TransferContext,
  transferFailure,
} from './object-transfer.ts';
import { Progress } from './progress.ts';
import type { DownloadOptions, ReceivedAttachment, UploadedAttachment } from './types.ts';

/** Attempts to get the blob's response before the download fails with the last error. */
export const DOWNLOAD_ATTEMPTS = 3;

/** What a downloader works with. */
export interface DownloaderContext {
  readonly http: SealpostHttpClient;
  readonly transfer: TransferContext;
  readonly backend: CryptoBackend;
  /** Backoff jitter. */
  readonly rng: Rng;
}

/** Downloads attachments of one client. */
export class AttachmentDownloader {
  constructor(private readonly ctx: DownloaderContext) {}

  /**
   * The attachment's file as a verified stream. Network failures and 5xx answers before the
   * first byte are retried; once bytes flow, a failure errors the stream.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} for a malformed pointer or option.
   * @throws {AttachmentNotFoundError} if the store has no such blob (expired or never uploaded).
   * @throws {TransferFailedError | NetworkError | AbortedError} if the blob cannot be fetched.
   *   The stream itself errors with the cipher's errors (`AttachmentCorruptError`,
   *   `AttachmentKeyMismatchError`, `AttachmentDigestMismatchError`) for a blob that does not
   *   verify, or with `NetworkError`/`TimeoutError`/`AbortedError` when the transfer breaks.
   */
  async download(
    pointer: UploadedAttachment,
    options: DownloadOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    if (typeof pointer !== 'object' || pointer === null) {
      throw new ArgumentTypeError('pointer must be an attachment pointer');
    }
    // The codec is the judge of a well-formed pointer; a bad one fails before any request.
    encodeAttachmentPointer(pointer);
    const progress = new Progress(pointer.size, options.onProgress);
    const call = callOf(options);
    const signal = call?.signal;
    const timeoutMs = call?.timeoutMs ?? this.ctx.transfer.timeoutMs;
    const { url } = await this.ctx.http.downloadAttachment(pointer.id, call);
    const opened = await this.open(url, timeoutMs, signal);
    const plaintext = decryptAttachment(opened.chunks(), pointer, { backend: this.ctx.backend });
    return plaintext.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          controller.enqueue(chunk);
          progress.advance(chunk.length);
        },
        flush() {
          progress.end();
        },
      }),
    );
  }

  /**
   * The whole file in memory, verified.
   *
   * @throws as {@link download}, and the stream's errors.
   */
  async bytes(pointer: UploadedAttachment, options: DownloadOptions = {}): Promise<Uint8Array> {
    const stream = await this.download(pointer, options);
    const out = new Uint8Array(pointer.size);
    let at = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value, at);
      at += value.length;
    }
    return out;
  }

  /** The attachment of a received message, with its download bound to this client. */
  received(pointer: AttachmentPointer): ReceivedAttachment {
    return {
      contentType: pointer.contentType,
      fileName: pointer.fileName,
      size: pointer.size,
      width: pointer.width,
      height: pointer.height,
      durationMs: pointer.durationMs,
      thumbnail: pointer.thumbnail,
      pointer,
      download: (options) => this.download(pointer, options),
      bytes: (options) => this.bytes(pointer, options),
    };
  }

  /** The blob's response, with up to {@link DOWNLOAD_ATTEMPTS} attempts. */
  private async open(
    url: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<OpenedTransfer> {
    for (let attempt = 1; ; attempt++) {
      let failure: NetworkError | TransferFailedError;
      try {
        const opened = await openTransfer(
          this.ctx.transfer,
          url,
          { method: 'GET' },
          {
            operation: 'downloadBlob',
            timeoutMs,
            signal,
          },
        );
        const status = opened.response.status;
        if (status === 200) return opened;
        await opened.discard();
        if (isMissing(status)) throw new AttachmentNotFoundError();
        failure = transferFailure('downloadBlob', opened);
        if (!failure.retryable) throw failure;
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        failure = err;
      }
      if (attempt >= DOWNLOAD_ATTEMPTS) throw failure;
      await abortableSleep(
        backoffMs(attempt - 1, randomFraction(this.ctx.rng)),
        signal,
        'downloadBlob',
      );
    }
  }
}
