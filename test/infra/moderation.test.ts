/**
 * The moderation API in the synthesized stack (docs/SERVICE.md §14.4): its own function behind
 * one IAM-authorized route of the HTTP API, least privilege (table items and its log group
 * only), an environment the function parses back, the invoke ARN operators are granted, and
 * cdk-nag clean with nothing acknowledged for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModerationEnv } from '#functions/api/moderation/deployment.ts';
import { MODERATION_TABLE_ACTIONS } from '#infra/lib/moderation-api.ts';
import {
  FIXTURE_ENTRY,
  list,
  logicalId,
  policyStatements,
  roleStatements,
  type Synth,
  synth,
} from './synth.ts';

let s: Synth;
beforeAll(() => {
  s = synth({ apiEntry: FIXTURE_ENTRY, stage: 'prod', logLevel: 'warn' });
});
afterAll(() => s?.dispose());

type Props = Record<string, unknown>;

function resources(type: string): [string, Props][] {
  return Object.entries(s.json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

function functionNamed(part: string): [string, Props] {
  const found = resources('AWS::Lambda::Function').filter(([, p]) =>
    String(p['Description']).includes(part),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The function an HTTP API route's integration invokes (its logical id). */
function routeTarget(route: Props): string {
  const integrationId = JSON.stringify(route['Target']).match(/\{"Ref":"(\w+)"\}/)?.[1];
  expect(integrationId).toBeDefined();
  const integration = s.json.Resources[integrationId!]!.Properties!;
  expect(integration['IntegrationType']).toBe('AWS_PROXY');
  const uri = integration['IntegrationUri'] as { 'Fn::GetAtt': [string, string] };
  return uri['Fn::GetAtt'][0];
}

describe('moderation API', () => {
  it('is one ANY /v1/moderation/{proxy+} route with the AWS_IAM authorizer, to its own function', () => {
    const api = logicalId(s.json, 'AWS::ApiGatewayV2::Api', 'HttpApi');
    const routes = resources('AWS::ApiGatewayV2::Route').filter(
      ([, p]) => (p['ApiId'] as { Ref?: string }).Ref === api,
    );
    expect(routes).toHaveLength(2);
    const moderation = routes.filter(([, p]) => p['RouteKey'] === 'ANY /v1/moderation/{proxy+}');
    expect(moderation).toHaveLength(1);
    const [, route] = moderation[0]!;
    expect(route['AuthorizationType']).toBe('AWS_IAM');
    const [moderationFn] = functionNamed('moderation API');
    const [serviceFn] = functionNamed('mailbox API');
    expect(routeTarget(route)).toBe(moderationFn);
    // The device-facing route stays unauthenticated at the gateway and never reaches it.
    const fallback = routes.find(([, p]) => p['RouteKey'] === '$default')![1];
    expect(fallback['AuthorizationType']).toBe('NONE');
    expect(routeTarget(fallback)).toBe(serviceFn);
    expect(moderationFn).not.toBe(serviceFn);
  });

  it('lets only API Gateway invoke the moderation function', () => {
    const [fn] = functionNamed('moderation API');
    const permissions = resources('AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p['FunctionName']).includes(fn),
    );
    expect(permissions.length).toBeGreaterThan(0);
    for (const [, p] of permissions) {
      expect(p['Principal']).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(p['SourceArn'])).toContain('/*/*/v1/moderation/{proxy+}');
    }
  });

  it('gets exactly the moderation environment, which the function parses back', () => {
    const [, p] = functionNamed('moderation API');
    const vars = (p['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(vars).sort()).toEqual(
      [
        'NODE_OPTIONS',
        'POWERTOOLS_METRICS_NAMESPACE',
        'SEALPOST_LOG_LEVEL',
        'SEALPOST_STAGE',
        'SEALPOST_TABLE',
      ].sort(),
    );
    const table = logicalId(s.json, 'AWS::DynamoDB::Table', 'Mailbox');
    expect(vars['SEALPOST_TABLE']).toEqual({ Ref: table });
    const env = { ...vars, SEALPOST_TABLE: 'Sealpost-prod-MailboxTable0A1B2C3D-1A2B3C4D5E6F' };
    expect(parseModerationEnv(env as Record<string, string>)).toEqual({
      table: 'Sealpost-prod-MailboxTable0A1B2C3D-1A2B3C4D5E6F',
      stage: 'prod',
      logLevel: 'warn',
      metricsNamespace: 'Sealpost',
    });
  });

  it('holds exactly the table actions it uses on the table, and writes its own log group', () => {
    const table = logicalId(s.json, 'AWS::DynamoDB::Table', 'Mailbox');
    const logs = logicalId(s.json, 'AWS::Logs::LogGroup', 'ModerationHandlerLogs');
    const statements = roleStatements(s.json, 'ModerationHandlerRole').map((st) => ({
      actions: list(st.Action).sort(),
      resources: list(st.Resource),
    }));
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          actions: [...MODERATION_TABLE_ACTIONS].sort(),
          resources: [{ 'Fn::GetAtt': [table, 'Arn'] }],
        },
        {
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [{ 'Fn::GetAtt': [logs, 'Arn'] }],
        },
      ]),
    );
    expect(statements).toHaveLength(2);
    // No bucket, no secret, no Scan, no batch writes, nothing on another resource.
    const actions = statements.flatMap((st) => st.actions);
    for (const forbidden of [
      'dynamodb:Scan',
      'dynamodb:BatchWriteItem',
      'secretsmanager:GetSecretValue',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    expect(actions.some((a) => a.startsWith('s3:'))).toBe(false);
  });

  it('is invocable by nobody in the stack: operators are granted the invoke ARN outside it', () => {
    const invokers = policyStatements(s.json).filter(({ statement }) =>
      list(statement.Action).includes('execute-api:Invoke'),
    );
    expect(invokers).toEqual([]);
    const outputs = s.json.Outputs as Record<string, { Value: unknown }>;
    const api = logicalId(s.json, 'AWS::ApiGatewayV2::Api', 'HttpApi');
    const arn = JSON.stringify(outputs['ModerationInvokeArn']!.Value);
    expect(arn).toContain(`{"Ref":"${api}"}`);
    expect(arn).toContain('/*/*/v1/moderation/*');
  });

  it('turns refused report lines of the device function into the ReportsRefused metric', () => {
    const logs = logicalId(s.json, 'AWS::Logs::LogGroup', 'ServiceHandlerLogs');
    const filters = resources('AWS::Logs::MetricFilter').filter(
      ([, p]) => p['FilterPattern'] === '{ $.reportRefused > 0 }',
    );
    expect(filters).toHaveLength(1);
    expect(filters[0]![1]['LogGroupName']).toEqual({ Ref: logs });
  });

  it('passes cdk-nag with nothing acknowledged on its resources', () => {
    const nag = s.report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    const acknowledged = (nag?.suppressedViolations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => c.constructPath),
    );
    expect(acknowledged.filter((path) => path.includes('/Moderation/'))).toEqual([]);
  });
});
