/** Health and the OpenAPI document. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { noBody } from '../middleware/body.ts';
import { openApiDocument } from '../openapi.ts';

/** `GET /v1/health`, `GET /openapi.json`. */
export const metaRoutes = new Hono<AppEnv>()
  .get('/v1/health', (c) => {
    noBody(c);
    return c.json({ status: 'ok' as const });
  })
  .get('/openapi.json', (c) => {
    noBody(c);
    return c.json(openApiDocument());
  });
