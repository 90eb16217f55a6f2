/**
 * Lambda entry of the deploy-time VAPID key generator (custom resource `onEvent` handler behind
 * the CDK provider framework). Node-only. Uses the AWS SDK that the Lambda runtime ships, so the
 * bundle holds only this code and the key helpers.
 */
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { onVapidEvent, type VapidKeygenEvent, type VapidKeygenResponse } from './vapid-keygen.ts';

const client = new SecretsManagerClient({});

/**
 * Custom resource handler; see {@link onVapidEvent}.
 *
 * @throws Error if the resource properties are malformed or the secret cannot be stored
 * @example
 * ```ts
 * await handler({ RequestType: 'Create', ResourceProperties: { VapidSecretArn: arn } });
 * ```
 */
export async function handler(event: VapidKeygenEvent): Promise<VapidKeygenResponse> {
  return onVapidEvent(event, {
    putSecretValue: async (secretId, value) => {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
  });
}
