/**
 * Assertions of the storage dump tests (storage-dump.test.ts) on a {@link ServerDump}: what
 * no record may hold (README §Security model, docs/SERVICE.md §7.3/§7.4), and the fetch that
 * records the ids clients chose.
 */
import { expect } from 'vitest';
import type { FetchLike, SealpostClient } from '#sdk/client/index.ts';
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
 * Items that record accounts, devices and rate-limit windows, not messages. Single-use nonce
 * records (`once#`) are checked like message records: the own-device sync copy is a signed
 * request, so its nonce record must name nobody and hold no time finer than an hour.
 */
const NOT_ABOUT_MESSAGES = /^(acct#|rate#)/;

/** The two accounts of a conversation, each with its devices (the primary first). */
export type People = Record<'alice' | 'bob', SealpostClient[]>;

/** Records the request id of every send, in every encoding. */
export function recordingFetch(requestIds: Uint8Array[]): FetchLike {
  return async (url, init) => {
    if (init.method === 'PUT' && new URL(url).pathname.startsWith('/v1/messages/')) {
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
