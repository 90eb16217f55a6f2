/** Account and device routes (docs/SERVICE.md §Accounts). */
import { Hono } from 'hono';
import {
  AccountSettingsSchema,
  AddDeviceRequestSchema,
  AddressField,
  DeviceIdText,
  RegisterRequestSchema,
} from 'sealpost/wire/api';
import type { AppEnv } from '../env.ts';
import { jsonBody, noBody, pathParam } from '../middleware/body.ts';
import { ownerAuth } from '../middleware/owner-auth.ts';

/** `PUT /v1/accounts/:address`, devices and settings. */
export const accountRoutes = new Hono<AppEnv>()
  .put('/v1/accounts/:address', async (c) => {
    const address = pathParam(c, 'address', AddressField);
    const body = jsonBody(c, RegisterRequestSchema);
    return c.json(await c.var.services.accounts.register(address, body));
  })
  .post('/v1/accounts/:address/devices', async (c) => {
    const address = pathParam(c, 'address', AddressField);
    const body = jsonBody(c, AddDeviceRequestSchema);
    return c.json(await c.var.services.accounts.addDevice(address, body));
  })
  .get('/v1/accounts/:address/devices', ownerAuth(), async (c) => {
    noBody(c);
    const address = pathParam(c, 'address', AddressField);
    return c.json(await c.var.services.accounts.listDevices(c.var.caller, address));
  })
  .delete('/v1/devices/:deviceId', ownerAuth(), async (c) => {
    noBody(c);
    const deviceId = Number(pathParam(c, 'deviceId', DeviceIdText));
    return c.json(await c.var.services.accounts.removeDevice(c.var.caller, deviceId));
  })
  .put('/v1/account/settings', ownerAuth(), async (c) => {
    const body = jsonBody(c, AccountSettingsSchema);
    return c.json(await c.var.services.accounts.updateSettings(c.var.caller, body));
  });
