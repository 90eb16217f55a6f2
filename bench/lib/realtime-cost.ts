/**
 * The WebSocket side of the cost model (bench/service.ts; docs/SERVICE.md §7.3): the real
 * handlers of functions/api/realtime-lambda.ts with their DynamoDB ports on DynamoDB Local,
 * metered like the HTTP scenarios (bench/lib/meter.ts), and the real `ApiGatewaySender` over a
 * management client whose requests never leave the process: each `PostToConnection` is counted
 * as one WebSocket message in 32 KiB units and its frame kept for the checks.
 *
 * Measured here, per unit of work: a reconnect cycle (signed `$connect`, the first `ping`, which
 * is answered with `pong` and drains the empty queue to `queue-empty`, then `$disconnect`), one
 * empty poll through the HTTP app, the SDK's poll period at its default interval, and one
 * message delivered over the socket (the sealed send with its push, then the `ack` frame).
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { awsPorts, awsRealtimePorts } from '../../functions/adapters/aws-ports.ts';
import { buildApp } from '../../functions/api/app.ts';
import {
  composeRealtime,
  createRealtimeHandler,
  type WebSocketEvent,
  type WebSocketHandler,
} from '../../functions/api/realtime-lambda.ts';
import { DEFAULT_CONFIG } from '../../functions/domain/config.ts';
import { randomBytes } from '../../functions/domain/crypto.ts';
import { StaticSigningKeyProvider } from '../../functions/domain/signing-material.ts';
import { SealpostClient } from '../../sdk/client/index.ts';
import { MemoryStore } from '../../sdk/state/memory-store.ts';
import { toBase64Url } from '../../sdk/wire/api/codec.ts';
import {
  type ClientFrame,
  CONNECT_QUERY,
  REALTIME_PATH,
  type ServerFrame,
} from '../../sdk/wire/api/realtime.ts';
import { ACCESS_KEY_HEADER, AUTH_HEADERS } from '../../sdk/wire/api/signing.ts';
import {
  type Call,
  type CallResult,
  harness,
  newMessageId,
  sendBody,
  signHeaders,
  type TestDevice,
  testMaterial,
} from '../../test/unit/functions/fixtures.ts';
import { perMessage, type Usage, wsMessageUnits } from '../cost-model.ts';
import { type Endpoints, Meter, meteredClients } from './meter.ts';

const decoder = new TextDecoder();

/** What one run of the WebSocket scenarios measured, per unit of work. */
export interface RealtimeUsage {
  /** One reconnect cycle: `$connect`, the first `ping` and its drain, `$disconnect`. */
  readonly reconnect: Usage;
  /** Mean handler time of each invocation of the cycle, ms. */
  readonly reconnectHandlerMs: {
    readonly connect: number;
    readonly ping: number;
    readonly disconnect: number;
  };
  /** One empty signed `GET /v1/messages` through the HTTP app. */
  readonly emptyPoll: Usage;
  /**
   * Between two polls of the SDK's receive loop at its default interval, ms (median); measured
   * when asked for.
   */
  readonly pollPeriodMs: number | undefined;
  /** One message over the socket: the HTTP function's part (the send and its push)... */
  readonly socketSend: Usage;
  /** ...and the WebSocket function's part (the `ack` frame and its `acked` answer). */
  readonly socketAck: Usage;
}

/**
 * A management API client that answers in-process: a `PostToConnection` (the only command with
 * `Data`) is metered as a WebSocket message (32 KiB units) and its frame kept; every command
 * (also `DeleteConnection`) succeeds without a request.
 */
class FakeManagement {
  readonly client = new ApiGatewayManagementApiClient({
    endpoint: 'https://bench.execute-api.us-east-1.amazonaws.com/v1',
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  readonly frames = new Map<string, ServerFrame[]>();

  constructor(meter: Meter) {
    this.client.middlewareStack.add(
      () => async (args) => {
        const input = args.input as { ConnectionId?: string; Data?: Uint8Array };
        if (input.Data !== undefined) {
          if (meter.active) meter.usage.wsMessageUnits += wsMessageUnits(input.Data.length);
          const id = input.ConnectionId ?? '';
          const list = this.frames.get(id) ?? [];
          list.push(JSON.parse(decoder.decode(input.Data)) as ServerFrame);
          this.frames.set(id, list);
        }
        return { output: { $metadata: { httpStatusCode: 200 } } as never, response: {} };
      },
      { step: 'initialize', name: 'benchFakeManagement' },
    );
  }

  /** The frames posted to `connectionId` since the last call. */
  take(connectionId: string): ServerFrame[] {
    const list = this.frames.get(connectionId) ?? [];
    this.frames.delete(connectionId);
    return list;
  }
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`realtime cost scenario: ${what}`);
}

const types = (frames: readonly ServerFrame[]) => frames.map((f) => f.type).join(',');

/**
 * Runs the WebSocket scenarios `rounds` times each on the emulators and returns the usage per
 * unit of work. Every step checks its answer (status, frames posted), so a broken path fails the
 * benchmark instead of pricing nothing.
 *
 * @example const usage = await measureRealtime(endpoints, { rounds: 20, envelopeBytes: 2048, pollPeriod: true });
 * @throws {Error} if a handler answers other than the protocol says.
 */
export async function measureRealtime(
  endpoints: Endpoints,
  options: { rounds: number; envelopeBytes: number; pollPeriod: boolean },
): Promise<RealtimeUsage> {
  const { rounds, envelopeBytes } = options;
  const meter = new Meter();
  const { dynamodb, s3 } = meteredClients(endpoints, meter);
  const material = testMaterial();
  const ports = awsPorts({
    dynamodb,
    s3,
    table: endpoints.table,
    bucket: endpoints.bucket,
    signingKeys: new StaticSigningKeyProvider(material),
  });
  const h = harness(ports, { config: DEFAULT_CONFIG, start: Date.now() });
  const management = new FakeManagement(meter);
  const log = () => undefined;
  // The composition of both functions when the WebSocket stage is deployed (lambda.ts and
  // realtime-lambda.ts): the HTTP function's message service pushes after each store.
  const { services, realtime } = composeRealtime(
    ports,
    awsRealtimePorts({ dynamodb, table: endpoints.table, management: management.client }),
    { config: DEFAULT_CONFIG, clock: () => h.clock.now, log },
  );
  const handler = createRealtimeHandler({ auth: services.auth, realtime, log });
  const httpWithPush = buildApp({ services, log });

  /** One Lambda invocation of the WebSocket function; inbound frames are metered messages. */
  const invoke: WebSocketHandler = async (event) => {
    if (event.body && meter.active) {
      meter.usage.wsMessageUnits += wsMessageUnits(Buffer.byteLength(event.body));
    }
    const started = performance.now();
    const result = await handler(event);
    if (meter.active) {
      meter.usage.lambdaMs += performance.now() - started;
      meter.usage.lambdaInvocations++;
    }
    return result;
  };
  /** One request to an HTTP function (API Gateway HTTP API + Lambda). */
  const request = async (call: Call, app?: typeof httpWithPush) => {
    const started = performance.now();
    const res = app ? await callApp(app, call) : await h.call(call);
    meter.apiRequest(started, call.json, res.body);
    return res;
  };

  const key = randomBytes(16);
  const bob = await h.register(key);
  const frame = (connectionId: string, body: ClientFrame): WebSocketEvent => ({
    requestContext: { routeKey: '$default', connectionId },
    body: JSON.stringify(body),
  });
  const connect = (connectionId: string): WebSocketEvent => ({
    requestContext: { routeKey: '$connect', connectionId },
    queryStringParameters: connectQuery(bob, h.clock.now),
  });
  const disconnect = (connectionId: string): WebSocketEvent => ({
    requestContext: { routeKey: '$disconnect', connectionId },
  });

  // A reconnect cycle of an idle device (empty queue).
  const handlerMs = { connect: 0, ping: 0, disconnect: 0 };
  const timed = async (step: keyof typeof handlerMs, event: WebSocketEvent) => {
    const before = meter.usage.lambdaMs;
    const result = await invoke(event);
    handlerMs[step] += (meter.usage.lambdaMs - before) / rounds;
    return result;
  };
  const reconnect = await meter.measure(async () => {
    for (let i = 0; i < rounds; i++) {
      const id = `bench-${i}=`;
      expect((await timed('connect', connect(id))).statusCode === 200, '$connect refused');
      expect((await timed('ping', frame(id, { type: 'ping' }))).statusCode === 200, 'ping failed');
      const posted = types(management.take(id));
      expect(posted === 'pong,queue-empty', `ping answered ${posted}`);
      expect((await timed('disconnect', disconnect(id))).statusCode === 200, '$disconnect failed');
    }
  });

  // An empty poll through the HTTP app (no push composition needed: nothing is stored).
  const emptyPoll = await meter.measure(async () => {
    for (let i = 0; i < rounds; i++) {
      const res = await request({ method: 'GET', path: '/v1/messages?limit=100', signer: bob });
      expect(res.status === 200 && res.body.messages.length === 0, 'poll not empty');
    }
  });

  // Messages over a live connection: each send pushes its frame, each frame is acknowledged.
  const live = 'bench-live=';
  await invoke(connect(live));
  await invoke(frame(live, { type: 'ping' }));
  management.take(live);
  const ids: string[] = [];
  const socketSend = await meter.measure(async () => {
    for (let i = 0; i < rounds; i++) {
      const res = await request(
        {
          method: 'PUT',
          path: `/v1/messages/${bob.account.address}`,
          json: sendBody(newMessageId(h.clock.now + i), [[1, randomBytes(envelopeBytes)]]),
          headers: { [ACCESS_KEY_HEADER]: toBase64Url(key) },
        },
        httpWithPush,
      );
      expect(res.status === 200, `send answered ${res.status}`);
      const pushed = management.take(live);
      const message = pushed[0];
      expect(pushed.length === 1 && message?.type === 'message', `push posted ${types(pushed)}`);
      if (message?.type === 'message') ids.push(message.message.messageId);
    }
  });
  const socketAck = await meter.measure(async () => {
    for (const [i, messageId] of ids.entries()) {
      await invoke(frame(live, { type: 'ack', id: String(i + 1), messageIds: [messageId] }));
      const answer = management.take(live);
      const acked = answer[0];
      expect(
        answer.length === 1 && acked?.type === 'acked' && acked.acknowledged === 1,
        `ack answered ${types(answer)}`,
      );
    }
  });
  const left = await h.call({ method: 'GET', path: '/v1/messages?limit=100', signer: bob });
  expect(left.body.messages.length === 0, 'acknowledged messages are still queued');
  await invoke(disconnect(live));

  const pollPeriodMs = options.pollPeriod
    ? await sdkPollPeriod(h.app, material.trustRoot)
    : undefined;
  dynamodb.destroy();
  s3.destroy();
  return {
    reconnect: perMessage(reconnect, rounds),
    reconnectHandlerMs: handlerMs,
    emptyPoll: perMessage(emptyPoll, rounds),
    pollPeriodMs,
    socketSend: perMessage(socketSend, rounds),
    socketAck: perMessage(socketAck, rounds),
  };
}

/** The connect query of a signed `GET REALTIME_PATH` (the SDK's connect URL fields). */
function connectQuery(device: TestDevice, now: number): Record<string, string> {
  const headers = signHeaders(device, 'GET', REALTIME_PATH, new Uint8Array(), now);
  const query: Record<string, string> = {};
  for (const field of Object.keys(AUTH_HEADERS) as (keyof typeof AUTH_HEADERS)[]) {
    query[CONNECT_QUERY[field]] = headers[AUTH_HEADERS[field]]!;
  }
  return query;
}

/** An unsigned request to a Hono app, as the harness makes it (a sealed send is unsigned). */
async function callApp(
  app: ReturnType<typeof buildApp>,
  call: Call,
): Promise<Pick<CallResult, 'status' | 'body'>> {
  const res = await app.request(call.path, {
    method: call.method,
    headers: { 'content-type': 'application/json', ...call.headers },
    ...(call.json !== undefined ? { body: JSON.stringify(call.json) } : {}),
  });
  return { status: res.status, body: (await res.json()) as CallResult['body'] };
}

/**
 * The period of the SDK's polling loop at its default interval, measured: a real client
 * (`webSocket: false`, no `pollIntervalMs`) receiving from an empty mailbox through `app` for
 * a few seconds; the median gap between the starts of its `GET /v1/messages`.
 */
async function sdkPollPeriod(
  app: ReturnType<typeof buildApp>,
  trustRoot: Uint8Array,
): Promise<number> {
  const starts: number[] = [];
  const client = await SealpostClient.register({
    baseUrl: 'http://bench.local',
    store: new MemoryStore(),
    trust: { trustRoot },
    webSocket: false,
    fetch: async (url, init) => app.request(url, init),
    onRequest: (e) => {
      if (e.operation === 'fetchMessages') starts.push(performance.now() - e.durationMs);
    },
  });
  const abort = new AbortController();
  const loop = (async () => {
    for await (const _ of client.receive({ signal: abort.signal })) {
      // The mailbox stays empty.
    }
  })();
  while (starts.length < 5) await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  await loop;
  client.close();
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  return [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
}
