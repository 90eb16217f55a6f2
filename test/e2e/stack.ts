/**
 * The end-to-end stack: DynamoDB Local and s3rver (test/helpers/local-aws.ts), the real AWS
 * adapters and the real app served over HTTP on a random port of 127.0.0.1, with one clock
 * shared by the service and the SDK clients so tests can move time (certificate expiry).
 * With `realtime`, the same port also serves the WebSocket endpoint (docs/SERVICE.md §7.3)
 * over the DynamoDB connection registry, and offline devices are woken by Web Push (§7.4)
 * with subscriptions in the table, as on AWS. Attachments (§7.6) keep their upload sessions
 * and quotas in the table; their blobs go through the local object service on the same port
 * (`/_objects`, in memory or in files of a temporary directory), which stands in for S3 where
 * s3rver cannot (POST policies, ListParts, AbortMultipartUpload).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { serve } from '@hono/node-server';
import { manualOutboxTimer } from '@sealpost/testing';
import { awsPorts, awsTokenPorts } from '#functions/adapters/aws-ports.ts';
import {
  DynamoAttachmentQuota,
  DynamoConnections,
  DynamoPushSubscriptions,
  DynamoUploadSessions,
} from '#functions/adapters/dynamodb/index.ts';
import {
  createLocalObjectService,
  DirectoryObjectStorage,
  MemoryObjectStorage,
  type ObjectStorage,
  withObjectService,
} from '#functions/adapters/local-objects/index.ts';
import { generateVapidKeys, StaticVapidKeys } from '#functions/adapters/webpush/vapid-keys.ts';
import { webPushPorts } from '#functions/adapters/webpush/web-push-ports.ts';
import { buildApp } from '#functions/api/app.ts';
import { createServices } from '#functions/api/compose.ts';
import { createLocalRealtime } from '#functions/api/realtime-local.ts';
import { DEFAULT_PUSH_ALLOWED_HOSTS } from '#functions/deployment.ts';
import type { AttachmentPorts } from '#functions/domain/attachment-ports.ts';
import { multipartPlan } from '#functions/domain/attachment-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '#functions/domain/config.ts';
import {
  generateSigningMaterial,
  StaticSigningKeyProvider,
} from '#functions/domain/signing-material.ts';
import { type ClientOptions, SealpostClient } from '#sdk/client/client.ts';
import type { FetchLike } from '#sdk/client/http-client.ts';
import type { PrekeyPolicy } from '#sdk/client/prekey-maintenance.ts';
import type { TrustConfig } from '#sdk/protocol/certificates.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

/** What a device of the stack may bring besides the defaults. */
export interface DeviceExtra {
  readonly fetch?: FetchLike;
  readonly prekeys?: PrekeyPolicy;
  /** A WebSocket class for `receive()` over the realtime endpoint (stacks with `realtime`). */
  readonly webSocket?: ClientOptions['webSocket'];
  /** Token wallet options (message requests, docs/SDK.md). */
  readonly tokens?: ClientOptions['tokens'];
}

/** A running end-to-end stack. */
export interface E2eStack {
  readonly url: string;
  readonly trust: TrustConfig;
  readonly aws: LocalAws;
  readonly table: string;
  /** The bucket envelopes are stored in. */
  readonly bucket: string;
  /** Attachment blobs by object key (`attachments/<id>`), as the object service holds them. */
  readonly objects: ObjectStorage;
  /** The directory the object service keeps its files in (`objectStorage: 'directory'`). */
  readonly objectsDir: string | undefined;
  /** Every log line the service wrote, in order. */
  readonly logs: string[];
  now(): number;
  advance(ms: number): void;
  /** Client options for a fresh in-memory device. */
  options(extra?: DeviceExtra): ClientOptions;
  register(extra?: DeviceExtra): Promise<SealpostClient>;
  link(primary: SealpostClient, extra?: DeviceExtra): Promise<SealpostClient>;
  stop(): Promise<void>;
}

/**
 * Starts the stack (about 3 s for DynamoDB Local).
 *
 * @throws {Error} if Java is missing.
 */
export async function startE2eStack(
  setup: {
    /** A bucket of its own (created in the shared s3rver), so a dump sees only this stack. */
    readonly bucket?: string;
    /**
     * Serve the WebSocket endpoint over `DynamoConnections`, and wake offline devices through
     * Web Push (a fresh VAPID key pair; loopback push services allowed, for a stand-in) with
     * subscriptions in `DynamoPushSubscriptions`. Log lines of both go to `logs` too.
     */
    readonly realtime?: boolean;
    /**
     * Service settings over the stack's (e.g. a low `attachmentMultipartBytes` and
     * `attachmentPartSize`, so files of a few MiB take multipart uploads).
     */
    readonly config?: Partial<ServiceConfig>;
    /**
     * Where the object service keeps blobs: memory, or files (the local server's
     * `DirectoryObjectStorage`) in a fresh temporary directory, removed by `stop()`.
     * @default 'memory'
     */
    readonly objectStorage?: 'memory' | 'directory';
  } = {},
): Promise<E2eStack> {
  const aws = await startLocalAws();
  const table = await aws.createTable();
  const bucket = setup.bucket ?? aws.bucket;
  if (setup.bucket) await aws.s3.send(new CreateBucketCommand({ Bucket: setup.bucket }));
  let offset = 0;
  const now = () => Date.now() + offset;
  const { material } = generateSigningMaterial({
    keyId: 1,
    notAfter: Date.now() + 10 * 365 * 86_400_000,
  });
  const ports = awsPorts({
    dynamodb: aws.dynamodb,
    s3: aws.s3,
    table,
    bucket,
    signingKeys: new StaticSigningKeyProvider(material),
  });
  // Generous limits: the scenarios fetch bundles and send identified more often than a person.
  const config = {
    ...DEFAULT_CONFIG,
    bundleRateLimit: { limit: 200, windowMs: 600_000 },
    identifiedSendRateLimit: { limit: 200, windowMs: 600_000 },
    ...setup.config,
  };
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
  };
  // Presigned attachment URLs name the server, known once it listens (before any request).
  let baseUrl = '';
  const objectsDir =
    setup.objectStorage === 'directory'
      ? await mkdtemp(join(tmpdir(), 'sealpost-e2e-objects-'))
      : undefined;
  const objects: ObjectStorage = objectsDir
    ? new DirectoryObjectStorage(objectsDir)
    : new MemoryObjectStorage();
  const objectService = createLocalObjectService({
    storage: objects,
    baseUrl: () => baseUrl,
    partBytes: multipartPlan(config.attachmentMaxBytes, config.attachmentPartSize).partSize,
    clock: now,
  });
  const attachments: AttachmentPorts = {
    objects: objectService.objects,
    sessions: new DynamoUploadSessions(aws.dynamodb, table),
    quota: new DynamoAttachmentQuota(aws.dynamodb, table),
  };
  // Anonymous tokens for message requests (docs/SERVICE.md §15), in the stack's table.
  const tokens = awsTokenPorts({ dynamodb: aws.dynamodb, table });
  const local = setup.realtime
    ? createLocalRealtime(ports, {
        clock: now,
        config,
        log,
        attachments,
        tokens,
        connections: new DynamoConnections(aws.dynamodb, table),
        wakeups: {
          subscriptions: new DynamoPushSubscriptions(aws.dynamodb, table),
          log,
          ...webPushPorts({
            keys: new StaticVapidKeys(generateVapidKeys()),
            subject: 'mailto:sealpost@localhost',
            endpoints: { allowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS, allowLoopback: true },
          }),
        },
      })
    : undefined;
  const app = buildApp({
    services: local?.services ?? createServices(ports, { clock: now, config, attachments, tokens }),
    log,
    logLevel: 'debug',
    stage: 'e2e',
  });
  const { server, url } = await new Promise<{ server: ReturnType<typeof serve>; url: string }>(
    (resolve) => {
      const fetch = withObjectService(app.fetch, objectService.handle);
      const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server: s, url: `http://127.0.0.1:${info.port}` }),
      );
    },
  );
  baseUrl = url;
  // `serve` makes a plain `node:http` server unless told otherwise; upgrades arrive on it.
  if (local && !(server instanceof Server)) throw new Error('expected a node:http server');
  const closeSockets = local && server instanceof Server ? local.attach(server) : undefined;
  const trust = { trustRoot: material.trustRoot, revokedServerKeyIds: [] };
  const options = (extra: DeviceExtra = {}): ClientOptions => ({
    baseUrl: url,
    store: new MemoryStore(),
    trust,
    now,
    // Sync copies go out when a test calls flushOutbox(), never on a timer of their own.
    outbox: { timer: manualOutboxTimer },
    ...extra,
  });
  return {
    url,
    trust,
    aws,
    table,
    bucket,
    objects,
    objectsDir,
    logs,
    now,
    advance: (ms) => {
      offset += ms;
    },
    options,
    register: (extra) => SealpostClient.register(options(extra)),
    link: (primary, extra) =>
      SealpostClient.link({ ...options(extra), account: primary.exportAccountKey()! }),
    async stop() {
      closeSockets?.();
      await new Promise<void>((r) => server.close(() => r()));
      await aws.stop();
      if (objectsDir) await rm(objectsDir, { recursive: true, force: true });
    },
  };
}

/**
 * A `fetch` that lets a test rewrite the JSON of `GET /v1/messages` responses (reorder or
 * tamper with envelopes) on their way from the real server to the client.
 */
export function rewritingFetch(
  rewrite: (body: { messages: { envelope: string; messageId: string }[] }) => void,
): FetchLike {
  return async (url, init) => {
    const res = await fetch(url, init);
    if (init.method !== 'GET' || !new URL(url).pathname.endsWith('/v1/messages') || !res.ok) {
      return res;
    }
    const body = (await res.json()) as { messages: { envelope: string; messageId: string }[] };
    rewrite(body);
    return new Response(JSON.stringify(body), {
      status: res.status,
      headers: { 'content-type': 'application/json' },
    });
  };
}

/** Both parties know each other's access key (as after exchanging contact cards). */
export async function introduce(a: SealpostClient, b: SealpostClient): Promise<void> {
  await a.addContact(b.contactCard());
  await b.addContact(a.contactCard());
}
