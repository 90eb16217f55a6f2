/**
 * The moderation function's Lambda handler around the moderation app (docs/SERVICE.md §14.4):
 * API Gateway's `AWS_IAM` authorizer admits only signed requests of principals allowed to
 * invoke the routes; the handler still refuses, before the app runs, any event without the
 * authorizer's IAM context (a misrouted or directly invoked event), answering `401` with the
 * service's JSON error body.
 */
import type { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { API_ERROR_STATUS, type ApiErrorBody } from 'sealpost/wire/api';
import { iamPrincipal } from './auth.ts';
import type { ModerationEnv } from './env.ts';

/** What API Gateway answers with for a payload 2.0 integration. */
export interface LambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

/**
 * The Lambda handler of `app`.
 *
 * @example export const handler = moderationLambdaHandler(buildModerationApp({ ... }));
 */
export function moderationLambdaHandler(
  app: Hono<ModerationEnv>,
): (event: unknown, context: unknown) => Promise<LambdaResult> {
  const inner = handle(app) as unknown as (e: unknown, c: unknown) => Promise<LambdaResult>;
  return async (event, context) => {
    if (iamPrincipal(event) === undefined) {
      const body: ApiErrorBody = {
        error: { code: 'UNAUTHORIZED', message: 'the moderation API needs operator credentials' },
      };
      return {
        statusCode: API_ERROR_STATUS.UNAUTHORIZED,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        isBase64Encoded: false,
      };
    }
    return inner(event, context);
  };
}
