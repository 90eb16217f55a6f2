/**
 * The attachment part of a `SealpostClient` (docs/SDK.md §Attachments): uploads with their
 * resumable state, downloads, the attachments of received messages, and the uploads a `send`
 * makes before its message goes out.
 */
import { type AttachmentPointer, encodeAttachmentPointer } from '../../attachments/index.ts';
import type { CryptoBackend, Rng } from '../../crypto/backend.ts';
import type { StateStore } from '../../state/store.ts';
import { ArgumentTypeError } from '../../util/argument-errors.ts';
import type { CallOptions } from '../call-options.ts';
import type { FetchLike, SealpostHttpClient } from '../http-client.ts';
import { DEFAULT_TIMEOUT_MS } from '../http-retry.ts';
import { AttachmentDownloader } from './download.ts';
import { type PreparedInput, placeholderPointer, prepareInput } from './input.ts';
import { PendingUploads } from './pending-uploads.ts';
import { checkProgress } from './progress.ts';
import type {
  AttachmentInput,
  DownloadOptions,
  PendingUpload,
  ReceivedAttachment,
  TransferProgress,
  UploadedAttachment,
  UploadOptions,
} from './types.ts';
import { AttachmentUploader } from './upload.ts';

/** What a client's attachments are built from. */
export interface ClientAttachmentsOptions {
  readonly http: SealpostHttpClient;
  readonly store: StateStore;
  readonly backend: CryptoBackend;
  readonly rng: Rng;
  readonly now: () => number;
  /** The client's `fetch`: transfers go through it as API calls do. @default globalThis.fetch */
  readonly fetch?: FetchLike | undefined;
  /** The client's per-request timeout (ms). @default DEFAULT_TIMEOUT_MS */
  readonly timeoutMs?: number | undefined;
}

/** The attachments of one message to send, checked, with what still needs uploading. */
export interface AttachmentPlan {
  /** One pointer per attachment, placeholders for those not yet uploaded: sizes as the real ones. */
  readonly placeholders: readonly AttachmentPointer[];
  /** Bytes of the blobs to upload. */
  readonly total: number;
  /** Uploads what needs it (in order, one at a time) and returns every pointer in order. */
  upload(
    onProgress: TransferProgress | undefined,
    call: CallOptions | undefined,
  ): Promise<AttachmentPointer[]>;
}

type PlanItem =
  | { readonly kind: 'input'; readonly prepared: PreparedInput }
  | { readonly kind: 'pointer'; readonly pointer: AttachmentPointer };

/** Attachments of one client. */
export class ClientAttachments {
  readonly pending: PendingUploads;
  private readonly uploader: AttachmentUploader;
  private readonly downloader: AttachmentDownloader;

  constructor(options: ClientAttachmentsOptions) {
    const fetchFn: FetchLike = options.fetch ?? ((u, init) => globalThis.fetch(u, init));
    const transfer = { fetch: fetchFn, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    this.pending = new PendingUploads(options.store);
    this.uploader = new AttachmentUploader({
      http: options.http,
      transfer,
      pending: this.pending,
      backend: options.backend,
      rng: options.rng,
      now: options.now,
    });
    this.downloader = new AttachmentDownloader({
      http: options.http,
      transfer,
      backend: options.backend,
      rng: options.rng,
    });
  }

  /** See `SealpostClient.uploadAttachment`. */
  upload(input: AttachmentInput, options?: UploadOptions): Promise<UploadedAttachment> {
    return this.uploader.upload(input, options);
  }

  /** See `SealpostClient.pendingUploads`. */
  pendingUploads(): Promise<PendingUpload[]> {
    return this.pending.list();
  }

  /** See `SealpostClient.discardUpload`. */
  discard(resumeId: string, call?: CallOptions): Promise<boolean> {
    return this.uploader.discard(resumeId, call);
  }

  /** See `SealpostClient.downloadAttachment`. */
  download(
    pointer: UploadedAttachment,
    options?: DownloadOptions,
  ): Promise<ReadableStream<Uint8Array>> {
    return this.downloader.download(pointer, options);
  }

  /** The app's view of a received pointer, its download bound to this client. */
  received(pointer: AttachmentPointer): ReceivedAttachment {
    return this.downloader.received(pointer);
  }

  /**
   * Checks the attachments of a message to send, before anything is uploaded: every input
   * (data, size, metadata) and every pointer.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} for a bad list, input or pointer.
   * @example const plan = attachments.plan(content.attachments);
   */
  plan(items: readonly (AttachmentInput | UploadedAttachment)[] | undefined): AttachmentPlan {
    if (items !== undefined && !Array.isArray(items)) {
      throw new ArgumentTypeError('attachments must be an array');
    }
    const planned: PlanItem[] = (items ?? []).map((item) => {
      if (typeof item !== 'object' || item === null) {
        throw new ArgumentTypeError('an attachment must be an input or an uploaded attachment');
      }
      if ('data' in item) return { kind: 'input', prepared: prepareInput(item) };
      encodeAttachmentPointer(item);
      return { kind: 'pointer', pointer: item };
    });
    const total = planned.reduce(
      (n, p) => n + (p.kind === 'input' ? p.prepared.layout.blobSize : 0),
      0,
    );
    return {
      placeholders: planned.map((p) =>
        p.kind === 'input' ? placeholderPointer(p.prepared) : p.pointer,
      ),
      total,
      upload: async (onProgress, call) => {
        checkProgress(onProgress);
        const out: AttachmentPointer[] = [];
        let base = 0;
        for (const p of planned) {
          if (p.kind === 'pointer') {
            out.push(p.pointer);
            continue;
          }
          const offset = base;
          const progress: TransferProgress | undefined = onProgress
            ? (sent) => onProgress(offset + sent, total)
            : undefined;
          out.push(
            await this.uploader.uploadPrepared(p.prepared, { ...call, onProgress: progress }),
          );
          base += p.prepared.layout.blobSize;
        }
        return out;
      },
    };
  }
}
