import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerSigningKeyProvider } from '#functions/adapters/secrets/secrets-manager-signing.ts';
import { generateSigningMaterial, signingSecretJson } from '#functions/domain/signing-material.ts';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:sealpost-signing';

beforeEach(() => sm.reset());

describe('SecretsManagerSigningKeyProvider', () => {
  it('reads the secret once per container and parses it', async () => {
    const { material } = generateSigningMaterial({ keyId: 2, notAfter: 2_000_000_000_000 });
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify(signingSecretJson(material)),
    });
    const provider = new SecretsManagerSigningKeyProvider(
      new SecretsManagerClient({ region: 'us-east-1' }),
      ARN,
    );
    expect(await provider.get()).toEqual(material);
    expect(await provider.get()).toEqual(material);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: ARN });
  });

  it('does not cache a failed read', async () => {
    const { material } = generateSigningMaterial({ keyId: 2, notAfter: 2_000_000_000_000 });
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: JSON.stringify(signingSecretJson(material)) });
    const provider = new SecretsManagerSigningKeyProvider(
      new SecretsManagerClient({ region: 'us-east-1' }),
      ARN,
    );
    await expect(provider.get()).rejects.toThrow('throttled');
    expect((await provider.get()).keyId).toBe(2);
  });
});
