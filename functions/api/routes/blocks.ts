/** Block list handlers (docs/SERVICE.md §4.1). */
import type { OperationHandlers } from '../operations.ts';

/** Blocking, unblocking and listing the accounts the signing account blocks. */
export const blockHandlers = {
  blockAccount: (c, { param }) => c.var.services.blocks.block(c.var.caller, param('address')),
  unblockAccount: (c, { param }) => c.var.services.blocks.unblock(c.var.caller, param('address')),
  listBlocked: (c) => c.var.services.blocks.list(c.var.caller),
} satisfies Partial<OperationHandlers>;
