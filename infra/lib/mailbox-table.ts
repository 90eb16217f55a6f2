import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TTL_ATTRIBUTE } from '#functions/deployment.ts';
import type { DataPolicy } from './data-policy.ts';

/**
 * The DynamoDB item actions the mailbox service uses, and nothing else: no Scan, no table
 * management, no streams.
 */
export const TABLE_DATA_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
  'dynamodb:ConditionCheckItem',
];

/**
 * The single mailbox table: string keys `pk`/`sk`, on-demand capacity, point-in-time
 * recovery, TTL on `ttl`, encrypted at rest with the AWS owned key (DynamoDB's default).
 * No global secondary index: the service reads every access path from the primary key.
 * Removal policy and deletion protection come from the {@link DataPolicy} aspect.
 */
export class MailboxTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryption.DEFAULT,
    });
  }

  /** The table name, passed to the function as `SEALPOST_TABLE`. */
  get tableName(): string {
    return this.table.tableName;
  }

  /**
   * Lets `grantee` run the service's item actions ({@link TABLE_DATA_ACTIONS}) on this table
   * only (not on other tables, not on index ARNs, since there is no index).
   */
  grantServiceAccess(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_DATA_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
  }
}
