/**
 * The storage ports of one deployment on AWS (its table, bucket and signing secret, as the
 * deployment contract names them), shared by the HTTP and the WebSocket Lambda entries, and
 * the HTTP entry's wake-up ports (its VAPID secret).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DeploymentConfig } from '../deployment.ts';
import type { WakeupPorts } from '../domain/wakeup-ports.ts';
import { awsPorts, awsWakeupPorts } from './aws-ports.ts';
import { SecretsManagerSigningKeyProvider } from './secrets/secrets-manager-signing.ts';
import { SecretsManagerVapidKeys } from './secrets/secrets-manager-vapid.ts';

/**
 * The AWS ports of `deployment` over `dynamodb` (passed in so the realtime ports can share it).
 *
 * @example const ports = deploymentPorts(parseDeploymentEnv(process.env), new DynamoDBClient({}));
 */
export function deploymentPorts(
  deployment: DeploymentConfig,
  dynamodb: DynamoDBClient,
): ReturnType<typeof awsPorts> {
  return awsPorts({
    dynamodb,
    s3: new S3Client({}),
    table: deployment.table,
    bucket: deployment.bucket,
    signingKeys: new SecretsManagerSigningKeyProvider(
      new SecretsManagerClient({}),
      deployment.signingSecretArn,
    ),
  });
}

/**
 * The wake-up ports of `deployment` (docs/SERVICE.md §7.3): the subscription store in its
 * table, and with a VAPID secret configured the Web Push sender, posting only to the
 * deployment's push hosts over https (never loopback on AWS).
 *
 * @example const wakeups = deploymentWakeups(deployment, dynamodb);
 */
export function deploymentWakeups(
  deployment: DeploymentConfig,
  dynamodb: DynamoDBClient,
): WakeupPorts {
  const vapid = deployment.vapid;
  return awsWakeupPorts({
    dynamodb,
    table: deployment.table,
    ...(vapid
      ? {
          webPush: {
            keys: new SecretsManagerVapidKeys(new SecretsManagerClient({}), vapid.secretArn),
            subject: vapid.subject,
            endpoints: { allowedHosts: deployment.pushAllowedHosts, allowLoopback: false },
          },
        }
      : {}),
  });
}
