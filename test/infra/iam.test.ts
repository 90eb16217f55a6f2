import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeploymentEnv } from '#functions/deployment.ts';
import {
  deployedEnvironment,
  FIXTURE_ENTRY,
  list,
  logicalId,
  policyStatements,
  roleStatements,
  type Statement,
  type Synth,
  synth,
} from './synth.ts';

let plain: Synth;
let kms: Synth;
let off: Synth;
beforeAll(() => {
  plain = synth({ apiEntry: FIXTURE_ENTRY });
  kms = synth({ apiEntry: FIXTURE_ENTRY, bucketEncryption: 'kms' });
  off = synth({ apiEntry: FIXTURE_ENTRY, webPush: 'false' });
});
afterAll(() => {
  plain?.dispose();
  kms?.dispose();
  off?.dispose();
});

const TABLE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:TransactWriteItems',
  'dynamodb:UpdateItem',
];

/** Statements as `actions -> resources`, sorted, for exact comparison. */
function summarize(statements: Statement[]): { actions: string[]; resources: unknown[] }[] {
  return statements
    .map((st) => {
      expect(st.Effect).toBe('Allow');
      return { actions: list(st.Action).sort(), resources: list(st.Resource) };
    })
    .sort((a, b) =>
      `${a.actions.join()} ${JSON.stringify(a.resources)}`.localeCompare(
        `${b.actions.join()} ${JSON.stringify(b.resources)}`,
      ),
    );
}

describe.each([
  ['s3-managed', () => plain],
  ['kms', () => kms],
])('every IAM policy (%s)', (_name, get) => {
  it('names every action: no wildcard in any action', () => {
    const all = policyStatements(get().json);
    expect(all.length).toBeGreaterThan(0);
    for (const { owner, statement } of all) {
      for (const action of list(statement.Action)) {
        expect({ owner, action }).toEqual({ owner, action: expect.not.stringContaining('*') });
      }
    }
  });

  it('names every resource: no Resource "*" (no AWS API used here requires it)', () => {
    for (const { owner, statement } of policyStatements(get().json)) {
      expect(list(statement.Resource).length, owner).toBeGreaterThan(0);
      for (const resource of list(statement.Resource)) {
        expect(resource, owner).not.toBe('*');
      }
    }
  });

  it('attaches no AWS managed policy to any role', () => {
    for (const r of Object.values(get().json.Resources)) {
      if (r.Type === 'AWS::IAM::Role') expect(r.Properties?.['ManagedPolicyArns']).toBeUndefined();
    }
  });

  it('lets only the Lambda service assume the roles', () => {
    for (const r of Object.values(get().json.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const doc = r.Properties?.['AssumeRolePolicyDocument'] as { Statement: unknown[] };
      expect(doc.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
        },
      ]);
    }
  });
});

/** The statements both function roles hold: table items, env/ and pay/ objects, the signing
 * secret, and posting to the WebSocket stage's connections. */
function serviceStatements(j: Synth['json']): Statement[] {
  const table = logicalId(j, 'AWS::DynamoDB::Table', 'Mailbox');
  const bucket = logicalId(j, 'AWS::S3::Bucket', 'Envelopes');
  const signing = logicalId(j, 'AWS::SecretsManager::Secret', 'SigningKeysSigningSecret');
  const websocket = logicalId(j, 'AWS::ApiGatewayV2::Api', 'RealtimeApi');
  return [
    { Effect: 'Allow', Action: TABLE_ACTIONS, Resource: { 'Fn::GetAtt': [table, 'Arn'] } },
    {
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      Resource: [
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/env/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/pay/*']] },
      ],
    },
    { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: signing } },
    {
      Effect: 'Allow',
      Action: 'execute-api:ManageConnections',
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':execute-api:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':',
            { Ref: websocket },
            '/v1/*/@connections/*',
          ],
        ],
      },
    },
  ];
}

/** The five object actions of presigned attachment transfers, in sorted order. */
const ATTACHMENT_ACTIONS = [
  's3:AbortMultipartUpload',
  's3:DeleteObject',
  's3:GetObject',
  's3:ListMultipartUploadParts',
  's3:PutObject',
];

/** Attachment transfer: the HTTP function only (it presigns uploads and downloads). */
function attachmentAccess(j: Synth['json']): Statement {
  const bucket = logicalId(j, 'AWS::S3::Bucket', 'Envelopes');
  return {
    Effect: 'Allow',
    Action: ATTACHMENT_ACTIONS,
    Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/attachments/*']] },
  };
}

/** The VAPID key secret: read by the HTTP function only (it sends the wake-ups). */
function vapidRead(j: Synth['json']): Statement {
  const vapid = logicalId(j, 'AWS::SecretsManager::Secret', 'VapidKeysSecret');
  return { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: vapid } };
}

describe('api function role', () => {
  it.each([
    ['ServiceHandler', true],
    ['RealtimeHandler', false],
  ])(
    '%s holds exactly: its log group, table items, env/ and pay/ objects, the signing secret, connections (and the VAPID key and attachments/ objects: %s)',
    (fn, api) => {
      const j = plain.json;
      const logs = logicalId(j, 'AWS::Logs::LogGroup', `${fn}Logs`);
      expect(summarize(roleStatements(j, `${fn}Role`))).toEqual(
        summarize([
          ...serviceStatements(j),
          ...(api ? [vapidRead(j), attachmentAccess(j)] : []),
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logs, 'Arn'] },
          },
        ]),
      );
    },
  );

  it.each([
    ['s3-managed', () => plain],
    ['kms', () => kms],
  ])(
    'may transfer attachments with exactly five object actions on attachments/* (%s)',
    (_name, get) => {
      const j = get().json;
      const bucket = logicalId(j, 'AWS::S3::Bucket', 'Envelopes');
      const onAttachments = roleStatements(j, 'ServiceHandlerRole').filter((st) =>
        JSON.stringify(st.Resource).includes('/attachments/'),
      );
      expect(onAttachments).toHaveLength(1);
      expect(list(onAttachments[0]!.Action).sort()).toEqual(ATTACHMENT_ACTIONS);
      expect(onAttachments[0]!.Resource).toEqual({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/attachments/*']],
      });
      expect(onAttachments[0]!.Condition).toBeUndefined();
      // Presigning needs no bucket-level action: no List*, no Get/PutBucket* on the bucket.
      const bucketArn = JSON.stringify({ 'Fn::GetAtt': [bucket, 'Arn'] });
      for (const st of roleStatements(j, 'ServiceHandlerRole')) {
        expect(JSON.stringify(list(st.Resource))).not.toBe(`[${bucketArn}]`);
      }
    },
  );

  it('lets no other role touch attachments/ by its prefix', () => {
    const service = logicalId(plain.json, 'AWS::IAM::Policy', 'ServiceHandlerRoleDefaultPolicy');
    const owners = policyStatements(plain.json)
      .filter(({ statement }) => JSON.stringify(statement.Resource).includes('attachments/'))
      .map(({ owner }) => owner);
    expect(owners).toEqual([service]);
  });

  it('cannot read the VAPID key without wake-ups, nor from any other role', () => {
    const vapid = logicalId(plain.json, 'AWS::SecretsManager::Secret', 'VapidKeysSecret');
    const service = logicalId(plain.json, 'AWS::IAM::Role', 'ServiceHandlerRole');
    for (const { owner, statement } of policyStatements(plain.json)) {
      if (!JSON.stringify(statement.Resource).includes(vapid)) continue;
      const actions = list(statement.Action);
      if (actions.includes('secretsmanager:GetSecretValue')) {
        const roles = plain.json.Resources[owner]!.Properties?.['Roles'] as { Ref: string }[];
        expect(roles).toEqual([{ Ref: service }]);
      } else {
        expect(actions).toEqual(['secretsmanager:PutSecretValue']);
      }
    }
    expect(off.json.Resources).not.toHaveProperty(vapid);
    const secrets = Object.values(off.json.Resources).filter(
      (r) => r.Type === 'AWS::SecretsManager::Secret',
    );
    expect(secrets).toHaveLength(2);
    // The function then runs without wake-ups (its push routes answer NOT_CONFIGURED).
    expect(parseDeploymentEnv(deployedEnvironment(off.json))).not.toHaveProperty('vapid');
  });

  it('uses the bucket key only through S3 when envelopes are KMS-encrypted', () => {
    const key = logicalId(kms.json, 'AWS::KMS::Key', 'Envelopes');
    const kmsStatements = roleStatements(kms.json, 'ServiceHandlerRole').filter((st) =>
      list(st.Action).some((a) => a.startsWith('kms:')),
    );
    expect(kmsStatements).toHaveLength(1);
    const st = kmsStatements[0]!;
    expect(list(st.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(st.Resource).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    expect(JSON.stringify(st.Condition)).toContain('kms:ViaService');
  });

  it('cannot read the trust root secret', () => {
    const root = logicalId(plain.json, 'AWS::SecretsManager::Secret', 'SigningKeysRootSecret');
    for (const { statement } of policyStatements(plain.json)) {
      if (list(statement.Action).some((a) => a.startsWith('secretsmanager:Get'))) {
        expect(JSON.stringify(statement.Resource)).not.toContain(root);
      }
    }
  });
});

describe('bucket emptier role (stages that destroy their data)', () => {
  it('may only read the bucket tags, list it, delete its objects and write its log group', () => {
    const j = plain.json;
    const bucket = logicalId(j, 'AWS::S3::Bucket', 'Envelopes');
    const logs = logicalId(j, 'AWS::Logs::LogGroup', 'EnvelopesEmptierHandlerLogs');
    expect(summarize(roleStatements(j, 'EnvelopesEmptierHandlerRole'))).toEqual(
      summarize([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logs, 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: ['s3:GetBucketTagging', 's3:ListBucket'],
          Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: 's3:DeleteObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
        },
      ]),
    );
  });
});

describe('key generator roles', () => {
  it('the generator may only write both secrets and its own log group', () => {
    const j = plain.json;
    const root = logicalId(j, 'AWS::SecretsManager::Secret', 'SigningKeysRootSecret');
    const signing = logicalId(j, 'AWS::SecretsManager::Secret', 'SigningKeysSigningSecret');
    const logs = logicalId(j, 'AWS::Logs::LogGroup', 'SigningKeysKeygenLogs');
    expect(summarize(roleStatements(j, 'SigningKeysKeygenRole'))).toEqual(
      summarize([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logs, 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: 'secretsmanager:PutSecretValue',
          Resource: [{ Ref: root }, { Ref: signing }],
        },
      ]),
    );
  });

  it('the VAPID generator may only write its secret and its own log group', () => {
    const j = plain.json;
    const secret = logicalId(j, 'AWS::SecretsManager::Secret', 'VapidKeysSecret');
    const logs = logicalId(j, 'AWS::Logs::LogGroup', 'VapidKeysKeygenLogs');
    expect(summarize(roleStatements(j, 'VapidKeysKeygenRole'))).toEqual(
      summarize([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logs, 'Arn'] },
        },
        { Effect: 'Allow', Action: 'secretsmanager:PutSecretValue', Resource: { Ref: secret } },
      ]),
    );
  });

  it.each([['SigningKeys'], ['VapidKeys']])(
    'the %s provider framework may only invoke its generator and write its log group',
    (keys) => {
      const j = plain.json;
      const fn = logicalId(j, 'AWS::Lambda::Function', `${keys}KeygenFunction`);
      const statements = roleStatements(j, `${keys}ProviderRole`);
      const actions = statements.flatMap((st) => list(st.Action));
      expect(actions.sort()).toEqual(
        [
          'lambda:GetFunction',
          'lambda:InvokeFunction',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ].sort(),
      );
      for (const st of statements) {
        if (list(st.Action).some((a) => a.startsWith('lambda:'))) {
          expect(JSON.stringify(st.Resource)).toContain(fn);
        }
      }
    },
  );
});
