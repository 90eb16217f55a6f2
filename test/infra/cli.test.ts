/**
 * `npx cdk synth` exactly as CI and operators run it: through `cdk.json` (so with the real
 * service entry, functions/api/lambda.ts), the CDK CLI and tsx, offline, with no AWS
 * credentials in the environment.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { CfnResource, ValidationReport } from './synth.ts';

const run = promisify(execFile);
let outdir: string;
let exitCode: number;
let output: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'));
  const env: NodeJS.ProcessEnv = {
    CDK_DISABLE_VERSION_CHECK: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  }
  try {
    const res = await run('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    exitCode = 0;
    output = res.stdout + res.stderr;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    exitCode = e.code ?? 1;
    output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function resources(): CfnResource[] {
  const template = JSON.parse(readFileSync(join(outdir, 'Sealpost-dev.template.json'), 'utf8'));
  return Object.values((template as { Resources: Record<string, CfnResource> }).Resources);
}

/** Directory of the bundled service function. */
function serviceAssetDir(): string {
  const fn = resources().find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      String(r.Properties?.['Description']).includes('mailbox API'),
  );
  if (!fn?.Properties) throw new Error('service function missing from the template');
  const key = (fn.Properties['Code'] as { S3Key: string }).S3Key.replace(/\.zip$/, '');
  return join(outdir, `asset.${key}`);
}

describe('npx cdk synth', () => {
  it('succeeds offline without credentials', () => {
    expect(output).not.toMatch(/ERROR/);
    expect(exitCode).toBe(0);
  });

  it('writes the Sealpost-dev stack from cdk.json context', () => {
    const types = resources().map((r) => r.Type);
    expect(types).toContain('Custom::SealpostSigningKeys');
    expect(types).toContain('AWS::ApiGatewayV2::Api');
    expect(readdirSync(serviceAssetDir()).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('bundles a service entry that loads as ESM and answers GET /v1/health', async () => {
    const saved = { ...process.env };
    onTestFinished(() => {
      process.env = saved;
    });
    Object.assign(process.env, {
      SEALPOST_TABLE: 'table',
      SEALPOST_BUCKET: 'bucket',
      SEALPOST_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf',
      SEALPOST_MESSAGE_TTL_DAYS: '30',
      SEALPOST_STAGE: 'test',
      SEALPOST_LOG_LEVEL: 'error',
      AWS_REGION: 'us-east-1',
    });
    const entry = pathToFileURL(join(serviceAssetDir(), 'index.mjs')).href;
    const mod = (await import(entry)) as {
      handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    const res = await mod.handler(
      {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/v1/health',
        rawQueryString: '',
        headers: { host: 'api.example.com' },
        isBase64Encoded: false,
        requestContext: {
          http: { method: 'GET', path: '/v1/health', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1' },
          requestId: 'test-request',
          routeKey: '$default',
          stage: '$default',
          domainName: 'api.example.com',
        },
      },
      { awsRequestId: 'test-request' },
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('passes cdk-nag and CloudFormation schema validation', () => {
    const path = join(outdir, 'validation-report.json');
    expect(existsSync(path)).toBe(true);
    const report = JSON.parse(readFileSync(path, 'utf8')) as ValidationReport;
    expect(report.pluginReports.map((r) => r.pluginName)).toContain('AwsSolutions');
    for (const r of report.pluginReports) {
      expect({ plugin: r.pluginName, violations: r.violations }).toEqual({
        plugin: r.pluginName,
        violations: [],
      });
    }
  });
});
