/**
 * `buildApp(deps)`: the one Hono app, served on Lambda (lambda.ts) and locally (local.ts).
 * Every operation of the route table is mounted from it (operations.ts); handlers are thin; errors become JSON in one `onError`; unknown paths and methods get the
 * same JSON error body as everything else.
 */
import { Hono } from 'hono';
import { ROUTES } from 'sealpost/wire/api';
import { METRICS_NAMESPACE } from '../deployment.ts';
import type { AppDeps, AppEnv } from './env.ts';
import { errorResponse, onError } from './errors.ts';
import { rawBody } from './middleware/body.ts';
import { observability } from './middleware/observability.ts';
import { mountOperations, type OperationHandlers } from './operations.ts';
import { accountHandlers } from './routes/accounts.ts';
import { attachmentHandlers } from './routes/attachments.ts';
import { blockHandlers } from './routes/blocks.ts';
import { certificateHandlers } from './routes/certificates.ts';
import { messageHandlers } from './routes/messages.ts';
import { metaHandlers, openApiRoute } from './routes/meta.ts';
import { prekeyHandlers } from './routes/prekeys.ts';
import { pushHandlers } from './routes/push.ts';
import { reportHandlers } from './routes/reports.ts';
import { sealedHandlers } from './routes/sealed.ts';
import { tokenHandlers } from './routes/tokens.ts';

/** The handler of every operation of the route table. */
const HANDLERS: OperationHandlers = {
  ...metaHandlers,
  ...accountHandlers,
  ...prekeyHandlers,
  ...certificateHandlers,
  ...messageHandlers,
  ...pushHandlers,
  ...attachmentHandlers,
  ...reportHandlers,
  ...blockHandlers,
  ...tokenHandlers,
  ...sealedHandlers,
};

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
      namespace: deps.metricsNamespace ?? METRICS_NAMESPACE,
      stage: deps.stage ?? 'dev',
      newRequestId: deps.newRequestId ?? (() => crypto.randomUUID()),
    }),
  );
  app.use(async (c, next) => {
    c.set('services', deps.services);
    await next();
  });
  app.use(rawBody());
  app.route('/', openApiRoute);
  mountOperations(app, HANDLERS);
  app.notFound((c) => {
    const known = ROUTE_PATTERNS.some((r) => r.pattern.test(c.req.path));
    return known
      ? errorResponse(c, 'METHOD_NOT_ALLOWED', 'method not allowed')
      : errorResponse(c, 'NOT_FOUND', 'no such route');
  });
  app.onError(onError);
  return app;
}
