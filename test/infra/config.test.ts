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
    });
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
  ])('rejects %o naming the key', (ctx, key) => {
    expect(() => from(ctx)).toThrow(ContextError);
    expect(() => from(ctx)).toThrow(key);
  });
});
