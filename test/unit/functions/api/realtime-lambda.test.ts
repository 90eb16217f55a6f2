/**
 * The WebSocket Lambda handler over the memory ports and the API Gateway sender with its
 * management client mocked: signed connect, 401 refusal, ping -> pong and drain, gone
 * connections removed, failing posts swallowed, disconnect, and pushes after a store.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewaySender } from '#functions/adapters/aws/apigw-sender.ts';
import { MemoryConnections } from '#functions/adapters/memory/memory-connections.ts';
import {
  composeRealtime,
  createRealtimeHandler,
  type WebSocketEvent,
} from '#functions/api/realtime-lambda.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import {
  CONNECT_QUERY,
  REALTIME_CLOSE,
  REALTIME_PATH,
  type ServerFrame,
} from '#sdk/wire/api/realtime.ts';
import { AUTH_HEADERS } from '#sdk/wire/api/signing.ts';
import { encodeMultiRecipientRequest } from '#sdk/wire/multi-recipient.ts';
import {
  harness,
  memoryPorts,
  newMessageId,
  registrationId,
  signHeaders,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';

const management = mockClient(ApiGatewayManagementApiClient);
const decoder = new TextDecoder();

beforeEach(() => {
  management.reset();
  management.on(PostToConnectionCommand).resolves({});
  management.on(DeleteConnectionCommand).resolves({});
});

const gone = () => new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } });

/** Frames posted to `connectionId`, decoded. */
function posted(connectionId: string): ServerFrame[] {
  return management
    .commandCalls(PostToConnectionCommand)
    .filter((c) => c.args[0].input.ConnectionId === connectionId)
    .map((c) => JSON.parse(decoder.decode(c.args[0].input.Data as Uint8Array)) as ServerFrame);
}

function setup() {
  const ports = memoryPorts(testMaterial());
  const h = harness(ports);
  const connections = new MemoryConnections();
  const logs: string[] = [];
  const sender = new ApiGatewaySender(new ApiGatewayManagementApiClient({ region: 'us-east-1' }));
  const { services, realtime } = composeRealtime(
    ports,
    { connections, sender },
    { clock: () => h.clock.now, log: (l) => logs.push(l) },
  );
  const handler = createRealtimeHandler({
    auth: services.auth,
    realtime,
    log: (l) => logs.push(l),
  });
  const event = (
    routeKey: string,
    connectionId: string,
    extra: Partial<WebSocketEvent> = {},
  ): WebSocketEvent => ({ requestContext: { routeKey, connectionId }, ...extra });
  /** The connect query of a signed `GET REALTIME_PATH` by `device`. */
  const connectQuery = (device: TestDevice) => {
    const headers = signHeaders(device, 'GET', REALTIME_PATH, new Uint8Array(), h.clock.now);
    return {
      [CONNECT_QUERY.address]: headers[AUTH_HEADERS.address],
      [CONNECT_QUERY.device]: headers[AUTH_HEADERS.device],
      [CONNECT_QUERY.timestamp]: headers[AUTH_HEADERS.timestamp],
      [CONNECT_QUERY.nonce]: headers[AUTH_HEADERS.nonce],
      [CONNECT_QUERY.signature]: headers[AUTH_HEADERS.signature],
    };
  };
  const connect = async (device: TestDevice, connectionId: string) =>
    handler(event('$connect', connectionId, { queryStringParameters: connectQuery(device) }));
  /** A sealed send of one envelope to `device` (registered with `accessKey`). */
  const sendTo = (device: TestDevice, accessKey: Uint8Array, body: Uint8Array) =>
    services.messages.sendSealed(device.account.address, toBase64Url(accessKey), {
      messageId: newMessageId(h.clock.now),
      envelopes: [{ deviceId: device.deviceId, envelope: toBase64Url(body) }],
    });
  /** A multi-recipient send of `body` to device 1 of `to` (header: 600 bytes of `fill`). */
  const sendMultiTo = (to: TestDevice, accessKey: Uint8Array, fill: number, body: Uint8Array) => {
    const header = new Uint8Array(600).fill(fill);
    header[0] = 2;
    return services.messages.sendMulti(
      encodeMultiRecipientRequest({
        requestId: randomBytes(16),
        accounts: [
          {
            address: to.account.address,
            auth: { kind: 'accessKey', accessKey },
            devices: [{ deviceId: 1, registrationId: registrationId(to.identity), header }],
          },
        ],
        payload: body,
      }),
    );
  };
  return { h, handler, event, connect, connectQuery, connections, logs, sendTo, sendMultiTo };
}

const ACCESS_KEY = new Uint8Array(16).fill(3);

describe('realtime Lambda handler', () => {
  it('accepts a signed connect and registers the device connection', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    expect(await s.connect(device, 'c1')).toEqual({ statusCode: 200 });
    expect((await s.connections.byConnection('c1'))?.device.address).toBe(device.account.address);
  });

  it('registers the payloads option of a connect; refuses another value with 400 first', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    const query = s.connectQuery(device);
    for (const value of ['true', '0', '']) {
      const refused = await s.handler(
        s.event('$connect', 'c0', {
          queryStringParameters: { ...query, [CONNECT_QUERY.payloads]: value },
        }),
      );
      expect(refused).toEqual({ statusCode: 400 });
    }
    expect(await s.connections.byConnection('c0')).toBeUndefined();
    // The refusals spent no nonce: the same signed query connects with the option.
    const accepted = await s.handler(
      s.event('$connect', 'c1', {
        queryStringParameters: { ...query, [CONNECT_QUERY.payloads]: '1' },
      }),
    );
    expect(accepted).toEqual({ statusCode: 200 });
    expect(await s.connections.byConnection('c1')).toMatchObject({ payloads: true });
    expect(await s.connect(device, 'c2')).toEqual({ statusCode: 200 });
    expect(await s.connections.byConnection('c2')).not.toHaveProperty('payloads');
  });

  it('drains and pushes a shared payload only to a connection opened with payloads=1', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    const payload = new Uint8Array(200).fill(6);
    payload[0] = 1;
    await s.sendMultiTo(device, ACCESS_KEY, 3, payload);
    const query = { ...s.connectQuery(device), [CONNECT_QUERY.payloads]: '1' };
    await s.handler(s.event('$connect', 'c1', { queryStringParameters: query }));
    await s.handler(s.event('$default', 'c1', { body: '{"type":"ping"}' }));
    const [, drained] = posted('c1');
    expect(drained?.type === 'message' && drained.message.payload).toBe(toBase64Url(payload));
    await s.sendMultiTo(device, ACCESS_KEY, 4, payload);
    const pushed = posted('c1').at(-1);
    expect(pushed).toMatchObject({ type: 'message', pushed: true });
    expect(pushed?.type === 'message' && pushed.message.payload).toBe(toBase64Url(payload));

    // A connection without the option: the same queue, headers alone.
    await s.connect(device, 'c2');
    await s.handler(s.event('$default', 'c2', { body: '{"type":"ping"}' }));
    const frames = posted('c2');
    expect(frames.map((f) => f.type)).toEqual(['pong', 'message', 'message', 'queue-empty']);
    for (const f of frames) expect(f).not.toHaveProperty('message.payload');
    expect(frames[1]?.type === 'message' && frames[1].message.envelope.length).toBe(800);
  });

  it('refuses a connect without or with a wrong signature with 401', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    expect(await s.handler(s.event('$connect', 'c1'))).toEqual({ statusCode: 401 });
    const query = s.connectQuery(device);
    const forged = { ...query, [CONNECT_QUERY.device]: '2' };
    expect(await s.handler(s.event('$connect', 'c2', { queryStringParameters: forged }))).toEqual({
      statusCode: 401,
    });
    expect(await s.connections.byConnection('c1')).toBeUndefined();
    expect(await s.connections.byConnection('c2')).toBeUndefined();
  });

  it('answers a ping with pong, then drains the queue', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.sendTo(device, ACCESS_KEY, new Uint8Array([1, 2, 3]));
    await s.connect(device, 'c1');
    expect(await s.handler(s.event('$default', 'c1', { body: '{"type":"ping"}' }))).toEqual({
      statusCode: 200,
    });
    const frames = posted('c1');
    expect(frames.map((f) => f.type)).toEqual(['pong', 'message', 'queue-empty']);
    const [, message] = frames;
    expect(message?.type === 'message' && message.message.envelope).toBe(
      toBase64Url(new Uint8Array([1, 2, 3])),
    );
  });

  it('posts nothing for a keepalive that reaches $default (no drain, no answer)', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.sendTo(device, ACCESS_KEY, new Uint8Array([1]));
    await s.connect(device, 'c1');
    expect(await s.handler(s.event('$default', 'c1', { body: '{"type":"keepalive"}' }))).toEqual({
      statusCode: 200,
    });
    expect(posted('c1')).toEqual([]);
    expect((await s.connections.byConnection('c1'))?.connectionId).toBe('c1');
  });

  it('pushes a message stored while the device is connected', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.connect(device, 'c1');
    await s.sendTo(device, ACCESS_KEY, new Uint8Array([9]));
    expect(posted('c1').map((f) => f.type)).toEqual(['message']);
  });

  it('removes a connection API Gateway reports gone', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.connect(device, 'c1');
    management.on(PostToConnectionCommand).rejects(gone());
    await s.handler(s.event('$default', 'c1', { body: '{"type":"ping"}' }));
    expect(await s.connections.byConnection('c1')).toBeUndefined();
  });

  it('never throws when posting fails, and logs a count only', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.connect(device, 'c1');
    management
      .on(PostToConnectionCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await s.sendTo(device, ACCESS_KEY, new Uint8Array([4]));
    expect(await s.handler(s.event('$default', 'c1', { body: '{"type":"ping"}' }))).toEqual({
      statusCode: 200,
    });
    expect(s.logs.some((l) => l.includes(device.account.address))).toBe(false);
    expect(s.logs.map((l) => JSON.parse(l).event)).toContain('realtime_drain_failed');
    expect((await s.connections.byConnection('c1'))?.connectionId).toBe('c1');
  });

  it('closes a replaced connection by posting a close frame, then DeleteConnection', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.connect(device, 'c1');
    await s.connect(device, 'c2');
    expect(posted('c1')).toEqual([
      { type: 'close', code: REALTIME_CLOSE.REPLACED, reason: 'replaced by a newer connection' },
    ]);
    expect(management.commandCalls(DeleteConnectionCommand)[0]!.args[0].input).toEqual({
      ConnectionId: 'c1',
    });
    const order = management.calls().map((call) => {
      const input = call.args[0].input as { ConnectionId?: string };
      return `${call.args[0].constructor.name}:${input.ConnectionId}`;
    });
    expect(order).toEqual(['PostToConnectionCommand:c1', 'DeleteConnectionCommand:c1']);
  });

  it('closes a connection that sent a malformed frame with a close frame of 4400', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.connect(device, 'c1');
    await s.handler(s.event('$default', 'c1', { body: 'not json' }));
    expect(posted('c1').at(-1)).toEqual({
      type: 'close',
      code: REALTIME_CLOSE.PROTOCOL_ERROR,
      reason: 'protocol error',
    });
    expect(management.commandCalls(DeleteConnectionCommand)).toHaveLength(1);
  });

  it('removes the connection on disconnect, and reads base64 frames', async () => {
    const s = setup();
    const device = await s.h.register(ACCESS_KEY);
    await s.connect(device, 'c1');
    const body = Buffer.from('{"type":"ping"}').toString('base64');
    await s.handler(s.event('$default', 'c1', { body, isBase64Encoded: true }));
    expect(posted('c1')[0]).toEqual({ type: 'pong' });
    expect(await s.handler(s.event('$disconnect', 'c1'))).toEqual({ statusCode: 200 });
    expect(await s.connections.byConnection('c1')).toBeUndefined();
  });
});
