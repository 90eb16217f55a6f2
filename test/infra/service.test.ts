/**
 * The service as an operator uses it: `new SealpostService(this, 'Mail', props)` inside their
 * own stack of an existing CDK app, imported from infra/index.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealpostService } from '#infra/index.ts';
import { FIXTURE_ENTRY, type Synth, synth, type ValidationReport } from './synth.ts';

interface Json {
  Resources: Record<string, Record<string, unknown>>;
  Outputs?: Record<string, { Value: unknown }>;
}

let outdir: string;
let userStack: Stack;
let userService: SealpostService;
let report: ValidationReport;
let reference: Synth;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'sealpost-user-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  userStack = new Stack(app, 'OperatorStack');
  userService = new SealpostService(userStack, 'Mail', {
    stage: 'prod',
    apiEntry: FIXTURE_ENTRY,
    corsAllowOrigins: ['https://app.example.com'],
  });
  new CfnOutput(userStack, 'MailEndpoint', { value: userService.url });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  const path = join(outdir, 'validation-report.json');
  report = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { pluginReports: [] };
  reference = synth({
    apiEntry: FIXTURE_ENTRY,
    stage: 'prod',
    corsOrigins: 'https://app.example.com',
  });
});
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  reference?.dispose();
});

/**
 * The template of `stack` with every logical id below `service` replaced by the element's
 * construct path relative to `service`, so two copies of the service compare equal wherever
 * they sit (the provider framework also names the service's path in a description).
 * Metadata (paths, acknowledgements) is left out, and so are the names of the stub
 * assets a synth without bundling writes (they hash the stack they belong to).
 */
function normalized(stack: Stack, service: Construct): Json {
  const prefix = `${service.node.path}/`;
  const names = new Map<string, string>();
  const outputNames = new Map<string, string>();
  for (const c of service.node.findAll()) {
    if (c instanceof CfnElement) {
      const id = stack.resolve(c.logicalId) as string;
      const name = `<${c.node.path.slice(prefix.length)}>`;
      // Outputs are never referenced; their ids can equal attribute names (TrustRoot).
      (c instanceof CfnOutput ? outputNames : names).set(id, name);
    }
  }
  const ids = [...names.keys()].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`\\b(${ids.join('|')})\\b`, 'g');
  const rename = (value: unknown): unknown =>
    JSON.parse(
      JSON.stringify(value)
        .replace(pattern, (id) => names.get(id) ?? id)
        .replaceAll(service.node.path, '<service>')
        .replace(/"[0-9a-f]{64}\.zip"/g, '"<asset>.zip"'),
    );
  const json = Template.fromStack(stack).toJSON() as Json;
  const resources: Json['Resources'] = {};
  for (const [id, { Metadata: _paths, ...r }] of Object.entries(json.Resources)) {
    const name = names.get(id);
    if (name) resources[name] = rename(r) as Record<string, unknown>;
  }
  const outputs: NonNullable<Json['Outputs']> = {};
  for (const [id, o] of Object.entries(json.Outputs ?? {})) {
    const name = outputNames.get(id);
    if (name) outputs[name] = rename(o) as { Value: unknown };
  }
  return { Resources: resources, Outputs: outputs };
}

describe('SealpostService in an operator stack', () => {
  it('synthesizes and passes cdk-nag with no unacknowledged finding', () => {
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
  });

  it('has exactly the resources and outputs of SealpostStack with the same settings', () => {
    const mine = normalized(userStack, userService);
    const theirs = normalized(reference.stack, reference.stack.service);
    expect(Object.keys(mine.Resources).length).toBeGreaterThan(20);
    expect(Object.keys(mine.Resources).sort()).toEqual(Object.keys(theirs.Resources).sort());
    expect(mine).toEqual(theirs);
    expect(Object.keys(mine.Outputs ?? {}).sort()).toEqual([
      '<ApiUrl>',
      '<ModerationInvokeArn>',
      '<TrustRoot>',
      '<WebSocketUrl>',
    ]);
  });

  it('exposes the API URL and trust root for the operator’s own outputs', () => {
    const json = Template.fromStack(userStack).toJSON() as Json;
    const api = Object.keys(json.Resources).find(
      (id) =>
        json.Resources[id]!['Type'] === 'AWS::ApiGatewayV2::Api' &&
        (json.Resources[id]!['Properties'] as { ProtocolType?: string }).ProtocolType === 'HTTP',
    );
    expect(json.Outputs?.['MailEndpoint']?.Value).toEqual({ 'Fn::GetAtt': [api, 'ApiEndpoint'] });
  });

  it('retains the data of a production stage by default', () => {
    const table = Object.values(
      Template.fromStack(userStack).toJSON().Resources as Json['Resources'],
    ).find((r) => r['Type'] === 'AWS::DynamoDB::Table');
    expect(table?.['DeletionPolicy']).toBe('Retain');
  });

  it('rejects an invalid stage with a RangeError naming it', () => {
    const stack = new Stack(new App(), 'Other');
    expect(() => new SealpostService(stack, 'Mail', { stage: 'Prod' })).toThrow(/stage must be/);
  });
});
