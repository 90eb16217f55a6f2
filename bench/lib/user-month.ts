/**
 * Cost per active user-month measured from the real SDK (docs/SERVICE.md §13): SDK clients with
 * their default options (only `fetch`, the WebSocket class and the clock injected, as the e2e
 * stack does) on the real app and adapters over DynamoDB Local and s3rver, with the local
 * WebSocket endpoint over the DynamoDB connection registry. Every API request (and its bytes),
 * every WebSocket connect and frame in each direction, every DynamoDB call with the capacity
 * it consumed and every S3 request is counted, and attributed to the function that would run it
 * on AWS: the HTTP function (inside an API request, including the pushes a send makes) or the
 * WebSocket function (`$connect`, the first `ping` and its drain, `ack` frames, `$disconnect`).
 *
 * The simulated day: users in a ring, each sending to the next (a contact with 2 devices) with
 * the sync copy to the sender's other device. The day has three slots; each device is online in
 * one of them (a third of the day, as in the profile: 8 hours), so a message finds some
 * recipient devices online (pushed over the socket) and the others offline (drained when they
 * connect). Sessions of an empty mailbox are measured on their own, so the trace separates what
 * a message costs from what a session costs. Sessions, connection minutes and keepalives over a
 * month follow from the profile and the SDK's schedule ({@link userMonth} in bench/cost-model.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { manualOutboxTimer } from '@sealpost/testing';
import { WebSocket } from 'ws';
import { awsPorts } from '../../functions/adapters/aws-ports.ts';
import { DynamoConnections } from '../../functions/adapters/dynamodb/index.ts';
import { buildApp } from '../../functions/api/app.ts';
import { createLocalRealtime } from '../../functions/api/realtime-local.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '../../functions/domain/config.ts';
import {
  generateSigningMaterial,
  StaticSigningKeyProvider,
} from '../../functions/domain/signing-material.ts';
import { type ClientOptions, SealpostClient } from '../../sdk/client/client.ts';
import type { FetchLike } from '../../sdk/client/http-client.ts';
import { MemoryStore } from '../../sdk/state/memory-store.ts';
import { startLocalAws } from '../../test/helpers/local-aws.ts';
import { emptyUsage, type Usage, wsMessageUnits } from '../cost-model.ts';
import prices from '../prices.json' with { type: 'json' };
import { Meter, meteredClients } from './meter.ts';

/** What one run of the simulated day counted. */
export interface UserMonthTrace {
  readonly users: number;
  /** Devices of each user (the profile's 2). */
  readonly devicesPerUser: number;
  /** Messages sent (each to a contact's devices plus the sync copy). */
  readonly messages: number;
  /** Envelopes stored: recipient devices plus sync copies. */
  readonly envelopes: number;
  /** Envelopes pushed to a connected device, and drained by a device that connected later. */
  readonly pushed: number;
  readonly drained: number;
  /** Connects of the message phase whose drain delivered at least one envelope. */
  readonly drains: number;
  /** Usage of the message phase, less its sessions' share (per-session usage x sessions). */
  readonly perMessage: { readonly http: Usage; readonly socket: Usage };
  /** Usage of one session of an empty mailbox: connect, `ping`, drain, disconnect. */
  readonly perSession: { readonly http: Usage; readonly socket: Usage };
  /** Counts of the message phase by kind, per message sent (for the model check). */
  readonly counts: MessageCounts;
}

/** Per-message request counts of the message phase, sessions' share removed. */
export interface MessageCounts {
  readonly apiRequests: number;
  /** API requests by route (`PUT /v1/messages/:address`, ...). */
  readonly routes: Readonly<Record<string, number>>;
  readonly dynamoCalls: number;
  /** DynamoDB calls by command (`UpdateItemCommand`, ...). */
  readonly dynamoCommands: Readonly<Record<string, number>>;
  readonly s3Requests: number;
  /** Client frames by type, and server frames. */
  readonly framesIn: Readonly<Record<string, number>>;
  /** Server frames by type. */
  readonly framesOut: Readonly<Record<string, number>>;
  /**
   * `ack` frames that carried the id of a per-device envelope (a sync copy to the one other
   * device), each answered by one DeleteObjects; ids of shared-payload records delete nothing
   * but their last reference's payload.
   */
  readonly perDeviceAckFrames: number;
}

/** Options of a trace. */
export interface TraceOptions {
  /** Users in the ring (at least 2). */
  readonly users: number;
  /** Messages each online device sends in its slot. */
  readonly messagesPerSlot: number;
  /** Envelope text length (the profile's 1 KiB median). */
  readonly textBytes: number;
  /** Service settings (e.g. `inlineMaxBytes`). */
  readonly config?: Partial<ServiceConfig>;
}

/** `ack` frames a device sent and `acked` answers it received, metered or not. */
class Frames {
  acks = 0;
  acked = 0;
  /** Every id sent in an `ack` frame. */
  readonly ids = new Set<string>();
}

/** Which function a piece of work runs in on AWS. */
interface Scope {
  readonly usage: Usage;
}

/** Counts by key. */
class Tally {
  readonly counts = new Map<string, number>();
  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }
}

/** Everything the stack meters, swapped per phase. */
class Phase {
  http = emptyUsage();
  socket = emptyUsage();
  routes = new Tally();
  commands = new Tally();
  framesIn = new Tally();
  framesOut = new Tally();
  /** `ack` frames carrying the id of a per-device envelope (its object is deleted with them). */
  perDeviceAcks = 0;
  connects = 0;
}

const encoder = new TextEncoder();

/** Route of a request without addresses or ids (`PUT /v1/messages/:address`). */
function routeOf(method: string, url: string): string {
  const path = new URL(url).pathname.replace(
    /^(\/v1\/messages)\/(?!ack$|multi$|multi\/identified$)[^/]+(\/identified)?$/,
    '$1/:address$2',
  );
  return `${method} ${path}`;
}

/**
 * Runs the simulated day on a fresh local stack and returns what it counted.
 *
 * @example const trace = await traceUserDay({ users: 6, messagesPerSlot: 3, textBytes: 1024 });
 * @throws {Error} if Java is missing (DynamoDB Local), or a message is not delivered.
 */
export async function traceUserDay(options: TraceOptions): Promise<UserMonthTrace> {
  if (options.users < 2) throw new RangeError('the ring needs at least 2 users');
  const aws = await startLocalAws();
  const table = await aws.createTable();
  const scope = new AsyncLocalStorage<Scope>();
  let phase = new Phase();
  let metering = false;
  const endpoints = { dynamo: aws.dynamoEndpoint, s3: aws.s3Endpoint, bucket: aws.bucket, table };
  // The bench meter counts into `usage`; which record that is depends on the caller's scope.
  const meter = new Meter();
  Object.defineProperty(meter, 'usage', {
    get: (): Usage => scope.getStore()?.usage ?? phase.socket,
  });
  Object.defineProperty(meter, 'active', { get: () => metering });
  const { dynamodb, s3 } = meteredClients(endpoints, meter);
  // Commands by name, and the time of DynamoDB calls outside any API request: the WebSocket
  // function's handler time (on the emulators it is almost all spent waiting on DynamoDB).
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (!metering) return next(args);
      phase.commands.add(context.commandName ?? '?');
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        if (!scope.getStore()) phase.socket.lambdaMs += performance.now() - started;
      }
    },
    { step: 'initialize', name: 'userMonthCommands' },
  );
  const now = () => Date.now();
  const { material } = generateSigningMaterial({
    keyId: 1,
    notAfter: Date.now() + 10 * 365 * 86_400_000,
  });
  const ports = awsPorts({
    dynamodb,
    s3,
    table,
    bucket: aws.bucket,
    signingKeys: new StaticSigningKeyProvider(material),
  });
  const config = {
    ...DEFAULT_CONFIG,
    bundleRateLimit: { limit: 1000, windowMs: 600_000 },
    identifiedSendRateLimit: { limit: 1000, windowMs: 600_000 },
    ...options.config,
  };
  const log = () => {};
  const local = createLocalRealtime(ports, {
    clock: now,
    config,
    log,
    connections: new DynamoConnections(dynamodb, table),
  });
  const app = buildApp({ services: local.services, log, logLevel: 'error', stage: 'bench' });
  const metered = async (req: Request): Promise<Response> => {
    if (!metering) return app.fetch(req);
    const usage = emptyUsage();
    const requestBytes = (await req.clone().arrayBuffer()).byteLength;
    const started = performance.now();
    const res = await scope.run({ usage }, () => app.fetch(req));
    const body = await res.arrayBuffer();
    usage.lambdaMs += performance.now() - started;
    const bytes = requestBytes + body.byteLength;
    usage.apiRequests++;
    usage.apiBillingUnits += Math.max(1, Math.ceil(bytes / prices.apiGatewayHttp.billingUnitBytes));
    usage.apiBytes += bytes;
    usage.transferOutBytes += body.byteLength;
    usage.lambdaInvocations++;
    phase.routes.add(routeOf(req.method, req.url));
    addInto(phase.http, usage);
    return new Response(body, { status: res.status, headers: res.headers });
  };
  const { server, url } = await new Promise<{ server: ReturnType<typeof serve>; url: string }>(
    (resolve) => {
      const s = serve({ fetch: metered, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server: s, url: `http://127.0.0.1:${info.port}` }),
      );
    },
  );
  if (!(server instanceof Server)) throw new Error('expected a node:http server');
  const closeSockets = local.attach(server);

  /**
   * The `ws` client, metered as API Gateway bills it: a connect runs `$connect` and a close
   * `$disconnect` (one function call each); every frame in either direction is a message (in
   * 32 KiB units); `ping` and `ack` frames run the function, `keepalive` goes to a mock route.
   */
  /** Ids of per-device envelopes delivered over any socket (frames without a payload). */
  const perDeviceIds = new Set<string>();
  const socketClass = (frames: Frames) =>
    class MeteredWebSocket extends WebSocket {
      constructor(address: string) {
        super(address);
        this.on('open', () => {
          if (!metering) return;
          phase.connects++;
          phase.socket.lambdaInvocations += 2;
        });
        this.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString()) as {
            type?: string;
            message?: { messageId: string; payload?: string };
          };
          const type = frame.type ?? '?';
          if (type === 'acked') frames.acked++;
          if (frame.message && frame.message.payload === undefined) {
            perDeviceIds.add(frame.message.messageId);
          }
          if (!metering) return;
          phase.framesOut.add(type);
          phase.socket.wsMessageUnits += wsMessageUnits(data.length);
          phase.socket.transferOutBytes += data.length;
        });
      }
      override send(data: unknown, ...rest: unknown[]): void {
        const text = String(data);
        const frame = JSON.parse(text) as { type?: string; messageIds?: string[] };
        const type = frame.type ?? '?';
        if (type === 'ack') {
          frames.acks++;
          for (const id of frame.messageIds ?? []) frames.ids.add(id);
        }
        if (metering) {
          phase.framesIn.add(type);
          if ((frame.messageIds ?? []).some((id) => perDeviceIds.has(id))) phase.perDeviceAcks++;
          phase.socket.wsMessageUnits += wsMessageUnits(encoder.encode(text).length);
          if (type !== 'keepalive') phase.socket.lambdaInvocations++;
        }
        (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    };

  const clientOptions = (frames: Frames): ClientOptions => ({
    baseUrl: url,
    store: new MemoryStore(),
    trust: { trustRoot: material.trustRoot, revokedServerKeyIds: [] },
    now,
    fetch: fetch as FetchLike,
    webSocket: socketClass(frames),
    // Sync copies go out when the day flushes them, never on a timer of their own.
    outbox: { timer: manualOutboxTimer },
  });

  /** One device and its receive loop while online. */
  interface Device {
    readonly client: SealpostClient;
    readonly frames: Frames;
    received: number;
    loop?: { abort: AbortController; done: Promise<void>; open: Promise<void> };
  }
  const users: Device[][] = [];
  const receivedTotal = () => users.flat().reduce((n, d) => n + d.received, 0);

  const connect = (d: Device) => {
    const abort = new AbortController();
    let opened!: () => void;
    const open = new Promise<void>((r) => {
      opened = r;
    });
    const done = (async () => {
      for await (const _ of d.client.receive({
        signal: abort.signal,
        onConnectionState: (s) => {
          if (s === 'open') opened();
        },
      })) {
        d.received++;
      }
    })();
    d.loop = { abort, done, open };
    return open;
  };
  /** Leaves once every `ack` frame of the device was answered (so nothing comes again). */
  const disconnect = async (d: Device) => {
    const deadline = Date.now() + 5_000;
    while (d.loop && d.frames.acked < d.frames.acks && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    d.loop?.abort.abort();
    await d.loop?.done;
    d.loop = undefined;
  };
  /**
   * Waits until every message `devices` received was acknowledged and answered: the SDK
   * coalesces the acknowledgements of a short window, and the profile's messages are minutes
   * apart, so each push is acknowledged on its own.
   */
  const acknowledged = async (devices: readonly Device[]) => {
    const deadline = Date.now() + 5_000;
    const done = (d: Device) => d.frames.ids.size >= d.received && d.frames.acked >= d.frames.acks;
    while (!devices.every(done)) {
      if (Date.now() > deadline) throw new Error('acknowledgements were not answered in time');
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  /** Waits until `total` messages were received. */
  const settle = async (total: number) => {
    const deadline = Date.now() + 30_000;
    while (receivedTotal() < total) {
      if (Date.now() > deadline) {
        throw new Error(`messages were not delivered in time: ${receivedTotal()} of ${total}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  try {
    for (let u = 0; u < options.users; u++) {
      const frames = [new Frames(), new Frames()] as const;
      const primary = await SealpostClient.register(clientOptions(frames[0]));
      const second = await SealpostClient.link({
        ...clientOptions(frames[1]),
        account: primary.exportAccountKey()!,
      });
      users.push([
        { client: primary, frames: frames[0], received: 0 },
        { client: second, frames: frames[1], received: 0 },
      ]);
    }
    // Every device knows the contacts' cards (access keys), as after exchanging contact cards.
    for (let u = 0; u < options.users; u++) {
      const mine = users[u]!;
      const theirs = users[(u + 1) % options.users]!;
      for (const d of mine) await d.client.addContact(theirs[0]!.client.contactCard());
      for (const d of theirs) await d.client.addContact(mine[0]!.client.contactCard());
    }
    // Warm-up (not metered): every device sends and receives once, so sessions, device lists
    // and certificates are in place, as on any day after the first.
    let expected = 0;
    for (const device of users.flat()) await connect(device);
    for (let u = 0; u < options.users; u++) {
      for (const d of users[u]!) {
        await d.client.send(users[(u + 1) % options.users]![0]!.client.address, 'hello');
        await d.client.flushOutbox();
        expected += 3;
      }
    }
    await settle(expected);
    for (const device of users.flat()) await disconnect(device);
    // A redelivery of an id pushed and drained both is acknowledged on the next connect.
    for (const device of users.flat()) await connect(device);
    for (const device of users.flat()) await disconnect(device);

    // Sessions of an empty mailbox: connect, drain nothing, disconnect.
    const sessions = new Phase();
    phase = sessions;
    metering = true;
    for (const device of users.flat()) {
      await connect(device);
      await disconnect(device);
    }
    metering = false;

    // The day: three slots; device i of user u is online in slot (u + i) % 3.
    const day = new Phase();
    phase = day;
    let messages = 0;
    let pushed = 0;
    let drains = 0;
    metering = true;
    const slots = 3;
    const onlineIn = (slot: number) =>
      users.flatMap((devices, u) => devices.filter((_, i) => (u + i) % slots === slot));
    const pending = new Map<Device, number>();
    for (let slot = 0; slot < slots; slot++) {
      const online = onlineIn(slot);
      for (const d of online) await connect(d);
      drains += online.filter((d) => (pending.get(d) ?? 0) > 0).length;
      await settle(expected + online.reduce((n, d) => n + (pending.get(d) ?? 0), 0));
      for (const d of online) {
        expected += pending.get(d) ?? 0;
        pending.delete(d);
      }
      for (const sender of online) {
        const u = users.findIndex((ds) => ds.includes(sender));
        const contact = users[(u + 1) % options.users]!;
        const own = users[u]!.find((d) => d !== sender)!;
        for (let m = 0; m < options.messagesPerSlot; m++) {
          await sender.client.send(contact[0]!.client.address, 'x'.repeat(options.textBytes));
          await sender.client.flushOutbox();
          messages++;
          for (const r of [...contact, own]) {
            if (r.loop) {
              expected++;
              pushed++;
            } else {
              pending.set(r, (pending.get(r) ?? 0) + 1);
            }
          }
          await settle(expected);
          await acknowledged(online);
        }
      }
      await settle(expected);
      for (const d of online) await disconnect(d);
    }
    // The next day's first slot drains what the last two slots left for its devices.
    const drainers = [...pending.keys()];
    for (const d of drainers) await connect(d);
    drains += drainers.length;
    for (const d of drainers) expected += pending.get(d) ?? 0;
    await settle(expected);
    for (const d of drainers) await disconnect(d);
    metering = false;

    if (process.env['USER_MONTH_DEBUG']) {
      console.log('day', day.connects, JSON.stringify([...day.commands.counts]));
      console.log('sessions', sessions.connects, JSON.stringify([...sessions.commands.counts]));
    }
    const sessionCount = users.flat().length;
    const daySessions = day.connects;
    const perSession = {
      http: divide(sessions.http, sessionCount),
      socket: divide(sessions.socket, sessionCount),
    };
    const envelopes = messages * (2 + 1);
    const share = (total: Usage, one: Usage) =>
      divide(subtract(total, multiply(one, daySessions)), messages);
    const perCount = (day: Tally, s: Tally) => {
      const out: Record<string, number> = {};
      for (const [k, v] of day.counts) {
        const x = (v - ((s.counts.get(k) ?? 0) / sessionCount) * daySessions) / messages;
        if (Math.abs(x) > 1e-9) out[k] = round(x);
      }
      return out;
    };
    const routes = perCount(day.routes, sessions.routes);
    const dynamoCommands = perCount(day.commands, sessions.commands);
    const framesIn = perCount(day.framesIn, sessions.framesIn);
    const framesOut = perCount(day.framesOut, sessions.framesOut);
    const perMessageHttp = share(day.http, perSession.http);
    const perMessageSocket = share(day.socket, perSession.socket);
    return {
      users: options.users,
      devicesPerUser: 2,
      messages,
      envelopes,
      pushed,
      drained: envelopes - pushed,
      drains,
      perSession,
      perMessage: { http: perMessageHttp, socket: perMessageSocket },
      counts: {
        apiRequests: sum(routes),
        routes,
        dynamoCalls: sum(dynamoCommands),
        dynamoCommands,
        s3Requests: round(
          perMessageHttp.s3Put +
            perMessageHttp.s3Get +
            perMessageHttp.s3Delete +
            perMessageSocket.s3Put +
            perMessageSocket.s3Get +
            perMessageSocket.s3Delete,
        ),
        framesIn,
        framesOut,
        perDeviceAckFrames: round(day.perDeviceAcks / messages),
      },
    };
  } finally {
    metering = false;
    for (const device of users.flat()) await disconnect(device).catch(() => {});
    closeSockets();
    await new Promise<void>((r) => server.close(() => r()));
    dynamodb.destroy();
    s3.destroy();
    await aws.stop();
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
const sum = (r: Record<string, number>) => round(Object.values(r).reduce((n, v) => n + v, 0));

function addInto(into: Usage, u: Usage): void {
  for (const k of Object.keys(into) as (keyof Usage)[]) into[k] += u[k];
}
function multiply(u: Usage, f: number): Usage {
  const out = emptyUsage();
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] = u[k] * f;
  return out;
}
function divide(u: Usage, d: number): Usage {
  return multiply(u, 1 / d);
}
function subtract(a: Usage, b: Usage): Usage {
  const out = emptyUsage();
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] = a[k] - b[k];
  return out;
}
