import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealpostApp } from '#infra/lib/sealpost-app.ts';
import { FIXTURE_ENTRY, type Synth, synth } from './synth.ts';

let base: Synth;
let variant: Synth;
let retained: Synth;
beforeAll(() => {
  base = synth({ apiEntry: FIXTURE_ENTRY });
  retained = synth({ apiEntry: FIXTURE_ENTRY, stage: 'prod' });
  variant = synth({
    apiEntry: FIXTURE_ENTRY,
    stage: 'prod',
    bucketEncryption: 'kms',
    removalPolicy: 'destroy',
    corsOrigins: 'https://app.example.com',
    alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
    messageTtlDays: '7',
  });
});
afterAll(() => {
  base?.dispose();
  variant?.dispose();
  retained?.dispose();
});

/** The wildcard of `execute-api:ManageConnections` on the WebSocket stage's connections. */
const MANAGE_CONNECTIONS_FINDING =
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:' +
  '<AWS::AccountId>:<RealtimeApiD4415F9E>/v1/*/@connections/*]';

/**
 * Every acknowledged AwsSolutions finding, by rule and resource path below the stack's
 * service construct. A new exception must be added here on purpose, with its reason reviewed.
 */
const EXPECTED_ACKNOWLEDGEMENTS = [
  ['AwsSolutions-APIG4', '/Default/Http/Api/DefaultRoute/Resource'],
  [
    'AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/env/*]',
    '/Default/Service/Handler/Role/DefaultPolicy/Resource',
  ],
  // Shared payloads of multi-recipient sends, beside the envelopes, for both functions.
  [
    'AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/pay/*]',
    '/Default/Service/Handler/Role/DefaultPolicy/Resource',
  ],
  // Attachments: presigning and multipart control on the attachment prefix, API function only.
  [
    'AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/attachments/*]',
    '/Default/Service/Handler/Role/DefaultPolicy/Resource',
  ],
  [
    'AwsSolutions-IAM5[Resource::<SigningKeysKeygenFunctionE506C51B.Arn>:*]',
    '/Default/SigningKeys/ProviderRole/DefaultPolicy/Resource',
  ],
  ['AwsSolutions-S1', '/Default/Envelopes/Bucket/Resource'],
  // Realtime delivery: the WebSocket routes authenticate in the function, and pushing needs
  // the stage's @connections path (connection ids exist only at run time).
  ['AwsSolutions-APIG4', '/Default/Realtime/Api/$connect-Route/Resource'],
  ['AwsSolutions-APIG4', '/Default/Realtime/Api/$disconnect-Route/Resource'],
  ['AwsSolutions-APIG4', '/Default/Realtime/Api/$default-Route/Resource'],
  ['AwsSolutions-APIG4', '/Default/Realtime/Api/keepalive-Route/Resource'],
  [
    'AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/env/*]',
    '/Default/Realtime/Handler/Role/DefaultPolicy/Resource',
  ],
  [
    'AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/pay/*]',
    '/Default/Realtime/Handler/Role/DefaultPolicy/Resource',
  ],
  [MANAGE_CONNECTIONS_FINDING, '/Default/Realtime/Handler/Role/DefaultPolicy/Resource'],
  [MANAGE_CONNECTIONS_FINDING, '/Default/Service/Handler/Role/DefaultPolicy/Resource'],
  ['AwsSolutions-SMG4', '/Default/SigningKeys/RootSecret/Resource'],
  ['AwsSolutions-SMG4', '/Default/SigningKeys/SigningSecret/Resource'],
  // Wake-ups: the VAPID key is not rotated (browsers' subscriptions name it), and its
  // generator's provider framework invokes one function and its versions.
  ['AwsSolutions-SMG4', '/Default/VapidKeys/Secret/Resource'],
  [
    'AwsSolutions-IAM5[Resource::<VapidKeysKeygenFunction3AE5D6F0.Arn>:*]',
    '/Default/VapidKeys/ProviderRole/DefaultPolicy/Resource',
  ],
];

/** The one more a stage that destroys its data has: the bucket emptier's object grant. */
const EMPTIER_ACKNOWLEDGEMENT = [
  'AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/*]',
  '/Default/EnvelopesEmptier/Handler/Role/DefaultPolicy/Resource',
];

describe.each([
  ['default configuration (dev, destroy)', () => base, [EMPTIER_ACKNOWLEDGEMENT]],
  ['kms, destroy, cors, alarm topic', () => variant, [EMPTIER_ACKNOWLEDGEMENT]],
  ['prod, retained', () => retained, []],
])('cdk-nag AwsSolutions (%s)', (_name, get, extra) => {
  it('ran and reports no unacknowledged finding', () => {
    const nag = get().report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.violations).toEqual([]);
    expect(nag?.conclusion).toBe('success');
  });

  it('acknowledges exactly the reviewed findings, each with a real reason', () => {
    const nag = get().report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    const stackName = get().stack.stackName;
    const acked: string[][] = [];
    for (const v of nag.suppressedViolations ?? []) {
      expect(v.acknowledgedId).toBe(`AwsSolutions::${v.ruleName}`);
      expect(v.reason.length).toBeGreaterThan(80);
      for (const c of v.violatingConstructs) {
        acked.push([v.ruleName, c.constructPath.replace(stackName, '')]);
      }
    }
    expect(acked.sort()).toEqual([...EXPECTED_ACKNOWLEDGEMENTS, ...extra].sort());
  });

  it('leaves no error or warning annotation on the stack', () => {
    const annotations = Annotations.fromStack(get().stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('the nag gate', () => {
  it('fails synthesis on an unacknowledged finding', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'sealpost-cdk-'));
    try {
      const { app, stack } = createSealpostApp({
        outdir,
        builtinCloudFormationValidation: false,
        context: { apiEntry: FIXTURE_ENTRY, 'aws:cdk:bundling-stacks': [] },
      });
      new s3.Bucket(stack, 'Unchecked');
      expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
