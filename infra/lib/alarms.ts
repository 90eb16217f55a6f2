import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Thresholds, each a sum over one five-minute period. */
export interface AlarmThresholds {
  /** HTTP 5xx responses from the API. */
  readonly serverErrors: number;
  /** Function errors (unhandled exceptions, timeouts, out of memory). */
  readonly functionErrors: number;
  /** Throttled function invocations (account or reserved concurrency exhausted). */
  readonly functionThrottles: number;
  /**
   * Messages stored whose push to a live connection failed (`{"realtimeNotifyFailed":n}` lines
   * of the API function): they wait for the next drain or poll, so a few are harmless.
   */
  readonly pushFailures: number;
  /** Failed wake-ups of offline devices (`{"wakeupFailed":1}` lines of the API function). */
  readonly wakeupFailures: number;
}

/**
 * Default thresholds: a single 5xx or error can be a client racing a deletion, five in five
 * minutes is a fault; any Lambda throttle means requests were refused.
 */
export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  serverErrors: 5,
  functionErrors: 5,
  functionThrottles: 1,
  pushFailures: 20,
  wakeupFailures: 20,
};

/** CloudWatch namespace of the metrics the service's log lines feed. */
export const SEALPOST_METRIC_NAMESPACE = 'Sealpost';

/** The realtime side of {@link ServiceAlarmsProps}. */
export interface RealtimeAlarmTargets {
  /** Id of the WebSocket API. */
  readonly apiId: string;
  /** Its stage name. */
  readonly stageName: string;
  /** The WebSocket function (errors, throttles). */
  readonly handler: lambda.IFunction;
  /** Log group of the function that pushes after a store (the API function). */
  readonly pushLogs: logs.ILogGroup;
}

/** Props of {@link ServiceAlarms}. */
export interface ServiceAlarmsProps {
  /** The HTTP API (5xx). */
  readonly api: apigw.IHttpApi;
  /** The service function (errors, throttles). */
  readonly handler: lambda.IFunction;
  /** Stage name, part of each alarm's description. */
  readonly stage: string;
  /**
   * Thresholds; each one left out is the default's.
   * @default DEFAULT_ALARM_THRESHOLDS
   */
  readonly thresholds?: Partial<AlarmThresholds>;
  /** The WebSocket API, its function and the pushing function's logs (realtime alarms). */
  readonly realtime?: RealtimeAlarmTargets;
  /**
   * Topic notified when an alarm fires and when it recovers.
   * @default - alarms only change state (visible in the CloudWatch console)
   */
  readonly topic?: sns.ITopic;
}

/**
 * Alarms on what an operator must act on: 5xx from the API, function errors, function
 * throttles, and with `realtime` the WebSocket function's errors and throttles, the WebSocket
 * API's integration and execution errors, failed pushes and failed wake-ups. Missing data is healthy (no traffic, no errors).
 * HTTP API throttling itself answers 429, counted in the API's 4xx metric, which is the
 * client's problem, not an alarm.
 */
export class ServiceAlarms extends Construct {
  /** The alarms (three, six more with `realtime`). */
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const t = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    const period = Duration.minutes(5);
    const specs: AlarmSpec[] = [
      [
        'ServerErrors',
        props.api.metricServerError({ period, statistic: 'Sum' }),
        t.serverErrors,
        'HTTP 5xx responses',
      ],
      ...functionSpecs(props.handler, '', t, period),
      ...(props.realtime ? realtimeSpecs(this, props.realtime, t, period) : []),
    ];
    this.alarms = specs.map(
      ([name, metric, threshold, what]) =>
        new cloudwatch.Alarm(this, name, {
          metric,
          threshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Sealpost ${props.stage}: ${threshold} or more ${what} in 5 minutes`,
        }),
    );
    if (props.topic) {
      const action = new actions.SnsAction(props.topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}

/** One alarm spec: [id, metric, threshold, what]. */
type AlarmSpec = [string, cloudwatch.IMetric, number, string];

/** The errors and throttles alarms of a function; `prefix` names it in ids and descriptions. */
function functionSpecs(
  handler: lambda.IFunction,
  prefix: string,
  t: AlarmThresholds,
  period: Duration,
): AlarmSpec[] {
  const what = prefix ? `${prefix.toLowerCase()} ` : '';
  return [
    [
      `${prefix}FunctionErrors`,
      handler.metricErrors({ period, statistic: 'Sum' }),
      t.functionErrors,
      `${what}function errors`,
    ],
    [
      `${prefix}FunctionThrottles`,
      handler.metricThrottles({ period, statistic: 'Sum' }),
      t.functionThrottles,
      `throttled ${what}invocations`,
    ],
  ];
}

/** The realtime alarms' specs. */
function realtimeSpecs(
  scope: Construct,
  r: RealtimeAlarmTargets,
  t: AlarmThresholds,
  period: Duration,
): AlarmSpec[] {
  const websocket = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: r.apiId, Stage: r.stageName },
      period,
      statistic: 'Sum',
    });
  // The API function logs `{"realtimeNotifyFailed":n}` when pushes after a store failed, and
  // `{"wakeupFailed":1}` per failed wake-up: each count becomes a metric of its own.
  const logCount = (id: string, field: string, metricName: string) => {
    new logs.MetricFilter(scope, id, {
      logGroup: r.pushLogs,
      metricNamespace: SEALPOST_METRIC_NAMESPACE,
      metricName,
      filterPattern: logs.FilterPattern.numberValue(`$.${field}`, '>', 0),
      metricValue: `$.${field}`,
    });
    return new cloudwatch.Metric({
      namespace: SEALPOST_METRIC_NAMESPACE,
      metricName,
      period,
      statistic: 'Sum',
    });
  };
  const pushFailures = logCount(
    'PushFailuresFilter',
    'realtimeNotifyFailed',
    'RealtimeNotifyFailed',
  );
  const wakeupFailures = logCount('WakeupFailuresFilter', 'wakeupFailed', 'WakeupFailed');
  return [
    ...functionSpecs(r.handler, 'Realtime', t, period),
    [
      'RealtimeIntegrationErrors',
      websocket('IntegrationError'),
      t.serverErrors,
      'WebSocket integration errors',
    ],
    [
      'RealtimeExecutionErrors',
      websocket('ExecutionError'),
      t.serverErrors,
      'WebSocket execution errors',
    ],
    ['PushFailures', pushFailures, t.pushFailures, 'failed pushes to live connections'],
    ['WakeupFailures', wakeupFailures, t.wakeupFailures, 'failed wake-ups of offline devices'],
  ];
}
