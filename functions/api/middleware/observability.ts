/**
 * Access log and metrics (docs/SERVICE.md §Observability): one JSON line per
 * request with a request id, the route template (never the concrete path, which names
 * addresses), status, error code and duration, carrying CloudWatch Embedded Metric Format
 * fields so per-route metrics need no extra API call. Bodies, headers, keys, access keys and
 * anything about a sealed sender are never logged.
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv, LogLevel, LogSink } from '../env.ts';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/;

/** Options of {@link observability}. */
export interface ObservabilityOptions {
  readonly log: LogSink;
  readonly level: LogLevel;
  readonly namespace: string;
  readonly stage: string;
  readonly newRequestId: () => string;
}

/**
 * Sets `c.var.requestId` (the Lambda request id, else a well-formed `x-request-id`, else a
 * new one), echoes it in `x-request-id`, and writes the access log line with EMF metrics.
 */
export function observability(options: ObservabilityOptions): MiddlewareHandler<AppEnv> {
  const threshold = LEVELS[options.level];
  return async (c, next) => {
    const started = performance.now();
    const header = c.req.header('x-request-id');
    const requestId =
      c.env?.lambdaContext?.awsRequestId ??
      (header && REQUEST_ID_PATTERN.test(header) ? header : options.newRequestId());
    c.set('requestId', requestId);
    await next();
    c.header('x-request-id', requestId);
    const status = c.res.status;
    const route = routePath(c, -1);
    const level: LogLevel = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (LEVELS[level] < threshold) return;
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const line: Record<string, unknown> = {
      level,
      msg: 'request',
      time: new Date().toISOString(),
      requestId,
      method: c.req.method,
      route,
      status,
      durationMs,
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: options.namespace,
            Dimensions: [['stage', 'route']],
            Metrics: [
              { Name: 'latency', Unit: 'Milliseconds' },
              { Name: 'requests', Unit: 'Count' },
              { Name: 'clientErrors', Unit: 'Count' },
              { Name: 'serverErrors', Unit: 'Count' },
            ],
          },
        ],
      },
      stage: options.stage,
      latency: durationMs,
      requests: 1,
      clientErrors: status >= 400 && status < 500 ? 1 : 0,
      serverErrors: status >= 500 ? 1 : 0,
    };
    const code = c.get('errorCode');
    if (code) line['errorCode'] = code;
    // Only the error's class name: messages of dependency errors may echo request data.
    if (status >= 500 && c.error) line['errorName'] = c.error.name;
    options.log(JSON.stringify(line));
  };
}
