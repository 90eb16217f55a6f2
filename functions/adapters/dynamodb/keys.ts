/**
 * Every DynamoDB key of the one table (docs/SERVICE.md §Storage). The table has
 * string keys `pk`/`sk` and the TTL attribute `ttl` (epoch seconds). Numeric key parts are
 * zero-padded and mailbox positions hex-encoded so the sort order of `sk` is numeric and, for
 * messages, the order the mailbox counter assigned (a position starts with its u64 sequence
 * number).
 */
import { TTL_ATTRIBUTE } from '../../deployment.ts';
import { hex } from '../../domain/crypto.ts';
import type { DeviceRef, Mailbox } from '../../domain/ports.ts';

/** Name of the TTL attribute (epoch seconds), set on every item that expires. */
export { TTL_ATTRIBUTE };

/** A primary key. */
export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

const pad = (n: number): string => n.toString().padStart(10, '0');

/** Partition of an account: the account item plus one item per device. */
export const accountPartition = (address: string): string => `acct#${address}`;
/** Sort key of the account item ('account' sorts before every 'dev#'). */
export const ACCOUNT_SK = 'account';
/** Sort-key prefix of device items. */
export const DEVICE_SK_PREFIX = 'dev#';

export const accountKey = (address: string): ItemKey => ({
  pk: accountPartition(address),
  sk: ACCOUNT_SK,
});
export const deviceKey = (address: string, deviceId: number): ItemKey => ({
  pk: accountPartition(address),
  sk: `${DEVICE_SK_PREFIX}${pad(deviceId)}`,
});

/** The `<address>#<deviceId>#<registrationId>` part of per-generation partitions. */
const generation = (d: DeviceRef): string => `${d.address}#${d.deviceId}#${d.registrationId}`;

/**
 * Partition of one device generation's one-time prekeys (its own, so claims never contend
 * across devices, and a reused device id never serves a removed device's keys).
 */
export const prekeyPartition = (d: DeviceRef): string => `otk#${generation(d)}`;
/** Sort-key prefixes of one-time EC and one-time KEM prekeys. */
export const EC_SK_PREFIX = 'ec#';
export const PQ_SK_PREFIX = 'pq#';
export const ecPrekeyKey = (d: DeviceRef, id: number): ItemKey => ({
  pk: prekeyPartition(d),
  sk: `${EC_SK_PREFIX}${pad(id)}`,
});
export const pqPrekeyKey = (d: DeviceRef, id: number): ItemKey => ({
  pk: prekeyPartition(d),
  sk: `${PQ_SK_PREFIX}${pad(id)}`,
});

/**
 * Partition of one device generation's mailbox: the message records, then the counter
 * ('m#' < 'usage').
 */
export const mailboxPartition = (m: Mailbox): string => `mbx#${generation(m)}`;
/** Sort-key prefix of message records (followed by the hex position). */
export const MESSAGE_SK_PREFIX = 'm#';
/** Sort key of the mailbox counter (sorts after every record). */
export const USAGE_SK = 'usage';
/** The record at `position`. */
export const messageKey = (m: Mailbox, position: Uint8Array): ItemKey => ({
  pk: mailboxPartition(m),
  sk: `${MESSAGE_SK_PREFIX}${hex(position)}`,
});
export const usageKey = (m: Mailbox): ItemKey => ({ pk: mailboxPartition(m), sk: USAGE_SK });

/** A single-use token (request nonce, registration proof). */
export const replayKey = (token: string): ItemKey => ({ pk: `once#${token}`, sk: 'once' });

/** A rate-limit counter of one fixed window. */
export const rateKey = (key: string, window: number): ItemKey => ({
  pk: `rate#${key}#${window}`,
  sk: 'rate',
});

/**
 * An attachment upload session (docs/SERVICE.md §7.6): exists only while the upload runs, named
 * by the random attachment id.
 */
export const uploadSessionKey = (id: string): ItemKey => ({ pk: `att#${id}`, sk: 'att' });

/** An account's attachment quota: bytes uploaded per UTC day within the retention period. */
export const attachmentQuotaKey = (address: string): ItemKey => ({
  pk: `attq#${address}`,
  sk: 'attq',
});

/**
 * The reference set of one shared payload (docs/PROTOCOL.md §14.8): named by the payload's
 * random id, so sets never contend across payloads and no key holds an address.
 */
export const payloadRefsKey = (id: Uint8Array): ItemKey => ({
  pk: `pay#${hex(id)}`,
  sk: 'refs',
});
