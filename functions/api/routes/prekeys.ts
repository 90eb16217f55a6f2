/** Prekey and bundle handlers (docs/SERVICE.md §5). */
import type { OperationHandlers } from '../operations.ts';

/** Upload, count and bundle fetch. */
export const prekeyHandlers = {
  uploadPrekeys: (c, { body }) => c.var.services.prekeys.upload(c.var.caller, body),
  countPrekeys: (c) => c.var.services.prekeys.count(c.var.caller),
  fetchBundles: (c, { param }) => c.var.services.prekeys.fetch(c.var.caller, param('address')),
  fetchDeviceBundle: (c, { param }) =>
    c.var.services.prekeys.fetch(c.var.caller, param('address'), param('deviceId')),
} satisfies Partial<OperationHandlers>;
