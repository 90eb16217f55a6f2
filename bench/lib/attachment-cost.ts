/**
 * What one attachment costs on AWS (docs/SERVICE.md §7.6), measured on the real code paths:
 * two SDK clients with their defaults upload and download through the real app over the AWS
 * adapters on DynamoDB Local (upload sessions, quota, rate limiter: metered capacity units),
 * with the local object service standing in for S3's side of the transfer. Every request the
 * service makes of the object store (CreateMultipartUpload, ListParts, Complete, HEAD) and
 * every request a client sends to a presigned URL (form POST, part PUT, GET) is counted as the
 * S3 request it is on AWS; API requests are counted with their bytes and handler time.
 */

import { awsPorts } from '../../functions/adapters/aws-ports.ts';
import {
  DynamoAttachmentQuota,
  DynamoUploadSessions,
} from '../../functions/adapters/dynamodb/index.ts';
import {
  createLocalObjectService,
  isObjectRequest,
  MemoryObjectStorage,
} from '../../functions/adapters/local-objects/index.ts';
import { buildApp } from '../../functions/api/app.ts';
import { createServices } from '../../functions/api/compose.ts';
import type {
  AttachmentObjects,
  AttachmentPorts,
} from '../../functions/domain/attachment-ports.ts';
import { multipartPlan } from '../../functions/domain/attachment-service.ts';
import { DEFAULT_CONFIG } from '../../functions/domain/config.ts';
import {
  generateSigningMaterial,
  StaticSigningKeyProvider,
} from '../../functions/domain/signing-material.ts';
import { SealpostClient } from '../../sdk/client/client.ts';
import { MemoryStore } from '../../sdk/state/memory-store.ts';
import { type CostAssumptions, price, type Usage } from '../cost-model.ts';
import prices from '../prices.json' with { type: 'json' };
import { type Endpoints, Meter, meteredClients } from './meter.ts';

/** API Gateway HTTP API billing unit (bytes of request plus response). */
const API_BILLING_UNIT = 512 * 1024;
const ORIGIN = 'http://attachments.bench';

/** Measured usage of one attachment's upload and of one download of it. */
export interface AttachmentUsage {
  readonly fileBytes: number;
  /** The stored (padded, encrypted) size: what S3 stores and sends. */
  readonly blobBytes: number;
  readonly upload: Usage;
  readonly download: Usage;
}

/** S3 request class of each port call that reaches S3 (presigning reaches nothing). */
const PORT_REQUESTS: Partial<Record<keyof AttachmentObjects, 'put' | 'get'>> = {
  startMultipart: 'put',
  listParts: 'put', // LIST requests are billed at the PUT rate
  completeMultipart: 'put',
  size: 'get', // HEAD is billed at the GET rate
};

function countedObjects(objects: AttachmentObjects, meter: Meter): AttachmentObjects {
  return new Proxy(objects, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      const kind = PORT_REQUESTS[name as keyof AttachmentObjects];
      return (...args: unknown[]) => {
        if (meter.active && kind === 'put') meter.usage.s3Put++;
        if (meter.active && kind === 'get') meter.usage.s3Get++;
        return value.apply(target, args);
      };
    },
  });
}

async function bodyBytes(init: RequestInit | undefined): Promise<number> {
  const body = init?.body;
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return new TextEncoder().encode(body).length;
  if (body instanceof Uint8Array) return body.length;
  return (await new Response(body as BodyInit).arrayBuffer()).byteLength;
}

/**
 * Uploads a `fileBytes` file with one client and downloads it with another, metering each.
 *
 * @example const usage = await measureAttachment(endpoints, 16 * 1024 * 1024);
 */
export async function measureAttachment(
  endpoints: Endpoints,
  fileBytes: number,
): Promise<AttachmentUsage> {
  const meter = new Meter();
  const { dynamodb, s3 } = meteredClients(endpoints, meter);
  const { material } = generateSigningMaterial({
    keyId: 1,
    notAfter: Date.now() + 365 * 24 * 3_600_000,
  });
  const ports = awsPorts({
    dynamodb,
    s3,
    table: endpoints.table,
    bucket: endpoints.bucket,
    signingKeys: new StaticSigningKeyProvider(material),
  });
  const service = createLocalObjectService({
    storage: new MemoryObjectStorage(),
    baseUrl: ORIGIN,
    partBytes: multipartPlan(DEFAULT_CONFIG.attachmentMaxBytes, DEFAULT_CONFIG.attachmentPartSize)
      .partSize,
  });
  const attachments: AttachmentPorts = {
    objects: countedObjects(service.objects, meter),
    sessions: new DynamoUploadSessions(dynamodb, endpoints.table),
    quota: new DynamoAttachmentQuota(dynamodb, endpoints.table),
  };
  const app = buildApp({
    services: createServices(ports, { attachments }),
    log: () => undefined,
    stage: 'bench',
  });
  // Presigned transfers count as S3 requests; everything else is an API request to a function.
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const request = new Request(
      url,
      init?.body instanceof ReadableStream ? ({ ...init, duplex: 'half' } as RequestInit) : init,
    );
    if (isObjectRequest(url)) {
      const res = await service.handle(request);
      if (meter.active) {
        if (request.method === 'GET') {
          meter.usage.s3Get++;
          meter.usage.s3Bytes += Number(res.headers.get('content-length') ?? 0);
        } else if (request.method === 'POST' || request.method === 'PUT') {
          meter.usage.s3Put++;
        }
      }
      return res;
    }
    const requestBytes = meter.active ? await bodyBytes(init) : 0;
    const started = performance.now();
    const res = await app.fetch(request);
    if (!meter.active) return res;
    const text = await res.text();
    const u = meter.usage;
    u.lambdaMs += performance.now() - started;
    u.apiRequests++;
    u.lambdaInvocations++;
    const bytes = requestBytes + text.length;
    u.apiBillingUnits += Math.max(1, Math.ceil(bytes / API_BILLING_UNIT));
    u.apiBytes += bytes;
    return new Response(text, { status: res.status, headers: res.headers });
  };
  const options = () => ({
    baseUrl: ORIGIN,
    fetch,
    store: new MemoryStore(),
    trust: { trustRoot: material.trustRoot },
  });
  try {
    const alice = await SealpostClient.register(options());
    const bob = await SealpostClient.register(options());
    const file = new Uint8Array(fileBytes).fill(7);
    let pointer!: Awaited<ReturnType<typeof alice.uploadAttachment>>;
    const upload = await meter.measure(async () => {
      pointer = await alice.uploadAttachment({ data: file, contentType: 'image/jpeg' });
    });
    let blobBytes = 0;
    const download = await meter.measure(async () => {
      const stream = await bob.downloadAttachment(pointer);
      const reader = stream.getReader();
      let n = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.length;
      }
      if (n !== fileBytes) throw new Error(`downloaded ${n} of ${fileBytes} bytes`);
    });
    blobBytes = download.s3Bytes;
    return { fileBytes, blobBytes, upload, download };
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
}

/** Days an attachment blob is stored: the message TTL plus the day of upload slack (§7.6). */
export const STORED_DAYS = 31;
const DAYS_PER_MONTH = 365.25 / 12;
const GB = 1024 ** 3;

/** USD per GB of files sent, item by item. */
export interface AttachmentCost {
  /** API requests, functions, DynamoDB and S3 requests of the upload. */
  readonly upload: number;
  /** S3 Standard storage of the padded blob for {@link STORED_DAYS} days. */
  readonly storage: number;
  /** One download: its API request, function, S3 GET, and the blob's transfer out. */
  readonly download: number;
  /** Of `download`: the data transfer out to the internet alone. */
  readonly transferOut: number;
}

/**
 * Prices a measured attachment per GB of files sent (us-east-1 list prices, bench/prices.json).
 *
 * @example const perGb = attachmentCostPerGb(usage, { lambdaMemoryGb: 0.25, s3Class: 's3Standard' });
 */
export function attachmentCostPerGb(
  usage: AttachmentUsage,
  assumptions: CostAssumptions,
): AttachmentCost {
  const scale = GB / usage.fileBytes;
  const blobGb = usage.blobBytes / GB;
  const transferOut = blobGb * prices.dataTransferOut.internetPerGbFirst10TB;
  const storage = blobGb * prices.s3Standard.storagePerGbMonth * (STORED_DAYS / DAYS_PER_MONTH);
  return {
    upload: price(usage.upload, assumptions).total * scale,
    storage: storage * scale,
    download: (price(usage.download, assumptions).total + transferOut) * scale,
    transferOut: transferOut * scale,
  };
}
