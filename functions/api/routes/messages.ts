/** Send, fetch and acknowledge routes (docs/SERVICE.md §Messages). */
import { Hono } from 'hono';
import {
  ACCESS_KEY_HEADER,
  AckRequestSchema,
  AddressField,
  FetchQuerySchema,
  MAX_FETCH_BATCH,
  SendRequestSchema,
} from 'sealpost/wire/api';
import type { AppEnv } from '../env.ts';
import { jsonBody, noBody, pathParam, queryParams } from '../middleware/body.ts';
import { ownerAuth } from '../middleware/owner-auth.ts';

/** Sealed send, identified send, fetch, ack. */
export const messageRoutes = new Hono<AppEnv>()
  .put('/v1/messages/:address', async (c) => {
    const address = pathParam(c, 'address', AddressField);
    const body = jsonBody(c, SendRequestSchema);
    const accessKey = c.req.header(ACCESS_KEY_HEADER);
    return c.json(await c.var.services.messages.sendSealed(address, accessKey, body));
  })
  .put('/v1/messages/:address/identified', ownerAuth(), async (c) => {
    const address = pathParam(c, 'address', AddressField);
    const body = jsonBody(c, SendRequestSchema);
    return c.json(await c.var.services.messages.sendIdentified(c.var.caller, address, body));
  })
  .get('/v1/messages', ownerAuth(), async (c) => {
    noBody(c);
    const query = queryParams(c, FetchQuerySchema);
    const limit = Math.min(Number(query.limit ?? MAX_FETCH_BATCH), MAX_FETCH_BATCH);
    return c.json(await c.var.services.messages.fetch(c.var.caller, limit, query.cursor));
  })
  .post('/v1/messages/ack', ownerAuth(), async (c) => {
    const body = jsonBody(c, AckRequestSchema);
    return c.json(await c.var.services.messages.ack(c.var.caller, body.messageIds));
  });
