/**
 * Service benchmark (`npx tsx bench/service.ts [--json]`, needs Java for DynamoDB Local):
 *
 * 1. Cost model: drives send → fetch → ack through the real app and adapters on DynamoDB Local
 *    and s3rver, meters every AWS request (capacity units as reported by DynamoDB, S3 requests
 *    and bytes, API requests, handler time), and prices one million 2 KB messages at fetch/ack
 *    batch sizes 1, 10 and 50 (bench/cost-model.ts, bench/prices.json).
 * 2. Cold start: the minified Lambda bundle's size and its import time in a fresh Node process,
 *    as a ratio to a bare bundle of Hono plus the DynamoDB and S3 clients.
 *
 * With `--json`, one JSON object per line: {"case", "value", "unit", "target"}.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { awsPorts } from '../functions/adapters/aws-ports.ts';
import { DEFAULT_CONFIG } from '../functions/domain/config.ts';
import { randomBytes } from '../functions/domain/crypto.ts';
import { StaticSigningKeyProvider } from '../functions/domain/signing-material.ts';
import { toBase64Url } from '../sdk/wire/api/codec.ts';
import { ACCESS_KEY_HEADER } from '../sdk/wire/api/signing.ts';
import { startLocalAws } from '../test/helpers/local-aws.ts';
import {
  type Call,
  harness,
  newMessageId,
  sendBody,
  testMaterial,
} from '../test/unit/functions/fixtures.ts';
import { emptyUsage, perMessage, type Usage, usdPerMillion } from './cost-model.ts';

const JSON_OUTPUT = process.argv.includes('--json');
const MESSAGES = 100;
const ENVELOPE_BYTES = 2048;
const LAMBDA_MEMORY_GB = 0.25;
const API_UNIT = 512 * 1024;

function report(name: string, value: number, unit: string, target?: number): void {
  const rounded = Math.round(value * 10_000) / 10_000;
  if (JSON_OUTPUT) {
    process.stdout.write(
      `${JSON.stringify({ case: name, value: rounded, unit, ...(target !== undefined ? { target } : {}) })}\n`,
    );
  } else {
    const t = target !== undefined ? `  (target ${target})` : '';
    process.stdout.write(`${name.padEnd(48)} ${String(rounded).padStart(12)} ${unit}${t}\n`);
  }
}

/** Adds metering middleware to the clients; `usage` is swapped per phase. */
class Meter {
  usage: Usage = emptyUsage();
  active = false;

  instrumentDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.active) return next(args);
        const input = args.input as Record<string, unknown>;
        input['ReturnConsumedCapacity'] = 'TOTAL';
        this.usage.dynamoRequests++;
        const isRead = ['QueryCommand', 'GetItemCommand', 'BatchGetItemCommand'].includes(
          context.commandName ?? '',
        );
        try {
          const out = await next(args);
          const cc = (
            out.output as {
              ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
            }
          ).ConsumedCapacity;
          const units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce(
            (n, c) => n + (c.CapacityUnits ?? 0),
            0,
          );
          if (isRead) this.usage.readUnits += units;
          else this.usage.writeUnits += units;
          return out;
        } catch (err) {
          // A failed conditional write is still billed (at least one unit).
          if (!isRead) this.usage.writeUnits += 1;
          throw err;
        }
      },
      { step: 'initialize', name: 'benchMeter' },
    );
  }

  instrumentS3(client: S3Client): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.active) return next(args);
        const name = context.commandName ?? '';
        const out = await next(args);
        if (name === 'PutObjectCommand') {
          this.usage.s3Put++;
          this.usage.s3Bytes += (args.input as { Body?: Uint8Array }).Body?.length ?? 0;
        } else if (name === 'GetObjectCommand') {
          this.usage.s3Get++;
          this.usage.s3Bytes += (out.output as { ContentLength?: number }).ContentLength ?? 0;
        } else if (name === 'DeleteObjectsCommand') {
          this.usage.s3Delete++;
        }
        return out;
      },
      { step: 'initialize', name: 'benchMeter' },
    );
  }
}

async function costScenario(
  endpoints: { dynamo: string; s3: string; bucket: string; table: string },
  inlineMaxBytes: number,
  batch: number,
): Promise<Usage> {
  const meter = new Meter();
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const dynamodb = new DynamoDBClient({
    endpoint: endpoints.dynamo,
    region: 'us-east-1',
    credentials,
  });
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  meter.instrumentDynamo(dynamodb);
  meter.instrumentS3(s3);
  const ports = awsPorts({
    dynamodb,
    s3,
    table: endpoints.table,
    bucket: endpoints.bucket,
    signingKeys: new StaticSigningKeyProvider(testMaterial()),
  });
  const h = harness(ports, { config: { ...DEFAULT_CONFIG, inlineMaxBytes }, start: Date.now() });
  const key = randomBytes(16);
  const bob = await h.register(key);

  const timed = async (call: Call) => {
    const started = performance.now();
    const res = await h.call(call);
    meter.usage.lambdaMs += performance.now() - started;
    if (res.status !== 200) throw new Error(`${call.method} ${call.path}: ${res.status}`);
    const bytes =
      (call.json ? JSON.stringify(call.json).length : 0) + JSON.stringify(res.body).length;
    meter.usage.apiRequests++;
    meter.usage.apiBillingUnits += Math.max(1, Math.ceil(bytes / API_UNIT));
    meter.usage.apiBytes += bytes;
    meter.usage.lambdaInvocations++;
    return res;
  };

  meter.active = true;
  for (let i = 0; i < MESSAGES; i++) {
    await timed({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(h.clock.now + i), [[1, randomBytes(ENVELOPE_BYTES)]]),
      headers: { [ACCESS_KEY_HEADER]: toBase64Url(key) },
    });
  }
  let delivered = 0;
  while (delivered < MESSAGES) {
    const fetched = await timed({
      method: 'GET',
      path: `/v1/messages?limit=${batch}`,
      signer: bob,
    });
    const ids = fetched.body.messages.map((m: { messageId: string }) => m.messageId);
    if (ids.length === 0) throw new Error('mailbox drained early');
    await timed({
      method: 'POST',
      path: '/v1/messages/ack',
      json: { messageIds: ids },
      signer: bob,
    });
    delivered += ids.length;
  }
  meter.active = false;
  dynamodb.destroy();
  s3.destroy();
  return perMessage(meter.usage, MESSAGES);
}

async function costModel(): Promise<void> {
  const aws = await startLocalAws();
  try {
    const table = await aws.createTable();
    const endpoints = { dynamo: aws.dynamoEndpoint, s3: aws.s3Endpoint, bucket: aws.bucket, table };
    // The default keeps every envelope in S3; inline storage up to 4 KiB is an operator option.
    const variants = [
      { name: 'allInS3', inlineMaxBytes: DEFAULT_CONFIG.inlineMaxBytes },
      { name: 'inline', inlineMaxBytes: 4096 },
    ];
    for (const variant of variants) {
      for (const batch of [1, 10, 50]) {
        const usage = await costScenario(endpoints, variant.inlineMaxBytes, batch);
        const standard = usdPerMillion(usage, {
          lambdaMemoryGb: LAMBDA_MEMORY_GB,
          s3Class: 's3Standard',
        });
        const express = usdPerMillion(usage, {
          lambdaMemoryGb: LAMBDA_MEMORY_GB,
          s3Class: 's3ExpressOneZone',
        });
        const prefix = `cost.${variant.name}.batch${batch}`;
        const target = variant.name === 'allInS3' && batch === 50 ? 8 : undefined;
        report(`${prefix}.s3Standard`, standard.total, 'USD/1M msgs', target);
        report(`${prefix}.s3ExpressOneZone`, express.total, 'USD/1M msgs');
        if (batch === 50 || !JSON_OUTPUT) {
          report(`${prefix}.api`, standard.api, 'USD/1M msgs');
          report(`${prefix}.lambda`, standard.lambda, 'USD/1M msgs');
          report(`${prefix}.dynamodb`, standard.dynamodb, 'USD/1M msgs');
          report(`${prefix}.s3`, standard.s3, 'USD/1M msgs');
        }
        report(`${prefix}.apiRequestsPerMessage`, usage.apiRequests, 'requests');
        report(`${prefix}.dynamoRequestsPerMessage`, usage.dynamoRequests, 'requests');
        report(`${prefix}.writeUnitsPerMessage`, usage.writeUnits, 'WRU');
        report(`${prefix}.readUnitsPerMessage`, usage.readUnits, 'RRU');
        report(
          `${prefix}.s3RequestsPerMessage`,
          usage.s3Put + usage.s3Get + usage.s3Delete,
          'requests',
        );
        report(`${prefix}.apiBytesPerMessage`, usage.apiBytes, 'bytes');
        report(`${prefix}.s3BytesPerMessage`, usage.s3Bytes, 'bytes');
        report(`${prefix}.handlerMsPerMessage`, usage.lambdaMs, 'ms');
      }
    }
  } finally {
    await aws.stop();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function importTime(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});process.stdout.write(String(performance.now()-t));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  return Number(out);
}

async function coldStart(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-bench-'));
  try {
    const common = {
      bundle: true,
      minify: true,
      platform: 'node' as const,
      format: 'esm' as const,
      target: 'node20',
      conditions: ['sealpost-source'],
      logLevel: 'silent' as const,
      banner: {
        js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);",
      },
    };
    const handler = join(dir, 'handler.mjs');
    await build({ ...common, entryPoints: [resolve('functions/api/lambda.ts')], outfile: handler });
    const floorEntry = join(dir, 'floor-entry.ts');
    await writeFile(
      floorEntry,
      [
        "import { Hono } from 'hono';",
        "import { handle } from 'hono/aws-lambda';",
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
        "import { S3Client } from '@aws-sdk/client-s3';",
        'const ddb = new DynamoDBClient({});',
        'const s3 = new S3Client({});',
        "export const handler = handle(new Hono().get('/', (c) => c.json({ ok: !!ddb && !!s3 })));",
      ].join('\n'),
    );
    const floor = join(dir, 'floor.mjs');
    await build({
      ...common,
      entryPoints: [floorEntry],
      outfile: floor,
      nodePaths: [resolve('node_modules')],
    });

    report('coldStart.handlerBundleSize', (await stat(handler)).size / 1024, 'KiB');
    report('coldStart.floorBundleSize', (await stat(floor)).size / 1024, 'KiB');

    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      SEALPOST_TABLE: 'bench',
      SEALPOST_BUCKET: 'bench',
      SEALPOST_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    importTime(handler, env);
    importTime(floor, env);
    const h: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < 9; i++) {
      h.push(importTime(handler, env));
      f.push(importTime(floor, env));
    }
    report('coldStart.handlerImportMs', median(h), 'ms');
    report('coldStart.floorImportMs', median(f), 'ms');
    report('coldStart.importRatio', median(h) / median(f), 'ratio', 1.3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
await coldStart();
await costModel();
