import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, parseDeploymentEnv } from '#functions/deployment.ts';
import {
  DEPLOYED_NAMES,
  deployedEnvironment,
  FIXTURE_ENTRY,
  logicalId,
  type Synth,
  synth,
} from './synth.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:sealpost-ops';
let s: Synth;
beforeAll(() => {
  s = synth({
    apiEntry: FIXTURE_ENTRY,
    stage: 'prod',
    removalPolicy: 'destroy',
    logRetentionDays: 90,
    messageTtlDays: '7',
    bucketEncryption: 'kms',
    corsOrigins: 'https://app.example.com, https://beta.example.com',
    throttleRate: '20',
    throttleBurst: '40',
    logLevel: 'debug',
    alarmTopicArn: TOPIC,
    certificateValidityDays: '365',
    vapidSubject: 'mailto:ops@example.com',
    wakeWindowSeconds: '120',
    pushAllowedHosts: 'fcm.googleapis.com',
    attachmentMaxBytes: String(2 * 1024 ** 3),
    attachmentMultipartBytes: '16777216',
    attachmentQuotaBytes: 20 * 1024 ** 3,
    attachmentCorsOrigins: 'https://app.example.com',
    reportRetentionDays: '30',
  });
});
afterAll(() => s?.dispose());

describe('configured from context', () => {
  it('names the stack after the stage', () => {
    expect(s.stack.stackName).toBe('Sealpost-prod');
  });

  it('destroy: deletes state with the stack and drops deletion protection', () => {
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::S3::Bucket',
      'AWS::KMS::Key',
      'AWS::SecretsManager::Secret',
      'AWS::Logs::LogGroup',
    ]) {
      s.template.allResources(type, { DeletionPolicy: 'Delete' });
    }
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: false,
    });
  });

  it('kms: encrypts envelopes with a rotating customer managed key and S3 Bucket Keys', () => {
    const key = logicalId(s.json, 'AWS::KMS::Key', 'Envelopes');
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] },
            },
          },
        ],
      },
    });
  });

  it('message TTL drives the lifecycle rules and the function environment', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ Prefix: 'env/', ExpirationInDays: 7 }),
          // A day more: a retry of a send may reference a payload its first attempt stored.
          Match.objectLike({ Prefix: 'pay/', ExpirationInDays: 8 }),
          // A day more: a multipart blob's age counts from the start of its upload.
          Match.objectLike({ Prefix: 'attachments/', ExpirationInDays: 8 }),
        ],
      },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SEALPOST_MESSAGE_TTL_DAYS: '7',
          SEALPOST_STAGE: 'prod',
          SEALPOST_LOG_LEVEL: 'debug',
        }),
      },
    });
  });

  it('the service parses the configured environment back (deployment contract)', () => {
    expect(parseDeploymentEnv(deployedEnvironment(s.json))).toEqual({
      table: DEPLOYED_NAMES.SEALPOST_TABLE,
      bucket: DEPLOYED_NAMES.SEALPOST_BUCKET,
      signingSecretArn: DEPLOYED_NAMES.SEALPOST_SIGNING_SECRET_ARN,
      messageTtlDays: 7,
      stage: 'prod',
      logLevel: 'debug',
      metricsNamespace: METRICS_NAMESPACE,
      websocketEndpoint: DEPLOYED_NAMES.SEALPOST_WEBSOCKET_ENDPOINT,
      wakeWindowSeconds: 120,
      pushAllowedHosts: ['fcm.googleapis.com'],
      vapid: {
        secretArn: DEPLOYED_NAMES.SEALPOST_VAPID_SECRET_ARN,
        subject: 'mailto:ops@example.com',
      },
      attachments: {
        maxBytes: 2 * 1024 ** 3,
        multipartBytes: 16 * 1024 ** 2,
        quotaBytes: 20 * 1024 ** 3,
      },
      reportRetentionDays: 30,
      reportWindowDays: 30,
    });
  });

  it('attachment CORS allows only the configured origin', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [Match.objectLike({ AllowedOrigins: ['https://app.example.com'] })],
      },
    });
  });

  it('log retention applies to every log group', () => {
    s.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('CORS allows the listed origins, never credentials', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com', 'https://beta.example.com'],
        AllowCredentials: false,
        AllowMethods: ['*'],
        AllowHeaders: [
          'content-type',
          'x-sealpost-address',
          'x-sealpost-device',
          'x-sealpost-timestamp',
          'x-sealpost-nonce',
          'x-sealpost-signature',
          'x-sealpost-account-signature',
          'x-sealpost-access-key',
        ],
        ExposeHeaders: ['retry-after', 'x-request-id'],
        MaxAge: 3600,
      },
    });
  });

  it('throttling follows the context', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });

  it('alarms notify the topic on alarm and on recovery', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    s.template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [TOPIC],
      OKActions: [TOPIC],
    });
  });

  it('certificate validity reaches the key generator', () => {
    s.template.hasResourceProperties('Custom::SealpostSigningKeys', {
      CertificateValidityDays: '365',
    });
  });
});
