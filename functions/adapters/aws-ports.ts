/**
 * The ports over AWS clients: DynamoDB for every record, S3 for the envelopes, the shared
 * payloads and attachment blobs. Used by the
 * Lambda composition root, the local server (pointed at DynamoDB Local and s3rver) and the
 * integration tests, so all run the same adapters.
 */
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AttachmentPorts } from '../domain/attachment-ports.ts';
import type { ModerationPorts } from '../domain/moderation-ports.ts';
import type { Clock, Ports, SigningKeyProvider } from '../domain/ports.ts';
import type { ConnectionRegistry, ConnectionSender } from '../domain/realtime-ports.ts';
import type { TokenPorts } from '../domain/token-ports.ts';
import type { WakeupPorts } from '../domain/wakeup-ports.ts';
import { ApiGatewaySender } from './aws/apigw-sender.ts';
import { AwsSharedPayloadStore } from './aws-shared-payloads.ts';
import {
  DynamoAccountStore,
  DynamoAttachmentQuota,
  DynamoAuditLog,
  DynamoBlockStore,
  DynamoConnections,
  DynamoMessageIndex,
  DynamoPayloadRefs,
  DynamoPrekeyStore,
  DynamoPushSubscriptions,
  DynamoRateLimiter,
  DynamoReplayStore,
  DynamoReports,
  DynamoSpentTokens,
  DynamoSuspensions,
  DynamoTokenKeys,
  DynamoTokenQuota,
  DynamoUploadSessions,
} from './dynamodb/index.ts';
import { S3AttachmentObjects } from './s3/s3-attachment-objects.ts';
import { S3BlobStore } from './s3/s3-blob-store.ts';
import { S3PayloadObjects } from './s3/s3-payload-objects.ts';
import { type WebPushPortsOptions, webPushPorts } from './webpush/web-push-ports.ts';

/**
 * Every port over one table and one bucket: `bucket` holds the envelopes and the shared
 * payloads (`env/`, `pay/`), which is the directory bucket when the deployment keeps them in
 * S3 Express One Zone (aws-deployment.ts passes it).
 *
 * @example awsPorts({ dynamodb, s3, table: 'sealpost', bucket: 'sealpost-env', signingKeys })
 */
export function awsPorts(options: {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  table: string;
  bucket: string;
  signingKeys: SigningKeyProvider;
}): Ports {
  const { dynamodb, s3, table, bucket } = options;
  return {
    accounts: new DynamoAccountStore(dynamodb, table),
    prekeys: new DynamoPrekeyStore(dynamodb, table),
    index: new DynamoMessageIndex(dynamodb, table),
    blobs: new S3BlobStore(s3, bucket),
    replay: new DynamoReplayStore(dynamodb, table),
    limiter: new DynamoRateLimiter(dynamodb, table),
    signingKeys: options.signingKeys,
    blocks: new DynamoBlockStore(dynamodb, table),
    payloads: new AwsSharedPayloadStore(
      new DynamoPayloadRefs(dynamodb, table),
      new S3PayloadObjects(s3, bucket),
    ),
  };
}

/**
 * The wake-up ports over the same table: the subscription store always (so removals work when
 * wake-ups are off), the Web Push sender and settings when `webPush` is given.
 *
 * @example awsWakeupPorts({ dynamodb, table: 'sealpost', webPush: { keys, subject, endpoints } })
 */
export function awsWakeupPorts(options: {
  dynamodb: DynamoDBClient;
  table: string;
  webPush?: WebPushPortsOptions;
}): WakeupPorts {
  const subscriptions = new DynamoPushSubscriptions(options.dynamodb, options.table);
  return options.webPush ? { subscriptions, ...webPushPorts(options.webPush) } : { subscriptions };
}

/**
 * The attachment ports (docs/SERVICE.md §7.6): blobs under `attachments/` of the bucket,
 * upload sessions and quotas in the table.
 *
 * @example awsAttachmentPorts({ dynamodb, s3, table: 'sealpost', bucket: 'sealpost-env' })
 */
export function awsAttachmentPorts(options: {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  table: string;
  bucket: string;
  /** Signing time of presigned targets. @default Date.now */
  clock?: Clock;
}): AttachmentPorts {
  const { dynamodb, s3, table, bucket, clock } = options;
  return {
    objects: new S3AttachmentObjects(s3, bucket, clock ? { clock } : {}),
    sessions: new DynamoUploadSessions(dynamodb, table),
    quota: new DynamoAttachmentQuota(dynamodb, table),
  };
}

/**
 * The moderation ports (docs/SERVICE.md §14) over the same table: reports and their sender
 * counters, suspensions (on the account items, plus their index) and the audit log.
 *
 * @example awsModerationPorts({ dynamodb, table: 'sealpost' })
 */
export function awsModerationPorts(options: {
  dynamodb: DynamoDBClient;
  table: string;
}): ModerationPorts {
  const { dynamodb, table } = options;
  return {
    reports: new DynamoReports(dynamodb, table),
    suspensions: new DynamoSuspensions(dynamodb, table),
    audit: new DynamoAuditLog(dynamodb, table),
  };
}

/**
 * The anonymous-token ports (docs/PROTOCOL.md §13) over the same table: per-account daily
 * issuance counters, spent tokens and the daily issuer keys.
 *
 * @example awsTokenPorts({ dynamodb, table: 'sealpost' })
 */
export function awsTokenPorts(options: { dynamodb: DynamoDBClient; table: string }): TokenPorts {
  const { dynamodb, table } = options;
  return {
    quota: new DynamoTokenQuota(dynamodb, table),
    spent: new DynamoSpentTokens(dynamodb, table),
    keys: new DynamoTokenKeys(dynamodb, table),
  };
}

/** The realtime ports: live connections in the table, frames over API Gateway. */
export interface RealtimePorts {
  readonly connections: ConnectionRegistry;
  readonly sender: ConnectionSender;
}

/**
 * The realtime ports over the same table and a WebSocket stage's management API client
 * (endpoint `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`).
 *
 * @example awsRealtimePorts({ dynamodb, table: 'sealpost', management })
 */
export function awsRealtimePorts(options: {
  dynamodb: DynamoDBClient;
  table: string;
  management: ApiGatewayManagementApiClient;
}): RealtimePorts {
  return {
    connections: new DynamoConnections(options.dynamodb, options.table),
    sender: new ApiGatewaySender(options.management),
  };
}
