import { fileURLToPath } from 'node:url';
import { CustomResource, Duration, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EMPTY_ON_DELETE_TAG, type EmptierProperties } from '../bucket-emptier/emptier.ts';
import { acknowledgeWildcardGrant } from './nag.ts';
import { SealpostFunction } from './node-function.ts';

const EMPTIER_ENTRY = fileURLToPath(new URL('../bucket-emptier/handler.ts', import.meta.url));

/** Props of {@link BucketEmptier}. */
export interface BucketEmptierProps {
  /** The bucket to empty when the stack (or this construct) is deleted. */
  readonly bucket: s3.IBucket;
}

/**
 * Deletes every object of a bucket when the stack is destroyed, so a stage whose data is not
 * retained can be removed with one `cdk destroy` (CDK's `autoDeleteObjects` would add a role
 * with an AWS managed policy and a log group without retention). The bucket is tagged
 * `sealpost:empty-on-delete=true`; the function only empties a bucket with that tag, so
 * removing this construct from a stage that now retains its data deletes no mail.
 */
export class BucketEmptier extends Construct {
  /** The emptier function, its role and log group. */
  readonly handler: SealpostFunction;
  /** The custom resource; on its deletion the bucket is emptied. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: BucketEmptierProps) {
    super(scope, id);
    Tags.of(props.bucket).add(EMPTY_ON_DELETE_TAG, 'true');
    this.handler = new SealpostFunction(this, 'Handler', {
      entry: EMPTIER_ENTRY,
      description: 'Sealpost: empties the envelope bucket when the stage is destroyed',
      memorySize: 256,
      timeout: Duration.minutes(5),
    });
    const role = this.handler.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketTagging', 's3:ListBucket'],
        resources: [props.bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: [props.bucket.arnForObjects('*')],
      }),
    );
    acknowledgeWildcardGrant(
      role,
      props.bucket.node.defaultChild as s3.CfnBucket,
      '/*',
      'Emptying a bucket deletes every object in it, and object actions need object ARNs; the ' +
        'grant covers the objects of this one bucket and runs only when the stage is destroyed.',
    );
    const properties: EmptierProperties = { BucketName: props.bucket.bucketName };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.function.functionArn,
      resourceType: 'Custom::SealpostBucketEmptier',
      properties: { ...properties },
    });
    // Deleted before the policy that lets the function empty the bucket.
    this.resource.node.addDependency(role);
  }
}
