/**
 * The Lambda composition root: reads the environment once per container, builds
 * the clients, adapters and services, and exports `handler` for API Gateway (HTTP API,
 * `$default` route). Environment contract: docs/SERVICE.md §Deployment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle } from 'hono/aws-lambda';
import { awsPorts } from '../adapters/aws-ports.ts';
import { SecretsManagerSigningKeyProvider } from '../adapters/secrets/secrets-manager-signing.ts';
import { configFromEnv } from '../domain/config.ts';
import { buildApp } from './app.ts';
import { createServices } from './compose.ts';
import type { LogLevel } from './env.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

const LOG_LEVELS = new Set<LogLevel>(['debug', 'info', 'warn', 'error']);
const level = process.env['SEALPOST_LOG_LEVEL'] ?? 'info';

const ports = awsPorts({
  dynamodb: new DynamoDBClient({}),
  s3: new S3Client({}),
  table: required('SEALPOST_TABLE'),
  bucket: required('SEALPOST_BUCKET'),
  signingKeys: new SecretsManagerSigningKeyProvider(
    new SecretsManagerClient({}),
    required('SEALPOST_SIGNING_SECRET_ARN'),
  ),
});

const app = buildApp({
  services: createServices(ports, { config: configFromEnv(process.env) }),
  log: (line) => process.stdout.write(`${line}\n`),
  logLevel: LOG_LEVELS.has(level as LogLevel) ? (level as LogLevel) : 'info',
  metricsNamespace: process.env['POWERTOOLS_METRICS_NAMESPACE'] ?? 'Sealpost',
  stage: process.env['SEALPOST_STAGE'] ?? 'dev',
});

/** The Lambda entry point. */
export const handler = handle(app);
