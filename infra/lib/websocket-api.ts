import { fileURLToPath } from 'node:url';
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import {
  WebSocketLambdaIntegration,
  WebSocketMockIntegration,
} from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { KEEPALIVE_ROUTE } from 'sealpost/wire/api';
import { type DeploymentLogLevel, deploymentEnvironment } from '#functions/deployment.ts';
import type { EnvelopeBucket } from './envelope-bucket.ts';
import { type ApiThrottle, DEFAULT_API_THROTTLE } from './http-api.ts';
import type { MailboxTable } from './mailbox-table.ts';
import { acknowledgeFinding } from './nag.ts';
import { SealpostFunction } from './node-function.ts';
import type { SigningKeys } from './signing-keys.ts';

/** The WebSocket routes' entry point (deployment contract). */
export const DEFAULT_REALTIME_ENTRY = fileURLToPath(
  new URL('../../functions/api/realtime-lambda.ts', import.meta.url),
);

/**
 * Timeout of the WebSocket function: under API Gateway's 29 s integration limit; a `ping`
 * drains a device's whole queue (pages of DynamoDB reads and one post per message).
 */
export const DEFAULT_REALTIME_TIMEOUT = Duration.seconds(25);

/** Name of the WebSocket stage (the management endpoint's path). */
export const WEBSOCKET_STAGE_NAME = 'v1';

/**
 * Access log line of the WebSocket stage (JSON). Like the HTTP API's: no source IP, no user
 * agent, no connection id and no query (which carries the connect's owner address).
 */
export const WEBSOCKET_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  time: '$context.requestTimeEpoch',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  integrationError: '$context.integrationErrorMessage',
});

/** The one request template of the keepalive route's mock integration. */
const MOCK_TEMPLATE_KEY = '\\$default';

/** Props of {@link SealpostWebSocketApi}. */
export interface SealpostWebSocketApiProps {
  /** The mailbox table (connections live in it; item actions granted). */
  readonly table: MailboxTable;
  /** The envelope bucket (a drain reads envelopes). */
  readonly bucket: EnvelopeBucket;
  /** The signing keys (the connect's audience check reads them). */
  readonly keys: SigningKeys;
  /** Stage name of the deployment (`SEALPOST_STAGE`, part of the API name). */
  readonly stage: string;
  /** Message TTL in days (`SEALPOST_MESSAGE_TTL_DAYS`). */
  readonly messageTtlDays: number;
  /**
   * TypeScript entry exporting `handler`.
   * @default functions/api/realtime-lambda.ts
   */
  readonly entry?: string;
  /**
   * `SEALPOST_LOG_LEVEL`.
   * @default 'info'
   */
  readonly logLevel?: DeploymentLogLevel;
  /**
   * Stage-wide throttling of connects and frames.
   * @default DEFAULT_API_THROTTLE
   */
  readonly throttle?: ApiThrottle;
}

/**
 * Realtime delivery on AWS (docs/SERVICE.md §7.3): a WebSocket API whose `$connect`,
 * `$disconnect` and `$default` routes go to one function (functions/api/realtime-lambda.ts)
 * and whose `keepalive` route is a mock integration (no function call per keepalive),
 * an auto-deployed stage with throttling and JSON access logs, and
 * {@link grantManageConnections} for the functions that push frames.
 */
export class SealpostWebSocketApi extends Construct {
  /** The WebSocket API. */
  readonly api: apigw.WebSocketApi;
  /** The stage. */
  readonly stage: apigw.WebSocketStage;
  /** The routes' function. */
  readonly handler: SealpostFunction;
  /** Access log group. */
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SealpostWebSocketApiProps) {
    super(scope, id);
    // The function finds its management endpoint in each event (domain name and stage), so
    // its environment does not name the API; the API is built after it, the stage last.
    this.handler = new SealpostFunction(this, 'Handler', {
      entry: props.entry ?? DEFAULT_REALTIME_ENTRY,
      description: `Sealpost realtime delivery (${props.stage})`,
      memorySize: 512,
      timeout: DEFAULT_REALTIME_TIMEOUT,
      environment: deploymentEnvironment({
        table: props.table.tableName,
        bucket: props.bucket.bucketName,
        envelopeBucket: props.bucket.envelopeBucketName,
        signingSecretArn: props.keys.signingSecret.secretArn,
        messageTtlDays: props.messageTtlDays,
        stage: props.stage,
        logLevel: props.logLevel,
      }),
      bundleAwsSdk: true,
    });
    const role = this.handler.role;
    props.table.grantServiceAccess(role);
    props.bucket.grantEnvelopeAccess(role);
    props.keys.grantReadSigningSecret(role);
    this.handler.function.node.addDependency(props.keys.resource);

    const route = (name: string) => ({
      integration: new WebSocketLambdaIntegration(name, this.handler.function),
    });
    this.api = new apigw.WebSocketApi(this, 'Api', {
      apiName: `sealpost-${props.stage}-websocket`,
      description: `Sealpost realtime delivery (${props.stage})`,
      connectRouteOptions: route('Connect'),
      disconnectRouteOptions: route('Disconnect'),
      defaultRouteOptions: route('Frames'),
      // Frames are routed by their `type`: `keepalive` to a mock integration (one message, no
      // function call and no reply), everything else to `$default`.
      routeSelectionExpression: '$request.body.type',
    });
    this.api.addRoute(KEEPALIVE_ROUTE, {
      integration: new WebSocketMockIntegration('Keepalive', {
        requestTemplates: { [MOCK_TEMPLATE_KEY]: '{"statusCode":200}' },
        templateSelectionExpression: MOCK_TEMPLATE_KEY,
      }),
    });
    for (const child of this.api.node.findAll()) {
      if (child instanceof apigw.CfnRoute) {
        acknowledgeFinding(
          child,
          'AwsSolutions-APIG4',
          'The connect carries an Ed25519 owner signature in its query, verified by the ' +
            'function on $connect (refused with 401); frames reach only accepted connections.',
        );
      }
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs');
    const throttle = props.throttle ?? DEFAULT_API_THROTTLE;
    this.stage = new apigw.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: WEBSOCKET_STAGE_NAME,
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(WEBSOCKET_ACCESS_LOG_FORMAT),
      },
    });
    this.grantManageConnections(role);
  }

  /** The client's URL, `wss://{api-id}.execute-api.{region}.amazonaws.com/v1` (a token). */
  get url(): string {
    return this.stage.url;
  }

  /** The stage's management endpoint (`https://.../v1`), `SEALPOST_WEBSOCKET_ENDPOINT`. */
  get managementEndpoint(): string {
    return this.stage.callbackUrl;
  }

  /**
   * Lets `grantee` post to and delete connections of this stage only
   * (`execute-api:ManageConnections` on `.../v1/POST/@connections/*` and the like).
   */
  grantManageConnections(grantee: iam.IGrantable): iam.Grant {
    const grant = this.stage.grantManagementApiAccess(grantee);
    if (Construct.isConstruct(grantee)) {
      const api = Stack.of(this).resolve((this.api.node.defaultChild as CfnElement).logicalId);
      acknowledgeFinding(
        grantee,
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:' +
          `<AWS::AccountId>:<${api}>/${WEBSOCKET_STAGE_NAME}/*/@connections/*]`,
        'Connection ids are assigned by API Gateway at connect time; the grant is scoped to ' +
          'this stage of this API and to the @connections management path.',
      );
    }
    return grant;
  }
}
