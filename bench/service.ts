/**
 * Service benchmark (`npx tsx bench/service.ts [--json]`, needs Java for DynamoDB Local):
 *
 * 1. Cost model: drives send → fetch → ack through the real app and adapters on DynamoDB Local
 *    and s3rver, meters every AWS request (capacity units as reported by DynamoDB, S3 requests
 *    and bytes, API requests, handler time), and prices one million 2 KB messages at fetch/ack
 *    batch sizes 1, 10 and 50 (bench/cost-model.ts, bench/prices.json).
 * 2. Cold start: the minified Lambda bundle's size and its import time in a fresh Node process,
 *    as a ratio to a bare bundle of Hono plus the DynamoDB and S3 clients.
 * 3. WebSocket delivery (docs/SERVICE.md §7.3) against polling: the real WebSocket handlers
 *    (functions/api/realtime-lambda.ts) on the same emulators with a metered in-process
 *    management API (bench/lib/realtime-cost.ts), priced per always-online idle device-month
 *    (connection minutes, keepalives, reconnects) against an empty poll at the SDK's default
 *    interval, and per million messages pushed and acknowledged over the socket against fetch
 *    and ack over HTTP; AppSync Events and IoT Core connection minutes as a side line.
 *
 * 4. Report verification: verifications per second of the service's report verifier on one
 *    thread, over real reports of sealed messages (bench/lib/report-verification.ts), and
 *    reports per second through `POST /v1/reports`.
 *
 * 5. Anonymous tokens (docs/SERVICE.md §15, bench/lib/token-cost.ts): handler time of a batch of
 *    20 issued tokens, token-paid sealed sends per second through the route (against the same
 *    sends with an access key), the client's work per token, the bytes a token adds, and the
 *    cost of a first contact paid with a token against an identified first contact and a
 *    contact's sealed send, metered on DynamoDB Local. The service targets are stated for Node
 *    24 (`npm run bench:service:node24`).
 *
 * 6. Cost per active user-month (bench/lib/user-month.ts): real SDK clients with their defaults
 *    on the local stack with the WebSocket endpoint, a simulated day of 6 users with 2 devices
 *    each (every device online a third of the day), every API request, frame, DynamoDB call and
 *    S3 request metered, scaled to the profile's month (docs/SERVICE.md §13) and priced by
 *    component for S3 Standard, S3 Express One Zone and inline records.
 *
 * With `--json`, one JSON object per line: {"case", "value", "unit", "target"}.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus as cpus_, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_CONFIG } from '../functions/domain/config.ts';
import { randomBytes } from '../functions/domain/crypto.ts';
import { KEEPALIVE_INTERVAL_MS, MAX_CONNECTION_AGE_MS } from '../sdk/client/realtime-socket.ts';
import { toBase64Url } from '../sdk/wire/api/codec.ts';
import type { ClientFrame } from '../sdk/wire/api/realtime.ts';
import { ACCESS_KEY_HEADER } from '../sdk/wire/api/signing.ts';
import { startLocalAws } from '../test/helpers/local-aws.ts';
import { newMessageId, sendBody } from '../test/unit/functions/fixtures.ts';
import {
  addCost,
  type CostAssumptions,
  connectionMinuteAlternatives,
  idleDeviceMonth,
  type LambdaArchitecture,
  perMessage,
  price,
  scaleUsage,
  type Usage,
  type UserMonthProfile,
  usdPerMillion,
  userMonthCost,
  userMonthCounts,
} from './cost-model.ts';
import { attachmentCostPerGb, measureAttachment, STORED_DAYS } from './lib/attachment-cost.ts';
import type { Endpoints } from './lib/meter.ts';
import { meteredHarness } from './lib/metered-harness.ts';
import { measureRealtime, type RealtimeUsage } from './lib/realtime-cost.ts';
import { measureReportVerification } from './lib/report-verification.ts';
import { BATCH, measureFirstContactUsage, measureTokenThroughput } from './lib/token-cost.ts';
import { traceUserDay, type UserMonthTrace } from './lib/user-month.ts';

const JSON_OUTPUT = process.argv.includes('--json');
const MESSAGES = 100;
const ENVELOPE_BYTES = 2048;
const LAMBDA_MEMORY_GB = 0.25;

/** infra/lib/websocket-api.ts: the WebSocket function's `memorySize` (512 MB). */
const WS_LAMBDA_MEMORY_GB = 0.5;
/** infra/lib/node-function.ts: every function is built for arm64. */
const ARCHITECTURE: LambdaArchitecture = 'arm64';
/** A month of 30.4 days. */
const MONTH_MS = 30.4 * 24 * 60 * 60 * 1000;
/** Cycles of each WebSocket scenario per repeat, and repeats. */
const REALTIME_ROUNDS = 20;
const REALTIME_REPEATS = 3;

const encoder = new TextEncoder();

/** The lowest and highest value over the repeats (text: one line; JSON: two cases). */
function reportRange(name: string, values: readonly number[], unit: string): void {
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  const [min, max] = [round(Math.min(...values)), round(Math.max(...values))];
  if (JSON_OUTPUT) {
    report(`${name}.repeatMin`, min, unit);
    report(`${name}.repeatMax`, max, unit);
  } else {
    process.stdout.write(
      `${''.padEnd(48)} ${`(${values.length} repeats: ${min}..${max})`.padStart(12)}\n`,
    );
  }
}

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

async function costScenario(
  endpoints: Endpoints,
  inlineMaxBytes: number,
  batch: number,
): Promise<Usage> {
  const { meter, h, timed, close } = meteredHarness(endpoints, {
    config: { ...DEFAULT_CONFIG, inlineMaxBytes },
    start: Date.now(),
  });
  const key = randomBytes(16);
  const bob = await h.register(key);

  meter.active = true;
  for (let i = 0; i < MESSAGES; i++) {
    await timed({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(h.clock.now + i), [[1, randomBytes(ENVELOPE_BYTES)]]),
      headers: { [ACCESS_KEY_HEADER]: toBase64Url(key) },
    });
  }
  // As the SDK's polling receive loop does (sdk/client/receive-loop.ts): each fetch carries the
  // acknowledgements of the previous page (`ack=`), and the fetch that finds the mailbox empty
  // carries the last page's; nothing is posted to /v1/messages/ack.
  let delivered = 0;
  let riding: string[] = [];
  for (;;) {
    const ack = riding.length > 0 ? `&ack=${riding.join(',')}` : '';
    const fetched = await timed({
      method: 'GET',
      path: `/v1/messages?limit=${batch}&payloads=1${ack}`,
      signer: bob,
    });
    riding = fetched.body.messages.map((m: { messageId: string }) => m.messageId);
    if (riding.length === 0) break;
    delivered += riding.length;
  }
  if (delivered !== MESSAGES) throw new Error(`delivered ${delivered} of ${MESSAGES}`);
  meter.active = false;
  close();
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
    const overHttp = new Map<number, number>();
    for (const variant of variants) {
      for (const batch of [1, 10, 50]) {
        const usage = await costScenario(endpoints, variant.inlineMaxBytes, batch);
        const standard = usdPerMillion(usage, {
          lambdaMemoryGb: LAMBDA_MEMORY_GB,
          s3Class: 's3Standard',
        });
        if (variant.name === 'allInS3') overHttp.set(batch, standard.total);
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
    await firstContactCost(endpoints);
    await realtimeCostModel(endpoints, overHttp);
    await attachmentCostModel(endpoints);
  } finally {
    await aws.stop();
  }
}

/**
 * What attachments cost per GB of files sent (docs/SERVICE.md §7.6): measured uploads and
 * downloads of a photo-sized (1 MiB), a form-sized (16 MiB) and a multipart (128 MiB) file with
 * the SDK's and the service's defaults; storage for the blob lifetime; one download (each
 * further recipient device adds one). Data transfer out dominates.
 */
async function attachmentCostModel(endpoints: Endpoints): Promise<void> {
  const MIB = 1024 * 1024;
  for (const [label, size] of [
    ['1MiB', MIB],
    ['16MiB', 16 * MIB],
    ['128MiB', 128 * MIB],
  ] as const) {
    const usage = await measureAttachment(endpoints, size);
    const perGb = attachmentCostPerGb(usage, {
      lambdaMemoryGb: LAMBDA_MEMORY_GB,
      s3Class: 's3Standard',
    });
    const prefix = `cost.attachments.${label}`;
    report(`${prefix}.uploadPerGb`, perGb.upload, 'USD/GB');
    report(`${prefix}.storedPerGb${STORED_DAYS}d`, perGb.storage, 'USD/GB');
    report(`${prefix}.downloadPerGb`, perGb.download, 'USD/GB');
    report(`${prefix}.transferOutPerGb`, perGb.transferOut, 'USD/GB');
    report(
      `${prefix}.sentStoredDownloadedOncePerGb`,
      perGb.upload + perGb.storage + perGb.download,
      'USD/GB',
    );
    report(`${prefix}.blobOverhead`, usage.blobBytes / usage.fileBytes - 1, 'ratio');
    report(`${prefix}.uploadApiRequests`, usage.upload.apiRequests, 'requests');
    report(`${prefix}.uploadS3Requests`, usage.upload.s3Put + usage.upload.s3Get, 'requests');
    report(`${prefix}.uploadDynamoRequests`, usage.upload.dynamoRequests, 'requests');
    report(`${prefix}.downloadApiRequests`, usage.download.apiRequests, 'requests');
  }
}

/**
 * The WebSocket delivery cost (docs/SERVICE.md §7.3) against polling, at list prices: per
 * always-online idle device-month and per million messages delivered over the socket. The
 * handlers' usage is measured (bench/lib/realtime-cost.ts); how often each runs comes from the
 * SDK's constants (keep-alive interval, connection age) and its measured poll period.
 * `overHttp`: USD per million messages sent, fetched and acknowledged over HTTP, by fetch batch.
 */
async function realtimeCostModel(
  endpoints: Endpoints,
  overHttp: ReadonlyMap<number, number>,
): Promise<void> {
  const runs: RealtimeUsage[] = [];
  for (let i = 0; i < REALTIME_REPEATS; i++) {
    runs.push(
      await measureRealtime(endpoints, {
        rounds: REALTIME_ROUNDS,
        envelopeBytes: ENVELOPE_BYTES,
        pollPeriod: i === 0,
      }),
    );
  }
  const pollPeriodMs = runs[0]!.pollPeriodMs!;
  const http: CostAssumptions = {
    lambdaMemoryGb: LAMBDA_MEMORY_GB,
    s3Class: 's3Standard',
    architecture: ARCHITECTURE,
  };
  const socketFn: CostAssumptions = { ...http, lambdaMemoryGb: WS_LAMBDA_MEMORY_GB };

  const keepaliveFrame: ClientFrame = { type: 'keepalive' };
  const schedule = {
    monthMs: MONTH_MS,
    connectionAgeMs: MAX_CONNECTION_AGE_MS,
    keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
    keepaliveBytes: encoder.encode(JSON.stringify(keepaliveFrame)).length,
  };
  const idle = runs.map((run) => ({
    socket: idleDeviceMonth({ ...schedule, reconnect: run.reconnect }, socketFn),
    polled: price(scaleUsage(run.emptyPoll, MONTH_MS / pollPeriodMs), http),
  }));
  const { connections, keepalives, minutes } = idle[0]!.socket;
  const perMillion = runs.map((run) =>
    addCost(usdPerMillion(run.socketSend, http), usdPerMillion(run.socketAck, socketFn)),
  );
  const reconnect = runs.map((r) => r.reconnect);

  report('realtime.reconnect.lambdaInvocations', reconnect[0]!.lambdaInvocations, 'invocations');
  report('realtime.reconnect.handlerMs', median(reconnect.map((u) => u.lambdaMs)), 'ms');
  for (const step of ['connect', 'ping', 'disconnect'] as const) {
    report(
      `realtime.reconnect.${step}HandlerMs`,
      median(runs.map((r) => r.reconnectHandlerMs[step])),
      'ms',
    );
  }
  report('realtime.reconnect.dynamoRequests', reconnect[0]!.dynamoRequests, 'requests');
  report('realtime.reconnect.writeUnits', median(reconnect.map((u) => u.writeUnits)), 'WRU');
  report('realtime.reconnect.readUnits', median(reconnect.map((u) => u.readUnits)), 'RRU');
  report('realtime.reconnect.wsMessages', reconnect[0]!.wsMessageUnits, 'messages');
  report(
    'realtime.reconnect.usd',
    median(reconnect.map((u) => price(u, socketFn).total)) * 1e6,
    'USD/1M reconnects',
  );
  report('realtime.idleMonth.connectionMinutes', minutes, 'minutes');
  report('realtime.idleMonth.keepalives', keepalives, 'messages');
  report('realtime.idleMonth.reconnects', connections, 'reconnects');
  report(
    'realtime.idleMonth.connectionMinutesUsd',
    idle[0]!.socket.connected.total,
    'USD/device-month',
  );
  report('realtime.idleMonth.keepalivesUsd', idle[0]!.socket.keepalive.total, 'USD/device-month');
  report(
    'realtime.idleMonth.reconnectsUsd',
    median(idle.map((x) => x.socket.reconnects.total)),
    'USD/device-month',
  );
  const socketIdle = median(idle.map((x) => x.socket.total));
  report('realtime.idleMonth.total', socketIdle, 'USD/device-month', 0.02);
  reportRange(
    'realtime.idleMonth.total',
    idle.map((x) => x.socket.total),
    'USD/device-month',
  );

  const polled = median(idle.map((x) => x.polled.total));
  report('polling.pollPeriodMs', pollPeriodMs, 'ms');
  report('polling.idleMonth.polls', MONTH_MS / pollPeriodMs, 'polls');
  report('polling.poll.handlerMs', median(runs.map((r) => r.emptyPoll.lambdaMs)), 'ms');
  report('polling.poll.dynamoRequests', runs[0]!.emptyPoll.dynamoRequests, 'requests');
  report('polling.poll.readUnits', median(runs.map((r) => r.emptyPoll.readUnits)), 'RRU');
  report('polling.poll.writeUnits', median(runs.map((r) => r.emptyPoll.writeUnits)), 'WRU');
  report('polling.idleMonth.total', polled, 'USD/device-month');
  reportRange(
    'polling.idleMonth.total',
    idle.map((x) => x.polled.total),
    'USD/device-month',
  );
  report('realtime.idleMonth.pollingOverSocket', polled / socketIdle, 'ratio');

  const socketTotal = median(perMillion.map((c) => c.total));
  report('realtime.socket.perMillion', socketTotal, 'USD/1M msgs');
  reportRange(
    'realtime.socket.perMillion',
    perMillion.map((c) => c.total),
    'USD/1M msgs',
  );
  for (const item of ['api', 'websocket', 'lambda', 'dynamodb', 's3'] as const) {
    report(
      `realtime.socket.perMillion.${item}`,
      median(perMillion.map((c) => c[item])),
      'USD/1M msgs',
    );
  }
  const send = runs.map((r) => r.socketSend);
  const ack = runs.map((r) => r.socketAck);
  report('realtime.socket.sendHandlerMs', median(send.map((u) => u.lambdaMs)), 'ms');
  report('realtime.socket.ackHandlerMs', median(ack.map((u) => u.lambdaMs)), 'ms');
  report(
    'realtime.socket.wsMessagesPerMessage',
    send[0]!.wsMessageUnits + ack[0]!.wsMessageUnits,
    'messages',
  );
  report(
    'realtime.socket.dynamoRequestsPerMessage',
    send[0]!.dynamoRequests + ack[0]!.dynamoRequests,
    'requests',
  );
  report(
    'realtime.socket.s3RequestsPerMessage',
    send[0]!.s3Put + send[0]!.s3Get + ack[0]!.s3Get + ack[0]!.s3Delete,
    'requests',
  );
  for (const [batch, usd] of overHttp) {
    report(`realtime.socket.overHttpBatch${batch}`, usd, 'USD/1M msgs (fetch+ack over HTTP)');
  }
  for (const alt of connectionMinuteAlternatives(minutes)) {
    report(
      `alternative.${alt.service}.connectionMinutesOnly`,
      alt.usd,
      'USD/device-month (connection minutes only)',
    );
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

/** Report verification throughput on one thread (bench/lib/report-verification.ts). */
async function reportVerification(): Promise<void> {
  const r = await measureReportVerification();
  report('reports.verificationsPerSecond', r.verificationsPerSecond, '/s', 500);
  report('reports.knownSessionVerificationsPerSecond', r.knownSessionVerificationsPerSecond, '/s');
  report('reports.routeReportsPerSecond', r.routeReportsPerSecond, '/s');
}

/** Anonymous tokens: throughput on one thread, client cost, bytes (bench/lib/token-cost.ts). */
async function tokens(): Promise<void> {
  process.stdout.write(JSON_OUTPUT ? '' : `tokens on Node ${process.versions.node}\n`);
  const t = await measureTokenThroughput();
  report(`tokens.issueBatch${BATCH}Ms`, t.issueBatchMs, 'ms', 50);
  report('tokens.issuePerTokenMs', t.issueBatchMs / BATCH, 'ms');
  report('tokens.verificationsPerSecond', t.verificationsPerSecond, '/s');
  report('tokens.verifyAndSpendPerSecond', t.verifyAndSpendPerSecond, '/s', 2000);
  report('tokens.routeRedemptionsPerSecond', t.redemptionsPerSecond, '/s');
  report('tokens.accessKeySendsPerSecond', t.accessKeySendsPerSecond, '/s');
  report('tokens.clientMsPerToken', t.clientMsPerToken, 'ms');
  report('tokens.tokenBytes', t.tokenBytes, 'bytes');
  report('tokens.firstMessageBytesAdded', t.headerBytesAdded, 'bytes');
}

/** First contact paid with a token, identified, and a contact's send, priced per million. */
async function firstContactCost(endpoints: Endpoints): Promise<void> {
  const usage = await measureFirstContactUsage(endpoints);
  for (const [name, u] of Object.entries(usage)) {
    const cost = usdPerMillion(u, { lambdaMemoryGb: LAMBDA_MEMORY_GB, s3Class: 's3Standard' });
    report(`cost.firstContact.${name}.s3Standard`, cost.total, 'USD/1M msgs');
    report(`cost.firstContact.${name}.apiRequestsPerMessage`, u.apiRequests, 'requests');
    report(`cost.firstContact.${name}.dynamoRequestsPerMessage`, u.dynamoRequests, 'requests');
    report(`cost.firstContact.${name}.writeUnitsPerMessage`, u.writeUnits, 'WRU');
    report(`cost.firstContact.${name}.readUnitsPerMessage`, u.readUnits, 'RRU');
    report(`cost.firstContact.${name}.handlerMsPerMessage`, u.lambdaMs, 'ms');
  }
}

/** The profile of docs/SERVICE.md §13. */
const USER_MONTH: UserMonthProfile = {
  devices: 2,
  onlineHoursPerDay: 8,
  sessionsPerDay: 1,
  messagesSentPerDay: 50,
  daysPerMonth: 30.4,
  connectionAgeMs: MAX_CONNECTION_AGE_MS,
  keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
  keepaliveBytes: encoder.encode(JSON.stringify({ type: 'keepalive' } satisfies ClientFrame))
    .length,
};
/** Mean hours an envelope waits for its device: a third pushed at once, the rest ~8 h. */
const MEAN_PENDING_HOURS = (2 / 3) * 8;

/**
 * Cost per active user-month (bench/lib/user-month.ts): the trace's per-message and
 * per-connection usage times the profile's month, by component, for envelopes in S3 Standard,
 * in S3 Express One Zone, and inline in their DynamoDB records (`inlineMaxBytes` 4096).
 */
async function userMonth(): Promise<void> {
  const started = performance.now();
  const cpus = cpus_();
  process.stdout.write(
    JSON_OUTPUT
      ? ''
      : `user-month on ${cpus.length} x ${cpus[0]?.model ?? '?'}, Node ${process.versions.node}, load ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}\n`,
  );
  const traces: [string, UserMonthTrace, 's3Standard' | 's3ExpressOneZone' | 'dynamodb'][] = [];
  const s3Trace = await traceUserDay({ users: 6, messagesPerSlot: 2, textBytes: 1024 });
  traces.push(['s3Standard', s3Trace, 's3Standard']);
  traces.push(['s3ExpressOneZone', s3Trace, 's3ExpressOneZone']);
  const inline = await traceUserDay({
    users: 6,
    messagesPerSlot: 2,
    textBytes: 1024,
    config: { inlineMaxBytes: 4096 },
  });
  traces.push(['inline', inline, 'dynamodb']);
  const counts = userMonthCounts(USER_MONTH);
  report('userMonth.messagesSent', counts.messages, 'messages');
  report('userMonth.connections', counts.connections, 'connections');
  report('userMonth.connectionMinutes', counts.connectionMinutes, 'minutes');
  report('userMonth.keepalives', counts.keepalives, 'messages');
  for (const [name, trace, storageClass] of traces) {
    const http: CostAssumptions = {
      lambdaMemoryGb: LAMBDA_MEMORY_GB,
      s3Class: storageClass === 'dynamodb' ? 's3Standard' : storageClass,
      architecture: ARCHITECTURE,
    };
    const socket: CostAssumptions = { ...http, lambdaMemoryGb: WS_LAMBDA_MEMORY_GB };
    const envelopeBytes = trace.perMessage.http.s3Bytes / 3 || 1500;
    const storedGbMonths = (counts.messages * 3 * envelopeBytes * MEAN_PENDING_HOURS) / (730 * 1e9);
    const cost = userMonthCost(
      {
        perMessage: trace.perMessage,
        perConnection: trace.perSession,
        counts,
        keepaliveBytes: USER_MONTH.keepaliveBytes,
        storedGbMonths,
        storageClass,
      },
      http,
      socket,
    );
    const prefix = `userMonth.${name}`;
    report(`${prefix}.total`, cost.total, 'USD/user-month', 0.01);
    for (const part of [
      'api',
      'lambda',
      'dynamodb',
      's3',
      'storage',
      'connectionMinutes',
      'wsMessages',
      'transferOut',
    ] as const) {
      report(`${prefix}.${part}`, cost[part], 'USD/user-month');
    }
    const m = trace.counts;
    report(`${prefix}.apiRequestsPerMessage`, m.apiRequests, 'requests');
    report(`${prefix}.dynamoCallsPerMessage`, m.dynamoCalls, 'requests');
    report(
      `${prefix}.writeUnitsPerMessage`,
      trace.perMessage.http.writeUnits + trace.perMessage.socket.writeUnits,
      'WRU',
    );
    report(
      `${prefix}.readUnitsPerMessage`,
      trace.perMessage.http.readUnits + trace.perMessage.socket.readUnits,
      'RRU',
    );
    report(`${prefix}.s3RequestsPerMessage`, m.s3Requests, 'requests');
    report(`${prefix}.wsFramesPerMessage`, sumOf(m.framesIn) + sumOf(m.framesOut), 'messages');
    report(
      `${prefix}.dynamoCallsPerConnection`,
      trace.perSession.http.dynamoRequests + trace.perSession.socket.dynamoRequests,
      'requests',
    );
  }
  // Connection minutes alone on the cheaper managed channels (their messages priced like API
  // Gateway's): what the channel choice is worth against the target.
  for (const alt of connectionMinuteAlternatives(counts.connectionMinutes)) {
    report(`userMonth.connectionMinutes.${alt.service}`, alt.usd, 'USD/user-month');
  }
  report('userMonth.traceSeconds', (performance.now() - started) / 1000, 's');
}

function sumOf(r: Readonly<Record<string, number>>): number {
  return Object.values(r).reduce((n, v) => n + v, 0);
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
if (process.argv.includes('--user-month-only')) {
  await userMonth();
  process.exit(0);
}
if (process.argv.includes('--cost-only')) {
  await costModel();
  process.exit(0);
}
await tokens();
if (process.argv.includes('--tokens-only')) process.exit(0);
await reportVerification();
await coldStart();
await costModel();
await userMonth();
