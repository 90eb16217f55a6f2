/**
 * The Hono environment of the moderation app: the device app's (so its observability, body and
 * error middleware apply unchanged) plus the authenticated operator and the moderation service.
 */
import type { ModerationService } from '../../domain/moderation-service.ts';
import type { AppBindings, AppVariables } from '../env.ts';

/** Context variables of the moderation app. */
export interface ModerationVariables extends AppVariables {
  /** Who acts: an IAM principal ARN on AWS, `local` locally (functions/api/moderation/auth.ts). */
  actor: string;
  moderation: ModerationService;
}

/** Bindings from `hono/aws-lambda`: the event carries the IAM authorizer's context. */
export interface ModerationBindings extends AppBindings {
  event?: AppBindings['event'] & { requestContext?: unknown };
}

/** The moderation app's Hono environment. */
export interface ModerationEnv {
  Variables: ModerationVariables;
  Bindings: ModerationBindings;
}
