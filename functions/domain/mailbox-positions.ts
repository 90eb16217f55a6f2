/**
 * Positions and stored times of a mailbox (docs/SERVICE.md §7.2, §8.1).
 *
 * A position is `u64 sequence number || 8 server-random bytes` (big-endian, so byte order is
 * sequence order): it orders the mailbox, holds no time, and owes nothing to the sender's
 * request id. Every time stored with a message is a whole hour, so a stored time cannot pair a
 * sealed message with its sender's own-device sync copy (§7.2).
 */
import { RECEIVED_AT_PRECISION_MS } from 'sealpost/wire/api';
import { sha256 } from './crypto.ts';
import { type Mailbox, POSITION_BYTES } from './ports.ts';

/** `n` random bytes (injected so tests are deterministic). */
export type Random = (n: number) => Uint8Array;

/** Random bytes after the sequence number. */
export const POSITION_RANDOM_BYTES = 8;

/**
 * The position of sequence number `seq` with random tail `random`.
 *
 * @example encodePosition(1n, randomBytes(8)).length // 16
 * @throws {RangeError} if `seq` is not in 0..2^64-1 or `random` is not 8 bytes.
 */
export function encodePosition(seq: bigint, random: Uint8Array): Uint8Array {
  if (seq < 0n || seq >= 2n ** 64n) throw new RangeError('seq must be in 0..2^64-1');
  if (random.length !== POSITION_RANDOM_BYTES) throw new RangeError('random must be 8 bytes');
  const position = new Uint8Array(POSITION_BYTES);
  new DataView(position.buffer).setBigUint64(0, seq);
  position.set(random, 8);
  return position;
}

/** Rounds a time down to the stored precision (one hour). */
export const floorHour = (ms: number): number =>
  Math.floor(ms / RECEIVED_AT_PRECISION_MS) * RECEIVED_AT_PRECISION_MS;

/** Rounds a time up to the stored precision (one hour). */
export const ceilHour = (ms: number): number =>
  Math.ceil(ms / RECEIVED_AT_PRECISION_MS) * RECEIVED_AT_PRECISION_MS;

const encoder = new TextEncoder();

/**
 * The key a send request's retries are recognised by in one mailbox: the first 16 bytes of
 * SHA-256(mailbox || request id). The request id itself is never stored, and the keys of one
 * request in two mailboxes are unrelated (§8.4).
 *
 * @example retryKey(mailbox, requestId).length // 16
 */
export function retryKey(mailbox: Mailbox, requestId: Uint8Array): Uint8Array {
  const label = encoder.encode(`${mailbox.address}#${mailbox.deviceId}#${mailbox.registrationId}#`);
  const input = new Uint8Array(label.length + requestId.length);
  input.set(label);
  input.set(requestId, label.length);
  return sha256(input).slice(0, 16);
}
