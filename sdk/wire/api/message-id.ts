/**
 * Client-chosen message ids (docs/SERVICE.md §Messages). 16 bytes:
 * `u48 milliseconds since the epoch || 80 random bits` (the UUIDv7 layout without version bits).
 * The time prefix makes a mailbox's ids sort oldest first, so the service can key each message
 * by its id alone and a retried send lands on the same record (stored once).
 */
import { assertBytes } from '../../util/bytes.ts';
import { MESSAGE_ID_BYTES } from './limits.ts';

/** Random bytes after the timestamp. */
export const MESSAGE_ID_RANDOM_BYTES = 10;

/**
 * Builds a message id from a timestamp and 10 random bytes.
 *
 * @example createMessageId(Date.now(), crypto.getRandomValues(new Uint8Array(10)))
 * @throws {RangeError} if `timestampMs` is not an integer in 0..2^48-1 or `random` is not 10 bytes.
 */
export function createMessageId(timestampMs: number, random: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0 || timestampMs >= 2 ** 48) {
    throw new RangeError('timestampMs must be an integer in 0..2^48-1');
  }
  assertBytes(random, 'random', MESSAGE_ID_RANDOM_BYTES);
  const id = new Uint8Array(MESSAGE_ID_BYTES);
  const view = new DataView(id.buffer);
  view.setUint16(0, Math.floor(timestampMs / 2 ** 32));
  view.setUint32(2, timestampMs >>> 0);
  id.set(random, 6);
  return id;
}

/**
 * The millisecond timestamp in a message id's first six bytes.
 *
 * @example messageIdTimestamp(createMessageId(1700000000000, random)) // 1700000000000
 * @throws {TypeError | RangeError} if `id` is not 16 bytes.
 */
export function messageIdTimestamp(id: Uint8Array): number {
  assertBytes(id, 'id', MESSAGE_ID_BYTES);
  const view = new DataView(id.buffer, id.byteOffset, id.byteLength);
  return view.getUint16(0) * 2 ** 32 + view.getUint32(2);
}
