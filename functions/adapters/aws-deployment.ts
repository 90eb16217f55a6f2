/**
 * The storage ports of one deployment on AWS (its table, bucket and signing secret, as the
 * deployment contract names them), shared by the HTTP and the WebSocket Lambda entries, and
 * the HTTP entry's wake-up ports (its VAPID secret) and attachment ports.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DeploymentConfig } from '../deployment.ts';
import type { AttachmentPorts } from '../domain/attachment-ports.ts';
import type { ModerationPorts } from '../domain/moderation-ports.ts';
import type { WakeupPorts } from '../domain/wakeup-ports.ts';
import { awsAttachmentPorts, awsModerationPorts, awsPorts, awsWakeupPorts } from './aws-ports.ts';
import { SecretsManagerSigningKeyProvider } from './secrets/secrets-manager-signing.ts';
import { SecretsManagerVapidKeys } from './secrets/secrets-manager-vapid.ts';

/**
 * The AWS ports of `deployment` over `dynamodb` (passed in so the realtime ports can share it)
 * and `s3` (so the attachment ports can share it).
 *
 * @example const ports = deploymentPorts(parseDeploymentEnv(process.env), new DynamoDBClient({}));
 */
export function deploymentPorts(
  deployment: DeploymentConfig,
  dynamodb: DynamoDBClient,
  s3: S3Client = new S3Client({}),
): ReturnType<typeof awsPorts> {
  return awsPorts({
    dynamodb,
    s3,
    table: deployment.table,
    // Envelopes and shared payloads may live in their own (directory) bucket; attachments
    // stay in `bucket`.
    bucket: deployment.envelopeBucket ?? deployment.bucket,
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

/**
 * The attachment ports of `deployment` (docs/SERVICE.md §7.6): blobs under `attachments/` of
 * its bucket, upload sessions and quotas in its table.
 *
 * @example const attachments = deploymentAttachments(deployment, dynamodb, s3);
 */
export function deploymentAttachments(
  deployment: DeploymentConfig,
  dynamodb: DynamoDBClient,
  s3: S3Client = new S3Client({}),
): AttachmentPorts {
  return awsAttachmentPorts({ dynamodb, s3, table: deployment.table, bucket: deployment.bucket });
}

/**
 * The moderation ports of a deployment's table (docs/SERVICE.md §14): the API function reads
 * suspensions and stores reports through them, the moderation function does everything else.
 *
 * @example const moderation = deploymentModeration(deployment.table, dynamodb);
 */
export function deploymentModeration(table: string, dynamodb: DynamoDBClient): ModerationPorts {
  return awsModerationPorts({ dynamodb, table });
}
