/**
 * The infrastructure of attachment transfer (docs/SERVICE.md §7.6, docs/DEPLOY.md): the
 * bucket's lifecycle and CORS rules for `attachments/`, and the limits that reach the API
 * function's environment.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACHMENT_PREFIX, ENVELOPE_PREFIX, PAYLOAD_PREFIX } from '#functions/deployment.ts';
import { checkAttachmentLimits } from '#infra/lib/api-function.ts';
import { EnvelopeBucket } from '#infra/lib/envelope-bucket.ts';
import { SealpostService } from '#infra/lib/sealpost-service.ts';
import { FIXTURE_ENTRY, list, type Synth, synth } from './synth.ts';

let s: Synth;
beforeAll(() => {
  // With CDK's CloudFormation schema validation, findings as errors: synthesis fails unless the
  // lifecycle and CORS rules (and everything else) are well formed.
  s = synth(
    { apiEntry: FIXTURE_ENTRY, '@aws-cdk/core:validateAgainstDefaultRules': true },
    { validateTemplate: true },
  );
}, 60_000);
afterAll(() => s?.dispose());

interface LifecycleRule {
  Id: string;
  Prefix?: string;
  Status: string;
  ExpirationInDays?: number;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

function bucketProps(json: Synth['json']): Record<string, unknown> {
  const buckets = Object.values(json.Resources).filter((r) => r.Type === 'AWS::S3::Bucket');
  expect(buckets).toHaveLength(1);
  return buckets[0]!.Properties ?? {};
}

function rules(json: Synth['json']): LifecycleRule[] {
  return (bucketProps(json)['LifecycleConfiguration'] as { Rules: LifecycleRule[] }).Rules;
}

/** Whether one key could match both prefixes. */
function overlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Object-ARN suffixes (`env/*`) of every IAM statement that lets a role write objects. */
function writablePrefixes(json: Synth['json']): string[] {
  const out: string[] = [];
  for (const r of Object.values(json.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const doc = r.Properties?.['PolicyDocument'] as {
      Statement: { Action: string | string[]; Resource: unknown }[];
    };
    for (const st of doc.Statement) {
      if (!list(st.Action).includes('s3:PutObject')) continue;
      for (const resource of list(st.Resource)) {
        const suffix = JSON.stringify(resource).match(/"\/([^"]*)\*"/)?.[1];
        expect(suffix, JSON.stringify(resource)).toBeDefined();
        out.push(suffix!);
      }
    }
  }
  return out;
}

describe('attachment lifecycle', () => {
  it('expires attachments a day after the message TTL and aborts their uploads after a day', () => {
    const attachments = rules(s.json).find((r) => r.Prefix === ATTACHMENT_PREFIX);
    expect(attachments).toEqual({
      Id: 'expire-attachments',
      Prefix: 'attachments/',
      Status: 'Enabled',
      ExpirationInDays: 31,
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
  });

  it('has no two rules of one action type with overlapping prefixes (S3 refuses those)', () => {
    const all = rules(s.json);
    for (const action of ['ExpirationInDays', 'AbortIncompleteMultipartUpload'] as const) {
      const prefixes = all.filter((r) => r[action] !== undefined).map((r) => r.Prefix ?? '');
      for (const [i, a] of prefixes.entries()) {
        for (const b of prefixes.slice(i + 1)) {
          expect(overlap(a, b), `${action}: ${a} / ${b}`).toBe(false);
        }
      }
    }
  });

  it('expires and aborts under every prefix a role may write to', () => {
    const writable = writablePrefixes(s.json);
    // The API and realtime functions write envelopes and payloads, the API function attachments.
    expect(new Set(writable)).toEqual(
      new Set([ENVELOPE_PREFIX, PAYLOAD_PREFIX, ATTACHMENT_PREFIX]),
    );
    const enabled = rules(s.json).filter((r) => r.Status === 'Enabled');
    for (const prefix of writable) {
      const covering = enabled.filter((r) => prefix.startsWith(r.Prefix ?? ''));
      expect(
        covering.some((r) => r.ExpirationInDays !== undefined),
        prefix,
      ).toBe(true);
      expect(
        covering.some((r) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation === 1),
        prefix,
      ).toBe(true);
    }
  });
});

describe('attachment CORS', () => {
  it('lets any origin POST, PUT and GET presigned requests by default, reading back ETag', () => {
    expect(bucketProps(s.json)['CorsConfiguration']).toEqual({
      CorsRules: [
        {
          Id: 'attachments',
          AllowedMethods: ['POST', 'PUT', 'GET'],
          AllowedOrigins: ['*'],
          AllowedHeaders: ['Content-Type', 'Range'],
          ExposedHeaders: ['ETag', 'Content-Range'],
          MaxAge: 3600,
        },
      ],
    });
  });

  it('leaves TLS-only access, encryption and the public access block in place', () => {
    const props = bucketProps(s.json);
    expect(props['PublicAccessBlockConfiguration']).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props['BucketEncryption']).toBeDefined();
    const policies = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::S3::BucketPolicy',
    );
    expect(policies).toHaveLength(1);
    const doc = policies[0]!.Properties!['PolicyDocument'] as {
      Statement: Record<string, unknown>[];
    };
    const statements = doc.Statement;
    // CORS grants nothing: the bucket policy still only denies.
    expect(statements.map((st) => st['Effect'])).toEqual(['Deny', 'Deny']);
  });

  it('refuses an empty origin list', () => {
    const stack = new Stack(new App(), 'Bucket');
    expect(
      () =>
        new EnvelopeBucket(stack, 'Envelopes', { messageTtlDays: 30, attachmentCorsOrigins: [] }),
    ).toThrow(RangeError);
  });
});

describe('attachment limits of the API function', () => {
  function serviceEnvironment(props: Record<string, unknown>): Record<string, unknown> {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Operator');
    new SealpostService(stack, 'Mail', { stage: 'prod', apiEntry: FIXTURE_ENTRY, ...props });
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const api = Object.values(fns).find((r) =>
      String(r['Properties']['Description']).includes('mailbox API'),
    );
    return api?.['Properties']['Environment']['Variables'];
  }

  it('reach the environment as byte counts', () => {
    expect(
      serviceEnvironment({
        attachmentMaxBytes: 1024 ** 3,
        attachmentMultipartBytes: 100 * 1024 ** 2,
        attachmentQuotaBytes: 50 * 1024 ** 3,
      }),
    ).toMatchObject({
      SEALPOST_ATTACHMENT_MAX_BYTES: '1073741824',
      SEALPOST_ATTACHMENT_MULTIPART_BYTES: '104857600',
      SEALPOST_ATTACHMENT_QUOTA_BYTES: '53687091200',
    });
  });

  it.each([
    [{ attachmentMaxBytes: 1024 ** 2 - 1 }, /maxBytes/],
    [{ attachmentMaxBytes: 4 * 1024 ** 3 + 1 }, /maxBytes/],
    [{ attachmentMaxBytes: 1.5 * 1024 ** 2 + 0.5 }, /maxBytes/],
    [{ attachmentMultipartBytes: 5 * 1024 ** 2 - 1 }, /multipartBytes/],
    [{ attachmentQuotaBytes: 256 * 1024 ** 2 }, /quotaBytes/],
    [{ attachmentMaxBytes: 2 * 1024 ** 3, attachmentQuotaBytes: 1024 ** 3 }, /quotaBytes/],
  ])('refuse %o at synthesis', (props, name) => {
    expect(() => serviceEnvironment(props)).toThrow(RangeError);
    expect(() => serviceEnvironment(props)).toThrow(name);
  });

  it('accept their bounds', () => {
    expect(() =>
      checkAttachmentLimits({
        maxBytes: 4 * 1024 ** 3,
        multipartBytes: 5 * 1024 ** 2,
        quotaBytes: 4 * 1024 ** 3,
      }),
    ).not.toThrow();
    expect(() =>
      checkAttachmentLimits({ maxBytes: 1024 ** 2, quotaBytes: 1024 ** 2 }),
    ).not.toThrow();
    expect(() => checkAttachmentLimits({})).not.toThrow();
  });
});
