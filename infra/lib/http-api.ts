import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCESS_KEY_HEADER, ACCOUNT_SIGNATURE_HEADER, AUTH_HEADERS } from 'sealpost/wire/api';
import { acknowledgeFinding } from './nag.ts';

/** Stage-wide request throttling (API Gateway token bucket, per account and region). */
export interface ApiThrottle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Bucket size: requests accepted in a burst. */
  readonly burstLimit: number;
}

/** Default throttle: generous for a small deployment, low enough to cap a runaway client's bill. */
export const DEFAULT_API_THROTTLE: ApiThrottle = { rateLimit: 100, burstLimit: 200 };

/**
 * Access log line (JSON). Deliberately without the source IP, the user agent and the concrete
 * path: sealed sender hides who sends a message (PROTOCOL.md §6); an IP next to every send would
 * rebuild exactly that metadata, and the path names the recipient account of every send (kept
 * for the log retention, it would pair a sealed send with its sender's own-device copy). The
 * request id joins a line to the function's own log, which names the route template only.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  time: '$context.requestTimeEpoch',
  method: '$context.httpMethod',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
});

/**
 * Request headers a browser may send cross-origin: the JSON body's type and the SDK's
 * authentication headers (request signature, account signature, sealed-send access key).
 */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  'content-type',
  ...Object.values(AUTH_HEADERS),
  ACCOUNT_SIGNATURE_HEADER,
  ACCESS_KEY_HEADER,
];

/**
 * Response headers a browser app may read besides the CORS-safelisted ones: `retry-after`
 * (the SDK's back-off) and `x-request-id` (joins a failed request to the service's log line).
 */
export const CORS_EXPOSE_HEADERS: readonly string[] = ['retry-after', 'x-request-id'];

/** Props of {@link SealpostHttpApi}. */
export interface SealpostHttpApiProps {
  /** The function behind every route. */
  readonly handler: lambda.IFunction;
  /** Stage name, part of the API name. */
  readonly stage: string;
  /**
   * Browser origins allowed by CORS (for web clients). Requests are authenticated by
   * signatures, not cookies, so credentials are never allowed.
   * @default - no CORS configuration (non-browser clients only)
   */
  readonly corsAllowOrigins?: readonly string[];
  /**
   * Stage-wide throttling.
   * @default DEFAULT_API_THROTTLE
   */
  readonly throttle?: ApiThrottle;
}

/**
 * The public HTTP API: one `$default` route (catch-all) to the service function, which owns
 * routing (`/v1/...`, `/openapi.json`). The `$default` stage carries throttling and JSON
 * access logs.
 */
export class SealpostHttpApi extends Construct {
  /** The HTTP API. */
  readonly api: apigw.HttpApi;
  /** The auto-deployed `$default` stage. */
  readonly stage: apigw.HttpStage;
  /** Access log group. */
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SealpostHttpApiProps) {
    super(scope, id);
    const origins = props.corsAllowOrigins ?? [];
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: `sealpost-${props.stage}`,
      description: `Sealpost mailbox API (${props.stage})`,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Service', props.handler, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
      corsPreflight:
        origins.length > 0
          ? {
              allowOrigins: [...origins],
              allowMethods: [apigw.CorsHttpMethod.ANY],
              allowHeaders: [...CORS_ALLOW_HEADERS],
              exposeHeaders: [...CORS_EXPOSE_HEADERS],
              allowCredentials: false,
              maxAge: Duration.hours(1),
            }
          : undefined,
    });
    // Every request reaches the function, which verifies request signatures and sealed-sender
    // access keys itself; API Gateway authorizers cannot check either.
    for (const child of this.api.node.findAll()) {
      if (child instanceof apigw.CfnRoute) {
        acknowledgeFinding(
          child,
          'AwsSolutions-APIG4',
          'Authentication is end to end: owner requests carry Ed25519 request signatures and ' +
            'sealed sends carry access keys, both verified by the service; sealed sends must ' +
            'stay anonymous, so no gateway authorizer can apply.',
        );
      }
    }

    // Retention and removal policy: the service's DataPolicy aspect.
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs');
    const throttle = props.throttle ?? DEFAULT_API_THROTTLE;
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
  }

  /** Base URL of the API (`https://{id}.execute-api.{region}.amazonaws.com`), no trailing slash. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
