import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ContextError, stackPropsFromContext } from '#infra/lib/config.ts';

const from = (ctx: Record<string, unknown>) => stackPropsFromContext((k) => ctx[k]);

describe('stackPropsFromContext', () => {
  it('defaults to a disposable dev stage and leaves the rest to the constructs', () => {
    expect(from({})).toEqual({
      stage: 'dev',
      removalPolicy: RemovalPolicy.DESTROY,
      logRetention: undefined,
      messageTtlDays: undefined,
      bucketEncryption: undefined,
      corsAllowOrigins: undefined,
      logLevel: undefined,
      throttle: undefined,
      alarmTopicArn: undefined,
      certificateValidityDays: undefined,
      apiEntry: undefined,
      webPush: undefined,
      vapidSubject: undefined,
      wakeWindowSeconds: undefined,
      pushAllowedHosts: undefined,
      attachmentMaxBytes: undefined,
      attachmentMultipartBytes: undefined,
      attachmentQuotaBytes: undefined,
      attachmentCorsOrigins: undefined,
    });
  });

  it('reads the attachment keys from -c strings and cdk.json numbers alike', () => {
    const keys = {
      attachmentMaxBytes: 1024 ** 3,
      attachmentMultipartBytes: 32 * 1024 ** 2,
      attachmentQuotaBytes: 10 * 1024 ** 3,
    };
    const expected = { ...keys };
    expect(from(keys)).toMatchObject(expected);
    expect(
      from(Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, String(v)]))),
    ).toMatchObject(expected);
    // The bounds themselves are allowed: 1 MiB, 5 MiB, 4 GiB; a quota of one largest blob.
    expect(
      from({
        attachmentMaxBytes: 1024 ** 2,
        attachmentMultipartBytes: 4 * 1024 ** 3,
        attachmentQuotaBytes: 1024 ** 2,
      }),
    ).toMatchObject({
      attachmentMaxBytes: 1024 ** 2,
      attachmentMultipartBytes: 4 * 1024 ** 3,
      attachmentQuotaBytes: 1024 ** 2,
    });
    expect(from({ attachmentMaxBytes: 4 * 1024 ** 3 }).attachmentMaxBytes).toBe(4 * 1024 ** 3);
    expect(from({ attachmentMultipartBytes: 5 * 1024 ** 2 }).attachmentMultipartBytes).toBe(
      5 * 1024 ** 2,
    );
  });

  it('parses attachment CORS origins like corsOrigins, separately from them', () => {
    const props = from({
      corsOrigins: 'https://app.example.com',
      attachmentCorsOrigins: 'https://app.example.com, http://localhost:5173',
    });
    expect(props.attachmentCorsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(from({ attachmentCorsOrigins: ['*'] }).attachmentCorsOrigins).toEqual(['*']);
    expect(from({ corsOrigins: 'https://a.example' }).attachmentCorsOrigins).toBeUndefined();
  });

  it('reports every invalid attachment key, with its range', () => {
    let error: unknown;
    try {
      from({
        attachmentMaxBytes: String(4 * 1024 ** 3 + 1),
        attachmentMultipartBytes: '5242879',
        attachmentQuotaBytes: '1.5',
        attachmentCorsOrigins: 'app.example.com',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ContextError);
    expect((error as ContextError).problems).toEqual([
      'attachmentMaxBytes must be a number of bytes in 1048576..4294967296 (1 MiB..4 GiB)',
      'attachmentMultipartBytes must be a number of bytes in 5242880..4294967296 (5 MiB..4 GiB)',
      'attachmentQuotaBytes must be a number of bytes of at least attachmentMaxBytes (536870912)',
      'attachmentCorsOrigins must list origins like https://app.example.com',
    ]);
  });

  it('requires the quota to hold one blob of the largest size', () => {
    expect(() =>
      from({ attachmentMaxBytes: 2 * 1024 ** 3, attachmentQuotaBytes: 1024 ** 3 }),
    ).toThrow(
      'attachmentQuotaBytes must be a number of bytes of at least attachmentMaxBytes (2147483648)',
    );
    // Without an explicit maximum, the default (512 MiB) is the floor.
    expect(() => from({ attachmentQuotaBytes: 256 * 1024 ** 2 })).toThrow(/attachmentQuotaBytes/);
    expect(from({ attachmentQuotaBytes: 512 * 1024 ** 2 }).attachmentQuotaBytes).toBe(
      512 * 1024 ** 2,
    );
  });

  it('reads the wake-up keys', () => {
    expect(
      from({
        webPush: 'false',
        vapidSubject: 'mailto:ops@example.com',
        wakeWindowSeconds: '300',
        pushAllowedHosts: 'fcm.googleapis.com, *.push.apple.com',
      }),
    ).toMatchObject({
      webPush: false,
      vapidSubject: 'mailto:ops@example.com',
      wakeWindowSeconds: 300,
      pushAllowedHosts: ['fcm.googleapis.com', '*.push.apple.com'],
    });
    expect(from({ webPush: true, pushAllowedHosts: ['fcm.googleapis.com'] })).toMatchObject({
      webPush: true,
      pushAllowedHosts: ['fcm.googleapis.com'],
    });
  });

  it('reads strings from -c and numbers from cdk.json alike', () => {
    const a = from({ messageTtlDays: '14', logRetentionDays: '90', throttleRate: '50' });
    const b = from({ messageTtlDays: 14, logRetentionDays: 90, throttleRate: 50 });
    expect(a).toEqual(b);
    expect(a.messageTtlDays).toBe(14);
    expect(a.logRetention).toBe(RetentionDays.THREE_MONTHS);
    expect(a.throttle).toEqual({ rateLimit: 50, burstLimit: 100 });
  });

  it('parses CORS origins from a comma list or an array', () => {
    expect(
      from({ corsOrigins: 'https://a.example, http://localhost:5173' }).corsAllowOrigins,
    ).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(from({ corsOrigins: ['https://a.example'] }).corsAllowOrigins).toEqual([
      'https://a.example',
    ]);
  });

  it('retains the data of every stage but dev unless removalPolicy says otherwise', () => {
    expect(from({ stage: 'prod' }).removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(from({ stage: 'dev2' }).removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(from({ stage: 'prod', removalPolicy: 'destroy' }).removalPolicy).toBe(
      RemovalPolicy.DESTROY,
    );
    expect(from({ removalPolicy: 'retain' }).removalPolicy).toBe(RemovalPolicy.RETAIN);
  });

  it('reports every invalid key in one error', () => {
    const ctx = { stage: 'Prod', logLevel: 'trace', messageTtlDays: '0', corsOrigins: 'x' };
    let error: unknown;
    try {
      from(ctx);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ContextError);
    const e = error as ContextError;
    expect(e.code).toBe('INVALID_CONTEXT');
    expect(e.problems).toEqual([
      'stage must be 1-20 characters of a-z, 0-9 and -, starting with a-z',
      'messageTtlDays must be an integer in 1..365',
      'corsOrigins must list origins like https://app.example.com',
      'logLevel must be one of: debug, info, warn, error',
    ]);
    expect(e.message.split('\n')).toEqual([
      'Invalid Sealpost context (4 problems; docs/DEPLOY.md lists every key):',
      ...e.problems.map((p) => `  - ${p}`),
    ]);
  });

  it.each([
    [{ stage: 'Prod' }, /stage/],
    [{ stage: 'a'.repeat(21) }, /stage/],
    [{ removalPolicy: 'snapshot' }, /removalPolicy/],
    [{ logRetentionDays: '2' }, /logRetentionDays/],
    [{ messageTtlDays: '0' }, /messageTtlDays/],
    [{ messageTtlDays: '7.5' }, /messageTtlDays/],
    [{ bucketEncryption: 'aes' }, /bucketEncryption/],
    [{ corsOrigins: 'app.example.com' }, /corsOrigins/],
    [{ logLevel: 'trace' }, /logLevel/],
    [{ alarmTopicArn: 'arn:aws:sqs:us-east-1:123456789012:q' }, /alarmTopicArn/],
    [{ throttleRate: '-1' }, /throttleRate/],
    [{ stage: { nested: true } }, /stage/],
    [{ webPush: 'yes' }, /webPush/],
    [{ vapidSubject: 'ops@example.com' }, /vapidSubject/],
    [{ wakeWindowSeconds: '0' }, /wakeWindowSeconds/],
    [{ wakeWindowSeconds: '3601' }, /wakeWindowSeconds/],
    [{ pushAllowedHosts: 'https://fcm.googleapis.com' }, /pushAllowedHosts/],
    [{ attachmentMaxBytes: '1048575' }, /attachmentMaxBytes/],
    [{ attachmentMaxBytes: '512MiB' }, /attachmentMaxBytes/],
    [{ attachmentMaxBytes: -1 }, /attachmentMaxBytes/],
    [{ attachmentMultipartBytes: String(4 * 1024 ** 3 + 1) }, /attachmentMultipartBytes/],
    [{ attachmentQuotaBytes: '99999999999999999' }, /attachmentQuotaBytes/],
    [{ attachmentQuotaBytes: '1e10' }, /attachmentQuotaBytes/],
    [{ attachmentCorsOrigins: ',' }, /attachmentCorsOrigins/],
    [{ attachmentCorsOrigins: 'https://app.example.com/path' }, /attachmentCorsOrigins/],
  ])('rejects %o naming the key', (ctx, key) => {
    expect(() => from(ctx)).toThrow(ContextError);
    expect(() => from(ctx)).toThrow(key);
  });
});
