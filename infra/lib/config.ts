import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ApiLogLevel } from './api-function.ts';
import type { EnvelopeEncryption } from './envelope-bucket.ts';
import type { SealpostStackProps } from './sealpost-stack.ts';

/** Reads one context value (`cdk.json` "context" or `-c key=value`). */
export type ContextReader = (key: string) => unknown;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;
const LOG_LEVELS: readonly ApiLogLevel[] = ['debug', 'info', 'warn', 'error'];
const ENCRYPTIONS: readonly EnvelopeEncryption[] = ['s3-managed', 'kms'];

function text(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new TypeError(`context ${key} must be a string or a number`);
  }
  return String(value);
}

function integer(read: ContextReader, key: string, min: number, max: number): number | undefined {
  const value = text(read, key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new RangeError(`context ${key} must be an integer in ${min}..${max}`);
  }
  return n;
}

function oneOf<T extends string>(
  read: ContextReader,
  key: string,
  allowed: readonly T[],
): T | undefined {
  const value = text(read, key);
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    throw new RangeError(`context ${key} must be one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

function origins(read: ContextReader): string[] | undefined {
  const value = read('corsOrigins');
  if (value === undefined || value === null || value === '') return undefined;
  const list = Array.isArray(value) ? value : String(value).split(',');
  const out = list.map((o) => String(o).trim()).filter((o) => o.length > 0);
  for (const o of out) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new RangeError('context corsOrigins must list origins like https://app.example.com');
    }
  }
  return out;
}

function retention(read: ContextReader): logs.RetentionDays | undefined {
  const days = integer(read, 'logRetentionDays', 1, 3653);
  if (days === undefined) return undefined;
  if (!Object.values(logs.RetentionDays).includes(days)) {
    throw new RangeError('context logRetentionDays must be a CloudWatch Logs retention period');
  }
  return days as logs.RetentionDays;
}

/**
 * Stack props from CDK context, validated. Keys (all optional): `stage` (default `dev`),
 * `removalPolicy` (`retain` | `destroy`, default `retain`), `logRetentionDays` (default 30),
 * `messageTtlDays` (default 30), `bucketEncryption` (`s3-managed` | `kms`), `corsOrigins`
 * (comma-separated), `logLevel`, `throttleRate`, `throttleBurst`, `alarmTopicArn`,
 * `certificateValidityDays`, `apiEntry` (path of the service entry).
 *
 * @throws TypeError / RangeError naming the context key whose value is invalid
 * @example
 * ```ts
 * const props = stackPropsFromContext((k) => app.node.tryGetContext(k));
 * ```
 */
export function stackPropsFromContext(read: ContextReader): SealpostStackProps {
  const stage = text(read, 'stage') ?? 'dev';
  if (!STAGE_PATTERN.test(stage)) {
    throw new RangeError('context stage must be 1-20 characters of a-z, 0-9 and -');
  }
  const removal = oneOf(read, 'removalPolicy', ['retain', 'destroy'] as const);
  const rate = integer(read, 'throttleRate', 1, 100_000);
  const burst = integer(read, 'throttleBurst', 0, 5_000);
  const topic = text(read, 'alarmTopicArn');
  if (topic !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(topic)) {
    throw new RangeError('context alarmTopicArn must be an SNS topic ARN');
  }
  return {
    stage,
    removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    logRetention: retention(read),
    messageTtlDays: integer(read, 'messageTtlDays', 1, 365),
    bucketEncryption: oneOf(read, 'bucketEncryption', ENCRYPTIONS),
    corsAllowOrigins: origins(read),
    logLevel: oneOf(read, 'logLevel', LOG_LEVELS),
    throttle:
      rate !== undefined || burst !== undefined
        ? { rateLimit: rate ?? 100, burstLimit: burst ?? 2 * (rate ?? 100) }
        : undefined,
    alarmTopicArn: topic,
    certificateValidityDays: integer(read, 'certificateValidityDays', 1, 3650),
    apiEntry: text(read, 'apiEntry'),
  };
}
