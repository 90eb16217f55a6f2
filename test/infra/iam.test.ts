import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
beforeAll(() => {
  plain = synth({ apiEntry: FIXTURE_ENTRY });
  kms = synth({ apiEntry: FIXTURE_ENTRY, bucketEncryption: 'kms' });
});
afterAll(() => {
  plain?.dispose();
  kms?.dispose();
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
    .sort((a, b) => a.actions[0]!.localeCompare(b.actions[0]!));
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

/** The statements both function roles hold: table items, env/ objects, the signing secret, and
 * posting to the WebSocket stage's connections. */
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
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/env/*']] },
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

describe('api function role', () => {
  it.each([['ServiceHandler'], ['RealtimeHandler']])(
    '%s holds exactly: its log group, table items, env/ objects, the signing secret, connections',
    (fn) => {
      const j = plain.json;
      const logs = logicalId(j, 'AWS::Logs::LogGroup', `${fn}Logs`);
      expect(summarize(roleStatements(j, `${fn}Role`))).toEqual(
        summarize([
          ...serviceStatements(j),
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logs, 'Arn'] },
          },
        ]),
      );
    },
  );

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

  it('the provider framework may only invoke the generator and write its log group', () => {
    const j = plain.json;
    const fn = logicalId(j, 'AWS::Lambda::Function', 'SigningKeysKeygenFunction');
    const actions = roleStatements(j, 'SigningKeysProviderRole').flatMap((st) => list(st.Action));
    expect(actions.sort()).toEqual(
      [
        'lambda:GetFunction',
        'lambda:InvokeFunction',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    for (const st of roleStatements(j, 'SigningKeysProviderRole')) {
      if (list(st.Action).some((a) => a.startsWith('lambda:'))) {
        expect(JSON.stringify(st.Resource)).toContain(fn);
      }
    }
  });
});
