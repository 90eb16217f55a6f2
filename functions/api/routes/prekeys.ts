/** Prekey and bundle handlers (docs/SERVICE.md §5). */
import type { OperationHandlers } from '../operations.ts';
import { sealedCredentials } from './sealed.ts';

/** Upload, count and bundle fetch (owner-signed, and sealed: §15.4). */
export const prekeyHandlers = {
  uploadPrekeys: (c, { body }) => c.var.services.prekeys.upload(c.var.caller, body),
  countPrekeys: (c) => c.var.services.prekeys.count(c.var.caller),
  fetchBundles: (c, { param }) => c.var.services.prekeys.fetch(c.var.caller, param('address')),
  fetchDeviceBundle: (c, { param }) =>
    c.var.services.prekeys.fetch(c.var.caller, param('address'), param('deviceId')),
  fetchSealedBundles: (c, { param }) =>
    c.var.services.prekeys.fetchSealed(param('address'), sealedCredentials(c)),
  fetchSealedDeviceBundle: (c, { param }) =>
    c.var.services.prekeys.fetchSealed(param('address'), sealedCredentials(c), param('deviceId')),
} satisfies Partial<OperationHandlers>;
