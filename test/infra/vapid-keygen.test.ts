/**
 * The deploy-time VAPID key generator (infra/keygen/vapid-keygen.ts): Create writes the key
 * pair to its secret in the contract layout and returns only the public key; Update keeps the
 * key (browsers' subscriptions name it) and refuses a replaced secret; nothing secret is ever
 * in a response or an error.
 */
import { describe, expect, it } from 'vitest';
import { parseVapidSecret } from '#functions/adapters/webpush/vapid-keys.ts';
import { onVapidEvent, type VapidKeygenEvent } from '#infra/keygen/vapid-keygen.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:vapid-AbCdEf';

function recorder() {
  const writes: [string, string][] = [];
  return {
    writes,
    putSecretValue: async (id: string, value: string) => {
      writes.push([id, value]);
    },
  };
}

const create: VapidKeygenEvent = {
  RequestType: 'Create',
  ResourceProperties: { VapidSecretArn: ARN },
};

describe('VAPID key generator', () => {
  it('stores a matching pair in the contract layout and returns only the public key', async () => {
    const deps = recorder();
    const res = await onVapidEvent(create, deps);
    expect(deps.writes.map(([id]) => id)).toEqual([ARN]);
    const json = JSON.parse(deps.writes[0]![1]);
    expect(Object.keys(json).sort()).toEqual(['privateKey', 'publicKey', 'version']);
    const keys = parseVapidSecret(deps.writes[0]![1]);
    expect(res).toEqual({
      PhysicalResourceId: keys.publicKey,
      Data: { PublicKey: keys.publicKey },
    });
    expect(JSON.stringify(res)).not.toContain(keys.privateKey);
    // A fresh pair per stack.
    const again = recorder();
    await onVapidEvent(create, again);
    expect(again.writes[0]![1]).not.toBe(deps.writes[0]![1]);
  });

  it('keeps the key on Update and writes nothing', async () => {
    const deps = recorder();
    const { PhysicalResourceId: publicKey } = await onVapidEvent(create, recorder());
    const res = await onVapidEvent(
      {
        RequestType: 'Update',
        PhysicalResourceId: publicKey,
        ResourceProperties: { VapidSecretArn: ARN },
        OldResourceProperties: { VapidSecretArn: ARN },
      },
      deps,
    );
    expect(res).toEqual({ PhysicalResourceId: publicKey, Data: { PublicKey: publicKey } });
    expect(deps.writes).toEqual([]);
  });

  it('refuses an Update that replaced the secret, or whose physical id is not a key', async () => {
    const { PhysicalResourceId: publicKey } = await onVapidEvent(create, recorder());
    await expect(
      onVapidEvent(
        {
          RequestType: 'Update',
          PhysicalResourceId: publicKey,
          ResourceProperties: { VapidSecretArn: `${ARN}-new` },
          OldResourceProperties: { VapidSecretArn: ARN },
        },
        recorder(),
      ),
    ).rejects.toThrow(/replaced/);
    await expect(
      onVapidEvent(
        {
          RequestType: 'Update',
          PhysicalResourceId: 'x',
          ResourceProperties: create.ResourceProperties,
        },
        recorder(),
      ),
    ).rejects.toThrow(RangeError);
  });

  it('does nothing on Delete and refuses a property that is not an ARN', async () => {
    const deps = recorder();
    expect(
      await onVapidEvent(
        {
          RequestType: 'Delete',
          PhysicalResourceId: 'BKey',
          ResourceProperties: create.ResourceProperties,
        },
        deps,
      ),
    ).toEqual({ PhysicalResourceId: 'BKey' });
    await expect(
      onVapidEvent(
        { RequestType: 'Create', ResourceProperties: { VapidSecretArn: 'vapid' } },
        deps,
      ),
    ).rejects.toThrow(TypeError);
    expect(deps.writes).toEqual([]);
  });

  it('writes through Secrets Manager PutSecretValue from the Lambda entry', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { PutSecretValueCommand, SecretsManagerClient } = await import(
      '@aws-sdk/client-secrets-manager'
    );
    const sm = mockClient(SecretsManagerClient);
    sm.on(PutSecretValueCommand).resolves({});
    try {
      const { handler } = await import('#infra/keygen/vapid-handler.ts');
      const res = await handler(create);
      const calls = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
      expect(calls.map((c) => c.SecretId)).toEqual([ARN]);
      expect(parseVapidSecret(calls[0]!.SecretString!).publicKey).toBe(res.PhysicalResourceId);
    } finally {
      sm.restore();
    }
  });
});
