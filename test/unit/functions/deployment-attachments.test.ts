/**
 * The attachment limits of the deployment contract (`SEALPOST_ATTACHMENT_*`, docs/SERVICE.md
 * §7.6, §12): parsed, range-checked with one problem per variable (never its value), and
 * applied to the service config.
 */
import { describe, expect, it } from 'vitest';
import {
  DeploymentConfigError,
  deploymentEnvironment,
  ENV,
  parseDeploymentEnv,
} from '#functions/deployment.ts';
import { DEFAULT_CONFIG, withAttachmentLimits } from '#functions/domain/config.ts';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

const VALID = {
  SEALPOST_TABLE: 'Sealpost-prod-MailboxTable-1A2B',
  SEALPOST_BUCKET: 'sealpost-prod-envelopes-1a2b',
  SEALPOST_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseDeploymentEnv(env);
  } catch (err) {
    if (err instanceof DeploymentConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('attachment limits of the deployment contract', () => {
  it('defaults to 512 MiB, multipart above 64 MiB and a 5 GiB quota', () => {
    expect(parseDeploymentEnv(VALID).attachments).toEqual({
      maxBytes: 512 * MIB,
      multipartBytes: 64 * MIB,
      quotaBytes: 5 * GIB,
    });
  });

  it('writes the limits it is given and reads them back', () => {
    const env = deploymentEnvironment({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
      attachmentMaxBytes: 4 * GIB,
      attachmentMultipartBytes: 5 * MIB,
      attachmentQuotaBytes: 40 * GIB,
    });
    expect(env[ENV.attachmentMaxBytes]).toBe(String(4 * GIB));
    expect(parseDeploymentEnv(env).attachments).toEqual({
      maxBytes: 4 * GIB,
      multipartBytes: 5 * MIB,
      quotaBytes: 40 * GIB,
    });
  });

  it('refuses values out of range or malformed, naming the variable and never the value', () => {
    const cases: [Record<string, string>, string][] = [
      [{ SEALPOST_ATTACHMENT_MAX_BYTES: String(4 * GIB + 1) }, 'SEALPOST_ATTACHMENT_MAX_BYTES'],
      [{ SEALPOST_ATTACHMENT_MAX_BYTES: String(MIB - 1) }, 'SEALPOST_ATTACHMENT_MAX_BYTES'],
      [{ SEALPOST_ATTACHMENT_MAX_BYTES: '1e9' }, 'SEALPOST_ATTACHMENT_MAX_BYTES'],
      [{ SEALPOST_ATTACHMENT_MAX_BYTES: '-5' }, 'SEALPOST_ATTACHMENT_MAX_BYTES'],
      [
        { SEALPOST_ATTACHMENT_MULTIPART_BYTES: String(5 * MIB - 1) },
        'SEALPOST_ATTACHMENT_MULTIPART_BYTES',
      ],
      [{ SEALPOST_ATTACHMENT_MULTIPART_BYTES: '64MiB' }, 'SEALPOST_ATTACHMENT_MULTIPART_BYTES'],
      [{ SEALPOST_ATTACHMENT_QUOTA_BYTES: '12.5' }, 'SEALPOST_ATTACHMENT_QUOTA_BYTES'],
      [{ SEALPOST_ATTACHMENT_QUOTA_BYTES: '99999999999999999' }, 'SEALPOST_ATTACHMENT_QUOTA_BYTES'],
      // The quota must hold one upload of the largest size.
      [
        {
          SEALPOST_ATTACHMENT_MAX_BYTES: String(2 * GIB),
          SEALPOST_ATTACHMENT_QUOTA_BYTES: String(GIB),
        },
        'SEALPOST_ATTACHMENT_QUOTA_BYTES',
      ],
    ];
    for (const [vars, key] of cases) {
      const problems = problemsOf({ ...VALID, ...vars });
      expect(problems, JSON.stringify(vars)).toHaveLength(1);
      expect(problems[0]!.startsWith(`${key} must be `)).toBe(true);
      for (const value of Object.values(vars)) expect(problems[0]).not.toContain(value);
    }
    // Every problem at once.
    expect(
      problemsOf({
        ...VALID,
        SEALPOST_ATTACHMENT_MAX_BYTES: 'x',
        SEALPOST_ATTACHMENT_MULTIPART_BYTES: 'y',
        SEALPOST_ATTACHMENT_QUOTA_BYTES: 'z',
      }),
    ).toHaveLength(3);
  });

  it('applies the limits to the service config, with a day large enough for the largest blob', () => {
    const config = withAttachmentLimits(DEFAULT_CONFIG, {
      maxBytes: 4 * GIB,
      multipartBytes: 32 * MIB,
      quotaBytes: 8 * GIB,
    });
    expect(config).toMatchObject({
      attachmentMaxBytes: 4 * GIB,
      attachmentMultipartBytes: 32 * MIB,
      attachmentStorageQuota: 8 * GIB,
      attachmentBytesPerDay: 4 * GIB,
    });
    expect(
      withAttachmentLimits(DEFAULT_CONFIG, {
        maxBytes: MIB,
        multipartBytes: 5 * MIB,
        quotaBytes: MIB,
      }).attachmentBytesPerDay,
    ).toBe(2 * GIB);
    expect(() =>
      withAttachmentLimits(DEFAULT_CONFIG, {
        maxBytes: 2 * MIB,
        multipartBytes: 5 * MIB,
        quotaBytes: MIB,
      }),
    ).toThrow(RangeError);
    expect(() =>
      withAttachmentLimits(DEFAULT_CONFIG, {
        maxBytes: 5 * GIB,
        multipartBytes: 5 * MIB,
        quotaBytes: 9 * GIB,
      }),
    ).toThrow(RangeError);
  });
});
