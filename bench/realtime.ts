/**
 * Realtime latency benchmark (`npm run bench:realtime [-- --json]`; DynamoDB Local needs Java,
 * `SEALPOST_ENGINE=memory` runs the in-memory engine as `npm start` does):
 *
 * The local server `npm start` runs (functions/api/local.ts, in its own process, over DynamoDB
 * Local and s3rver from test/helpers/local-aws.ts), 100 SDK receivers each in a `receive()`
 * loop, and 10 SDK senders sending 1 KiB sealed texts (the SDK default) at a steady rate, each
 * sender one message at a time. Measured per message: from the call of `send()` to the
 * recipient's `receive()` yielding it.
 *
 * 1. `socket`: receivers with `webSocket` from `ws` (pushed frames, acknowledged over the
 *    socket). A first round sets up each pair's session (PQXDH) and a second warms up; both are
 *    reported apart from the measured rounds.
 * 2. `polling`: the same devices reopened with `webSocket: false`, polling at the default
 *    interval.
 *
 * Each message is also split into stages to show what dominates: the sender's work before its
 * request (encryption), the send request and the server's handler time for it (from the
 * server's access log; it includes the push to the socket), the frame's arrival at the
 * recipient's socket, and the recipient's work from the frame to the yield (decryption and the
 * state commit). On the emulators, the round trip of one request to each is measured too.
 *
 * With `--json`, one JSON object per line: {"case", "value", "unit", "target"}.
 * Options: `--devices N` (100), `--rounds N` (measured socket rounds, 4; polling gets half),
 * `--rate N` (messages per second over all senders, 10).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WebSocket } from 'ws';
import { chooseEngine } from '../scripts/local-stack.ts';
import {
  type ClientOptions,
  type ConnectionState,
  type RequestEvent,
  SealpostClient,
  type WebSocketConstructorLike,
} from '../sdk/client/index.ts';
import { MemoryStore } from '../sdk/state/memory-store.ts';
import { type LocalAws, startLocalAws } from '../test/helpers/local-aws.ts';
import {
  percentile,
  roundP50s,
  type Sample,
  STAGE_LABELS,
  type Stages,
  stages,
  summarize,
} from './lib/latency.ts';
import { type Server, startServer } from './lib/server-process.ts';

const JSON_OUTPUT = process.argv.includes('--json');
const DEVICES = intArg('--devices', 100);
const SOCKET_ROUNDS = intArg('--rounds', 4);
const POLL_ROUNDS = Math.max(1, Math.ceil(SOCKET_ROUNDS / 2));
const RATE = intArg('--rate', 10);
const SENDERS = Math.max(1, Math.ceil(DEVICES / 10));
const MESSAGE_BYTES = 1024;
/** How long a message may take to arrive before it counts as lost. */
const DELIVERY_TIMEOUT_MS = 15_000;
const SOCKET_TARGET = { p50: 20, p99: 100 };

function intArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function report(name: string, value: number, unit: string, target?: number): void {
  if (!JSON_OUTPUT) return;
  const rounded = Math.round(value * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({ case: name, value: rounded, unit, ...(target !== undefined ? { target } : {}) })}\n`,
  );
}

function say(line = ''): void {
  if (!JSON_OUTPUT) process.stdout.write(`${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A receiving device: its store, its current client and loop, and what it is waiting for. */
interface Device {
  readonly index: number;
  readonly store: MemoryStore;
  address: string;
  client?: SealpostClient;
  loop?: { abort: AbortController; done: Promise<void> };
  state: ConnectionState | 'idle';
  /** Samples by tag, until received. */
  readonly pending: Map<string, Sample>;
  lastFrameAt: number;
}

/**
 * A `ws` WebSocket that notes when a `message` frame arrives, before the SDK reads it (its
 * listener is added first). Frames are `JSON.stringify` of objects that begin with `type`.
 */
function timedWebSocket(device: Device): WebSocketConstructorLike {
  return class TimedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('message', (event) => {
        if (typeof event.data === 'string' && event.data.startsWith('{"type":"message"')) {
          device.lastFrameAt = performance.now();
        }
      });
    }
  };
}

/** A 1 KiB text whose first characters tag it. */
function messageText(tag: string): string {
  return `${tag} `.padEnd(MESSAGE_BYTES, 'x');
}

/** Runs the device's `receive()` loop, noting when each tagged message is yielded. */
function startLoop(device: Device): void {
  const abort = new AbortController();
  const client = device.client!;
  const done = (async () => {
    for await (const m of client.receive({
      signal: abort.signal,
      onConnectionState: (s) => {
        device.state = s;
      },
    })) {
      const now = performance.now();
      const tag = (m.text ?? '').slice(0, (m.text ?? '').indexOf(' '));
      const sample = device.pending.get(tag);
      if (!sample) continue;
      device.pending.delete(tag);
      sample.received = now;
      if (device.lastFrameAt > sample.start) sample.frameAt = device.lastFrameAt;
    }
  })().catch((err: unknown) => {
    say(`receiver ${device.index} failed: ${(err as Error).message}`);
  });
  device.loop = { abort, done };
}

/** Aborts every device's loop and waits until each has acknowledged and ended. */
async function stopLoops(devices: readonly Device[]): Promise<void> {
  for (const d of devices) d.loop?.abort.abort();
  await Promise.all(devices.map((d) => d.loop?.done));
  for (const d of devices) {
    d.client?.close();
    d.state = 'idle';
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A sender and the request its current send made (sends of one sender run one at a time). */
interface Sender {
  client?: SealpostClient;
  chain: Promise<void>;
  current?: Sample | undefined;
}

/**
 * Sends `rounds` messages to every device at `RATE` messages per second (each to the device's
 * own sender, which sends one message at a time) and waits for all of them to arrive.
 */
async function run(
  tagPrefix: string,
  devices: readonly Device[],
  senders: readonly Sender[],
  rounds: number,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const gap = 1000 / RATE;
  const began = performance.now();
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (const device of devices) {
      const due = began + n * gap;
      n++;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const sender = senders[device.index % senders.length]!;
      const tag = `${tagPrefix}${round}.${device.index}`;
      sender.chain = sender.chain.then(async () => {
        const sample: Sample = { start: performance.now() };
        samples.push(sample);
        device.pending.set(tag, sample);
        sender.current = sample;
        try {
          await sender.client!.send(device.address, messageText(tag));
          sample.sent = performance.now();
        } catch (err) {
          // Counted as lost; the run goes on.
          device.pending.delete(tag);
          say(`send failed: ${(err as Error).name} ${(err as Error).message}`);
        } finally {
          sender.current = undefined;
        }
      });
    }
  }
  await Promise.all(senders.map((s) => s.chain));
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  while (devices.some((d) => d.pending.size > 0) && performance.now() < deadline) await sleep(20);
  for (const d of devices) d.pending.clear();
  return samples;
}

/** Notes the round trip of the sealed send request of `sender`'s current send. */
function observe(sender: Sender): (e: RequestEvent) => void {
  return (e) => {
    const sample = sender.current;
    if (!sample || e.operation !== 'sendSealed' || sample.requestMs !== undefined) return;
    sample.requestMs = e.durationMs;
    sample.requestAt = performance.now() - e.durationMs;
  };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

/** Round trips (p50, ms) of single requests to the emulators, one at a time. */
async function emulatorRoundTrips(aws: LocalAws, table: string) {
  const dynamo: number[] = [];
  const s3: number[] = [];
  const body = new Uint8Array(1500);
  for (let i = 0; i < 30; i++) {
    let t = performance.now();
    await aws.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'bench' }, sk: { S: String(i) } } }),
    );
    dynamo.push(performance.now() - t);
    t = performance.now();
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: `bench/${i}`, Body: body }));
    s3.push(performance.now() - t);
  }
  return { dynamo: percentile(dynamo, 50), s3Put: percentile(s3, 50) };
}

/** Registers the receiving devices (with `ws` sockets) and the senders, who add their cards. */
async function population(base: (store: MemoryStore) => ClientOptions) {
  const devices: Device[] = [];
  for (let i = 0; i < DEVICES; i++) {
    devices.push({
      index: i,
      store: new MemoryStore(),
      address: '',
      state: 'idle',
      pending: new Map(),
      lastFrameAt: 0,
    });
  }
  // Registration is set-up, not measured; ten at a time keep the server responsive.
  for (let i = 0; i < DEVICES; i += 10) {
    await Promise.all(
      devices.slice(i, i + 10).map(async (d) => {
        d.client = await SealpostClient.register({
          ...base(d.store),
          webSocket: timedWebSocket(d),
        });
        d.address = d.client.address;
      }),
    );
  }
  const senders: Sender[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const sender: Sender = { chain: Promise.resolve() };
    sender.client = await SealpostClient.register({
      ...base(new MemoryStore()),
      webSocket: false,
      onRequest: observe(sender),
    });
    senders.push(sender);
  }
  for (const d of devices) {
    await senders[d.index % SENDERS]!.client!.addContact(d.client!.contactCard());
  }
  return { devices, senders };
}

/** The latency table; `name` keys the JSON cases, `label` (default `name`) the printed row. */
function printLatencies(
  rows: { name: string; label?: string; samples: Sample[]; target?: typeof SOCKET_TARGET }[],
): void {
  say(
    'send() called -> receive() yields, ms  p50      p99      max  count  lost  p50 of each round',
  );
  for (const row of rows) {
    const s = summarize(row.samples);
    const rounds = roundP50s(row.samples, DEVICES);
    const spread = rounds.length > 1 ? rounds.map(fmt).join(' ') : '';
    say(
      `${(row.label ?? row.name).padEnd(35)} ${fmt(s.p50).padStart(7)} ${fmt(s.p99).padStart(8)} ${fmt(s.max).padStart(8)} ${String(s.count).padStart(6)} ${String(s.lost).padStart(5)}  ${spread}`,
    );
    report(`${row.name}.p50`, s.p50, 'ms', row.target?.p50);
    report(`${row.name}.p99`, s.p99, 'ms', row.target?.p99);
    report(`${row.name}.max`, s.max, 'ms');
    report(`${row.name}.count`, s.count, 'messages');
    report(`${row.name}.lost`, s.lost, 'messages', 0);
    if (rounds.length > 1) {
      report(`${row.name}.p50.roundMin`, Math.min(...rounds), 'ms');
      report(`${row.name}.p50.roundMax`, Math.max(...rounds), 'ms');
    }
  }
}

function printStages(socket: Stages, polling: Stages): void {
  say('stages, ms (p50 / p99)                          socket           polling');
  const cell = (v: readonly number[]) => `${fmt(v[0]!)} / ${fmt(v[1]!)}`.padStart(17);
  for (const [key, label] of STAGE_LABELS) {
    const frameOnly = key === 'toFrame' || key === 'recipient';
    say(`${label.padEnd(42)} ${cell(socket[key])} ${frameOnly ? '' : cell(polling[key])}`);
    report(`socket.stage.${key}.p50`, socket[key][0], 'ms');
    if (!frameOnly) report(`polling.stage.${key}.p50`, polling[key][0], 'ms');
  }
}

/**
 * The stage of the socket path with the largest share of the p50, as one sentence. The server
 * pushes while it stores (docs/SERVICE.md §7.3), so its share is what passes from the request
 * leaving the sender to the frame reaching the recipient's socket, not its whole handler.
 */
function dominant(total: number, st: Stages): string {
  const toPush = Math.max(0, st.toFrame[0] - st.senderWork[0]);
  const parts: [string, number][] = [
    ["the sender's work", st.senderWork[0]],
    [
      'the request up to the push (account read, counter update, connection lookup, post)',
      Math.min(toPush, st.serverHandler[0]),
    ],
    ["the recipient's work (decrypt, commit)", st.recipient[0]],
  ];
  const known = parts.reduce((n, [, v]) => n + v, 0);
  parts.push(['transport and waiting (HTTP, event loops)', Math.max(0, total - known)]);
  parts.sort((x, y) => y[1] - x[1]);
  const [name, ms] = parts[0]!;
  return `${name}: ${fmt(ms)} of the ${fmt(total)} ms p50 (${Math.round((100 * ms) / total)}%)`;
}

async function main(): Promise<void> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const { engine, notice } = chooseEngine(process.env);
  if (notice) say(notice);
  const started = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'sealpost-bench-rt-'));
  const aws = engine === 'dynamodb' ? await startLocalAws() : undefined;
  let server: Server | undefined;
  try {
    const table = aws ? await aws.createTable() : undefined;
    server = await startServer(aws && table ? { aws, table } : undefined, dataDir);
    const { url, trustRoot } = server;
    const base = (store: MemoryStore): ClientOptions => ({
      baseUrl: url,
      trust: { trustRoot },
      store,
    });
    say(
      `engine ${engine}; ${DEVICES} receiving devices, ${SENDERS} senders, ${MESSAGE_BYTES}-byte sealed texts, ${RATE} messages/s`,
    );
    const registering = performance.now();
    const { devices, senders } = await population(base);
    say(
      `set-up: registered ${DEVICES + SENDERS} clients in ${fmt((performance.now() - registering) / 1000)} s`,
    );

    // 1. Over the socket. The first round sets up each pair's session; the second warms up.
    for (const d of devices) startLoop(d);
    await waitFor('every socket to open', () => devices.every((d) => d.state === 'open'), 60_000);
    const firstContact = await run('f', devices, senders, 1);
    const warmup = await run('w', devices, senders, 1);
    server.take();
    const socket = await run('s', devices, senders, SOCKET_ROUNDS);
    const socketServer = server.take();
    const leftSocket = devices.filter((d) => d.state !== 'open').length;
    await stopLoops(devices);

    // 2. The same devices polling at the SDK's default interval.
    for (const d of devices) {
      d.client = await SealpostClient.open({ ...base(d.store), webSocket: false });
      startLoop(d);
    }
    await waitFor('every loop to poll', () => devices.every((d) => d.state === 'polling'), 60_000);
    await sleep(2000);
    server.take();
    const pollStarted = performance.now();
    const polling = await run('p', devices, senders, POLL_ROUNDS);
    const pollSeconds = (performance.now() - pollStarted) / 1000;
    const pollServer = server.take();
    await stopLoops(devices);
    for (const s of senders) s.client!.close();

    say();
    printLatencies([
      { name: 'socket', samples: socket, target: SOCKET_TARGET },
      { name: 'polling', samples: polling },
      {
        name: 'socket.firstContact',
        label: 'socket, first contact (PQXDH)',
        samples: firstContact,
      },
      { name: 'socket.warmup', label: 'socket, warm-up round', samples: warmup },
    ]);
    say();
    if (socketServer.sendMs.length === 0) {
      say("warning: the server's access log named no sealed sends (has the route changed?)");
    }
    const socketStages = stages(socket, socketServer.sendMs);
    printStages(socketStages, stages(polling, pollServer.sendMs));
    say();
    say(`dominant on the socket path: ${dominant(summarize(socket).p50, socketStages)}`);
    if (aws && table) {
      const rt = await emulatorRoundTrips(aws, table);
      say(
        `one request at a time to the emulators after the run, p50: DynamoDB Local ${fmt(rt.dynamo)} ms, s3rver PUT ${fmt(rt.s3Put)} ms`,
      );
      report('emulator.dynamodbRoundTrip.p50', rt.dynamo, 'ms');
      report('emulator.s3PutRoundTrip.p50', rt.s3Put, 'ms');
    }
    const pollRate = pollServer.pollMs.length / DEVICES / pollSeconds;
    say(
      `socket phase: ${leftSocket} of ${DEVICES} devices left the socket, ${socketServer.pollMs.length} HTTP polls`,
    );
    say(
      `polling phase: ${pollRate.toFixed(2)} polls per device-second (each delivered message adds one); the server's poll handler p50 ${fmt(percentile(pollServer.pollMs, 50))} ms, p99 ${fmt(percentile(pollServer.pollMs, 99))} ms`,
    );
    report('socket.devicesLeftSocket', leftSocket, 'devices', 0);
    report('socket.polls', socketServer.pollMs.length, 'requests', 0);
    report('polling.pollsPerDeviceSecond', pollRate, 'polls/s');
    report('polling.pollHandler.p50', percentile(pollServer.pollMs, 50), 'ms');
    say(`total run ${fmt((performance.now() - started) / 1000)} s`);
    const lost = summarize(socket).lost + summarize(polling).lost;
    if (lost > 0 || leftSocket > 0) {
      // A broken delivery path must not pass as a slow one.
      say(`FAILED: ${lost} messages lost, ${leftSocket} devices left the socket`);
      process.exitCode = 1;
    }
  } finally {
    await server?.stop();
    await aws?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
