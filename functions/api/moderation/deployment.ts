/**
 * The moderation function's deployment contract (docs/SERVICE.md §14.4, docs/DEPLOY.md): the
 * environment the CDK construct sets (infra/lib/moderation-api.ts) and the function parses back
 * (functions/api/moderation-lambda.ts). A subset of the device function's variables (same
 * names, same rules): the table, the stage, the log level and the metrics namespace. It needs no
 * bucket and no secret: moderation signs nothing.
 *
 * Pure data and parsing: no AWS SDK and no CDK imports, so both sides can load it.
 */
import {
  DEFAULT_LOG_LEVEL,
  DEFAULT_STAGE,
  DeploymentConfigError,
  type DeploymentLogLevel,
  ENV,
  type Environment,
  LOG_LEVELS,
  METRICS_NAMESPACE,
  STAGE_PATTERN,
} from '../../deployment.ts';

/** The variables the moderation function reads, and nothing else. */
export const MODERATION_ENV_KEYS = [
  ENV.table,
  ENV.stage,
  ENV.logLevel,
  ENV.metricsNamespace,
] as const;

/** One variable of the moderation function's environment. */
export type ModerationEnvKey = (typeof MODERATION_ENV_KEYS)[number];

/** The moderation function's configuration. */
export interface ModerationConfig {
  readonly table: string;
  readonly stage: string;
  readonly logLevel: DeploymentLogLevel;
  readonly metricsNamespace: string;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const NAMESPACE = /^[^:\s][^:]{0,254}$/;

/**
 * The environment the construct gives the moderation function (CDK tokens pass through).
 *
 * @example moderationEnvironment({ table: table.tableName, stage: 'prod' })
 */
export function moderationEnvironment(input: {
  readonly table: string;
  /** @default 'dev' */
  readonly stage?: string;
  /** @default 'info' */
  readonly logLevel?: DeploymentLogLevel;
}): Record<ModerationEnvKey, string> {
  return {
    [ENV.table]: input.table,
    [ENV.stage]: input.stage ?? DEFAULT_STAGE,
    [ENV.logLevel]: input.logLevel ?? DEFAULT_LOG_LEVEL,
    [ENV.metricsNamespace]: METRICS_NAMESPACE,
  };
}

/**
 * Parses the moderation function's environment, reporting every problem in one error.
 *
 * @example const config = parseModerationEnv(process.env); // config.table
 * @throws {DeploymentConfigError} listing each missing or malformed variable (never its value)
 */
export function parseModerationEnv(env: Environment): ModerationConfig {
  const problems: string[] = [];
  const value = (key: string) => (env[key] === '' ? undefined : env[key]);
  const table = value(ENV.table);
  if (table === undefined) problems.push(`${ENV.table} is required (a DynamoDB table name)`);
  else if (!TABLE_NAME.test(table)) problems.push(`${ENV.table} must be a DynamoDB table name`);
  const stage = value(ENV.stage) ?? DEFAULT_STAGE;
  if (!STAGE_PATTERN.test(stage)) problems.push(`${ENV.stage} must be a stage name (a-z, 0-9, -)`);
  const level = value(ENV.logLevel) ?? DEFAULT_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push(`${ENV.logLevel} must be one of: ${LOG_LEVELS.join(', ')}`);
  }
  const metricsNamespace = value(ENV.metricsNamespace) ?? METRICS_NAMESPACE;
  if (!NAMESPACE.test(metricsNamespace)) {
    problems.push(`${ENV.metricsNamespace} must be a CloudWatch namespace`);
  }
  if (problems.length > 0) throw new DeploymentConfigError(problems);
  return {
    table: table ?? '',
    stage,
    logLevel: level as DeploymentLogLevel,
    metricsNamespace,
  };
}
