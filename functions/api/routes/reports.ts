/** Report intake (docs/SERVICE.md §14.1). */
import type { OperationHandlers } from '../operations.ts';

/** `POST /v1/reports`: owner-signed by the reporting device. */
export const reportHandlers = {
  submitReport: (c, { body }) => c.var.services.reports.submit(c.var.caller, body),
} satisfies Partial<OperationHandlers>;
