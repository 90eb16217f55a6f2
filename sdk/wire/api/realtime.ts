/**
 * Realtime delivery frames (docs/SERVICE.md §7.3): JSON text frames exchanged
 * over the device's WebSocket, as valibot schemas shared by the server and clients. Sizes are
 * API Gateway's WebSocket limits: a frame of at most {@link MAX_FRAME_BYTES}, a whole message
 * of at most {@link MAX_SOCKET_MESSAGE_BYTES}. Objects are strict, like the HTTP bodies.
 */
import * as v from 'valibot';
import { MAX_SHARED_PAYLOAD_BYTES } from '../multi-recipient-payload.ts';
import { API_ERROR_STATUS, type ApiErrorCode } from './errors.ts';
import { bytesField, CountField, TimestampField } from './fields.ts';
import { MAX_ENVELOPE_BYTES, MAX_FETCH_BATCH, MESSAGE_ID_BYTES } from './limits.ts';
import { DeliveredMessageSchema } from './schemas.ts';

/** Largest frame a client may send, in UTF-8 bytes. */
export const MAX_FRAME_BYTES = 32_768;

/** Largest server message, in UTF-8 bytes: a message frame that would not fit is a pointer. */
export const MAX_SOCKET_MESSAGE_BYTES = 131_072;

/** Longest client-chosen `id` of an ack frame, echoed in its `acked` or `error` answer. */
export const MAX_FRAME_ID_LENGTH = 64;

/**
 * Path of the WebSocket endpoint. A connect is an owner-signed `GET` of exactly this path with
 * an empty body (docs/SERVICE.md §3.1); the five signed fields travel as query parameters
 * ({@link CONNECT_QUERY}) because a browser cannot set headers on a WebSocket, and are not
 * part of the signed path.
 */
export const REALTIME_PATH = '/v1/websocket';

/**
 * Query parameter names of the connect URL: the five owner-auth fields, and `payloads`
 * (value `1`, not signed: it only selects the frame format) for a connection whose message
 * frames carry shared payloads (docs/SERVICE.md §7.3, docs/PROTOCOL.md §14.6).
 */
export const CONNECT_QUERY = {
  address: 'address',
  device: 'device',
  timestamp: 'timestamp',
  nonce: 'nonce',
  signature: 'signature',
  payloads: 'payloads',
} as const;

/** WebSocket close codes the server uses. */
export const REALTIME_CLOSE = {
  /** A frame could not be parsed, was too large, or has an unknown type. */
  PROTOCOL_ERROR: 4400,
  /** The connection was not authenticated. */
  NOT_AUTHENTICATED: 4401,
  /** A newer connection of the same device replaced this one. */
  REPLACED: 4409,
  /** The device was removed from its account (or its id now belongs to a new device). */
  DEVICE_REMOVED: 4410,
} as const;

/** One of {@link REALTIME_CLOSE}'s codes. */
export type RealtimeCloseCode = (typeof REALTIME_CLOSE)[keyof typeof REALTIME_CLOSE];

/** Longest `reason` of a `close` frame: a WebSocket close reason's limit, in characters. */
export const MAX_CLOSE_REASON_LENGTH = 123;

const CLOSE_CODES: ReadonlySet<number> = new Set(Object.values(REALTIME_CLOSE));

/**
 * True when `code` is one of {@link REALTIME_CLOSE}'s codes.
 *
 * @example isRealtimeCloseCode(4409) // true; isRealtimeCloseCode(1000) // false
 */
export function isRealtimeCloseCode(code: number): code is RealtimeCloseCode {
  return CLOSE_CODES.has(code);
}

const FrameIdField = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_FRAME_ID_LENGTH));
const ErrorCodeField = v.picklist(
  Object.keys(API_ERROR_STATUS) as [ApiErrorCode, ...ApiErrorCode[]],
);

/** Client → server: acknowledge delivered messages (the WebSocket form of `POST /v1/messages/ack`). */
export const AckFrameSchema = v.strictObject({
  type: v.literal('ack'),
  id: FrameIdField,
  messageIds: v.pipe(
    v.array(bytesField(MESSAGE_ID_BYTES)),
    v.minLength(1),
    v.maxLength(MAX_FETCH_BATCH),
  ),
});

/**
 * Client → server: answered by a `pong` frame. A client sends it first on every connection: on
 * API Gateway it starts the drain of the device's queue (a connection cannot be posted to
 * before `$connect` returns).
 */
export const PingFrameSchema = v.strictObject({ type: v.literal('ping') });

/**
 * Client → server: keeps an idle connection open and is not answered. On API Gateway its route
 * ({@link KEEPALIVE_ROUTE}) is a mock integration: one inbound message, no function invoked.
 */
export const KeepaliveFrameSchema = v.strictObject({ type: v.literal('keepalive') });

/**
 * The WebSocket API's route key of {@link KeepaliveFrameSchema} frames: API Gateway selects
 * routes by `$request.body.type`, and every other frame takes `$default`.
 */
export const KEEPALIVE_ROUTE = 'keepalive';

/** Every client → server frame. */
export const ClientFrameSchema = v.variant('type', [
  AckFrameSchema,
  PingFrameSchema,
  KeepaliveFrameSchema,
]);

/**
 * Marks a frame sent by the push after a store (not by a drain). A push may overtake the drain
 * running on the same connection (on AWS they run in different functions), so a client holds
 * pushed frames that arrive before the drain's `queue-empty` and releases them after it, in
 * mailbox order, skipping those the drain already delivered.
 */
const PushedField = v.optional(v.literal(true));

/** Server → client: one message, exactly as `GET /v1/messages` returns it. */
export const MessageFrameSchema = v.strictObject({
  type: v.literal('message'),
  message: DeliveredMessageSchema,
  pushed: PushedField,
});

/**
 * Server → client: a message whose frame would exceed {@link MAX_SOCKET_MESSAGE_BYTES}; the
 * client reads it with `GET /v1/messages`. `size` is the envelope's length in bytes, plus the
 * shared payload's on a connection opened with `payloads=1` (only there can it pass
 * {@link MAX_ENVELOPE_BYTES}).
 */
export const MessagePointerFrameSchema = v.strictObject({
  type: v.literal('message-pointer'),
  messageId: bytesField(MESSAGE_ID_BYTES),
  receivedAt: TimestampField,
  size: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(1),
    v.maxValue(MAX_ENVELOPE_BYTES + MAX_SHARED_PAYLOAD_BYTES),
  ),
  pushed: PushedField,
});

/** Server → client: a drain reached the end of the device's queue. */
export const QueueEmptyFrameSchema = v.strictObject({ type: v.literal('queue-empty') });

/** Server → client: the answer to an ack frame, with how many of its ids it acknowledged. */
export const AckedFrameSchema = v.strictObject({
  type: v.literal('acked'),
  id: FrameIdField,
  acknowledged: CountField,
});

/** Server → client: the answer to a ping frame. */
export const PongFrameSchema = v.strictObject({ type: v.literal('pong') });

/** Server → client: a refused frame; `id` is the ack frame's id when it could be read. */
export const ErrorFrameSchema = v.strictObject({
  type: v.literal('error'),
  code: ErrorCodeField,
  message: v.string(),
  id: v.optional(FrameIdField),
});

/**
 * Server → client: the connection is about to be closed with `code`; the server sends it right
 * before closing, because API Gateway cannot carry a WebSocket close code (its close reaches
 * the client as a plain one). A client treats it exactly as a close with `code`.
 */
export const CloseFrameSchema = v.strictObject({
  type: v.literal('close'),
  code: v.picklist(Object.values(REALTIME_CLOSE) as [RealtimeCloseCode, ...RealtimeCloseCode[]]),
  reason: v.pipe(v.string(), v.maxLength(MAX_CLOSE_REASON_LENGTH)),
});

/** Every server → client frame. */
export const ServerFrameSchema = v.variant('type', [
  MessageFrameSchema,
  MessagePointerFrameSchema,
  QueueEmptyFrameSchema,
  AckedFrameSchema,
  PongFrameSchema,
  ErrorFrameSchema,
  CloseFrameSchema,
]);

export type AckFrame = v.InferOutput<typeof AckFrameSchema>;
export type PingFrame = v.InferOutput<typeof PingFrameSchema>;
export type KeepaliveFrame = v.InferOutput<typeof KeepaliveFrameSchema>;
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;
export type MessageFrame = v.InferOutput<typeof MessageFrameSchema>;
export type MessagePointerFrame = v.InferOutput<typeof MessagePointerFrameSchema>;
export type QueueEmptyFrame = v.InferOutput<typeof QueueEmptyFrameSchema>;
export type AckedFrame = v.InferOutput<typeof AckedFrameSchema>;
export type PongFrame = v.InferOutput<typeof PongFrameSchema>;
export type ErrorFrame = v.InferOutput<typeof ErrorFrameSchema>;
export type CloseFrame = v.InferOutput<typeof CloseFrameSchema>;
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

/**
 * Why a client frame was refused: `oversized` (more than {@link MAX_FRAME_BYTES}), `malformed`
 * (not a JSON object with a string `type`), `unknown` (a `type` this protocol lacks) — these
 * three end the connection with {@link REALTIME_CLOSE.PROTOCOL_ERROR} — or `invalid` (a known
 * type whose fields do not match its schema; the connection stays open).
 */
export type FrameRejection = 'oversized' | 'malformed' | 'unknown' | 'invalid';

/** The outcome of {@link parseClientFrame}. */
export type ParsedClientFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly reason: FrameRejection; readonly id?: string };

const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set(['ack', 'ping', KEEPALIVE_ROUTE]);
const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

/**
 * Reads one client frame. The size is checked before anything is parsed. Never throws.
 *
 * @example
 * parseClientFrame('{"type":"ping"}') // { ok: true, frame: { type: 'ping' } }
 * parseClientFrame('nope') // { ok: false, reason: 'malformed' }
 */
export function parseClientFrame(text: string): ParsedClientFrame {
  // A UTF-8 encoding is at most 3 bytes per UTF-16 unit, so most frames skip the encode.
  if (
    text.length > MAX_FRAME_BYTES ||
    (text.length * 3 > MAX_FRAME_BYTES && utf8Length(text) > MAX_FRAME_BYTES)
  ) {
    return { ok: false, reason: 'oversized' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'malformed' };
  }
  const fields = json as Record<string, unknown>;
  if (typeof fields.type !== 'string') return { ok: false, reason: 'malformed' };
  if (!CLIENT_FRAME_TYPES.has(fields.type)) return { ok: false, reason: 'unknown' };
  const parsed = v.safeParse(ClientFrameSchema, json);
  if (parsed.success) return { ok: true, frame: parsed.output };
  const id = v.safeParse(FrameIdField, fields.id);
  return id.success
    ? { ok: false, reason: 'invalid', id: id.output }
    : { ok: false, reason: 'invalid' };
}

/**
 * Reads one server frame (for clients). Never throws.
 *
 * @example parseServerFrame('{"type":"queue-empty"}') // { type: 'queue-empty' }
 * @returns the frame, or undefined when the text is not a valid server frame.
 */
export function parseServerFrame(text: string): ServerFrame | undefined {
  if (utf8Length(text) > MAX_SOCKET_MESSAGE_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(ServerFrameSchema, json);
  return parsed.success ? parsed.output : undefined;
}

/**
 * The frame that delivers `message` over a socket: the message itself when its frame fits
 * {@link MAX_SOCKET_MESSAGE_BYTES}, otherwise a pointer the client follows over HTTP (its
 * `size`: the envelope's bytes and the payload's, if the message has one). A frame
 * of the push after a store (`via: 'push'`) is marked `pushed`.
 *
 * @example deliveryFrame(message).type // 'message' or 'message-pointer'
 * @example deliveryFrame(message, 'push').pushed // true
 */
export function deliveryFrame(
  message: v.InferOutput<typeof DeliveredMessageSchema>,
  via: 'drain' | 'push' = 'drain',
): MessageFrame | MessagePointerFrame {
  const pushed = via === 'push' ? ({ pushed: true } as const) : {};
  const frame: MessageFrame = { type: 'message', message, ...pushed };
  // Every character of a message frame is ASCII (base64url, digits, an address), so the
  // JSON text's length is its byte length.
  if (JSON.stringify(frame).length <= MAX_SOCKET_MESSAGE_BYTES) return frame;
  return {
    type: 'message-pointer',
    messageId: message.messageId,
    receivedAt: message.receivedAt,
    size: base64UrlBytes(message.envelope) + base64UrlBytes(message.payload ?? ''),
    ...pushed,
  };
}

/** Bytes of unpadded base64url text (the wire's byte fields). */
const base64UrlBytes = (text: string): number => Math.floor((text.length * 3) / 4);

/**
 * The notice a server sends right before closing a connection with `code` (see
 * {@link CloseFrameSchema}); `reason` is cut to {@link MAX_CLOSE_REASON_LENGTH}.
 *
 * @example closeFrame(REALTIME_CLOSE.REPLACED, 'replaced') // { type: 'close', code: 4409, reason: 'replaced' }
 */
export function closeFrame(code: RealtimeCloseCode, reason: string): CloseFrame {
  return { type: 'close', code, reason: reason.slice(0, MAX_CLOSE_REASON_LENGTH) };
}

/**
 * The text of a server frame.
 *
 * @example encodeFrame({ type: 'pong' }) // '{"type":"pong"}'
 */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}
