/**
 * The deployment contract: everything the CDK app (infra/) and the service (functions/) must
 * agree on, in one place. The constructs set the function's environment with
 * {@link deploymentEnvironment}; the Lambda composition root reads it back with
 * {@link parseDeploymentEnv}; the adapters and the constructs share the table's TTL attribute,
 * the envelope key prefix and the metrics namespace from here (docs/SERVICE.md, docs/DEPLOY.md).
 *
 * Pure data and parsing: no AWS SDK and no CDK imports, so both sides can load it.
 */
import { DEFAULT_MESSAGE_TTL_DAYS } from 'sealpost/wire/api';

export { DEFAULT_MESSAGE_TTL_DAYS };

/** Names of the environment variables the service function reads, and nothing else. */
export const ENV = {
  /** Name of the mailbox table. */
  table: 'SEALPOST_TABLE',
  /** Name of the envelope bucket. */
  bucket: 'SEALPOST_BUCKET',
  /** ARN of the secret holding the server signing material. */
  signingSecretArn: 'SEALPOST_SIGNING_SECRET_ARN',
  /** Days an undelivered message is kept. */
  messageTtlDays: 'SEALPOST_MESSAGE_TTL_DAYS',
  /** Stage name, a metric dimension. */
  stage: 'SEALPOST_STAGE',
  /** Minimum log level written. */
  logLevel: 'SEALPOST_LOG_LEVEL',
  /** CloudWatch namespace of the embedded metrics. */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /**
   * Management endpoint of the WebSocket stage (`https://{api-id}.execute-api.{region}.
   * amazonaws.com/{stage}`), where stored messages are pushed; empty: no realtime push.
   */
  websocketEndpoint: 'SEALPOST_WEBSOCKET_ENDPOINT',
} as const;

/** One environment variable of the deployment contract. */
export type DeploymentEnvKey = (typeof ENV)[keyof typeof ENV];

/**
 * Variables of the local server only (functions/api/local.ts, `npm start`); never set on
 * Lambda. The local server also reads {@link ENV}'s `table` and `bucket` names.
 */
export const LOCAL_ENV = {
  /** Port to listen on (0 picks a free one). */
  port: 'SEALPOST_PORT',
  /** Directory of the local signing material. */
  dataDir: 'SEALPOST_DATA_DIR',
  /** DynamoDB Local endpoint; with `s3Endpoint`, storage goes to the emulators. */
  dynamodbEndpoint: 'SEALPOST_DYNAMODB_ENDPOINT',
  /** s3rver endpoint. */
  s3Endpoint: 'SEALPOST_S3_ENDPOINT',
} as const;

/** Every key of {@link ENV}, in declaration order. */
export const DEPLOYMENT_ENV_KEYS: readonly DeploymentEnvKey[] = Object.values(ENV);

/** Log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Minimum level written: `debug` < `info` < `warn` < `error`. */
export type DeploymentLogLevel = (typeof LOG_LEVELS)[number];

/** Log level when none is configured. */
export const DEFAULT_LOG_LEVEL: DeploymentLogLevel = 'info';

/** Stage name when none is configured. */
export const DEFAULT_STAGE = 'dev';

/** A stage name: 1-20 characters of `a-z`, `0-9` and `-`, starting with a letter. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Longest message TTL a deployment may set, in days. */
export const MAX_MESSAGE_TTL_DAYS = 365;

/** CloudWatch namespace of the service's metrics. */
export const METRICS_NAMESPACE = 'Sealpost';

/** Name of the TTL attribute (epoch seconds) on every expiring table item. */
export const TTL_ATTRIBUTE = 'ttl';

/** Key prefix of every envelope object; the bucket's lifecycle rule and IAM grant use it. */
export const ENVELOPE_PREFIX = 'env/';

/** The function's configuration, as parsed from its environment. */
export interface DeploymentConfig {
  readonly table: string;
  readonly bucket: string;
  readonly signingSecretArn: string;
  readonly messageTtlDays: number;
  readonly stage: string;
  readonly logLevel: DeploymentLogLevel;
  readonly metricsNamespace: string;
  /** The WebSocket stage's management endpoint, when realtime push is deployed. */
  readonly websocketEndpoint?: string;
}

/** What {@link deploymentEnvironment} needs; values may be deploy-time tokens. */
export interface DeploymentEnvironmentInput {
  readonly table: string;
  readonly bucket: string;
  readonly signingSecretArn: string;
  /** @default DEFAULT_MESSAGE_TTL_DAYS */
  readonly messageTtlDays?: number;
  /** @default 'dev' */
  readonly stage?: string;
  /** @default 'info' */
  readonly logLevel?: DeploymentLogLevel;
  /** @default - none (`SEALPOST_WEBSOCKET_ENDPOINT` empty: no realtime push) */
  readonly websocketEndpoint?: string;
}

/** A deployment configuration that breaks the contract; lists every problem at once. */
export class DeploymentConfigError extends RangeError {
  /** Stable code for callers that branch on it. */
  readonly code = 'DEPLOYMENT_CONFIG_INVALID' as const;
  /** One sentence per problem, each naming its variable (never its value). */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid deployment environment: ${problems.join('; ')}`);
    this.name = 'DeploymentConfigError';
    this.problems = problems;
  }
}

/** The environment the constructs give the service function (CDK tokens pass through). */
export function deploymentEnvironment(
  input: DeploymentEnvironmentInput,
): Record<DeploymentEnvKey, string> {
  return {
    [ENV.table]: input.table,
    [ENV.bucket]: input.bucket,
    [ENV.signingSecretArn]: input.signingSecretArn,
    [ENV.messageTtlDays]: String(input.messageTtlDays ?? DEFAULT_MESSAGE_TTL_DAYS),
    [ENV.stage]: input.stage ?? DEFAULT_STAGE,
    [ENV.logLevel]: input.logLevel ?? DEFAULT_LOG_LEVEL,
    [ENV.metricsNamespace]: METRICS_NAMESPACE,
    [ENV.websocketEndpoint]: input.websocketEndpoint ?? '',
  };
}

/** An environment as Node gives it (`process.env`) or a test builds it. */
export type Environment = Readonly<Record<string, string | undefined>>;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/;
const NAMESPACE = /^[^:\s][^:]{0,254}$/;
const HTTPS_URL = /^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/** Problems found so far, and the readers that add to them. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Environment) {}

  private raw(key: DeploymentEnvKey): string | undefined {
    const value = this.env[key];
    return value === undefined || value === '' ? undefined : value;
  }

  required(key: DeploymentEnvKey, pattern: RegExp, what: string): string {
    const value = this.raw(key);
    if (value === undefined) this.problems.push(`${key} is required (${what})`);
    else if (!pattern.test(value)) this.problems.push(`${key} must be ${what}`);
    return value ?? '';
  }

  optional(key: DeploymentEnvKey, fallback: string, pattern: RegExp, what: string): string {
    const value = this.raw(key) ?? fallback;
    if (!pattern.test(value)) this.problems.push(`${key} must be ${what}`);
    return value;
  }

  /** An optional variable without a default: undefined when unset or empty. */
  maybe(key: DeploymentEnvKey, pattern: RegExp, what: string): string | undefined {
    const value = this.raw(key);
    if (value !== undefined && !pattern.test(value)) this.problems.push(`${key} must be ${what}`);
    return value;
  }

  ttlDays(): number {
    const value = this.raw(ENV.messageTtlDays);
    if (value === undefined) return DEFAULT_MESSAGE_TTL_DAYS;
    const days = Number(value);
    if (!/^\d+$/.test(value) || days < 1 || days > MAX_MESSAGE_TTL_DAYS) {
      this.problems.push(`${ENV.messageTtlDays} must be an integer in 1..${MAX_MESSAGE_TTL_DAYS}`);
      return DEFAULT_MESSAGE_TTL_DAYS;
    }
    return days;
  }

  logLevel(): DeploymentLogLevel {
    const value = this.raw(ENV.logLevel) ?? DEFAULT_LOG_LEVEL;
    if ((LOG_LEVELS as readonly string[]).includes(value)) return value as DeploymentLogLevel;
    this.problems.push(`${ENV.logLevel} must be one of: ${LOG_LEVELS.join(', ')}`);
    return DEFAULT_LOG_LEVEL;
  }

  done(): void {
    if (this.problems.length > 0) throw new DeploymentConfigError(this.problems);
  }
}

/**
 * Parses the service function's environment, reporting every problem in one error.
 *
 * @example
 * ```ts
 * const deployment = parseDeploymentEnv(process.env); // deployment.table, deployment.logLevel
 * ```
 * @throws {DeploymentConfigError} listing each missing or malformed variable
 */
export function parseDeploymentEnv(env: Environment): DeploymentConfig {
  const r = new Reader(env);
  const config: DeploymentConfig = {
    table: r.required(ENV.table, TABLE_NAME, 'a DynamoDB table name'),
    bucket: r.required(ENV.bucket, BUCKET_NAME, 'an S3 bucket name'),
    signingSecretArn: r.required(ENV.signingSecretArn, SECRET_ARN, 'a Secrets Manager ARN'),
    messageTtlDays: r.ttlDays(),
    stage: r.optional(ENV.stage, DEFAULT_STAGE, STAGE_PATTERN, 'a stage name (a-z, 0-9, -)'),
    logLevel: r.logLevel(),
    metricsNamespace: r.optional(
      ENV.metricsNamespace,
      METRICS_NAMESPACE,
      NAMESPACE,
      'a CloudWatch namespace',
    ),
  };
  const websocketEndpoint = r.maybe(ENV.websocketEndpoint, HTTPS_URL, 'an https URL');
  r.done();
  if (websocketEndpoint !== undefined) return { ...config, websocketEndpoint };
  return config;
}

/**
 * Reads only the message TTL (`SEALPOST_MESSAGE_TTL_DAYS`), for hosts that configure the rest
 * themselves (the local server, tests).
 *
 * @example readMessageTtlDays({ SEALPOST_MESSAGE_TTL_DAYS: '7' }) // 7
 * @throws {DeploymentConfigError} if it is set and not an integer in 1..365
 */
export function readMessageTtlDays(env: Environment): number {
  const r = new Reader(env);
  const days = r.ttlDays();
  r.done();
  return days;
}
