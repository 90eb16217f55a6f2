import { fileURLToPath } from 'node:url';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { moderationEnvironment } from '#functions/api/moderation/deployment.ts';
import type { DeploymentLogLevel } from '#functions/deployment.ts';
import { SEALPOST_METRIC_NAMESPACE } from './alarms.ts';
import type { MailboxTable } from './mailbox-table.ts';
import { SealpostFunction } from './node-function.ts';

/** The moderation function's composition root (docs/SERVICE.md §14.4). */
export const DEFAULT_MODERATION_ENTRY = fileURLToPath(
  new URL('../../functions/api/moderation-lambda.ts', import.meta.url),
);

/** The HTTP API route of the moderation API: every method, every path below the prefix. */
export const MODERATION_ROUTE_PATH = '/v1/moderation/{proxy+}';

/**
 * The table actions of the moderation function, and nothing else: it reads reports, accounts,
 * counters and the audit log, records decisions and audit entries, and suspends and lifts
 * (transactions over the account item and the suspension index). No Scan, no BatchWriteItem.
 */
export const MODERATION_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:TransactWriteItems',
];

/** Props of {@link ModerationApi}. */
export interface ModerationApiProps {
  /** The mailbox table (`SEALPOST_TABLE`; the actions of {@link MODERATION_TABLE_ACTIONS}). */
  readonly table: MailboxTable;
  /** The HTTP API the route is added to (the device API's; its `$default` stage serves it). */
  readonly httpApi: apigw.HttpApi;
  /** Stage name (`SEALPOST_STAGE`). */
  readonly stage: string;
  /**
   * TypeScript entry exporting `handler`.
   * @default functions/api/moderation-lambda.ts
   */
  readonly entry?: string;
  /**
   * `SEALPOST_LOG_LEVEL`.
   * @default 'info'
   */
  readonly logLevel?: DeploymentLogLevel;
  /**
   * The device function's log group: its `{"reportRefused":1}` lines (report intake,
   * docs/SERVICE.md §14.1) become the `ReportsRefused` metric.
   * @default - no metric
   */
  readonly intakeLogs?: logs.ILogGroup;
}

/**
 * The operators' API (docs/SERVICE.md §14.4): its own function (least privilege: item actions on
 * the table, its own log group; no bucket, no secret) behind one HTTP API route,
 * `ANY /v1/moderation/{proxy+}`, with the `AWS_IAM` authorizer, so only requests signed by a
 * principal allowed `execute-api:Invoke` on it ({@link ModerationApi.invokeArn}) reach it. The
 * device function is never behind this route, and the `$default` route never reaches this
 * function.
 */
export class ModerationApi extends Construct {
  /** The moderation function and its role and log group. */
  readonly handler: SealpostFunction;
  /** The IAM-authorized route. */
  readonly route: apigw.HttpRoute;
  private readonly api: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: ModerationApiProps) {
    super(scope, id);
    this.api = props.httpApi;
    this.handler = new SealpostFunction(this, 'Handler', {
      entry: props.entry ?? DEFAULT_MODERATION_ENTRY,
      description: `Sealpost moderation API (${props.stage})`,
      environment: moderationEnvironment({
        table: props.table.tableName,
        stage: props.stage,
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      }),
      bundleAwsSdk: true,
    });
    iam.Grant.addToPrincipal({
      grantee: this.handler.role,
      actions: [...MODERATION_TABLE_ACTIONS],
      resourceArns: [props.table.table.tableArn],
    });
    this.route = new apigw.HttpRoute(this, 'Route', {
      httpApi: props.httpApi,
      routeKey: apigw.HttpRouteKey.with(MODERATION_ROUTE_PATH, apigw.HttpMethod.ANY),
      integration: new HttpLambdaIntegration('Moderation', this.handler.function, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
      authorizer: new HttpIamAuthorizer(),
    });
    if (props.intakeLogs) {
      new logs.MetricFilter(this, 'ReportsRefusedFilter', {
        logGroup: props.intakeLogs,
        metricNamespace: SEALPOST_METRIC_NAMESPACE,
        metricName: 'ReportsRefused',
        filterPattern: logs.FilterPattern.numberValue('$.reportRefused', '>', 0),
        metricValue: '$.reportRefused',
      });
    }
  }

  /**
   * The `execute-api:Invoke` resource of every moderation request on every stage: what an
   * operator's IAM policy allows (docs/DEPLOY.md, "Moderation").
   */
  get invokeArn(): string {
    return this.api.arnForExecuteApi('*', '/v1/moderation/*', '*');
  }

  /**
   * Lets `grantee` (an operator role of this account) call the moderation API.
   *
   * @example moderation.grantInvoke(operatorRole)
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.invokeArn],
    });
  }
}
