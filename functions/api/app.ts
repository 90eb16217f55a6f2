/**
 * `buildApp(deps)`: the one Hono app, served on Lambda (lambda.ts) and locally (local.ts).
 * Routes are thin; errors become JSON in one `onError`; unknown paths and methods get the
 * same JSON error body as everything else.
 */
import { Hono } from 'hono';
import { ROUTES } from 'sealpost/wire/api';
import type { AppDeps, AppEnv } from './env.ts';
import { errorResponse, onError } from './errors.ts';
import { rawBody } from './middleware/body.ts';
import { observability } from './middleware/observability.ts';
import { accountRoutes } from './routes/accounts.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { messageRoutes } from './routes/messages.ts';
import { metaRoutes } from './routes/meta.ts';
import { prekeyRoutes } from './routes/prekeys.ts';

const ROUTE_PATTERNS = ROUTES.map((r) => ({
  method: r.method,
  pattern: new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`),
}));

/**
 * Builds the app from its dependencies.
 *
 * @example
 * ```ts
 * const app = buildApp({ services: createServices(ports), log: (l) => process.stdout.write(`${l}\n`) });
 * ```
 */
export function buildApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(
    observability({
      log: deps.log,
      level: deps.logLevel ?? 'info',
      namespace: deps.metricsNamespace ?? 'Sealpost',
      stage: deps.stage ?? 'dev',
      newRequestId: deps.newRequestId ?? (() => crypto.randomUUID()),
    }),
  );
  app.use(async (c, next) => {
    c.set('services', deps.services);
    await next();
  });
  app.use(rawBody());
  app.route('/', metaRoutes);
  app.route('/', accountRoutes);
  app.route('/', prekeyRoutes);
  app.route('/', certificateRoutes);
  app.route('/', messageRoutes);
  app.notFound((c) => {
    const known = ROUTE_PATTERNS.some((r) => r.pattern.test(c.req.path));
    return known
      ? errorResponse(c, 'METHOD_NOT_ALLOWED', 'method not allowed')
      : errorResponse(c, 'NOT_FOUND', 'no such route');
  });
  app.onError(onError);
  return app;
}
