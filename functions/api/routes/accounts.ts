/** Account and device handlers (docs/SERVICE.md §4). */
import type { OperationHandlers } from '../operations.ts';

/** Registration, linking, device lists and removal, settings. */
export const accountHandlers = {
  registerAccount: (c, { param, body }) => c.var.services.accounts.register(param('address'), body),
  addDevice: (c, { param, body }) => c.var.services.accounts.addDevice(param('address'), body),
  listDevices: (c, { param }) =>
    c.var.services.accounts.listDevices(c.var.caller, param('address')),
  removeDevice: (c, { param }) =>
    c.var.services.accounts.removeDevice(c.var.caller, param('deviceId')),
  updateSettings: (c, { body }) => c.var.services.accounts.updateSettings(c.var.caller, body),
} satisfies Partial<OperationHandlers>;
