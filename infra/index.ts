/**
 * The CDK constructs an operator adds to an existing CDK app (docs/DEPLOY.md, "Adding the
 * service to an existing CDK app"). Import it from a checkout of this repository; it is not
 * an npm package yet. The deployment contract the service function reads lives in
 * functions/deployment.ts and is re-exported here.
 */

export {
  DEFAULT_MESSAGE_TTL_DAYS,
  DEPLOYMENT_ENV_KEYS,
  ENV,
  ENVELOPE_PREFIX,
  METRICS_NAMESPACE,
  TTL_ATTRIBUTE,
} from '#functions/deployment.ts';
export { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS } from './lib/alarms.ts';
export { type ApiLogLevel, DEFAULT_API_ENTRY } from './lib/api-function.ts';
export { ContextError, stackPropsFromContext } from './lib/config.ts';
export { DataPolicy, type DataPolicyProps, STATEFUL_RESOURCE_TYPES } from './lib/data-policy.ts';
export type { EnvelopeEncryption } from './lib/envelope-bucket.ts';
export { type ApiThrottle, DEFAULT_API_THROTTLE } from './lib/http-api.ts';
export {
  DEFAULT_LOG_RETENTION,
  DISPOSABLE_STAGE,
  defaultRemovalPolicy,
  SealpostService,
  type SealpostServiceProps,
} from './lib/sealpost-service.ts';
export { SealpostStack, type SealpostStackProps } from './lib/sealpost-stack.ts';
