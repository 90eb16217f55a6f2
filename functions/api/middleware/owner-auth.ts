/**
 * Owner authentication middleware: verifies the device signature over the exact method, path
 * with query, body and headers (docs/SERVICE.md §Authentication) and puts the
 * authenticated device on `c.var.caller`. Runs after `rawBody`, so the body it hashes is the
 * body the route parses.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

/** Requires a valid owner signature; answers 401 otherwise. */
export function ownerAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const caller = await c.get('services').auth.authenticate({
      method: c.req.method,
      pathAndQuery: url.pathname + url.search,
      body: c.get('rawBody'),
      header: (name) => c.req.header(name),
    });
    c.set('caller', caller);
    return next();
  };
}
