/** Health and the OpenAPI document. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { noBody } from '../middleware/body.ts';
import { openApiDocument } from '../openapi.ts';
import type { OperationHandlers } from '../operations.ts';

/** `GET /v1/health`. */
export const metaHandlers = {
  health: () => ({ status: 'ok' as const }),
} satisfies Partial<OperationHandlers>;

/** `GET /openapi.json`: the document describes the API, so it is not an operation of it. */
export const openApiRoute = new Hono<AppEnv>().get('/openapi.json', (c) => {
  noBody(c);
  return c.json(openApiDocument());
});
