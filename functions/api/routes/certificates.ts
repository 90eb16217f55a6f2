/** Certificate routes (docs/SERVICE.md §Certificates). */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { noBody } from '../middleware/body.ts';
import { ownerAuth } from '../middleware/owner-auth.ts';

/** Server certificate (public) and sender certificates (owner-signed). */
export const certificateRoutes = new Hono<AppEnv>()
  .get('/v1/certificates/server', async (c) => {
    noBody(c);
    return c.json(await c.var.services.certificates.serverCertificate());
  })
  .post('/v1/certificates/sender', ownerAuth(), async (c) => {
    noBody(c);
    return c.json(await c.var.services.certificates.issue(c.var.caller));
  });
