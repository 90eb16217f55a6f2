import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENVELOPE_PREFIX } from '#functions/deployment.ts';
import type { BucketEmptier } from './bucket-emptier.ts';
import type { DataPolicy } from './data-policy.ts';
import { acknowledgeFinding, acknowledgeWildcardGrant } from './nag.ts';

/** The object actions the mailbox service uses on envelopes. No List, no ACL, no tagging. */
export const ENVELOPE_OBJECT_ACTIONS: readonly string[] = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
];

/** How envelope objects are encrypted at rest. */
export type EnvelopeEncryption = 's3-managed' | 'kms';

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
}

/**
 * The bucket of sealed envelopes. Private (all public access blocked, ACLs disabled), TLS
 * only, encrypted at rest, unversioned (an acknowledged message must really be gone), and
 * every object expires with the message TTL. Removal policy (bucket and key) comes from the
 * {@link DataPolicy} aspect; a bucket is only deleted when empty (see {@link BucketEmptier}).
 */
export class EnvelopeBucket extends Construct {
  /** The bucket. */
  readonly bucket: s3.Bucket;
  /** The customer managed key, when `encryption` is `kms`. */
  readonly key?: kms.Key;

  constructor(scope: Construct, id: string, props: EnvelopeBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.messageTtlDays) || props.messageTtlDays < 1) {
      throw new RangeError('messageTtlDays must be a positive integer');
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
      lifecycleRules: [
        {
          // S3 counts whole days from creation, rounded up to the next midnight UTC, so an
          // object never expires before its index item's TTL. The same rule removes orphans
          // (an object whose index write failed, or whose delete after acknowledgement
          // failed): nothing outlives the TTL.
          id: 'expire-envelopes',
          prefix: ENVELOPE_PREFIX,
          expiration: Duration.days(props.messageTtlDays),
        },
        {
          // An upload that never completed is invisible to the service but still billed.
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    acknowledgeFinding(
      this.bucket,
      'AwsSolutions-S1',
      'Server access logs would record, per envelope, the object key and request time; every ' +
        'request comes from the API function role, so they add no accountability over the API ' +
        'access log and CloudTrail, only message metadata that sealed sender keeps from the server.',
    );
  }

  /** The bucket name, passed to the function as `SEALPOST_BUCKET`. */
  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /**
   * Lets `grantee` get, put and delete objects under {@link ENVELOPE_PREFIX} only, and use the
   * bucket's KMS key for exactly those requests when there is one.
   */
  grantEnvelopeAccess(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...ENVELOPE_OBJECT_ACTIONS],
      resourceArns: [this.bucket.arnForObjects(`${ENVELOPE_PREFIX}*`)],
    });
    acknowledgeWildcardGrant(
      grantee.grantPrincipal,
      this.bucket.node.defaultChild as s3.CfnBucket,
      `/${ENVELOPE_PREFIX}*`,
      'Object actions need object ARNs and there is one object per message, so the grant is ' +
        'the envelope prefix of this one bucket, the narrowest pattern that covers them.',
    );
    if (this.key) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resourceArns: [this.key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
        },
      });
    }
    return grant;
  }
}
