/**
 * Who may use the moderation API (docs/SERVICE.md §14.4), and who the audit log names:
 * - on AWS the routes sit behind API Gateway's `AWS_IAM` authorizer; the function refuses any
 *   request whose event lacks the authorizer's IAM context as well (defence in depth), and the
 *   actor is the caller's principal ARN (`requestContext.authorizer.iam.userArn`);
 * - locally (the local server, the test kit) a bearer token kept in the data directory
 *   (`moderator-token`), compared in constant time; the actor is `local`.
 * Device signatures play no part: no device key can reach these routes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ServiceError } from '../../domain/errors.ts';
import type { ModerationEnv } from './env.ts';

/** How the moderation app authenticates operators. */
export type ModerationAuth =
  | { readonly kind: 'iam' }
  | { readonly kind: 'bearer'; readonly token: string };

/** The actor of every local action. */
export const LOCAL_ACTOR = 'local';

/** Longest principal ARN accepted as an actor (IAM ARNs are at most 2,048 characters). */
const MAX_ACTOR_LENGTH = 2048;

const unauthorized = () =>
  new ServiceError('UNAUTHORIZED', 'the moderation API needs operator credentials');

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The IAM principal of an API Gateway (HTTP API, payload 2.0) event, when there is one. */
export function iamPrincipal(event: unknown): string | undefined {
  const iam = (event as { requestContext?: { authorizer?: { iam?: { userArn?: unknown } } } })
    ?.requestContext?.authorizer?.iam;
  const arn = iam?.userArn;
  return typeof arn === 'string' && arn.startsWith('arn:') && arn.length <= MAX_ACTOR_LENGTH
    ? arn
    : undefined;
}

/**
 * Puts the authenticated actor on `c.var.actor`, or answers `401 UNAUTHORIZED`.
 *
 * @example app.use(moderationAuth({ kind: 'bearer', token }))
 */
export function moderationAuth(auth: ModerationAuth): MiddlewareHandler<ModerationEnv> {
  if (auth.kind === 'bearer') {
    if (auth.token.length < 32) throw new RangeError('the moderator token is too short');
    const expected = digest(auth.token);
    return async (c, next) => {
      const header = c.req.header('authorization') ?? '';
      const match = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header);
      // Hashes of equal length, so the comparison's time says nothing about the token.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) throw unauthorized();
      c.set('actor', LOCAL_ACTOR);
      return next();
    };
  }
  return async (c, next) => {
    const actor = iamPrincipal(c.env?.event);
    if (actor === undefined) throw unauthorized();
    c.set('actor', actor);
    return next();
  };
}
