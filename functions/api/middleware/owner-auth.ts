/**
 * Owner authentication middleware: verifies the device signature over the exact method, path
 * with query and body hash plus the signed auth fields (audience, timestamp, nonce, address,
 * device id; docs/SERVICE.md §3.1). No other header is signed: headers the routes read
 * (`content-type`, the optional `x-sealpost-account-signature`, which carries its own signature
 * over the same fields) cannot change what a signed request means. Puts the authenticated
 * device on `c.var.caller`. Runs after `rawBody`, so the body it hashes is the body the route
 * parses.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

/** Requires a valid owner signature; answers 401 (`UNAUTHORIZED` or `CLOCK_SKEW`) otherwise. */
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
