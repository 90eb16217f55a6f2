/** Attachment uploads and downloads (docs/SERVICE.md §7.6). */
import type { OperationHandlers } from '../operations.ts';

/** Start, resume, complete and abandon an upload (owner-signed); a presigned download (public). */
export const attachmentHandlers = {
  createAttachment: (c, { body }) => c.var.services.attachments.create(c.var.caller, body.size),
  attachmentUploadStatus: (c, { param }) =>
    c.var.services.attachments.status(c.var.caller, param('attachmentId')),
  completeAttachment: (c, { param }) =>
    c.var.services.attachments.complete(c.var.caller, param('attachmentId')),
  abortAttachment: (c, { param }) =>
    c.var.services.attachments.abort(c.var.caller, param('attachmentId')),
  downloadAttachment: (c, { param }) => c.var.services.attachments.download(param('attachmentId')),
} satisfies Partial<OperationHandlers>;
