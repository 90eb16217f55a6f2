import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
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
}

/**
 * Default thresholds: a single 5xx or error can be a client racing a deletion, five in five
 * minutes is a fault; any Lambda throttle means requests were refused.
 */
export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  serverErrors: 5,
  functionErrors: 5,
  functionThrottles: 1,
};

/** Props of {@link ServiceAlarms}. */
export interface ServiceAlarmsProps {
  /** The HTTP API (5xx). */
  readonly api: apigw.IHttpApi;
  /** The service function (errors, throttles). */
  readonly handler: lambda.IFunction;
  /** Stage name, part of each alarm's description. */
  readonly stage: string;
  /**
   * Thresholds.
   * @default DEFAULT_ALARM_THRESHOLDS
   */
  readonly thresholds?: AlarmThresholds;
  /**
   * Topic notified when an alarm fires and when it recovers.
   * @default - alarms only change state (visible in the CloudWatch console)
   */
  readonly topic?: sns.ITopic;
}

/**
 * Alarms on what an operator must act on: 5xx from the API, function errors, function
 * throttles. Missing data is healthy (no traffic, no errors). HTTP API throttling itself
 * answers 429, counted in the API's 4xx metric, which is the client's problem, not an alarm.
 */
export class ServiceAlarms extends Construct {
  /** The three alarms. */
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const t = props.thresholds ?? DEFAULT_ALARM_THRESHOLDS;
    const period = Duration.minutes(5);
    const specs: [string, cloudwatch.IMetric, number, string][] = [
      [
        'ServerErrors',
        props.api.metricServerError({ period, statistic: 'Sum' }),
        t.serverErrors,
        'HTTP 5xx responses',
      ],
      [
        'FunctionErrors',
        props.handler.metricErrors({ period, statistic: 'Sum' }),
        t.functionErrors,
        'function errors',
      ],
      [
        'FunctionThrottles',
        props.handler.metricThrottles({ period, statistic: 'Sum' }),
        t.functionThrottles,
        'throttled invocations',
      ],
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
