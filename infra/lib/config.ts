import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  ATTACHMENT_BLOB_LIMIT,
  DEFAULT_ATTACHMENT_MAX_BYTES,
  DEFAULT_STAGE,
  type DeploymentLogLevel,
  LOG_LEVELS,
  MAX_MESSAGE_TTL_DAYS,
  MAX_PUSH_ALLOWED_HOSTS,
  MAX_REPORT_RETENTION_DAYS,
  MAX_WAKE_WINDOW_SECONDS,
  MIN_ATTACHMENT_MAX_BYTES,
  MIN_ATTACHMENT_MULTIPART_BYTES,
  parsePushHosts,
  STAGE_PATTERN,
  VAPID_SUBJECT_PATTERN,
} from '#functions/deployment.ts';
import {
  AVAILABILITY_ZONE_ID,
  ENVELOPE_STORAGES,
  type EnvelopeEncryption,
} from './envelope-bucket.ts';
import { defaultRemovalPolicy } from './sealpost-service.ts';
import type { SealpostStackProps } from './sealpost-stack.ts';

/** Reads one context value (`cdk.json` "context" or `-c key=value`). */
export type ContextReader = (key: string) => unknown;

const ENCRYPTIONS: readonly EnvelopeEncryption[] = ['s3-managed', 'kms'];
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/;
const ORIGIN = /^https?:\/\/[^/\s]+$/;

/**
 * Invalid CDK context. The message lists every problem, one per line, each naming its context
 * key; the app entry prints it instead of a stack trace.
 */
export class ContextError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'INVALID_CONTEXT' as const;
  /** One sentence per problem. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const n = problems.length;
    super(
      `Invalid Sealpost context (${n} problem${n === 1 ? '' : 's'}; docs/DEPLOY.md lists every key):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ContextError';
    this.problems = problems;
  }
}

/** `in min..max (a..b)`, the bounds also in MiB or GiB: `in 1048576..4294967296 (1 MiB..4 GiB)`. */
function inRange(min: number, max: number): string {
  const unit = (n: number) =>
    n % 1024 ** 3 === 0 ? `${n / 1024 ** 3} GiB` : `${n / 1024 ** 2} MiB`;
  return `in ${min}..${max} (${unit(min)}..${unit(max)})`;
}

/** Reads context values, collecting every problem instead of stopping at the first. */
class ContextParser {
  readonly problems: string[] = [];
  constructor(private readonly read: ContextReader) {}

  text(key: string): string | undefined {
    const value = this.read(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      this.problems.push(`${key} must be a string or a number`);
      return undefined;
    }
    return String(value);
  }

  integer(key: string, min: number, max: number): number | undefined {
    const value = this.text(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${key} must be an integer in ${min}..${max}`);
      return undefined;
    }
    return n;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.text(key);
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) {
      this.problems.push(`${key} must be one of: ${allowed.join(', ')}`);
      return undefined;
    }
    return value as T;
  }

  matching(key: string, pattern: RegExp, what: string): string | undefined {
    const value = this.text(key);
    if (value !== undefined && !pattern.test(value)) {
      this.problems.push(`${key} must be ${what}`);
      return undefined;
    }
    return value;
  }

  origins(key: string): string[] | undefined {
    const value = this.read(key);
    if (value === undefined || value === null || value === '') return undefined;
    const list = Array.isArray(value) ? value : String(value).split(',');
    const out = list.map((o) => String(o).trim()).filter((o) => o.length > 0);
    if (out.length === 0 || out.some((o) => o !== '*' && !ORIGIN.test(o))) {
      this.problems.push(`${key} must list origins like https://app.example.com`);
      return undefined;
    }
    return out;
  }

  /** A byte count in `min..max`; `what` describes the range in the problem. */
  bytes(key: string, min: number, max: number, what: string): number | undefined {
    const value = this.text(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${key} must be a number of bytes ${what}`);
      return undefined;
    }
    return n;
  }

  /**
   * The attachment limits: the largest blob, the multipart threshold and the per-account
   * quota, which must hold at least one blob of the largest size (or that size could never be
   * sent). The same ranges as the function's own check (functions/deployment.ts).
   */
  attachmentLimits(): Pick<
    SealpostStackProps,
    'attachmentMaxBytes' | 'attachmentMultipartBytes' | 'attachmentQuotaBytes'
  > {
    const maxBytes = this.bytes(
      'attachmentMaxBytes',
      MIN_ATTACHMENT_MAX_BYTES,
      ATTACHMENT_BLOB_LIMIT,
      inRange(MIN_ATTACHMENT_MAX_BYTES, ATTACHMENT_BLOB_LIMIT),
    );
    const floor = maxBytes ?? DEFAULT_ATTACHMENT_MAX_BYTES;
    return {
      attachmentMaxBytes: maxBytes,
      attachmentMultipartBytes: this.bytes(
        'attachmentMultipartBytes',
        MIN_ATTACHMENT_MULTIPART_BYTES,
        ATTACHMENT_BLOB_LIMIT,
        inRange(MIN_ATTACHMENT_MULTIPART_BYTES, ATTACHMENT_BLOB_LIMIT),
      ),
      attachmentQuotaBytes: this.bytes(
        'attachmentQuotaBytes',
        floor,
        Number.MAX_SAFE_INTEGER,
        `of at least attachmentMaxBytes (${floor})`,
      ),
    };
  }

  flag(key: string): boolean | undefined {
    const value = this.read(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.problems.push(`${key} must be true or false`);
    return undefined;
  }

  pushHosts(): readonly string[] | undefined {
    const value = this.read('pushAllowedHosts');
    if (value === undefined || value === null || value === '') return undefined;
    const text = Array.isArray(value) ? value.map(String).join(',') : String(value);
    const hosts = parsePushHosts(text);
    if (hosts === undefined) {
      this.problems.push(
        `pushAllowedHosts must list 1..${MAX_PUSH_ALLOWED_HOSTS} lower-case host names (*.example.com for subdomains)`,
      );
    }
    return hosts;
  }

  /**
   * `envelopeStorage` and `expressAz`: the zone only with `express`, and `express` only with
   * SSE-S3 (the directory bucket's encryption).
   */
  envelopeStorage(
    encryption: EnvelopeEncryption | undefined,
  ): Pick<SealpostStackProps, 'envelopeStorage' | 'expressAvailabilityZoneId'> {
    const storage = this.oneOf('envelopeStorage', ENVELOPE_STORAGES);
    const zone = this.matching(
      'expressAz',
      AVAILABILITY_ZONE_ID,
      'an Availability Zone id like use1-az4',
    );
    if (zone !== undefined && storage !== 'express') {
      this.problems.push('expressAz needs envelopeStorage=express');
    }
    if (storage === 'express' && encryption === 'kms') {
      this.problems.push('envelopeStorage=express needs bucketEncryption=s3-managed');
    }
    return { envelopeStorage: storage, expressAvailabilityZoneId: zone };
  }

  retention(): logs.RetentionDays | undefined {
    const days = this.integer('logRetentionDays', 1, 3653);
    if (days === undefined) return undefined;
    if (!Object.values(logs.RetentionDays).includes(days)) {
      this.problems.push('logRetentionDays must be a CloudWatch Logs retention period');
      return undefined;
    }
    return days as logs.RetentionDays;
  }
}

/**
 * Stack props from CDK context, validated. Keys (all optional): `stage` (default `dev`),
 * `removalPolicy` (`retain` | `destroy`, default `destroy` for `dev`, else `retain`),
 * `logRetentionDays` (default 30), `messageTtlDays` (default 30), `bucketEncryption`
 * (`s3-managed` | `kms`), `corsOrigins` (comma-separated), `logLevel`, `throttleRate`,
 * `throttleBurst`, `alarmTopicArn`, `certificateValidityDays`, `apiEntry` (path of the
 * service entry), and for wake-ups `webPush` (`true` | `false`, default `true`), `vapidSubject`
 * (a `mailto:` or `https:` URL, default the API's URL), `wakeWindowSeconds` (default 60) and
 * `pushAllowedHosts` (comma-separated, default the browsers' push services), and for
 * attachments `attachmentMaxBytes` (default 512 MiB), `attachmentMultipartBytes` (default
 * 64 MiB), `attachmentQuotaBytes` (default 5 GiB) and `attachmentCorsOrigins`
 * (comma-separated, default `*`), `reportRetentionDays` (days a verified abuse report is
 * kept, 1..3650, default 180), and `envelopeStorage` (`standard` | `express`, default
 * `standard`) with `expressAz` (the directory bucket's zone id, default per region).
 *
 * @throws {ContextError} listing every invalid key at once
 * @example
 * ```ts
 * const props = stackPropsFromContext((k) => app.node.tryGetContext(k));
 * ```
 */
export function stackPropsFromContext(read: ContextReader): SealpostStackProps {
  const p = new ContextParser(read);
  const stage =
    p.matching('stage', STAGE_PATTERN, '1-20 characters of a-z, 0-9 and -, starting with a-z') ??
    DEFAULT_STAGE;
  const removal = p.oneOf('removalPolicy', ['retain', 'destroy'] as const);
  const rate = p.integer('throttleRate', 1, 100_000);
  const burst = p.integer('throttleBurst', 0, 5_000);
  const encryption = p.oneOf('bucketEncryption', ENCRYPTIONS);
  const props: SealpostStackProps = {
    stage,
    removalPolicy:
      removal === undefined
        ? defaultRemovalPolicy(stage)
        : removal === 'destroy'
          ? RemovalPolicy.DESTROY
          : RemovalPolicy.RETAIN,
    logRetention: p.retention(),
    messageTtlDays: p.integer('messageTtlDays', 1, MAX_MESSAGE_TTL_DAYS),
    bucketEncryption: encryption,
    ...p.envelopeStorage(encryption),
    corsAllowOrigins: p.origins('corsOrigins'),
    logLevel: p.oneOf<DeploymentLogLevel>('logLevel', LOG_LEVELS),
    throttle:
      rate !== undefined || burst !== undefined
        ? { rateLimit: rate ?? 100, burstLimit: burst ?? 2 * (rate ?? 100) }
        : undefined,
    alarmTopicArn: p.matching('alarmTopicArn', TOPIC_ARN, 'an SNS topic ARN'),
    certificateValidityDays: p.integer('certificateValidityDays', 1, 3650),
    apiEntry: p.text('apiEntry'),
    webPush: p.flag('webPush'),
    vapidSubject: p.matching('vapidSubject', VAPID_SUBJECT_PATTERN, 'a mailto: or https: URL'),
    wakeWindowSeconds: p.integer('wakeWindowSeconds', 1, MAX_WAKE_WINDOW_SECONDS),
    pushAllowedHosts: p.pushHosts(),
    ...p.attachmentLimits(),
    attachmentCorsOrigins: p.origins('attachmentCorsOrigins'),
    reportRetentionDays: p.integer('reportRetentionDays', 1, MAX_REPORT_RETENTION_DAYS),
  };
  if (p.problems.length > 0) throw new ContextError(p.problems);
  return props;
}
