/**
 * `envelopeStorage=express`: envelopes in an S3 Express One Zone directory bucket
 * (docs/DEPLOY.md), attachments still in the general purpose bucket.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentPorts } from '#functions/adapters/aws-deployment.ts';
import { ENV, parseDeploymentEnv } from '#functions/deployment.ts';
import { ContextError, stackPropsFromContext } from '#infra/lib/config.ts';
import { EnvelopeBucket } from '#infra/lib/envelope-bucket.ts';
import {
  DEPLOYED_NAMES,
  deployedEnvironment,
  FIXTURE_ENTRY,
  list,
  logicalId,
  roleStatements,
  type Statement,
  type Synth,
  synth,
} from './synth.ts';

const DIRECTORY = 'AWS::S3Express::DirectoryBucket';

let express: Synth;
let standard: Synth;
let retained: Synth;
beforeAll(() => {
  express = synth({
    apiEntry: FIXTURE_ENTRY,
    envelopeStorage: 'express',
    expressAz: 'use1-az4',
    messageTtlDays: '7',
  });
  retained = synth({
    apiEntry: FIXTURE_ENTRY,
    stage: 'prod',
    envelopeStorage: 'express',
    expressAz: 'use1-az4',
  });
  standard = synth({ apiEntry: FIXTURE_ENTRY });
});
afterAll(() => {
  express?.dispose();
  retained?.dispose();
  standard?.dispose();
});

const directoryId = (s: Synth) => logicalId(s.json, DIRECTORY, 'EnvelopesExpress');

/** Every action of `statements` whose resources mention `logical` (by Ref or GetAtt). */
function actionsOn(statements: Statement[], logical: string): string[] {
  return statements
    .filter((st) => JSON.stringify(st.Resource ?? null).includes(`"${logical}"`))
    .flatMap((st) => list(st.Action));
}

/** The environment of the function whose description contains `text`. */
function environmentOf(s: Synth, text: string): Record<string, unknown> {
  const fn = Object.values(s.json.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && String(r.Properties?.['Description']).includes(text),
  );
  if (!fn) throw new Error(`no function described as ${text}`);
  const environment = fn.Properties?.['Environment'] as
    | { Variables: Record<string, unknown> }
    | undefined;
  return environment?.Variables ?? {};
}

describe('envelopeStorage=express', () => {
  it('creates one single-zone directory bucket in the given zone, SSE-S3', () => {
    express.template.resourceCountIs(DIRECTORY, 1);
    express.template.hasResourceProperties(DIRECTORY, {
      DataRedundancy: 'SingleAvailabilityZone',
      LocationName: 'use1-az4',
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
  });

  it('expires every object of the directory bucket a day after the message TTL (payloads need it)', () => {
    const props = express.json.Resources[directoryId(express)]!.Properties!;
    expect(props['LifecycleConfiguration']).toEqual({
      Rules: [
        {
          // One rule with no prefix: envelopes and payloads (pay/) alike, and any other key.
          Id: 'expire-envelopes',
          Status: 'Enabled',
          ExpirationInDays: 8,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
  });

  it('keeps attachments (and their rules) in the general purpose bucket', () => {
    express.template.resourceCountIs('AWS::S3::Bucket', 1);
    const bucket = logicalId(express.json, 'AWS::S3::Bucket', 'EnvelopesBucket');
    const service = roleStatements(express.json, 'ServiceHandlerRole');
    const onBucket = actionsOn(service, bucket);
    expect(onBucket).toEqual(expect.arrayContaining(['s3:PutObject', 's3:AbortMultipartUpload']));
    // No envelope or payload grant on the general bucket: its resources are attachments/* only.
    const envGrants = service.filter((st) => JSON.stringify(st.Resource).includes('/env/*'));
    expect(envGrants).toEqual([]);
    const payGrants = service.filter((st) => JSON.stringify(st.Resource).includes('/pay/*'));
    expect(payGrants).toEqual([]);
  });

  it('grants both functions s3express:CreateSession on the directory bucket, and nothing else on it', () => {
    const dir = directoryId(express);
    for (const role of ['ServiceHandlerRole', 'RealtimeHandlerRole']) {
      const statements = roleStatements(express.json, role);
      const onDir = statements.filter((st) => JSON.stringify(st.Resource).includes(`"${dir}"`));
      expect(onDir, role).toEqual([
        {
          Effect: 'Allow',
          Action: 's3express:CreateSession',
          Resource: { 'Fn::GetAtt': [dir, 'Arn'] },
        },
      ]);
    }
  });

  it('names the directory bucket to both functions as SEALPOST_ENVELOPE_BUCKET', () => {
    const ref = { Ref: directoryId(express) };
    expect(environmentOf(express, 'mailbox API')[ENV.envelopeBucket]).toEqual(ref);
    expect(environmentOf(express, 'realtime delivery')[ENV.envelopeBucket]).toEqual(ref);
  });

  it('the deployed function parses it back and writes envelopes to the directory bucket', async () => {
    const deployment = parseDeploymentEnv(deployedEnvironment(express.json));
    expect(deployment.envelopeBucket).toBe(DEPLOYED_NAMES.SEALPOST_ENVELOPE_BUCKET);
    expect(deployment.bucket).toBe(DEPLOYED_NAMES.SEALPOST_BUCKET);
    const s3 = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(s3);
    mock.on(PutObjectCommand).resolves({});
    try {
      const ports = deploymentPorts(deployment, new DynamoDBClient({ region: 'us-east-1' }), s3);
      const mailbox = { address: 'a'.repeat(43), deviceId: 1, registrationId: 7 };
      await ports.blobs.put(mailbox, new Uint8Array(16), new Uint8Array([1, 2, 3]));
      const calls = mock.commandCalls(PutObjectCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input.Bucket).toBe(DEPLOYED_NAMES.SEALPOST_ENVELOPE_BUCKET);
      expect(calls[0]!.args[0].input.Key).toMatch(/^env\/[0-9a-f]{4}\//);
    } finally {
      mock.restore();
    }
  });

  it('retains the directory bucket with the rest of the data of a retained stage', () => {
    expect(retained.json.Resources[directoryId(retained)]!.DeletionPolicy).toBe('Retain');
    expect(express.json.Resources[directoryId(express)]!.DeletionPolicy).toBe('Delete');
  });

  it('passes cdk-nag with no new acknowledgement', () => {
    for (const s of [express, retained]) {
      const nag = s.report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      expect(nag?.violations).toEqual([]);
      expect(nag?.conclusion).toBe('success');
      const acked = (nag?.suppressedViolations ?? []).map((v) => v.ruleName);
      expect(acked.filter((id) => id.includes('EnvelopesExpress'))).toEqual([]);
    }
  });
});

describe('default envelope storage', () => {
  it('has no directory bucket and leaves SEALPOST_ENVELOPE_BUCKET empty', () => {
    standard.template.resourceCountIs(DIRECTORY, 0);
    expect(environmentOf(standard, 'mailbox API')[ENV.envelopeBucket]).toBe('');
    const deployment = parseDeploymentEnv(deployedEnvironment(standard.json));
    expect(deployment.envelopeBucket).toBeUndefined();
  });
});

describe('express context and zone', () => {
  const from = (ctx: Record<string, unknown>) => stackPropsFromContext((k) => ctx[k]);
  const problems = (ctx: Record<string, unknown>): readonly string[] => {
    try {
      from(ctx);
    } catch (err) {
      if (err instanceof ContextError) return err.problems;
      throw err;
    }
    return [];
  };

  it('reads envelopeStorage and expressAz', () => {
    expect(from({ envelopeStorage: 'express', expressAz: 'usw2-az1' })).toMatchObject({
      envelopeStorage: 'express',
      expressAvailabilityZoneId: 'usw2-az1',
    });
    expect(from({}).envelopeStorage).toBeUndefined();
  });

  it('refuses bad combinations, naming the keys', () => {
    expect(problems({ envelopeStorage: 'glacier' })).toEqual([
      'envelopeStorage must be one of: standard, express',
    ]);
    expect(problems({ envelopeStorage: 'express', expressAz: 'us-east-1a' })).toEqual([
      'expressAz must be an Availability Zone id like use1-az4',
    ]);
    expect(problems({ expressAz: 'use1-az4' })).toEqual([
      'expressAz needs envelopeStorage=express',
    ]);
    expect(problems({ envelopeStorage: 'express', bucketEncryption: 'kms' })).toEqual([
      'envelopeStorage=express needs bucketEncryption=s3-managed',
    ]);
  });

  it("defaults the zone from the stack's region, and needs one when the region is unknown", () => {
    const inRegion = new Stack(new App(), 'S', {
      env: { account: '123456789012', region: 'eu-north-1' },
    });
    new EnvelopeBucket(inRegion, 'E', { messageTtlDays: 30, express: {} });
    Template.fromStack(inRegion).hasResourceProperties(DIRECTORY, { LocationName: 'eun1-az1' });

    const agnostic = new Stack(new App(), 'S');
    expect(() => new EnvelopeBucket(agnostic, 'E', { messageTtlDays: 30, express: {} })).toThrow(
      /availabilityZoneId \(context expressAz\)/,
    );
    const unserved = new Stack(new App(), 'S', { env: { region: 'af-south-1' } });
    expect(() => new EnvelopeBucket(unserved, 'E', { messageTtlDays: 30, express: {} })).toThrow(
      RangeError,
    );
  });

  it('refuses kms encryption and malformed zones in the construct too', () => {
    const stack = new Stack(new App(), 'S');
    expect(
      () =>
        new EnvelopeBucket(stack, 'K', {
          messageTtlDays: 30,
          encryption: 'kms',
          express: { availabilityZoneId: 'use1-az4' },
        }),
    ).toThrow(/s3-managed/);
    expect(
      () =>
        new EnvelopeBucket(stack, 'Z', {
          messageTtlDays: 30,
          express: { availabilityZoneId: 'us-east-1a' },
        }),
    ).toThrow(/zone id/);
  });
});
