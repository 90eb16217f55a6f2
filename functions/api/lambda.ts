/**
 * The Lambda composition root: reads the environment once per container (the deployment
 * contract, functions/deployment.ts; docs/SERVICE.md §12), builds the clients, adapters and
 * services, and exports `handler` for API Gateway (HTTP API, `$default` route). A broken
 * environment fails the cold start with one error that lists every problem.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle } from 'hono/aws-lambda';
import { awsPorts } from '../adapters/aws-ports.ts';
import { SecretsManagerSigningKeyProvider } from '../adapters/secrets/secrets-manager-signing.ts';
import { parseDeploymentEnv } from '../deployment.ts';
import { withMessageTtlDays } from '../domain/config.ts';
import { buildApp } from './app.ts';
import { createServices } from './compose.ts';

const deployment = parseDeploymentEnv(process.env);

const ports = awsPorts({
  dynamodb: new DynamoDBClient({}),
  s3: new S3Client({}),
  table: deployment.table,
  bucket: deployment.bucket,
  signingKeys: new SecretsManagerSigningKeyProvider(
    new SecretsManagerClient({}),
    deployment.signingSecretArn,
  ),
});

const app = buildApp({
  services: createServices(ports, { config: withMessageTtlDays(deployment.messageTtlDays) }),
  log: (line) => process.stdout.write(`${line}\n`),
  logLevel: deployment.logLevel,
  metricsNamespace: deployment.metricsNamespace,
  stage: deployment.stage,
});

/** The Lambda entry point. */
export const handler = handle(app);
