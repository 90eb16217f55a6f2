/**
 * Lambda entry of the deploy-time key generator (custom resource `onEvent` handler behind the
 * CDK provider framework). Node-only. Uses the AWS SDK that the Lambda runtime ships, so the
 * bundle holds only this code, the certificate codec and the franking key generator.
 */
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type KeygenEvent, type KeygenResponse, onEvent } from './keygen.ts';

const client = new SecretsManagerClient({});

/**
 * Custom resource handler; see {@link onEvent}.
 *
 * @throws Error if the resource properties are malformed or a secret cannot be stored
 * @example
 * ```ts
 * await handler({ RequestType: 'Create', ResourceProperties: props });
 * ```
 */
export async function handler(event: KeygenEvent): Promise<KeygenResponse> {
  return onEvent(event, {
    now: Date.now,
    putSecretValue: async (secretId, value) => {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
  });
}
