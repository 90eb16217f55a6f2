/**
 * Synthesizes the Sealpost app the way `cdk synth` does (same factory, same cdk-nag plugin) into
 * a temporary directory, and exposes the template, the validation report and IAM helpers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createSealpostApp } from '#infra/lib/sealpost-app.ts';
import type { SealpostStack } from '#infra/lib/sealpost-stack.ts';

/** Stand-in service entry for synths that do not need the real one. */
export const FIXTURE_ENTRY = 'test/infra/fixtures/handler.ts';

/** One synthesized app. */
export interface Synth {
  readonly app: App;
  readonly stack: SealpostStack;
  readonly template: Template;
  /** Parsed template JSON. */
  readonly json: { Resources: Record<string, CfnResource>; Outputs?: Record<string, unknown> };
  /** Cloud assembly directory. */
  readonly outdir: string;
  /** Parsed `validation-report.json` (cdk-nag findings). */
  readonly report: ValidationReport;
  /** Removes the cloud assembly. */
  dispose(): void;
}

/** A template resource. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string[];
}

/** The parts of CDK's validation report the tests read. */
export interface ValidationReport {
  readonly pluginReports: {
    readonly pluginName: string;
    readonly conclusion: string;
    readonly violations: { ruleName: string }[];
    readonly suppressedViolations?: {
      ruleName: string;
      acknowledgedId: string;
      reason: string;
      violatingConstructs: { constructPath: string }[];
    }[];
  }[];
}

/** What a synth does besides building the template. */
export interface SynthOptions {
  /** Run esbuild (else CDK's `aws:cdk:bundling-stacks` is empty and assets are stubs). */
  readonly bundle?: boolean;
  /**
   * Run CDK's built-in CloudFormation schema validation (about 10 s the first time in a
   * process). cdk-nag always runs.
   */
  readonly validateTemplate?: boolean;
}

/**
 * Synthesizes with `context`, as `cdk synth` would with `-c key=value`.
 *
 * @throws Error when synthesis or validation fails
 */
export function synth(context: Record<string, unknown> = {}, options: SynthOptions = {}): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'sealpost-cdk-'));
  const { app, stack } = createSealpostApp({
    outdir,
    builtinCloudFormationValidation: options.validateTemplate ?? false,
    context: { ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...context },
  });
  try {
    app.synth();
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    throw err;
  }
  const template = Template.fromStack(stack);
  const reportPath = join(outdir, 'validation-report.json');
  const report: ValidationReport = existsSync(reportPath)
    ? JSON.parse(readFileSync(reportPath, 'utf8'))
    : { pluginReports: [] };
  return {
    app,
    stack,
    template,
    json: template.toJSON() as Synth['json'],
    outdir,
    report,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * Names that stand in for the function environment's deploy-time references (CloudFormation
 * fills in the real ones), in the shapes AWS gives them.
 */
export const DEPLOYED_NAMES = {
  SEALPOST_TABLE: 'Sealpost-dev-MailboxTable0A1B2C3D-1A2B3C4D5E6F',
  SEALPOST_BUCKET: 'sealpost-dev-envelopesbucketa10a30d4-1a2b3c4d5e6f',
  /** With `envelopeStorage=express`: the directory bucket. */
  SEALPOST_ENVELOPE_BUCKET: 'sealpost-dev-envelopesexpress-1a2b3c4d--use1-az4--x-s3',
  SEALPOST_SIGNING_SECRET_ARN:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SigningKeysSigningSecret-AbCdEf',
  SEALPOST_WEBSOCKET_ENDPOINT: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1',
  SEALPOST_VAPID_SECRET_ARN:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:VapidKeysSecret-AbCdEf',
  /** The default VAPID subject: the HTTP API's URL. */
  SEALPOST_VAPID_SUBJECT: 'https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com',
} as const;

/**
 * The service function's environment as it is after deployment: literal values as
 * synthesized, each reference replaced by its {@link DEPLOYED_NAMES} stand-in.
 *
 * @throws Error if the function is missing or a reference has no stand-in
 */
export function deployedEnvironment(json: Synth['json']): Record<string, string> {
  const fns = Object.values(json.Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      String(r.Properties?.['Description']).includes('mailbox API'),
  );
  if (fns.length !== 1) throw new Error(`expected one service function, found ${fns.length}`);
  const environment = fns[0]!.Properties?.['Environment'] as
    | { Variables: Record<string, unknown> }
    | undefined;
  const vars = environment?.Variables ?? {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(vars)) {
    if (typeof value === 'string') out[key] = value;
    else if (key in DEPLOYED_NAMES) out[key] = DEPLOYED_NAMES[key as keyof typeof DEPLOYED_NAMES];
    else throw new Error(`${key} is a deploy-time reference without a stand-in`);
  }
  return out;
}

/** An IAM policy statement as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: unknown;
}

/** Every statement of every IAM policy (standalone and inline in roles), with its owner. */
export function policyStatements(json: Synth['json']): { owner: string; statement: Statement }[] {
  const out: { owner: string; statement: Statement }[] = [];
  for (const [id, r] of Object.entries(json.Resources)) {
    const docs: { Statement: Statement[] }[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      docs.push(r.Properties?.['PolicyDocument'] as { Statement: Statement[] });
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of (r.Properties?.['Policies'] as { PolicyDocument: never }[]) ?? []) {
        docs.push(p.PolicyDocument);
      }
    }
    for (const doc of docs)
      for (const statement of doc.Statement) out.push({ owner: id, statement });
  }
  return out;
}

/** `x` as an array. */
export function list<T>(x: T | T[] | undefined): T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

/** Logical id of the single resource of `type` whose id starts with `prefix`. */
export function logicalId(json: Synth['json'], type: string, prefix: string): string {
  const ids = Object.entries(json.Resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.length}`);
  return ids[0]!;
}

/** Statements of the policy attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(json: Synth['json'], rolePrefix: string): Statement[] {
  const role = logicalId(json, 'AWS::IAM::Role', rolePrefix);
  const out: Statement[] = [];
  for (const r of Object.values(json.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy' || !r.Properties) continue;
    const roles = (r.Properties['Roles'] as { Ref: string }[]) ?? [];
    if (roles.some((x) => x.Ref === role)) {
      out.push(...(r.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
    }
  }
  return out;
}
