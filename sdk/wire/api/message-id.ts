/**
 * Message ids (docs/SERVICE.md §7.1). A send request carries 16 random bytes chosen per request
 * ({@link createRequestId}); the service uses them only to deduplicate retries of that request
 * and never stores them. A delivered message is named by its server-assigned position instead.
 *
 * The older time-prefixed layout (`u48 milliseconds || 80 random bits`, {@link createMessageId})
 * is kept for clients that still build ids that way; the service reads no time from an id.
 */

import { ArgumentRangeError } from '../../util/argument-errors.ts';
import { assertBytes } from '../../util/bytes.ts';
import { MESSAGE_ID_BYTES } from './limits.ts';

/**
 * A send request id: 16 bytes from `random` (a CSPRNG), with no time and nothing shared with
 * any other request, so two copies of one message (the recipient's and the own-device sync
 * copy) carry unrelated ids.
 *
 * @example createRequestId((n) => crypto.getRandomValues(new Uint8Array(n)))
 * @throws {TypeError | RangeError} if `random` does not return 16 bytes.
 */
export function createRequestId(random: (n: number) => Uint8Array): Uint8Array {
  const id = random(MESSAGE_ID_BYTES);
  assertBytes(id, 'random(16)', MESSAGE_ID_BYTES);
  return id;
}

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
    throw new ArgumentRangeError('timestampMs must be an integer in 0..2^48-1');
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
