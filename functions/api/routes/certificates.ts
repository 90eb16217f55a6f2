/** Certificate handlers (docs/SERVICE.md §6). */
import type { OperationHandlers } from '../operations.ts';

/** Server certificate (public) and sender certificates (owner-signed). */
export const certificateHandlers = {
  serverCertificate: (c) => c.var.services.certificates.serverCertificate(),
  senderCertificate: (c) => c.var.services.certificates.issue(c.var.caller),
  /** The signed list of suspended accounts (public, like the server certificate; §14.6). */
  certificateRevocations: (c) => c.var.services.suspensions.revocations(),
} satisfies Partial<OperationHandlers>;
