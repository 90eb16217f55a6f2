/** Attachments in the SDK client (docs/SDK.md §Attachments). */

export {
  type AttachmentPlan,
  ClientAttachments,
  type ClientAttachmentsOptions,
} from './client-attachments.ts';
export { AttachmentDownloader, DOWNLOAD_ATTEMPTS } from './download.ts';
export { DEFAULT_CONTENT_TYPE } from './input.ts';
export { MIN_TRANSFER_RATE } from './object-transfer.ts';
export type {
  AttachmentData,
  AttachmentInput,
  DownloadOptions,
  PendingUpload,
  ReceivedAttachment,
  TransferProgress,
  UploadedAttachment,
  UploadOptions,
} from './types.ts';
export { ABORT_TIMEOUT_MS, PART_ATTEMPTS, URL_RENEW_MARGIN_MS } from './upload.ts';
