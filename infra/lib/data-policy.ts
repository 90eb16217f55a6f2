import { AspectPriority, Aspects, CfnResource, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * CloudFormation types that hold data (or the key to it): mail, accounts, the trust root,
 * logs. Everything else in the stack is recreated from code, so it keeps CloudFormation's
 * default (deleted with the stack).
 */
export const STATEFUL_RESOURCE_TYPES: readonly string[] = [
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::S3Express::DirectoryBucket',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
];

/** What {@link DataPolicy} applies. */
export interface DataPolicyProps {
  /** `RETAIN` keeps every stateful resource after `cdk destroy`; `DESTROY` deletes it. */
  readonly removalPolicy: RemovalPolicy;
  /** Retention of every log group. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * An aspect that applies one removal policy to every stateful resource
 * ({@link STATEFUL_RESOURCE_TYPES}) and one retention to every log group below the scope it is
 * added to, so no construct threads either through its props. With `RETAIN`, tables also get
 * deletion protection (a `DeleteTable` call fails, from CloudFormation too).
 *
 * @example
 * ```ts
 * DataPolicy.apply(service, { removalPolicy: RemovalPolicy.RETAIN, logRetention: RetentionDays.ONE_MONTH });
 * ```
 */
export class DataPolicy {
  /** The configuration this aspect applies. */
  readonly props: DataPolicyProps;

  private constructor(props: DataPolicyProps) {
    this.props = props;
  }

  /**
   * Adds the aspect to `scope` (runs before synthesis, over every construct below it).
   *
   * @throws {RangeError} if the removal policy is neither RETAIN nor DESTROY
   */
  static apply(scope: IConstruct, props: DataPolicyProps): DataPolicy {
    if (
      props.removalPolicy !== RemovalPolicy.RETAIN &&
      props.removalPolicy !== RemovalPolicy.DESTROY
    ) {
      throw new RangeError('removalPolicy must be RETAIN or DESTROY');
    }
    const policy = new DataPolicy(props);
    Aspects.of(scope).add(policy, { priority: AspectPriority.MUTATING });
    return policy;
  }

  /** @internal Called by the CDK for every construct below the scope. */
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    if (STATEFUL_RESOURCE_TYPES.includes(node.cfnResourceType)) {
      node.applyRemovalPolicy(this.props.removalPolicy);
    }
    if (node instanceof logs.CfnLogGroup) {
      const days = this.props.logRetention;
      node.retentionInDays = days === logs.RetentionDays.INFINITE ? undefined : days;
    }
    if (node instanceof dynamodb.CfnTable) {
      node.deletionProtectionEnabled = this.props.removalPolicy === RemovalPolicy.RETAIN;
    }
  }
}
