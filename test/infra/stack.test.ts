import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PUSH_ALLOWED_HOSTS,
  DEPLOYMENT_ENV_KEYS,
  METRICS_NAMESPACE,
  parseDeploymentEnv,
} from '#functions/deployment.ts';
import {
  DEPLOYED_NAMES,
  deployedEnvironment,
  FIXTURE_ENTRY,
  logicalId,
  type Synth,
  synth,
} from './synth.ts';

let s: Synth;
beforeAll(() => {
  s = synth({ apiEntry: FIXTURE_ENTRY }, { bundle: true });
});
afterAll(() => s?.dispose());

function resourcesOf(type: string): [string, Record<string, unknown>, string | undefined][] {
  return Object.entries(s.json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}, r.DeletionPolicy]);
}

/** Logical id of the HTTP API (the other ApiGatewayV2 API is the WebSocket one). */
function httpApiId(): string {
  const apis = resourcesOf('AWS::ApiGatewayV2::Api').filter(
    ([, p]) => p['ProtocolType'] === 'HTTP',
  );
  expect(apis).toHaveLength(1);
  return apis[0]![0];
}

function apiFunction(): Record<string, unknown> {
  const fns = resourcesOf('AWS::Lambda::Function').filter(([, p]) =>
    String(p['Description']).includes('mailbox API'),
  );
  expect(fns).toHaveLength(1);
  return fns[0]![1];
}

describe('mailbox table', () => {
  it('is on-demand with pk/sk string keys, PITR, TTL on ttl and no index', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      GlobalSecondaryIndexes: Match.absent(),
      StreamSpecification: Match.absent(),
    });
  });

  it('is deleted with the dev stage, so without deletion protection', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });
});

describe('envelope bucket', () => {
  it('blocks public access, disables ACLs and encrypts with SSE-S3', () => {
    s.template.resourceCountIs('AWS::S3::Bucket', 1);
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      VersioningConfiguration: Match.absent(),
      AccessControl: Match.absent(),
      WebsiteConfiguration: Match.absent(),
    });
  });

  it('expires envelopes with the message TTL, payloads and attachments a day later, and aborts stale uploads', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-envelopes',
            Prefix: 'env/',
            ExpirationInDays: 30,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
          {
            Id: 'expire-payloads',
            Prefix: 'pay/',
            ExpirationInDays: 31,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
          {
            Id: 'expire-attachments',
            Prefix: 'attachments/',
            ExpirationInDays: 31,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
  });

  it('denies every request without TLS 1.2 or newer', () => {
    const [, policy] = resourcesOf('AWS::S3::BucketPolicy')[0]!;
    const statements = (policy['PolicyDocument'] as { Statement: Record<string, unknown>[] })
      .Statement;
    const denies = statements.filter((st) => st['Effect'] === 'Deny');
    expect(denies).toContainEqual(
      expect.objectContaining({
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(denies).toContainEqual(
      expect.objectContaining({
        Action: 's3:*',
        Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
      }),
    );
    expect(statements.filter((st) => st['Effect'] === 'Allow')).toEqual([]);
  });

  it('is emptied and deleted with the dev stage', () => {
    s.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        Tags: Match.arrayWith([{ Key: 'sealpost:empty-on-delete', Value: 'true' }]),
      }),
    });
    const bucket = Object.keys(s.json.Resources).find(
      (id) => s.json.Resources[id]!.Type === 'AWS::S3::Bucket',
    );
    s.template.resourcePropertiesCountIs(
      'Custom::SealpostBucketEmptier',
      { BucketName: { Ref: bucket } },
      1,
    );
  });
});

describe('api function', () => {
  it('runs the newest Node.js runtime on arm64 with documented memory and timeout', () => {
    const fn = apiFunction();
    expect(fn['Runtime']).toBe('nodejs24.x');
    expect(fn['Architectures']).toEqual(['arm64']);
    expect(fn['MemorySize']).toBe(512);
    expect(fn['Timeout']).toBe(10);
    expect(fn['Handler']).toBe('index.handler');
  });

  it('gets exactly the contract environment, resource names wired by reference', () => {
    const env = (apiFunction()['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual([...DEPLOYMENT_ENV_KEYS, 'NODE_OPTIONS'].sort());
    const table = Object.keys(s.json.Resources).find((id) => id.startsWith('MailboxTable'));
    const bucket = Object.keys(s.json.Resources).find(
      (id) => s.json.Resources[id]!.Type === 'AWS::S3::Bucket',
    );
    const secret = Object.keys(s.json.Resources).find((id) =>
      id.startsWith('SigningKeysSigningSecret'),
    );
    expect(env['SEALPOST_TABLE']).toEqual({ Ref: table });
    expect(env['SEALPOST_BUCKET']).toEqual({ Ref: bucket });
    expect(env['SEALPOST_SIGNING_SECRET_ARN']).toEqual({ Ref: secret });
    expect(env['SEALPOST_MESSAGE_TTL_DAYS']).toBe('30');
    expect(env['SEALPOST_STAGE']).toBe('dev');
    expect(env['SEALPOST_LOG_LEVEL']).toBe('info');
    expect(env['POWERTOOLS_METRICS_NAMESPACE']).toBe('Sealpost');
    expect(env['NODE_OPTIONS']).toBe('--enable-source-maps');
    // Wake-ups: the generated VAPID key, the API's own URL as subject, the default window and
    // push hosts.
    const vapid = Object.keys(s.json.Resources).find((id) => id.startsWith('VapidKeysSecret'));
    expect(env['SEALPOST_VAPID_SECRET_ARN']).toEqual({ Ref: vapid });
    expect(JSON.stringify(env['SEALPOST_VAPID_SUBJECT'])).toContain(`"${httpApiId()}"`);
    expect(env['SEALPOST_WAKE_WINDOW_SECONDS']).toBe('60');
    expect(env['SEALPOST_PUSH_ALLOWED_HOSTS']).toBe(DEFAULT_PUSH_ALLOWED_HOSTS.join(','));
    // Attachments: the contract's defaults, 512 MiB, multipart above 64 MiB, 5 GiB quota.
    expect(env['SEALPOST_ATTACHMENT_MAX_BYTES']).toBe(String(512 * 1024 ** 2));
    expect(env['SEALPOST_ATTACHMENT_MULTIPART_BYTES']).toBe(String(64 * 1024 ** 2));
    expect(env['SEALPOST_ATTACHMENT_QUOTA_BYTES']).toBe(String(5 * 1024 ** 3));
  });

  it('sets an environment the service parses back (deployment contract round trip)', () => {
    const env = deployedEnvironment(s.json);
    expect(parseDeploymentEnv(env)).toEqual({
      table: DEPLOYED_NAMES.SEALPOST_TABLE,
      bucket: DEPLOYED_NAMES.SEALPOST_BUCKET,
      signingSecretArn: DEPLOYED_NAMES.SEALPOST_SIGNING_SECRET_ARN,
      messageTtlDays: 30,
      stage: 'dev',
      logLevel: 'info',
      metricsNamespace: METRICS_NAMESPACE,
      websocketEndpoint: DEPLOYED_NAMES.SEALPOST_WEBSOCKET_ENDPOINT,
      wakeWindowSeconds: 60,
      pushAllowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS,
      vapid: {
        secretArn: DEPLOYED_NAMES.SEALPOST_VAPID_SECRET_ARN,
        subject: DEPLOYED_NAMES.SEALPOST_VAPID_SUBJECT,
      },
      attachments: {
        maxBytes: 512 * 1024 ** 2,
        multipartBytes: 64 * 1024 ** 2,
        quotaBytes: 5 * 1024 ** 3,
      },
      reportRetentionDays: 180,
      reportWindowDays: 30,
    });
  });

  it.each([['Custom::SealpostSigningKeys'], ['Custom::SealpostVapidKeys']])(
    'starts only after the keys exist (%s)',
    (type) => {
      const [id] = Object.entries(s.json.Resources).find(
        ([, r]) =>
          r.Type === 'AWS::Lambda::Function' &&
          String(r.Properties?.['Description']).includes('mailbox API'),
      )!;
      const keys = Object.keys(s.json.Resources).find((k) => s.json.Resources[k]!.Type === type);
      expect(keys).toBeDefined();
      expect(s.json.Resources[id]!.DependsOn).toContain(keys);
    },
  );

  it('is bundled by esbuild as minified ESM with a source map', () => {
    const code = apiFunction()['Code'] as { S3Key: string };
    const hash = code.S3Key.replace(/\.zip$/, '');
    const dir = join(s.outdir, `asset.${hash}`);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['index.mjs', 'index.mjs.map']);
    const js = readFileSync(join(dir, 'index.mjs'), 'utf8');
    // ESM has no `require`; the banner recreates it for bundled CommonJS code.
    expect(js.split('\n')[0]).toMatch(/^import \{ createRequire as \w+ \} from 'node:module';/);
    expect(js).toMatch(/export\s*\{/);
    expect(js).toMatch(/sourceMappingURL=index\.mjs\.map/);
    // Minified: no indentation survives.
    expect(js.split('\n').filter((l) => l.startsWith('  '))).toEqual([]);
    expect(statSync(join(dir, 'index.mjs.map')).size).toBeGreaterThan(0);
  });
});

describe('every function', () => {
  it('uses the newest runtime, arm64 except the provider framework, and its own log group', () => {
    const fns = resourcesOf('AWS::Lambda::Function');
    // Service, realtime, moderation, the two key generators and their provider frameworks,
    // and (dev stage) the bucket emptier.
    expect(fns.length).toBe(8);
    const groups = new Set(resourcesOf('AWS::Logs::LogGroup').map(([id]) => id));
    for (const [, p] of fns) {
      expect(p['Runtime']).toBe('nodejs24.x');
      const logGroup = (p['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(groups.has(logGroup)).toBe(true);
    }
  });

  it('keeps every log group for the configured retention', () => {
    const groups = resourcesOf('AWS::Logs::LogGroup');
    // One per function (the provider frameworks' too), plus the two APIs' access logs.
    expect(groups.length).toBe(10);
    for (const [, p, deletion] of groups) {
      expect(p['RetentionInDays']).toBe(30);
      expect(deletion).toBe('Delete');
    }
  });
});

describe('http api', () => {
  it('routes everything through one $default route to the function', () => {
    const api = httpApiId();
    const routes = resourcesOf('AWS::ApiGatewayV2::Route').filter(
      ([, p]) => (p['ApiId'] as { Ref?: string }).Ref === api,
    );
    // Besides the moderation API's IAM-authorized route (test/infra/moderation.test.ts).
    expect(routes.map(([, p]) => p['RouteKey']).sort()).toEqual([
      '$default',
      'ANY /v1/moderation/{proxy+}',
    ]);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.absent(),
    });
  });

  it('throttles and writes access logs without client IPs', () => {
    const stages = resourcesOf('AWS::ApiGatewayV2::Stage').filter(
      ([, p]) => (p['ApiId'] as { Ref?: string }).Ref === httpApiId(),
    );
    expect(stages).toHaveLength(1);
    const [, stage] = stages[0]!;
    expect(stage['StageName']).toBe('$default');
    expect(stage['AutoDeploy']).toBe(true);
    expect(stage['DefaultRouteSettings']).toEqual({
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
    });
    const logs = stage['AccessLogSettings'] as { DestinationArn: unknown; Format: string };
    const group = resourcesOf('AWS::Logs::LogGroup').find(([id]) =>
      id.startsWith('HttpAccessLogs'),
    );
    expect(logs.DestinationArn).toEqual({ 'Fn::GetAtt': [group![0], 'Arn'] });
    const format = JSON.parse(logs.Format) as Record<string, string>;
    expect(format['requestId']).toBe('$context.requestId');
    expect(format['status']).toBe('$context.status');
    expect(logs.Format).not.toMatch(/sourceIp|userAgent/);
    // The concrete path names the recipient of every send (docs/SERVICE.md §11).
    expect(logs.Format).not.toMatch(/\$context\.(path|resourcePath)/);
  });
});

describe('signing keys', () => {
  it('never puts a secret value in the template', () => {
    const secrets = resourcesOf('AWS::SecretsManager::Secret');
    // Trust root, signing key, VAPID key.
    expect(secrets).toHaveLength(3);
    for (const [, p] of secrets) {
      expect(p['SecretString']).toBeUndefined();
      // A random placeholder until the key generator writes the contract JSON.
      expect(p['GenerateSecretString']).toEqual({});
    }
  });

  it('passes only secret ARNs and public parameters to the generator', () => {
    const [, props] = resourcesOf('Custom::SealpostSigningKeys')[0]!;
    expect(Object.keys(props).sort()).toEqual(
      [
        'CertificateValidityDays',
        'KeyId',
        'RootSecretArn',
        'ServiceToken',
        'SigningSecretArn',
      ].sort(),
    );
    expect(props['KeyId']).toBe('1');
    expect(props['CertificateValidityDays']).toBe('730');
  });

  it('passes only the secret ARN to the VAPID generator', () => {
    const [, props] = resourcesOf('Custom::SealpostVapidKeys')[0]!;
    expect(Object.keys(props).sort()).toEqual(['ServiceToken', 'VapidSecretArn']);
  });

  it('deletes every secret with the dev stage', () => {
    for (const [id] of resourcesOf('AWS::SecretsManager::Secret')) {
      expect(s.json.Resources[id]!.DeletionPolicy).toBe('Delete');
    }
  });
});

describe('alarms', () => {
  it('alarm on 5xx, function errors and throttles, WebSocket errors and failed pushes', () => {
    const alarms = resourcesOf('AWS::CloudWatch::Alarm').map(([, p]) => [
      p['Namespace'],
      p['MetricName'],
      p['Threshold'],
      p['TreatMissingData'],
    ]);
    expect(alarms.sort()).toEqual(
      [
        ['AWS/ApiGateway', '5xx', 5, 'notBreaching'],
        ['AWS/Lambda', 'Errors', 5, 'notBreaching'],
        ['AWS/Lambda', 'Throttles', 1, 'notBreaching'],
        ['AWS/Lambda', 'Errors', 5, 'notBreaching'],
        ['AWS/Lambda', 'Throttles', 1, 'notBreaching'],
        ['AWS/ApiGateway', 'IntegrationError', 5, 'notBreaching'],
        ['AWS/ApiGateway', 'ExecutionError', 5, 'notBreaching'],
        ['Sealpost', 'RealtimeNotifyFailed', 20, 'notBreaching'],
        ['Sealpost', 'WakeupFailed', 20, 'notBreaching'],
      ].sort(),
    );
    // One of each Lambda pair watches the WebSocket function, the other the API function.
    const watched = resourcesOf('AWS::CloudWatch::Alarm')
      .filter(([, p]) => p['Namespace'] === 'AWS/Lambda')
      .map(([, p]) => JSON.stringify(p['Dimensions']));
    expect(new Set(watched).size).toBe(2);
    // The WebSocket alarms name this API and its stage.
    for (const [, p] of resourcesOf('AWS::CloudWatch::Alarm')) {
      if (p['MetricName'] !== 'IntegrationError' && p['MetricName'] !== 'ExecutionError') continue;
      const dims = JSON.stringify(p['Dimensions']);
      expect(dims).toContain(logicalId(s.json, 'AWS::ApiGatewayV2::Api', 'RealtimeApi'));
      expect(dims).toContain('"Value":"v1"');
    }
  });

  it('turn the API function’s push and wake-up failure lines into metrics', () => {
    const filters = resourcesOf('AWS::Logs::MetricFilter').map(([, p]) => p);
    expect(filters.map((f) => [f['FilterPattern'], f['MetricTransformations']])).toEqual([
      [
        '{ $.reportRefused > 0 }',
        [
          {
            MetricNamespace: 'Sealpost',
            MetricName: 'ReportsRefused',
            MetricValue: '$.reportRefused',
          },
        ],
      ],
      [
        '{ $.realtimeNotifyFailed > 0 }',
        [
          {
            MetricNamespace: 'Sealpost',
            MetricName: 'RealtimeNotifyFailed',
            MetricValue: '$.realtimeNotifyFailed',
          },
        ],
      ],
      [
        '{ $.wakeupFailed > 0 }',
        [
          {
            MetricNamespace: 'Sealpost',
            MetricName: 'WakeupFailed',
            MetricValue: '$.wakeupFailed',
          },
        ],
      ],
    ]);
    const apiLogs = resourcesOf('AWS::Logs::LogGroup').find(([id]) =>
      id.startsWith('ServiceHandlerLogs'),
    );
    for (const filter of filters) {
      expect(JSON.stringify(filter['LogGroupName'])).toContain(apiLogs?.[0] ?? 'missing');
    }
  });
});

describe('outputs', () => {
  it('export the API URL, the WebSocket URL and the trust root, and nothing secret', () => {
    const outputs = s.json.Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'ApiUrl',
      'ModerationInvokeArn',
      'TrustRoot',
      'WebSocketUrl',
    ]);
    const api = httpApiId();
    const keys = Object.keys(s.json.Resources).find(
      (k) => s.json.Resources[k]!.Type === 'Custom::SealpostSigningKeys',
    );
    expect(outputs['ApiUrl']!.Value).toEqual({ 'Fn::GetAtt': [api, 'ApiEndpoint'] });
    expect(outputs['TrustRoot']!.Value).toEqual({ 'Fn::GetAtt': [keys, 'TrustRoot'] });
  });
});
