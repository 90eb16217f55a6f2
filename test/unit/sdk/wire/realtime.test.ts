import { describe, expect, it } from 'vitest';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { MAX_ENVELOPE_BYTES } from '#sdk/wire/api/limits.ts';
import {
  closeFrame,
  deliveryFrame,
  encodeFrame,
  isRealtimeCloseCode,
  MAX_CLOSE_REASON_LENGTH,
  MAX_FRAME_BYTES,
  MAX_SOCKET_MESSAGE_BYTES,
  parseClientFrame,
  parseServerFrame,
  REALTIME_CLOSE,
} from '#sdk/wire/api/realtime.ts';
import type { DeliveredMessage } from '#sdk/wire/api/schemas.ts';

const ID = toBase64Url(new Uint8Array(16).fill(1));

function message(envelopeBytes: number): DeliveredMessage {
  return {
    messageId: ID,
    receivedAt: 3_600_000,
    envelope: toBase64Url(new Uint8Array(envelopeBytes).fill(9)),
  };
}

describe('realtime client frames', () => {
  it('reads ping, keepalive and ack frames', () => {
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, frame: { type: 'ping' } });
    expect(parseClientFrame('{"type":"keepalive"}')).toEqual({
      ok: true,
      frame: { type: 'keepalive' },
    });
    expect(parseClientFrame('{"type":"keepalive","n":1}')).toMatchObject({ ok: false });
    const ack = { type: 'ack', id: 'a1', messageIds: [ID] };
    expect(parseClientFrame(JSON.stringify(ack))).toEqual({ ok: true, frame: ack });
  });

  it('refuses a frame over MAX_FRAME_BYTES before parsing it', () => {
    const padded = `{"type":"ping","x":"${'a'.repeat(MAX_FRAME_BYTES)}"}`;
    expect(parseClientFrame(padded)).toEqual({ ok: false, reason: 'oversized' });
    // Counted in UTF-8 bytes, not characters: 11,000 three-byte characters are 33,000 bytes.
    expect(parseClientFrame(`"${'€'.repeat(11_000)}"`)).toEqual({
      ok: false,
      reason: 'oversized',
    });
  });

  it('tells malformed, unknown and invalid frames apart', () => {
    expect(parseClientFrame('{not json')).toEqual({ ok: false, reason: 'malformed' });
    expect(parseClientFrame('[1]')).toEqual({ ok: false, reason: 'malformed' });
    expect(parseClientFrame('{"kind":"ping"}')).toEqual({ ok: false, reason: 'malformed' });
    expect(parseClientFrame('{"type":"subscribe"}')).toEqual({ ok: false, reason: 'unknown' });
    expect(parseClientFrame('{"type":"ack","id":"q","messageIds":[]}')).toEqual({
      ok: false,
      reason: 'invalid',
      id: 'q',
    });
    expect(parseClientFrame('{"type":"ping","extra":1}')).toEqual({
      ok: false,
      reason: 'invalid',
    });
    const longId = JSON.stringify({ type: 'ack', id: 'x'.repeat(65), messageIds: [ID] });
    expect(parseClientFrame(longId)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('caps an ack at MAX_FETCH_BATCH ids', () => {
    const ids = (n: number) =>
      JSON.stringify({ type: 'ack', id: 'b', messageIds: Array(n).fill(ID) });
    expect(parseClientFrame(ids(100)).ok).toBe(true);
    expect(parseClientFrame(ids(101))).toEqual({ ok: false, reason: 'invalid', id: 'b' });
  });
});

describe('realtime server frames', () => {
  it('delivers a message inline when its frame fits a socket message', () => {
    const m = message(1000);
    const frame = deliveryFrame(m);
    expect(frame).toEqual({ type: 'message', message: m });
    expect(parseServerFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('sends a pointer for an envelope too large to go inline', () => {
    const frame = deliveryFrame(message(MAX_ENVELOPE_BYTES));
    expect(frame).toEqual({
      type: 'message-pointer',
      messageId: ID,
      receivedAt: 3_600_000,
      size: MAX_ENVELOPE_BYTES,
    });
    expect(parseServerFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('switches to a pointer exactly past MAX_SOCKET_MESSAGE_BYTES', () => {
    const overhead = encodeFrame({
      type: 'message',
      message: { ...message(3), envelope: '' },
    }).length;
    // The largest envelope whose base64url text keeps the frame within the limit.
    let bytes = Math.floor(((MAX_SOCKET_MESSAGE_BYTES - overhead) * 3) / 4);
    while (encodeFrame(deliveryFrame(message(bytes))).length > MAX_SOCKET_MESSAGE_BYTES) bytes--;
    expect(deliveryFrame(message(bytes)).type).toBe('message');
    expect(deliveryFrame(message(bytes + 1)).type).toBe('message-pointer');
    expect(deliveryFrame(message(bytes + 1))).toMatchObject({ size: bytes + 1 });
  });

  it('round-trips every other frame and refuses unknown ones', () => {
    const frames = [
      { type: 'queue-empty' },
      { type: 'acked', id: 'a', acknowledged: 2 },
      { type: 'pong' },
      { type: 'error', code: 'BAD_REQUEST', message: 'bad' },
      { type: 'error', code: 'UNAVAILABLE', message: 'later', id: 'z' },
      { type: 'close', code: 4409, reason: 'replaced by a newer connection' },
      { type: 'close', code: 4410, reason: '' },
    ] as const;
    for (const f of frames) expect(parseServerFrame(encodeFrame(f))).toEqual(f);
    expect(parseServerFrame('{"type":"wake"}')).toBeUndefined();
    expect(parseServerFrame('{"type":"error","code":"NOPE","message":""}')).toBeUndefined();
    expect(parseServerFrame('nope')).toBeUndefined();
  });

  it('reads close frames of the REALTIME_CLOSE codes only, with a bounded reason', () => {
    for (const code of Object.values(REALTIME_CLOSE)) {
      expect(parseServerFrame(encodeFrame(closeFrame(code, 'bye')))).toEqual({
        type: 'close',
        code,
        reason: 'bye',
      });
      expect(isRealtimeCloseCode(code)).toBe(true);
    }
    expect(isRealtimeCloseCode(1000)).toBe(false);
    expect(parseServerFrame('{"type":"close","code":1000,"reason":""}')).toBeUndefined();
    expect(parseServerFrame('{"type":"close","code":4409}')).toBeUndefined();
    expect(parseServerFrame('{"type":"close","code":4409,"reason":"","x":1}')).toBeUndefined();
    const long = 'r'.repeat(MAX_CLOSE_REASON_LENGTH + 1);
    expect(
      parseServerFrame(JSON.stringify({ type: 'close', code: 4400, reason: long })),
    ).toBeUndefined();
    expect(closeFrame(REALTIME_CLOSE.PROTOCOL_ERROR, long).reason).toHaveLength(
      MAX_CLOSE_REASON_LENGTH,
    );
  });
});
