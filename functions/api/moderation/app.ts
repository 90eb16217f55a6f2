/**
 * `buildModerationApp(deps)`: the operators' API under `/v1/moderation` (docs/SERVICE.md §14.4),
 * a Hono app of its own. On AWS it is served by its own function behind the HTTP API's IAM
 * authorizer (functions/api/moderation-lambda.ts); locally it is mounted beside the device app
 * with a bearer token (functions/api/local.ts, the test kit). The device app never mounts it.
 * Handlers are thin; errors are the device API's JSON errors, with its one status table.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { METRICS_NAMESPACE } from '../../deployment.ts';
import type { ModerationService } from '../../domain/moderation-service.ts';
import type { AppEnv, LogLevel, LogSink } from '../env.ts';
import { errorResponse, onError } from '../errors.ts';
import { jsonBody, noBody, pathParam, queryParams, rawBody } from '../middleware/body.ts';
import { observability } from '../middleware/observability.ts';
import { type ModerationAuth, moderationAuth } from './auth.ts';
import type { ModerationEnv } from './env.ts';
import {
  AddressParam,
  type AuditListJson,
  AuditQuerySchema,
  DEFAULT_MODERATION_PAGE,
  type DecisionJson,
  DecisionRequestSchema,
  type LiftJson,
  ListReportsQuerySchema,
  MODERATION_PREFIX,
  ReportIdParam,
  type ReportJson,
  type ReportListJson,
  type SenderJson,
  type SuspensionJson,
  SuspensionRequestSchema,
} from './schemas.ts';
import { reportJson, summaryJson } from './views.ts';

/** Everything {@link buildModerationApp} needs. */
export interface ModerationAppDeps {
  readonly moderation: ModerationService;
  readonly auth: ModerationAuth;
  readonly log: LogSink;
  /** @default 'info' */
  readonly logLevel?: LogLevel;
  /** @default METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
  /** @default 'dev' */
  readonly stage?: string;
  readonly newRequestId?: () => string;
}

/** Method and path template of every moderation route (for 404 vs 405). */
const ROUTES = [
  ['GET', '/reports'],
  ['GET', '/reports/{reportId}'],
  ['POST', '/reports/{reportId}/decision'],
  ['GET', '/senders/{address}'],
  ['PUT', '/accounts/{address}/suspension'],
  ['DELETE', '/accounts/{address}/suspension'],
  ['GET', '/audit'],
] as const;

const PATTERNS = ROUTES.map(
  ([, path]) => new RegExp(`^${MODERATION_PREFIX}${path.replace(/\{\w+\}/g, '[^/]+')}$`),
);

/**
 * The context as the device app's body and error helpers take it. They read only the request,
 * `rawBody` and `errorCode`, which both environments share; `ModerationEnv` only adds variables.
 */
const shared = (c: Context<ModerationEnv>): Context<AppEnv> => c as unknown as Context<AppEnv>;

const reportId = (c: Context<ModerationEnv>) => pathParam(shared(c), 'reportId', ReportIdParam);
const address = (c: Context<ModerationEnv>) => pathParam(shared(c), 'address', AddressParam);

/**
 * Builds the moderation app.
 *
 * @example
 * ```ts
 * const app = buildModerationApp({ moderation, auth: { kind: 'bearer', token }, log });
 * ```
 */
export function buildModerationApp(deps: ModerationAppDeps): Hono<ModerationEnv> {
  const app = new Hono<ModerationEnv>();
  app.use(
    observability({
      log: deps.log,
      level: deps.logLevel ?? 'info',
      namespace: deps.metricsNamespace ?? METRICS_NAMESPACE,
      stage: deps.stage ?? 'dev',
      newRequestId: deps.newRequestId ?? (() => crypto.randomUUID()),
    }),
  );
  // Credentials first: nothing of an unauthenticated request's body is read.
  app.use(`${MODERATION_PREFIX}/*`, moderationAuth(deps.auth));
  app.use(async (c, next) => {
    c.set('moderation', deps.moderation);
    await next();
  });
  app.use(rawBody());

  const m = new Hono<ModerationEnv>();
  m.get('/reports', async (c) => {
    noBody(shared(c));
    const q = queryParams(shared(c), ListReportsQuerySchema);
    const page = await c.var.moderation.listReports(
      q.status ?? 'open',
      q.limit ?? DEFAULT_MODERATION_PAGE,
      q.cursor,
    );
    const body: ReportListJson = {
      reports: page.items.map(summaryJson),
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    };
    return c.json(body);
  });
  m.get('/reports/:reportId', async (c) => {
    noBody(shared(c));
    const body: ReportJson = reportJson(await c.var.moderation.report(reportId(c)));
    return c.json(body);
  });
  m.post('/reports/:reportId/decision', async (c) => {
    const id = reportId(c);
    const req = jsonBody(shared(c), DecisionRequestSchema);
    const body: DecisionJson = await c.var.moderation.decide(
      c.var.actor,
      id,
      req.decision,
      req.note,
    );
    return c.json(body);
  });
  m.get('/senders/:address', async (c) => {
    noBody(shared(c));
    const body: SenderJson = await c.var.moderation.sender(address(c));
    return c.json(body);
  });
  m.put('/accounts/:address/suspension', async (c) => {
    const target = address(c);
    const req = jsonBody(shared(c), SuspensionRequestSchema);
    const body: SuspensionJson = await c.var.moderation.suspend(c.var.actor, target, req.reason);
    return c.json(body);
  });
  m.delete('/accounts/:address/suspension', async (c) => {
    const target = address(c);
    noBody(shared(c));
    const body: LiftJson = await c.var.moderation.lift(c.var.actor, target);
    return c.json(body);
  });
  m.get('/audit', async (c) => {
    noBody(shared(c));
    const q = queryParams(shared(c), AuditQuerySchema);
    const page = await c.var.moderation.audit(q.limit ?? DEFAULT_MODERATION_PAGE, q.cursor);
    const body: AuditListJson = {
      entries: page.items,
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    };
    return c.json(body);
  });
  app.route(MODERATION_PREFIX, m);

  app.notFound((c) =>
    PATTERNS.some((p) => p.test(c.req.path))
      ? errorResponse(shared(c), 'METHOD_NOT_ALLOWED', 'method not allowed')
      : errorResponse(shared(c), 'NOT_FOUND', 'no such route'),
  );
  app.onError((err, c) => onError(err, shared(c)));
  return app;
}

/** True for a path the moderation app serves (the local servers route these to it). */
export function isModerationPath(path: string): boolean {
  return path === MODERATION_PREFIX || path.startsWith(`${MODERATION_PREFIX}/`);
}
