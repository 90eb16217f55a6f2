/** Prekey and bundle routes (docs/SERVICE.md §Prekeys). */
import { Hono } from 'hono';
import { AddressField, DeviceIdText, PrekeyUploadSchema } from 'sealpost/wire/api';
import type { AppEnv } from '../env.ts';
import { jsonBody, noBody, pathParam } from '../middleware/body.ts';
import { ownerAuth } from '../middleware/owner-auth.ts';

/** Upload, count and bundle fetch. */
export const prekeyRoutes = new Hono<AppEnv>()
  .put('/v1/prekeys', ownerAuth(), async (c) => {
    const body = jsonBody(c, PrekeyUploadSchema);
    return c.json(await c.var.services.prekeys.upload(c.var.caller, body));
  })
  .get('/v1/prekeys/count', ownerAuth(), async (c) => {
    noBody(c);
    return c.json(await c.var.services.prekeys.count(c.var.caller));
  })
  .get('/v1/bundles/:address', ownerAuth(), async (c) => {
    noBody(c);
    const address = pathParam(c, 'address', AddressField);
    return c.json(await c.var.services.prekeys.fetch(c.var.caller, address));
  })
  .get('/v1/bundles/:address/:deviceId', ownerAuth(), async (c) => {
    noBody(c);
    const address = pathParam(c, 'address', AddressField);
    const deviceId = Number(pathParam(c, 'deviceId', DeviceIdText));
    return c.json(await c.var.services.prekeys.fetch(c.var.caller, address, deviceId));
  });
