import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3express from 'aws-cdk-lib/aws-s3express';
import { Construct } from 'constructs';
import {
  ATTACHMENT_PREFIX,
  ENVELOPE_PREFIX,
  PAYLOAD_GRACE_DAYS,
  PAYLOAD_PREFIX,
} from '#functions/deployment.ts';
import type { BucketEmptier } from './bucket-emptier.ts';
import type { DataPolicy } from './data-policy.ts';
import { acknowledgeFinding, acknowledgeWildcardGrant } from './nag.ts';

/**
 * The object actions the mailbox service uses on envelopes and shared payloads. No List, no
 * ACL, no tagging.
 */
export const ENVELOPE_OBJECT_ACTIONS: readonly string[] = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
];

/**
 * The object actions behind attachment transfer (docs/SERVICE.md §7.6), all on
 * `attachments/*`: `PutObject` signs the upload form and covers CreateMultipartUpload,
 * UploadPart and CompleteMultipartUpload; `GetObject` signs downloads and covers HeadObject;
 * `DeleteObject` removes an abandoned blob; `AbortMultipartUpload` and
 * `ListMultipartUploadParts` (ListParts) control a multipart upload. No bucket-level action:
 * the service never lists the bucket or its uploads.
 */
export const ATTACHMENT_OBJECT_ACTIONS: readonly string[] = [
  's3:PutObject',
  's3:GetObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
];

/**
 * Days an upload may take, on top of the message TTL, before its blob expires: a multipart
 * object's creation date (which lifecycle rules count from) is when its upload started, and an
 * upload session lives 24 hours, so a message sent when the upload completes never outlives
 * its attachment. Incomplete uploads are aborted after the same day.
 */
export const ATTACHMENT_UPLOAD_DAYS = 1;

/** Origins that may call presigned attachment URLs from a browser by default: any. */
export const DEFAULT_ATTACHMENT_CORS_ORIGINS: readonly string[] = ['*'];

/** How long a browser may cache the bucket's answer to a preflight request, in seconds. */
export const ATTACHMENT_CORS_MAX_AGE_SECONDS = 3600;

/** How envelope objects are encrypted at rest. */
export type EnvelopeEncryption = 's3-managed' | 'kms';

/**
 * Where envelope objects live: `standard` (S3 Standard, in the bucket beside the attachments)
 * or `express` (an S3 Express One Zone directory bucket in one Availability Zone; see
 * docs/DEPLOY.md for what that changes).
 */
export type EnvelopeStorage = 'standard' | 'express';

/** The envelope storage classes, for context validation. */
export const ENVELOPE_STORAGES: readonly EnvelopeStorage[] = ['standard', 'express'];

/**
 * An Availability Zone id (`use1-az4`, the same zone in every account, unlike a zone name
 * such as `us-east-1a`), or a Dedicated Local Zone id (`use1-atl2-az1`).
 */
export const AVAILABILITY_ZONE_ID = /^[a-z]{2,8}\d{1,2}(-[a-z]{2,8}\d{1,2})?-az\d{1,2}$/;

/**
 * The zone a directory bucket goes to when none is given: per region, one Availability Zone
 * id that S3 Express One Zone serves (the service runs in some zones of some regions only;
 * docs/DEPLOY.md). Other regions need `expressAz`.
 */
export const DEFAULT_EXPRESS_ZONES: Readonly<Record<string, string>> = {
  'us-east-1': 'use1-az4',
  'us-west-2': 'usw2-az1',
  'ap-northeast-1': 'apne1-az4',
  'eu-north-1': 'eun1-az1',
};

/** The S3 Express One Zone options of {@link EnvelopeBucket}. */
export interface ExpressEnvelopeProps {
  /**
   * The Availability Zone id of the directory bucket. Put it where the callers are: Lambda
   * functions outside a VPC run in every zone of the region, so most requests cross zones
   * either way (docs/DEPLOY.md).
   * @default - DEFAULT_EXPRESS_ZONES of the stack's region (which must then be known at synth)
   */
  readonly availabilityZoneId?: string;
}

/** Props of {@link EnvelopeBucket}. */
export interface EnvelopeBucketProps {
  /** Days a message lives before it expires unread; the lifecycle rule matches it. */
  readonly messageTtlDays: number;
  /**
   * `s3-managed` (SSE-S3, no per-request KMS cost) or `kms` (a customer managed key with yearly
   * rotation, S3 Bucket Keys on to cut KMS requests).
   * @default 's3-managed'
   */
  readonly encryption?: EnvelopeEncryption;
  /**
   * Origins whose pages may send the presigned attachment requests (POST form, PUT part, GET)
   * straight to the bucket. Every such request carries its own signature, so the CORS rule
   * protects nothing; listing origins only keeps other sites' pages from using the URLs.
   * @default DEFAULT_ATTACHMENT_CORS_ORIGINS (`*`)
   */
  readonly attachmentCorsOrigins?: readonly string[];
  /**
   * Keep envelopes and shared payloads in an S3 Express One Zone directory bucket instead of the
   * bucket (whose `env/` and `pay/` prefixes then stay empty). Attachment blobs stay in the
   * bucket: presigned POST forms
   * and cross-origin browser transfers need a general purpose bucket. Needs `s3-managed`
   * encryption.
   * @default - envelopes in S3 Standard under `env/` of the bucket
   */
  readonly express?: ExpressEnvelopeProps;
}

/**
 * The bucket of sealed envelopes (under `env/`), shared payloads of multi-recipient sends
 * (under `pay/`) and encrypted attachment blobs (under `attachments/`). Private (all public
 * access blocked, ACLs disabled), TLS only, encrypted at rest, unversioned (an acknowledged
 * message must really be gone), and every object the service can write expires: envelopes
 * with the message TTL, payloads a day later (see {@link PAYLOAD_GRACE_DAYS}), attachments a
 * day later (see {@link ATTACHMENT_UPLOAD_DAYS}). Browsers reach attachments through presigned URLs, hence a
 * CORS rule. Removal policy (bucket and key) comes from the {@link DataPolicy} aspect; a
 * bucket is only deleted when empty (see {@link BucketEmptier}).
 *
 * With `express`, envelopes and payloads go to a directory bucket ({@link directoryBucket}) in
 * one Availability Zone instead: SSE-S3, every object expiring with the message TTL plus
 * {@link PAYLOAD_GRACE_DAYS}, and access by
 * `s3express:CreateSession` on that bucket (the SDK's S3 client opens and renews sessions).
 *
 * @throws {RangeError} if `messageTtlDays` is not a positive integer,
 *   `attachmentCorsOrigins` is empty, `express` is combined with `kms` encryption, or no
 *   valid zone id is given or known for the stack's region
 * @example
 * ```ts
 * const bucket = new EnvelopeBucket(this, 'Envelopes', { messageTtlDays: 30 });
 * bucket.grantEnvelopeAccess(fn.role);
 * bucket.grantAttachmentAccess(fn.role);
 * ```
 */
export class EnvelopeBucket extends Construct {
  /** The bucket. */
  readonly bucket: s3.Bucket;
  /** The customer managed key, when `encryption` is `kms`. */
  readonly key?: kms.Key;
  /** The S3 Express One Zone bucket of envelopes, with `express`. */
  readonly directoryBucket?: s3express.CfnDirectoryBucket;

  constructor(scope: Construct, id: string, props: EnvelopeBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.messageTtlDays) || props.messageTtlDays < 1) {
      throw new RangeError('messageTtlDays must be a positive integer');
    }
    const corsOrigins = props.attachmentCorsOrigins ?? DEFAULT_ATTACHMENT_CORS_ORIGINS;
    if (corsOrigins.length === 0) {
      throw new RangeError('attachmentCorsOrigins must list at least one origin');
    }
    if (props.express && props.encryption === 'kms') {
      // A directory bucket's SSE-KMS key is used through its sessions, which the grants here
      // do not model; SSE-S3 is what the express option supports.
      throw new RangeError('express envelope storage needs s3-managed encryption');
    }
    if (props.encryption === 'kms') {
      this.key = new kms.Key(this, 'Key', {
        description: 'Sealpost envelope bucket encryption',
        enableKeyRotation: true,
      });
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      encryption: this.key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: this.key,
      bucketKeyEnabled: this.key ? true : undefined,
      // One rule per prefix, and the prefixes are disjoint: in the rule-level prefix form the
      // template uses, S3 refuses two rules with overlapping prefixes for one action type.
      // Every object the service can write (IAM allows env/, pay/ and attachments/ only) expires,
      // and an upload that never completed (invisible to the service, still billed) is
      // aborted.
      lifecycleRules: [
        {
          // S3 counts whole days from creation, rounded up to the next midnight UTC, so an
          // object never expires before its index item's TTL. The same rule removes orphans
          // (an object whose index write failed, or whose delete after acknowledgement
          // failed): nothing outlives the TTL.
          id: 'expire-envelopes',
          prefix: ENVELOPE_PREFIX,
          expiration: Duration.days(props.messageTtlDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          // A shared payload is normally deleted when its last record is acknowledged; this
          // removes the ones a fault or the table's TTL left behind (docs/PROTOCOL.md §14.8). A
          // day longer than envelopes: a retry of the request stores records with its own, later
          // expiry that reference the object its first attempt created, which this counts from.
          id: 'expire-payloads',
          prefix: PAYLOAD_PREFIX,
          expiration: Duration.days(props.messageTtlDays + PAYLOAD_GRACE_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          // Nothing links a finished blob to its uploader or its messages, so expiry is the
          // only deletion of a delivered attachment. The abort ends uploads left unfinished
          // (a day after they started, with their upload session), which frees their parts.
          id: 'expire-attachments',
          prefix: ATTACHMENT_PREFIX,
          expiration: Duration.days(props.messageTtlDays + ATTACHMENT_UPLOAD_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(ATTACHMENT_UPLOAD_DAYS),
        },
      ],
      cors: [
        {
          // Presigned requests of the SDK in a browser: POST of the upload form, PUT of a
          // multipart part (its ETag read back), GET of the blob, by ranges when resuming.
          id: 'attachments',
          allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.PUT, s3.HttpMethods.GET],
          allowedOrigins: [...corsOrigins],
          allowedHeaders: ['Content-Type', 'Range'],
          exposedHeaders: ['ETag', 'Content-Range'],
          maxAge: ATTACHMENT_CORS_MAX_AGE_SECONDS,
        },
      ],
    });
    acknowledgeFinding(
      this.bucket,
      'AwsSolutions-S1',
      'Server access logs would record, per envelope, the object key and request time, and per ' +
        'attachment the IP addresses that uploaded and downloaded it by id, linking sender and ' +
        'recipients; envelope requests come from the API function role and attachment requests ' +
        'are presigned by it, so they add no accountability over the API access log and ' +
        'CloudTrail, only metadata that sealed sender keeps from the server.',
    );
    if (props.express) {
      this.directoryBucket = this.createDirectoryBucket(props.messageTtlDays, props.express);
    }
  }

  /**
   * The directory bucket of envelopes and payloads. Directory buckets always block public access, disable
   * ACLs and are unversioned, so only encryption and expiry need saying. Its name is generated
   * by CloudFormation (`<id>--<zone id>--x-s3`).
   */
  private createDirectoryBucket(
    messageTtlDays: number,
    express: ExpressEnvelopeProps,
  ): s3express.CfnDirectoryBucket {
    const zone = express.availabilityZoneId ?? defaultExpressZone(Stack.of(this).region);
    if (!AVAILABILITY_ZONE_ID.test(zone)) {
      throw new RangeError(`express availabilityZoneId must be a zone id like use1-az4`);
    }
    return new s3express.CfnDirectoryBucket(this, 'Express', {
      dataRedundancy: zone.split('-').length > 2 ? 'SingleLocalZone' : 'SingleAvailabilityZone',
      locationName: zone,
      bucketEncryption: {
        serverSideEncryptionConfiguration: [
          { serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
        ],
      },
      lifecycleConfiguration: {
        rules: [
          {
            // The whole bucket, not `env/`: a session may write any key of the bucket, so
            // nothing in it may outlive the TTL plus the payloads' day (one rule, as prefix
            // rules would either overlap or leave keys outside both prefixes unexpired).
            // Envelopes are deleted on acknowledgement and expired ones on fetch; this rule
            // only bounds the ones nobody fetched, a day later than in the Standard bucket.
            // Same day counting as the Standard rules.
            id: 'expire-envelopes',
            status: 'Enabled',
            expirationInDays: messageTtlDays + PAYLOAD_GRACE_DAYS,
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
    });
  }

  /** The bucket name, passed to the function as `SEALPOST_BUCKET`. */
  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /**
   * The directory bucket's name, passed as `SEALPOST_ENVELOPE_BUCKET`; undefined when
   * envelopes live in {@link bucket}.
   */
  get envelopeBucketName(): string | undefined {
    return this.directoryBucket?.ref;
  }

  /**
   * Lets `grantee` get, put and delete objects under {@link ENVELOPE_PREFIX} and
   * {@link PAYLOAD_PREFIX} only, and use the bucket's KMS key for exactly those requests when
   * there is one. With `express`, it is `s3express:CreateSession` on the directory bucket
   * instead: a read-write session covers every object request on that bucket (S3 Express
   * authorizes the session, not each request), which holds envelopes and payloads only.
   */
  grantEnvelopeAccess(grantee: iam.IGrantable): iam.Grant {
    if (this.directoryBucket) {
      return iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3express:CreateSession'],
        resourceArns: [this.directoryBucket.attrArn],
      });
    }
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...ENVELOPE_OBJECT_ACTIONS],
      resourceArns: [
        this.bucket.arnForObjects(`${ENVELOPE_PREFIX}*`),
        this.bucket.arnForObjects(`${PAYLOAD_PREFIX}*`),
      ],
    });
    acknowledgeWildcardGrant(
      grantee.grantPrincipal,
      this.bucket.node.defaultChild as s3.CfnBucket,
      `/${ENVELOPE_PREFIX}*`,
      'Object actions need object ARNs and there is one object per message, so the grant is ' +
        'the envelope prefix of this one bucket, the narrowest pattern that covers them.',
    );
    acknowledgeWildcardGrant(
      grantee.grantPrincipal,
      this.bucket.node.defaultChild as s3.CfnBucket,
      `/${PAYLOAD_PREFIX}*`,
      'Object actions need object ARNs and there is one object per shared payload, named by a ' +
        'random id, so the grant is the payload prefix of this one bucket, the narrowest ' +
        'pattern that covers them.',
    );
    this.grantKeyUse(grantee);
    return grant;
  }

  /**
   * Lets `grantee` presign and control attachment transfers: the
   * {@link ATTACHMENT_OBJECT_ACTIONS} on objects under {@link ATTACHMENT_PREFIX} only (a
   * presigned URL carries the signer's permissions, so these bound what any URL can do), and
   * use the bucket's KMS key through S3 when there is one.
   *
   * @example
   * ```ts
   * bucket.grantAttachmentAccess(apiFunction.handler.role);
   * ```
   */
  grantAttachmentAccess(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...ATTACHMENT_OBJECT_ACTIONS],
      resourceArns: [this.bucket.arnForObjects(`${ATTACHMENT_PREFIX}*`)],
    });
    acknowledgeWildcardGrant(
      grantee.grantPrincipal,
      this.bucket.node.defaultChild as s3.CfnBucket,
      `/${ATTACHMENT_PREFIX}*`,
      'Attachment ids are random and chosen per upload, and object actions need object ARNs, ' +
        'so the grant is the attachment prefix of this one bucket, the narrowest pattern that ' +
        'covers them.',
    );
    this.grantKeyUse(grantee);
    return grant;
  }

  /**
   * `kms:Decrypt` and `kms:GenerateDataKey` on the bucket key, via S3 only (both grants add the
   * same statement; the policy keeps one).
   */
  private grantKeyUse(grantee: iam.IGrantable): void {
    if (!this.key) return;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
      },
    });
  }
}

/** {@link DEFAULT_EXPRESS_ZONES} of `region`, which must be a known literal. */
function defaultExpressZone(region: string): string {
  const zone = Token.isUnresolved(region) ? undefined : DEFAULT_EXPRESS_ZONES[region];
  if (zone === undefined) {
    throw new RangeError(
      'express envelope storage needs an availabilityZoneId (context expressAz) unless the ' +
        `stack's region is one of: ${Object.keys(DEFAULT_EXPRESS_ZONES).join(', ')}`,
    );
  }
  return zone;
}
