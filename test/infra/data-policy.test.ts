import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPolicy, STATEFUL_RESOURCE_TYPES } from '#infra/lib/data-policy.ts';
import { FIXTURE_ENTRY, type Synth, synth } from './synth.ts';

let dev: Synth;
let prod: Synth;
beforeAll(() => {
  dev = synth({ apiEntry: FIXTURE_ENTRY, bucketEncryption: 'kms' });
  prod = synth({ apiEntry: FIXTURE_ENTRY, stage: 'prod', bucketEncryption: 'kms' });
});
afterAll(() => {
  dev?.dispose();
  prod?.dispose();
});

/** `[type, DeletionPolicy, UpdateReplacePolicy]` of every resource of a stateful type. */
function statefulPolicies(s: Synth): [string, string | undefined, string | undefined][] {
  return Object.values(s.json.Resources)
    .filter((r) => STATEFUL_RESOURCE_TYPES.includes(r.Type))
    .map((r) => [r.Type, r.DeletionPolicy, r.UpdateReplacePolicy]);
}

const STATEFUL_COUNTS: [string, number][] = [
  ['AWS::DynamoDB::Table', 1],
  ['AWS::S3::Bucket', 1],
  ['AWS::KMS::Key', 1],
  // Trust root, signing key, VAPID key of wake-ups.
  ['AWS::SecretsManager::Secret', 3],
];

describe('production stages (prod) retain their data', () => {
  it('retains the table, bucket, key, secrets and log groups', () => {
    for (const [type, count] of STATEFUL_COUNTS) prod.template.resourceCountIs(type, count);
    // Service, realtime, moderation and both key generator functions and their providers,
    // HTTP and WebSocket access logs.
    prod.template.resourceCountIs('AWS::Logs::LogGroup', 9);
    for (const [type, deletion, replace] of statefulPolicies(prod)) {
      expect({ type, deletion, replace }).toEqual({ type, deletion: 'Retain', replace: 'Retain' });
    }
  });

  it('turns on the table deletion protection', () => {
    prod.template.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: true,
    });
  });

  it('has no bucket emptier and no empty-on-delete tag', () => {
    prod.template.resourceCountIs('Custom::SealpostBucketEmptier', 0);
    const [bucket] = Object.values(prod.json.Resources).filter((r) => r.Type === 'AWS::S3::Bucket');
    expect(JSON.stringify(bucket?.Properties?.['Tags'] ?? [])).not.toContain('empty-on-delete');
  });

  it('leaves code-only resources to CloudFormation (deleted with the stack)', () => {
    const retainedElsewhere = Object.values(prod.json.Resources).filter(
      (r) => !STATEFUL_RESOURCE_TYPES.includes(r.Type) && r.DeletionPolicy === 'Retain',
    );
    expect(retainedElsewhere.map((r) => r.Type)).toEqual([]);
  });
});

describe('the dev stage destroys its data on cdk destroy', () => {
  it('deletes the table, bucket, key, secrets and log groups', () => {
    for (const [type, count] of STATEFUL_COUNTS) dev.template.resourceCountIs(type, count);
    // As prod, plus the bucket emptier's.
    dev.template.resourceCountIs('AWS::Logs::LogGroup', 10);
    for (const [type, deletion, replace] of statefulPolicies(dev)) {
      expect({ type, deletion, replace }).toEqual({ type, deletion: 'Delete', replace: 'Delete' });
    }
  });

  it('turns off the table deletion protection', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: false,
    });
  });

  it('empties the tagged bucket first: the emptier depends on the bucket and its own grant', () => {
    const ids = Object.keys(dev.json.Resources);
    const bucket = ids.find((id) => dev.json.Resources[id]!.Type === 'AWS::S3::Bucket');
    const [emptier] = Object.values(dev.json.Resources).filter(
      (r) => r.Type === 'Custom::SealpostBucketEmptier',
    );
    expect(emptier?.Properties?.['BucketName']).toEqual({ Ref: bucket });
    const policy = ids.find((id) => id.startsWith('EnvelopesEmptierHandlerRoleDefaultPolicy'));
    expect(emptier?.DependsOn).toContain(policy);
    dev.template.hasResourceProperties('AWS::S3::Bucket', {
      Tags: [{ Key: 'sealpost:empty-on-delete', Value: 'true' }],
    });
  });
});

describe('DataPolicy', () => {
  function build(): Template {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Scope');
    const inside = new Construct(stack, 'Inside');
    DataPolicy.apply(inside, {
      removalPolicy: RemovalPolicy.DESTROY,
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    new logs.LogGroup(inside, 'Logs');
    new secretsmanager.Secret(inside, 'Secret');
    new logs.LogGroup(stack, 'OutsideLogs');
    return Template.fromStack(stack);
  }

  it('applies to the scope it was added to and nothing outside it', () => {
    const json = build().toJSON() as Synth['json'];
    const summary = Object.entries(json.Resources)
      .map(([id, r]) => [
        id.replace(/[0-9A-F]{8}$/, ''),
        r.DeletionPolicy,
        r.Properties?.['RetentionInDays'],
      ])
      .sort();
    expect(summary).toEqual([
      ['InsideLogs', 'Delete', 7],
      ['InsideSecret', 'Delete', undefined],
      ['OutsideLogs', 'Retain', 731],
    ]);
  });

  it('accepts only RETAIN or DESTROY', () => {
    const stack = new Stack(new App(), 'Scope');
    expect(() =>
      DataPolicy.apply(stack, {
        removalPolicy: RemovalPolicy.SNAPSHOT,
        logRetention: logs.RetentionDays.ONE_WEEK,
      }),
    ).toThrow(/RETAIN or DESTROY/);
  });
});
