/**
 * The app-facing types of attachments in the SDK client (docs/SDK.md §Attachments): what an app
 * hands in to upload, what an upload returns (the pointer a message carries), what a received
 * message offers, and the options of transfers.
 */
import type { AttachmentPointer } from '../../attachments/index.ts';
import type { CallOptions } from '../call-options.ts';

/**
 * Told how far a transfer got: `sent` of `total` bytes. Uploads count bytes of the encrypted
 * blob (a little more than the file: padding, a 34-byte header and 16 bytes per 256 KiB chunk),
 * after each part and once at the end of a form upload; downloads count verified plaintext
 * bytes of the file. `sent` never decreases and ends at `total`. Whatever the callback throws is
 * ignored.
 */
export type TransferProgress = (sent: number, total: number) => void;

/** The bytes of an attachment: in memory, a `Blob` (a browser `File`), or a stream. */
export type AttachmentData = Uint8Array | Blob | ReadableStream<Uint8Array>;

/**
 * An attachment to upload: its bytes and the metadata that travels, encrypted, inside the
 * message (the server never sees it).
 *
 * @example
 * const input: AttachmentInput = { data: file, fileName: file.name, contentType: file.type };
 */
export interface AttachmentInput {
  readonly data: AttachmentData;
  /** The size in bytes; required for a stream, else it must equal the data's size. */
  readonly size?: number;
  /** Media type `type/subtype` (ASCII, 1..127 characters; no parameters). @default application/octet-stream */
  readonly contentType?: string;
  /** The file name (UTF-8, 1..255 bytes, no NUL or `/`). */
  readonly fileName?: string;
  /** Width in pixels (u32); given together with `height`. */
  readonly width?: number;
  /** Height in pixels (u32); given together with `width`. */
  readonly height?: number;
  /** Duration of audio or video in ms (u32). */
  readonly durationMs?: number;
  /** A preview image the app made (1..8192 bytes), shown before the download. */
  readonly thumbnail?: Uint8Array;
}

/**
 * An uploaded attachment: the pointer a message carries (id, key, digest, size, metadata). It
 * holds the attachment's key: keep it as confidential as the message. Pass it to `send` to send
 * the same blob again without another upload (to another contact, or after a failed send).
 */
export type UploadedAttachment = AttachmentPointer;

/** Options of `SealpostClient.uploadAttachment`. */
export interface UploadOptions extends CallOptions {
  /** Progress in bytes of the encrypted blob. */
  readonly onProgress?: TransferProgress;
  /**
   * The `resumeId` of a pending upload (`pendingUploads()`) to continue instead of starting
   * anew: the same data must be given again.
   */
  readonly resume?: string;
}

/** Options of a download. `timeoutMs` bounds the wait for the response and each pause in it. */
export interface DownloadOptions extends CallOptions {
  /** Progress in verified bytes of the file. */
  readonly onProgress?: TransferProgress;
}

/** An attachment of a received message: its metadata, and its download. */
export interface ReceivedAttachment {
  /** Media type as the sender gave it (`type/subtype`). Check it before rendering. */
  readonly contentType: string;
  /** The file name as the sender gave it: display it, never use it as a path unchecked. */
  readonly fileName: string | undefined;
  /** The file's size in bytes. */
  readonly size: number;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly durationMs: number | undefined;
  readonly thumbnail: Uint8Array | undefined;
  /**
   * The pointer (with the key): store it with the message to download later
   * (`client.downloadAttachment(pointer)`), or send it on without another upload.
   */
  readonly pointer: UploadedAttachment;
  /**
   * The file as a stream that yields only verified bytes and errors (instead of ending) if the
   * blob is missing, cut off or tampered with.
   *
   * @throws {AttachmentNotFoundError} if the blob expired or was never uploaded.
   */
  download(options?: DownloadOptions): Promise<ReadableStream<Uint8Array>>;
  /** The whole file in memory, verified. @throws as {@link download} and the stream. */
  bytes(options?: DownloadOptions): Promise<Uint8Array>;
}

/** An upload that was started and not finished (it can be resumed or discarded). */
export interface PendingUpload {
  /** Pass as `resume` to `uploadAttachment`, or to `discardUpload`. */
  readonly resumeId: string;
  /** The file's size in bytes. */
  readonly size: number;
  readonly fileName: string | undefined;
  readonly contentType: string;
  /** When the upload was started (ms). */
  readonly createdAt: number;
  /** Until when the service keeps the unfinished upload (ms, the service's clock). */
  readonly expiresAt: number;
}
