/**
 * The Lambda composition root: reads the environment once per container (the deployment
 * contract, functions/deployment.ts; docs/SERVICE.md §12), builds the clients, adapters and
 * services, and exports `handler` for API Gateway (HTTP API, `$default` route). A broken
 * environment fails the cold start with one error that lists every problem.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { handle } from 'hono/aws-lambda';
import {
  deploymentAttachments,
  deploymentModeration,
  deploymentPorts,
  deploymentWakeups,
} from '../adapters/aws-deployment.ts';
import { awsRealtimePorts, awsTokenPorts } from '../adapters/aws-ports.ts';
import { parseDeploymentEnv } from '../deployment.ts';
import {
  withAttachmentLimits,
  withMessageTtlDays,
  withReportRetentionDays,
  withReportWindowDays,
} from '../domain/config.ts';
import { buildApp } from './app.ts';
import { createServices } from './compose.ts';
import { composeRealtime } from './realtime-lambda.ts';

const deployment = parseDeploymentEnv(process.env);

const dynamodb = new DynamoDBClient({});
const s3 = new S3Client({});
const ports = deploymentPorts(deployment, dynamodb, s3);

const log = (line: string) => process.stdout.write(`${line}\n`);
const config = {
  ...withReportRetentionDays(
    withReportWindowDays(
      withAttachmentLimits(withMessageTtlDays(deployment.messageTtlDays), deployment.attachments),
      deployment.reportWindowDays,
    ),
    deployment.reportRetentionDays,
  ),
  wakeWindowMs: deployment.wakeWindowSeconds * 1000,
};
// Attachment blobs go straight between clients and the bucket through presigned targets
// (docs/SERVICE.md §7.6); the function keeps upload sessions and quotas in the table.
const attachments = deploymentAttachments(deployment, dynamodb, s3);
// With a VAPID secret configured, a device the realtime push did not reach is woken by Web
// Push (docs/SERVICE.md §7.3); without one its subscription routes answer NOT_CONFIGURED.
const wakeups = { ...deploymentWakeups(deployment, dynamodb), log };
// Reports are verified here and stored in the table; suspensions are read for the revocation
// list (docs/SERVICE.md §14). The moderation API itself is another function.
const moderation = deploymentModeration(deployment.table, dynamodb);
// Anonymous tokens for message requests (docs/SERVICE.md §15): issuance counters, spent tokens
// and the daily issuer keys, in the same table; the issuer name derives from the trust root.
const tokens = awsTokenPorts({ dynamodb, table: deployment.table });

// With a WebSocket stage deployed, a stored message is pushed to its device's live connection
// (docs/SERVICE.md §7.3); without one the service is unchanged.
const services =
  deployment.websocketEndpoint === undefined
    ? createServices(ports, { config, wakeups, attachments, moderation, tokens, log })
    : composeRealtime(
        ports,
        awsRealtimePorts({
          dynamodb,
          table: deployment.table,
          management: new ApiGatewayManagementApiClient({ endpoint: deployment.websocketEndpoint }),
        }),
        { config, log, wakeups, attachments, moderation, tokens },
      ).services;

const app = buildApp({
  services,
  log,
  logLevel: deployment.logLevel,
  metricsNamespace: deployment.metricsNamespace,
  stage: deployment.stage,
});

/** The Lambda entry point. */
export const handler = handle(app);
