/**
 * The receive loop over the device's WebSocket (docs/SDK.md §Receiving, "Realtime"; frames of
 * docs/SERVICE.md §7.3). Messages pushed or drained over the socket take the polled messages'
 * path (open, hand to the app, atomic commit) and are acknowledged after the commit, coalesced
 * (realtime-acks.ts): a drain's ids go in one `ack` frame at its `queue-empty`, a push's after
 * {@link ACK_WINDOW_MS} with any committed meanwhile, and whatever is buffered when the loop
 * ends goes out before the socket closes. A connection that fails is reopened after a jittered exponential backoff; after
 * {@link SOCKET_FAILURES_BEFORE_POLLING} failures in a row the loop polls over HTTP for each
 * backoff wait, then tries the socket again. Close 4409 (a newer connection of this device
 * replaced this one) makes the loop poll for the rest of its life; close 4410 ends it as a
 * removed device's poll does, with `UNAUTHORIZED`. A `close` frame counts as a close with its
 * code (API Gateway cannot send close codes). The first frame of every connection is a `ping`.
 */
import type { Rng } from '../crypto/backend.ts';
import { fromBase64Url } from '../util/base64url.ts';
import { MAX_FETCH_BATCH } from '../wire/api/limits.ts';
import {
  type MessageFrame,
  type MessagePointerFrame,
  REALTIME_CLOSE,
} from '../wire/api/realtime.ts';
import type { DeliveredMessage } from '../wire/api/schemas.ts';
import { callOf } from './client-options.ts';
import { ApiError, NetworkError } from './errors.ts';
import type { SealpostHttpClient } from './http-client.ts';
import { ACK_WINDOW_MS, AckCoalescer, DRAIN_ACK_WINDOW_MS } from './realtime-acks.ts';
import {
  connectUrl,
  KEEPALIVE_INTERVAL_MS,
  MAX_CONNECTION_AGE_MS,
  RealtimeSocket,
  type WebSocketConstructorLike,
} from './realtime-socket.ts';
import {
  anySignal,
  type ConnectionState,
  EXIT_ACK_TIMEOUT_MS,
  isTransient,
  type MessagePump,
  type ReceiveStreamOptions,
  receiveRetryDelay,
  sleep,
} from './receive-common.ts';

export { anySignal, type ConnectionState, sleep };

import type { IncomingMessage } from './receiver.ts';

/** Failed connections in a row after which the loop polls while it waits to reconnect. */
export const SOCKET_FAILURES_BEFORE_POLLING = 3;

/** Pages of `GET /v1/messages` read to find the message of a `message-pointer` frame. */
const POINTER_PAGES = 10;

/** Ids acknowledged over a socket that are remembered to skip a redelivery without a store read. */
const RECENT_IDS = 1_000;

/**
 * Pushed frames held while a drain runs; past this the connection is dropped and reopened (the
 * messages stay queued for its drain).
 */
export const MAX_HELD_PUSHES = 1_000;

/** What the receive loop needs to open the device's WebSocket. */
export interface RealtimeConfig {
  readonly webSocket: WebSocketConstructorLike;
  /** The WebSocket endpoint (ws or wss, from `realtimeEndpoint`), without the auth fields. */
  readonly url: string;
  /** The five owner-auth fields of a fresh `GET` of `REALTIME_PATH` (one per connect). */
  readonly sign: () => Promise<Record<string, string>>;
}

/** The receive loop's parts a socket session uses. */
interface Host {
  readonly loop: MessagePump;
  readonly http: SealpostHttpClient;
  readonly rng: Rng;
}

/** How one connection ended. */
type SessionEnd = 'aborted' | 'failed' | 'renew' | 'replaced' | 'removed';

/**
 * Tells `options.onConnectionState` about `state`; an observer that throws is ignored.
 *
 * @example reportState(options, 'polling');
 */
export function reportState(options: ReceiveStreamOptions, state: ConnectionState): void {
  try {
    options.onConnectionState?.(state);
  } catch {
    // An observer that throws must not end the loop it observes.
  }
}

/**
 * The streaming receive: over the WebSocket of `config`, or by polling without one; ids to
 * acknowledge that are left in `unacked` are the caller's to acknowledge on exit.
 *
 * @throws {SealpostClientError} as {@link receiveRealtime} and the polling loop.
 */
export async function* receiveStream(
  host: Host,
  config: RealtimeConfig | undefined,
  options: ReceiveStreamOptions,
  unacked: string[],
): AsyncGenerator<IncomingMessage, void, undefined> {
  if (config) return yield* receiveRealtime(host, config, options, unacked);
  reportState(options, 'polling');
  try {
    yield* host.loop.poll(options, unacked);
  } finally {
    reportState(options, 'closed');
  }
}

/**
 * The streaming receive over the WebSocket with polling as the fallback; ids to acknowledge
 * that could not go over a socket are left in `unacked` (the caller acknowledges them on exit).
 *
 * @throws {ApiError} `UNAUTHORIZED` when the service closed the connection with 4410.
 * @throws {SealpostClientError} a failure of the polling fallback that is not transient.
 */
export async function* receiveRealtime(
  host: Host,
  config: RealtimeConfig,
  options: ReceiveStreamOptions,
  unacked: string[],
): AsyncGenerator<IncomingMessage, void, undefined> {
  const { signal } = options;
  const recent = new Set<string>();
  let failures = 0;
  try {
    while (!signal?.aborted) {
      reportState(options, 'connecting');
      const end = yield* session(host, config, options, unacked, recent, () => {
        failures = 0;
      });
      if (end === 'aborted') return;
      if (end === 'removed') {
        throw new ApiError('UNAUTHORIZED', 401, 'realtime', 'the device was removed');
      }
      if (end === 'replaced') {
        reportState(options, 'polling');
        yield* host.loop.poll(options, unacked);
        return;
      }
      if (end === 'renew') continue;
      failures++;
      const delayMs = receiveRetryDelay(failures, options.backoff ?? {}, host.rng);
      const error = new NetworkError('realtime connection failed', { operation: 'realtime' });
      try {
        options.onRetry?.({ error, attempt: failures, delayMs });
      } catch {
        // As in the polling loop: an observer that throws does not end the loop.
      }
      if (failures < SOCKET_FAILURES_BEFORE_POLLING) {
        await sleep(delayMs, signal);
      } else {
        reportState(options, 'polling');
        yield* host.loop.poll(options, unacked, AbortSignal.timeout(delayMs));
      }
    }
  } finally {
    reportState(options, 'closed');
  }
}

/** One connection: from the signed connect to its close, delivering every message frame. */
async function* session(
  host: Host,
  config: RealtimeConfig,
  options: ReceiveStreamOptions,
  unacked: string[],
  recent: Set<string>,
  caughtUp: () => void,
): AsyncGenerator<IncomingMessage, SessionEnd, undefined> {
  const { signal } = options;
  let socket: RealtimeSocket;
  try {
    socket = await RealtimeSocket.open(
      config.webSocket,
      connectUrl(config.url, await config.sign()),
      signal,
    );
  } catch {
    return signal?.aborted ? 'aborted' : 'failed';
  }
  const keepalive = setInterval(() => socket.send({ type: 'keepalive' }), KEEPALIVE_INTERVAL_MS);
  const renewal = setTimeout(() => socket.renew(), MAX_CONNECTION_AGE_MS);
  const acks = new AckCoalescer(socket, unacked);
  // Until the connection's drain ends with `queue-empty`, pushed frames are held.
  let draining = true;
  const ack = (id: string) => {
    remember(recent, id);
    acks.add(id, draining ? DRAIN_ACK_WINDOW_MS : ACK_WINDOW_MS);
  };
  let end: SessionEnd | undefined;
  const ended = (e: SessionEnd): SessionEnd => {
    end = e;
    return e;
  };
  const held: DeliveryFrame[] = [];
  async function* deliverFrame(frame: DeliveryFrame): AsyncGenerator<IncomingMessage, void> {
    const id = frame.type === 'message' ? frame.message.messageId : frame.messageId;
    if (recent.has(id)) {
      // Pushed and drained both: delivered once, acknowledged again.
      ack(id);
      return;
    }
    const delivered =
      frame.type === 'message' ? frame.message : await readPointed(host, id, options);
    if (delivered) yield* host.loop.deliver(delivered, options, ack);
  }
  try {
    // The first frame: on API Gateway it starts the drain (docs/SERVICE.md §7.3); elsewhere it
    // is only answered with `pong`. Then what an earlier connection or poll could not
    // acknowledge.
    socket.send({ type: 'ping' });
    for (const id of unacked.splice(0)) acks.add(id, DRAIN_ACK_WINDOW_MS);
    acks.flush();
    for (;;) {
      const event = await socket.next(signal);
      if (event.kind === 'aborted' || event.kind === 'renew') return ended(event.kind);
      if (event.kind === 'closed') return ended(closeEnd(event.code));
      const { frame } = event;
      if (frame.type === 'acked' || frame.type === 'error') {
        acks.answer(frame);
        continue;
      }
      if (frame.type === 'queue-empty') {
        // The drain's ids go out together.
        acks.flush();
        draining = false;
        caughtUp();
        reportState(options, 'open');
        for (const pushed of held.splice(0).sort(inMailboxOrder)) {
          yield* deliverFrame(pushed);
          if (signal?.aborted) return 'aborted';
        }
        continue;
      }
      if (frame.type !== 'message' && frame.type !== 'message-pointer') continue;
      if (frame.pushed && draining) {
        // A push may overtake the drain (on AWS they run in different functions): it waits
        // for `queue-empty`. Past the bound the connection is dropped; the messages stay
        // queued and the next connection's drain brings them in order.
        if (held.length >= MAX_HELD_PUSHES) return ended('failed');
        held.push(frame);
        continue;
      }
      yield* deliverFrame(frame);
      if (signal?.aborted) return 'aborted';
    }
  } finally {
    clearInterval(keepalive);
    clearTimeout(renewal);
    // A connection still open (the loop ends, or the connection is renewed, or the consumer
    // left the loop) sends what is buffered and waits, bounded, for the answers.
    if (end !== 'failed' && end !== 'replaced' && end !== 'removed') await settleAcks(socket, acks);
    acks.abandon();
    socket.close();
  }
}

/**
 * Sends the buffered ids and reads the connection until every `ack` frame is answered, the
 * connection closes, or {@link EXIT_ACK_TIMEOUT_MS} passes; other frames are dropped (their
 * messages stay queued and come again).
 */
async function settleAcks(socket: RealtimeSocket, acks: AckCoalescer): Promise<void> {
  acks.flush();
  if (!acks.outstanding) return;
  const timeout = AbortSignal.timeout(EXIT_ACK_TIMEOUT_MS);
  while (acks.outstanding) {
    const event = await socket.next(timeout);
    if (event.kind !== 'frame') return;
    if (event.frame.type === 'acked' || event.frame.type === 'error') acks.answer(event.frame);
  }
}

/** A frame that delivers one message. */
type DeliveryFrame = MessageFrame | MessagePointerFrame;

const frameId = (f: DeliveryFrame): string =>
  f.type === 'message' ? f.message.messageId : f.messageId;

/**
 * Mailbox order of two frames: a message id is its 16-byte position, whose byte order is
 * the mailbox's (docs/SERVICE.md §7.2).
 */
function inMailboxOrder(a: DeliveryFrame, b: DeliveryFrame): number {
  const x = fromBase64Url(frameId(a));
  const y = fromBase64Url(frameId(b));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return x.length - y.length;
}

function closeEnd(code: number): SessionEnd {
  if (code === REALTIME_CLOSE.REPLACED) return 'replaced';
  if (code === REALTIME_CLOSE.DEVICE_REMOVED) return 'removed';
  return 'failed';
}

function remember(recent: Set<string>, id: string): void {
  recent.delete(id);
  recent.add(id);
  if (recent.size > RECENT_IDS) {
    const oldest = recent.values().next().value;
    if (oldest !== undefined) recent.delete(oldest);
  }
}

/**
 * The message of a `message-pointer` frame, read with `GET /v1/messages`; undefined when it is
 * no longer queued or the read failed transiently (it stays queued and comes again).
 *
 * @throws {SealpostClientError} a failure that is not transient.
 */
async function readPointed(
  host: Host,
  messageId: string,
  options: ReceiveStreamOptions,
): Promise<DeliveredMessage | undefined> {
  const call = callOf(options);
  let cursor: string | undefined;
  try {
    for (let page = 0; page < POINTER_PAGES; page++) {
      const res = await host.http.fetchMessages(
        { limit: MAX_FETCH_BATCH, ...(cursor ? { cursor } : {}) },
        call,
      );
      const found = res.messages.find((m) => m.messageId === messageId);
      if (found || !res.cursor) return found;
      cursor = res.cursor;
    }
  } catch (err) {
    if (options.signal?.aborted || isTransient(err)) return undefined;
    throw err;
  }
  return undefined;
}
