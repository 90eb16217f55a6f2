import { describe, expect, it } from 'vitest';
import { localOptionsFromEnv } from '#functions/api/local.ts';
import {
  DEFAULT_PUSH_ALLOWED_HOSTS,
  DEPLOYMENT_ENV_KEYS,
  DeploymentConfigError,
  deploymentEnvironment,
  ENV,
  parseDeploymentEnv,
  parsePushHosts,
  readMessageTtlDays,
} from '#functions/deployment.ts';
import { configFromEnv, DEFAULT_CONFIG } from '#functions/domain/config.ts';

const VALID = {
  SEALPOST_TABLE: 'Sealpost-prod-MailboxTable-1A2B',
  SEALPOST_BUCKET: 'sealpost-prod-envelopes-1a2b',
  SEALPOST_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf',
};

/** The attachment limits of a deployment that sets none (docs/SERVICE.md §7.6). */
const DEFAULT_ATTACHMENTS = {
  maxBytes: 512 * 1024 ** 2,
  multipartBytes: 64 * 1024 ** 2,
  quotaBytes: 5 * 1024 ** 3,
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

describe('deployment contract', () => {
  it('writes exactly its keys and parses them back', () => {
    const env = deploymentEnvironment({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
      messageTtlDays: 14,
      stage: 'prod',
      logLevel: 'warn',
    });
    expect(Object.keys(env).sort()).toEqual([...DEPLOYMENT_ENV_KEYS].sort());
    expect(parseDeploymentEnv(env)).toEqual({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
      messageTtlDays: 14,
      stage: 'prod',
      logLevel: 'warn',
      metricsNamespace: 'Sealpost',
      wakeWindowSeconds: 60,
      pushAllowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS,
      attachments: DEFAULT_ATTACHMENTS,
      reportRetentionDays: 180,
      reportWindowDays: 30,
    });
  });

  it('defaults the optional variables', () => {
    expect(parseDeploymentEnv(VALID)).toEqual({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
      messageTtlDays: 30,
      stage: 'dev',
      logLevel: 'info',
      metricsNamespace: 'Sealpost',
      wakeWindowSeconds: 60,
      pushAllowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS,
      attachments: DEFAULT_ATTACHMENTS,
      reportRetentionDays: 180,
      reportWindowDays: 30,
    });
  });

  it('reports every problem at once, naming variables and never their values', () => {
    const env = {
      SEALPOST_BUCKET: 'Not_A_Bucket',
      SEALPOST_SIGNING_SECRET_ARN: 'secret-value-here',
      SEALPOST_MESSAGE_TTL_DAYS: '400',
      SEALPOST_STAGE: 'Prod',
      SEALPOST_LOG_LEVEL: 'trace',
    };
    let error: unknown;
    try {
      parseDeploymentEnv(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DeploymentConfigError);
    const e = error as DeploymentConfigError;
    expect(e.code).toBe('DEPLOYMENT_CONFIG_INVALID');
    expect(e.problems).toEqual([
      'SEALPOST_TABLE is required (a DynamoDB table name)',
      'SEALPOST_BUCKET must be an S3 bucket name',
      'SEALPOST_SIGNING_SECRET_ARN must be a Secrets Manager ARN',
      'SEALPOST_MESSAGE_TTL_DAYS must be an integer in 1..365',
      'SEALPOST_STAGE must be a stage name (a-z, 0-9, -)',
      'SEALPOST_LOG_LEVEL must be one of: debug, info, warn, error',
    ]);
    expect(e.message).toBe(`invalid deployment environment: ${e.problems.join('; ')}`);
    for (const value of Object.values(env)) expect(e.message).not.toContain(value);
  });

  it('reads the WebSocket management endpoint when set, and writes it empty when absent', () => {
    const endpoint = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1';
    const env = deploymentEnvironment({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
      websocketEndpoint: endpoint,
    });
    expect(parseDeploymentEnv(env).websocketEndpoint).toBe(endpoint);
    const without = { ...env, [ENV.websocketEndpoint]: '' };
    expect(parseDeploymentEnv(without)).not.toHaveProperty('websocketEndpoint');
  });

  it.each(['http://a.example/v1', 'wss://a.example/v1', 'https://a b/v1', 'https://a/v1?x=1'])(
    'rejects the WebSocket endpoint %j',
    (endpoint) => {
      expect(problemsOf({ ...VALID, [ENV.websocketEndpoint]: endpoint })).toEqual([
        'SEALPOST_WEBSOCKET_ENDPOINT must be an https URL',
      ]);
    },
  );

  it('reads the wake-up settings: VAPID secret and subject, window, push hosts', () => {
    const vapidSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:v-AbCdEf';
    const env = deploymentEnvironment({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
      vapidSecretArn,
      vapidSubject: 'mailto:ops@example.com',
      wakeWindowSeconds: 120,
      pushAllowedHosts: ['fcm.googleapis.com', '*.push.apple.com'],
    });
    expect(env).toMatchObject({
      SEALPOST_VAPID_SECRET_ARN: vapidSecretArn,
      SEALPOST_VAPID_SUBJECT: 'mailto:ops@example.com',
      SEALPOST_WAKE_WINDOW_SECONDS: '120',
      SEALPOST_PUSH_ALLOWED_HOSTS: 'fcm.googleapis.com,*.push.apple.com',
    });
    expect(parseDeploymentEnv(env)).toMatchObject({
      vapid: { secretArn: vapidSecretArn, subject: 'mailto:ops@example.com' },
      wakeWindowSeconds: 120,
      pushAllowedHosts: ['fcm.googleapis.com', '*.push.apple.com'],
    });
    // Without a secret, wake-ups are off and no subject is needed.
    const off = deploymentEnvironment({
      table: VALID.SEALPOST_TABLE,
      bucket: VALID.SEALPOST_BUCKET,
      signingSecretArn: VALID.SEALPOST_SIGNING_SECRET_ARN,
    });
    expect(off).toMatchObject({ SEALPOST_VAPID_SECRET_ARN: '', SEALPOST_VAPID_SUBJECT: '' });
    expect(parseDeploymentEnv(off)).not.toHaveProperty('vapid');
  });

  it('rejects malformed wake-up settings, naming each variable', () => {
    const vapid = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:v-AbCdEf';
    expect(problemsOf({ ...VALID, [ENV.vapidSecretArn]: vapid })).toEqual([
      'SEALPOST_VAPID_SUBJECT is required (a mailto: or https: URL)',
    ]);
    for (const subject of [
      'ops@example.com',
      'http://example.com',
      'mailto:nobody',
      'https://a b',
    ]) {
      expect(
        problemsOf({ ...VALID, [ENV.vapidSecretArn]: vapid, [ENV.vapidSubject]: subject }),
        subject,
      ).toEqual(['SEALPOST_VAPID_SUBJECT must be a mailto: or https: URL']);
    }
    expect(problemsOf({ ...VALID, [ENV.vapidSecretArn]: 'not-an-arn' })).toEqual([
      'SEALPOST_VAPID_SECRET_ARN must be a Secrets Manager ARN',
      'SEALPOST_VAPID_SUBJECT is required (a mailto: or https: URL)',
    ]);
    for (const window of ['0', '3601', '1.5', 'x']) {
      expect(problemsOf({ ...VALID, [ENV.wakeWindowSeconds]: window }), window).toEqual([
        'SEALPOST_WAKE_WINDOW_SECONDS must be an integer in 1..3600',
      ]);
    }
    for (const hosts of ['FCM.googleapis.com', 'fcm', '*.', 'a.example,https://b.example', ',']) {
      expect(problemsOf({ ...VALID, [ENV.pushAllowedHosts]: hosts }), hosts).toEqual([
        'SEALPOST_PUSH_ALLOWED_HOSTS must list 1..32 lower-case host names, comma-separated (*.example.com for subdomains)',
      ]);
    }
    expect(parsePushHosts(' fcm.googleapis.com , *.push.apple.com ')).toEqual([
      'fcm.googleapis.com',
      '*.push.apple.com',
    ]);
  });

  it.each(['0', '366', '7.5', '1e1', ' 7'])('rejects the message TTL %j', (ttl) => {
    expect(problemsOf({ ...VALID, [ENV.messageTtlDays]: ttl })).toEqual([
      'SEALPOST_MESSAGE_TTL_DAYS must be an integer in 1..365',
    ]);
    expect(() => readMessageTtlDays({ [ENV.messageTtlDays]: ttl })).toThrow(RangeError);
  });

  it('gives the domain config the TTL and nothing else', () => {
    expect(configFromEnv({})).toBe(DEFAULT_CONFIG);
    expect(configFromEnv({ SEALPOST_MESSAGE_TTL_DAYS: '7' })).toEqual({
      ...DEFAULT_CONFIG,
      messageTtlMs: 7 * 86_400_000,
    });
  });
});

describe('local server environment', () => {
  it('uses memory storage unless both emulator endpoints are set', () => {
    expect(localOptionsFromEnv({})).toEqual({ port: 8787, dataDir: '.local' });
    expect(localOptionsFromEnv({ SEALPOST_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })).toEqual({
      port: 8787,
      dataDir: '.local',
    });
  });

  it('reads the port, data directory, endpoints and the contract table and bucket names', () => {
    expect(
      localOptionsFromEnv({
        SEALPOST_PORT: '0',
        SEALPOST_DATA_DIR: '/tmp/sp',
        SEALPOST_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        SEALPOST_S3_ENDPOINT: 'http://127.0.0.1:4568',
        SEALPOST_TABLE: 't',
        SEALPOST_BUCKET: 'b',
      }),
    ).toEqual({
      port: 0,
      dataDir: '/tmp/sp',
      aws: {
        dynamodb: 'http://127.0.0.1:8000',
        s3: 'http://127.0.0.1:4568',
        table: 't',
        bucket: 'b',
      },
    });
  });

  it('reads the VAPID subject and push hosts of wake-ups', () => {
    expect(
      localOptionsFromEnv({
        SEALPOST_VAPID_SUBJECT: 'mailto:dev@example.com',
        SEALPOST_PUSH_ALLOWED_HOSTS: 'fcm.googleapis.com',
      }),
    ).toEqual({
      port: 8787,
      dataDir: '.local',
      webPush: { subject: 'mailto:dev@example.com', allowedHosts: ['fcm.googleapis.com'] },
    });
    expect(() => localOptionsFromEnv({ SEALPOST_VAPID_SUBJECT: 'dev' })).toThrow(RangeError);
    expect(() => localOptionsFromEnv({ SEALPOST_PUSH_ALLOWED_HOSTS: 'A B' })).toThrow(RangeError);
  });

  it('rejects a port that is not one', () => {
    expect(() => localOptionsFromEnv({ SEALPOST_PORT: '80a' })).toThrow(/SEALPOST_PORT/);
    expect(() => localOptionsFromEnv({ SEALPOST_PORT: '70000' })).toThrow(RangeError);
  });
});
