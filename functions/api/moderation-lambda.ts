/**
 * The moderation function's composition root (docs/SERVICE.md §14.4): its own Lambda behind
 * the HTTP API's `/v1/moderation/{proxy+}` routes with the `AWS_IAM` authorizer, never the
 * device-facing function. It reads the environment once per container
 * (functions/api/moderation/deployment.ts), builds the moderation ports over the table and
 * exports `handler`. Its role may run item actions on the table and nothing else.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsModerationPorts } from '../adapters/aws-ports.ts';
import { DynamoAccountStore } from '../adapters/dynamodb/index.ts';
import { randomBytes } from '../domain/crypto.ts';
import { ModerationService } from '../domain/moderation-service.ts';
import { buildModerationApp } from './moderation/app.ts';
import { parseModerationEnv } from './moderation/deployment.ts';
import { moderationLambdaHandler } from './moderation/lambda-handler.ts';

const config = parseModerationEnv(process.env);
const dynamodb = new DynamoDBClient({});
const moderation = new ModerationService(
  awsModerationPorts({ dynamodb, table: config.table }),
  new DynamoAccountStore(dynamodb, config.table),
  Date.now,
  randomBytes,
);

const app = buildModerationApp({
  moderation,
  auth: { kind: 'iam' },
  log: (line) => process.stdout.write(`${line}\n`),
  logLevel: config.logLevel,
  metricsNamespace: config.metricsNamespace,
  stage: config.stage,
});

/** The Lambda entry point. */
export const handler = moderationLambdaHandler(app);
