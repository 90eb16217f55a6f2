/**
 * The storage ports of one deployment on AWS (its table, bucket and signing secret, as the
 * deployment contract names them), shared by the HTTP and the WebSocket Lambda entries.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DeploymentConfig } from '../deployment.ts';
import { awsPorts } from './aws-ports.ts';
import { SecretsManagerSigningKeyProvider } from './secrets/secrets-manager-signing.ts';

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
