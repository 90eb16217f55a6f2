/** The VAPID key secret (`SEALPOST_VAPID_SECRET_ARN`): read once per container, checked. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerVapidKeys } from '#functions/adapters/secrets/secrets-manager-vapid.ts';
import { generateVapidKeys, vapidSecretJson } from '#functions/adapters/webpush/vapid-keys.ts';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:sealpost-vapid';
const provider = () =>
  new SecretsManagerVapidKeys(new SecretsManagerClient({ region: 'us-east-1' }), ARN);

beforeEach(() => sm.reset());

describe('SecretsManagerVapidKeys', () => {
  it('reads the secret once per container and parses it', async () => {
    const keys = generateVapidKeys();
    sm.on(GetSecretValueCommand).resolves({ SecretString: vapidSecretJson(keys) });
    const p = provider();
    expect(await p.get()).toEqual(keys);
    expect(await p.get()).toEqual(keys);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: ARN });
  });

  it('does not cache a failed read or a malformed secret', async () => {
    const keys = generateVapidKeys();
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolvesOnce({ SecretString: 'placeholder' })
      .resolves({ SecretString: vapidSecretJson(keys) });
    const p = provider();
    await expect(p.get()).rejects.toThrow('throttled');
    await expect(p.get()).rejects.toBeInstanceOf(RangeError);
    expect(await p.get()).toEqual(keys);
  });
});
