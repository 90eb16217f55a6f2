/**
 * Assertions of the storage dump tests (storage-dump.test.ts) on a {@link ServerDump}: what
 * no record may hold (README §Security model, docs/SERVICE.md §7.3/§7.4), and the fetch that
 * records the ids clients chose.
 */
import { expect } from 'vitest';
import type { FetchLike, SealpostClient } from '#sdk/client/index.ts';
import { decodeMultiRecipientRequest } from '#sdk/wire/multi-recipient.ts';
import {
  containsBytes,
  type DumpedRecord,
  encodings,
  finerThanHour,
  identifierTokens,
  isoTimesFinerThanHour,
  type ServerDump,
  type TimeWindow,
} from './server-dump.ts';

/**
 * Items that record accounts, devices, rate-limit windows and token issuer keys (whose
 * `notAfter` is the last millisecond of a UTC day after the day they issue on), not messages.
 * Single-use nonce
 * records (`once#`) are checked like message records: the own-device sync copy is a signed
 * request, so its nonce record must name nobody and hold no time finer than an hour.
 */
const NOT_ABOUT_MESSAGES = /^(acct#|rate#|tkey )/;

/** The two accounts of a conversation, each with its devices (the primary first). */
export type People = Record<'alice' | 'bob', SealpostClient[]>;

/** Records the request id of every send, in every encoding. */
export function recordingFetch(requestIds: Uint8Array[]): FetchLike {
  return async (url, init) => {
    const path = new URL(url).pathname;
    if (init.method === 'PUT' && path.startsWith('/v1/messages/multi')) {
      // A multi-recipient send (docs/PROTOCOL.md §14.4): binary, the request id inside.
      requestIds.push(decodeMultiRecipientRequest(init.body as Uint8Array).requestId);
    } else if (init.method === 'PUT' && path.startsWith('/v1/messages/')) {
      const body = JSON.parse(new TextDecoder().decode(init.body as Uint8Array)) as {
        messageId: string;
      };
      requestIds.push(Buffer.from(body.messageId, 'base64url'));
    }
    return fetch(url, init);
  };
}

/** A message record (`mbx#… m#…`). */
export const isMessageRecord = (r: DumpedRecord): boolean =>
  r.kind === 'item' && / m#/.test(r.where);

/** Records of `address`'s mailboxes: message and counter items, envelope objects. */
export const inMailboxOf =
  (address: string) =>
  (r: DumpedRecord): boolean =>
    r.kind === 'item' ? r.where.startsWith(`mbx#${address}#`) : r.where.includes(`/${address}/`);

/** The texts of one polled batch (binary messages as undefined). */
export const texts = async (c: SealpostClient): Promise<(string | undefined)[]> =>
  (await c.receiveBatch()).messages.map((m) => m.text);

/** Every public identity key of every device of `people`. */
export function identityKeysOf(people: People): Uint8Array[] {
  return [...people.alice, ...people.bob].flatMap((c) => {
    const id = c.engine.identity;
    return [id.accountPublic, id.signingPublic, id.dhPublic];
  });
}

/**
 * No record of a message waiting for `recipient` (item or object) shares an identifier-like
 * token with the sync copies in `sender`'s mailboxes, nor names a source; `extra` records
 * (e.g. connection and push items, frames) are held to the same.
 */
export function checkNoLinkToSyncCopies(
  dump: ServerDump,
  recipient: SealpostClient,
  sender: SealpostClient,
  window: TimeWindow,
  extra: DumpedRecord[] = [],
): { sealed: DumpedRecord[]; syncCopies: DumpedRecord[] } {
  const records = [...dump.items, ...dump.objects];
  const stored = (r: DumpedRecord) => isMessageRecord(r) || r.kind === 'object';
  const sealed = records.filter((r) => stored(r) && inMailboxOf(recipient.address)(r));
  const syncCopies = records.filter((r) => stored(r) && inMailboxOf(sender.address)(r));
  const syncTokens = new Set(syncCopies.flatMap((r) => [...identifierTokens(r, window)]));
  for (const r of [...sealed, ...extra]) {
    expect(
      [...identifierTokens(r, window)].filter((t) => syncTokens.has(t)),
      r.where,
    ).toEqual([]);
    expect(r.names?.filter((n) => /source|sender|from/i.test(n)) ?? [], r.where).toEqual([]);
  }
  return { sealed, syncCopies };
}

/**
 * No record holds a client-chosen id or a time finer than an hour; no message record or log
 * line holds an identity key; no message record names its sealed sender (a mailbox's own
 * account is its recipient: only the other account is a sealed sender there); log lines name
 * no account at all.
 */
export function checkNothingLinkable(
  items: DumpedRecord[],
  objects: DumpedRecord[],
  logs: DumpedRecord[],
  people: People,
  requestIds: Uint8Array[],
  window: TimeWindow,
): void {
  const [alice, bob] = [people.alice[0]!, people.bob[0]!];
  const identityKeys = identityKeysOf(people);
  const ids = requestIds.flatMap(encodings);
  const keys = identityKeys.flatMap(encodings);
  const messageRecords = [...items.filter(isMessageRecord), ...objects];
  for (const r of [...items, ...objects, ...logs]) {
    for (const s of ids) expect(r.text.includes(s), `${r.where} holds id ${s}`).toBe(false);
  }
  // Times: every record except account and device items (their registration time is no
  // message's) and rate-limit windows (bundle fetches, device lists, first contacts), which
  // sealed sends and sync copies never create.
  for (const r of [...items, ...objects, ...logs].filter(
    (x) => !NOT_ABOUT_MESSAGES.test(x.where),
  )) {
    expect(finerThanHour(r, window), r.where).toEqual([]);
    expect(isoTimesFinerThanHour(r), r.where).toEqual([]);
  }
  // Account and device items publish the identity keys (bundles are served from them); what
  // must not hold one is anything written for a message, and the logs.
  for (const r of [...messageRecords, ...logs]) {
    for (const s of keys) expect(r.text.includes(s), `${r.where} holds key ${s}`).toBe(false);
  }
  for (const r of objects) {
    for (const key of [...identityKeys, ...requestIds]) {
      expect(containsBytes(r.body!, key), `${r.where} body`).toBe(false);
    }
  }
  for (const [recipient, sender] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    for (const r of messageRecords.filter(inMailboxOf(recipient.address))) {
      expect(r.text.includes(sender.address), `${r.where} names the sender`).toBe(false);
    }
  }
  for (const r of logs) {
    for (const a of [alice.address, bob.address]) expect(r.text.includes(a), r.where).toBe(false);
  }
  // Nonce records of signed requests name no account (their key is a hash, docs/SERVICE.md §3.1).
  const nonces = items.filter((r) => r.where.startsWith('once#'));
  expect(nonces.length).toBeGreaterThan(0);
  for (const r of nonces) {
    for (const a of [alice.address, bob.address]) expect(r.text.includes(a), r.where).toBe(false);
  }
}

/**
 * What the server must never learn of the attachments a test sent (docs/SDK.md §Attachments,
 * "What the server sees"; docs/PROTOCOL.md §10.1).
 */
export interface AttachmentSecrets {
  /** File names and content types, as the sender gave them. */
  readonly names: readonly string[];
  /** The files' sizes in bytes. */
  readonly sizes: readonly number[];
  /**
   * Byte strings of which no trace may be stored (at least 32 bytes each): windows of the
   * files and thumbnails, the attachment keys and digests.
   */
  readonly bytes: readonly Uint8Array[];
  /** The attachment ids (base64url): only the object service's own paths and keys name them. */
  readonly ids: readonly string[];
}

/**
 * Every textual form of a byte string that may lie inside a larger stored value: hex (at any
 * byte offset), and base64 and base64url of its longest run of whole 3-byte groups at each of
 * the three alignments (one of them lines up with the larger value's groups).
 *
 * @example embeddedEncodings(key).some((e) => text.includes(e))
 * @throws {RangeError} if `bytes` is shorter than 32 bytes (a shorter one may occur by chance).
 */
export function embeddedEncodings(bytes: Uint8Array): string[] {
  if (bytes.length < 32) throw new RangeError('a needle must be at least 32 bytes');
  const out = [Buffer.from(bytes).toString('hex')];
  for (let k = 0; k < 3; k++) {
    const run = Buffer.from(bytes.subarray(k, k + 3 * Math.floor((bytes.length - k) / 3)));
    out.push(run.toString('base64'), run.toString('base64url'));
  }
  return out;
}

/**
 * A size as decimal text, not inside a longer number or a hex or base64 run that merely
 * contains the digits (sizes of 7 digits: a binary value's encoding that starts with them
 * is a chance below 1 in 10^8).
 */
const decimalPattern = (n: number) => new RegExp(`(?<![0-9A-Za-z])${n}(?![0-9])`);

/**
 * No record (item, object, log line, file of the object service), nor where it is, holds a
 * name or content type, a file's size as decimal text, or any form of the secret bytes; no
 * object or file is as long as a file or holds those bytes; and no attachment id occurs
 * anywhere but in the object service's own paths and keys (the blob's name there).
 */
export function checkAttachmentsUnseen(dump: ServerDump, secrets: AttachmentSecrets): void {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const nameTexts = secrets.names.flatMap((n) => [n, ...encodings(utf8(n))]);
  const byteTexts = secrets.bytes.flatMap(embeddedEncodings);
  const sizes = secrets.sizes.map((n) => ({ n, pattern: decimalPattern(n) }));
  const bodyNeedles = [
    ...secrets.bytes,
    ...secrets.names.map(utf8),
    ...secrets.sizes.map((n) => utf8(String(n))),
  ];
  const ids = secrets.ids.map((id) => Buffer.from(id, 'base64url'));
  const idTexts = ids.flatMap(encodings);
  for (const r of [...dump.items, ...dump.objects, ...dump.logs, ...dump.files]) {
    const seen = `${r.where}\n${r.text}`;
    for (const t of nameTexts) expect(seen.includes(t), `${r.where} holds ${t}`).toBe(false);
    for (const t of byteTexts) {
      expect(seen.includes(t), `${r.where} holds secret bytes as ${t.slice(0, 12)}…`).toBe(false);
    }
    for (const { n, pattern } of sizes) {
      expect(pattern.test(seen), `${r.where} holds the size ${n}`).toBe(false);
    }
    // A file of the object service is named by its blob's id; nothing else may name one.
    const named = r.kind === 'file' ? r.text : seen;
    for (const t of idTexts) expect(named.includes(t), `${r.where} holds the id ${t}`).toBe(false);
    if (!r.body) continue;
    for (const { n } of sizes) expect(r.body.length, `${r.where} is ${n} bytes long`).not.toBe(n);
    for (const needle of [...bodyNeedles, ...(r.kind === 'file' ? [] : ids)]) {
      expect(containsBytes(r.body, needle), `${r.where} body holds secret bytes`).toBe(false);
    }
  }
}

/**
 * Nothing links an attachment to an account once its upload ended: no upload session
 * (`att#`, kept only while an upload runs), and per account that uploaded one quota item that
 * holds bytes per UTC day and nothing else (`quotas`: address → day number → bytes), expiring
 * at a whole day.
 */
export function checkUploadsForgotten(
  items: readonly DumpedRecord[],
  quotas: Readonly<Record<string, Readonly<Record<string, number>>>>,
): void {
  expect(
    items.filter((r) => r.where.startsWith('att#')).map((r) => r.where),
    'upload sessions left',
  ).toEqual([]);
  const quotaItems = items.filter((r) => r.where.startsWith('attq#'));
  expect(quotaItems.map((r) => r.where).sort()).toEqual(
    Object.keys(quotas)
      .map((address) => `attq#${address} attq`)
      .sort(),
  );
  for (const r of quotaItems) {
    const address = r.where.slice('attq#'.length, -' attq'.length);
    expect([...(r.names ?? [])].sort(), r.where).toEqual([
      'days',
      'pk',
      'retention',
      'rev',
      'sk',
      'ttl',
      'v',
    ]);
    const days = Object.entries(r.item?.['days']?.M ?? {}).map(([day, v]) => [day, Number(v.N)]);
    expect(Object.fromEntries(days), r.where).toEqual(quotas[address]);
    expect(Number(r.item?.['ttl']?.N) % 86_400, `${r.where} expires within a day`).toBe(0);
  }
}
