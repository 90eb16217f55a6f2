/**
 * The openings store (sdk/client/report-store.ts, docs/SDK.md §Reporting): the record codec is
 * strict and versioned, keys list one sender's records by prefix in receipt order, lookups by id
 * and the "previous" selection find the right records, and the store stays within its retention
 * and size on an injected clock.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_REPORTABLE_MESSAGES,
  decodeReportRecord,
  encodeReportRecord,
  parseReportKey,
  type ReportRecord,
  ReportStore,
  reportKey,
  reportPolicy,
} from '#sdk/client/report-store.ts';
import { StateCorruptError } from '#sdk/errors.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = 1_760_000_400_000 - (1_760_000_400_000 % HOUR);
const ALICE = 'a'.repeat(32);
const CAROL = 'c'.repeat(32);

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

/** A record whose every field is distinct; `id` fills the message id (mailbox order = id order). */
function record(sender: string, receivedAt: number, id: number, content = 'hello'): ReportRecord {
  return {
    messageId: fill(16, id),
    receivedAt,
    storedAt: receivedAt + 5,
    sender: { address: sender, deviceId: 3 },
    stamp: fill(32, 0x51),
    commitment: fill(32, 0x52),
    openingKey: fill(32, 0x53),
    content: new TextEncoder().encode(content),
    senderCertificate: fill(272, 0x54),
    moderatorKeyId: 7,
    sessionKey: fill(32, 0x56),
    signature: fill(304, 0x55),
    messageSignature: fill(64, 0x57),
  };
}

function setup(policy = reportPolicy({})) {
  const store = new MemoryStore();
  const clock = { now: T0 + DAY };
  const reports = new ReportStore({ store, now: () => clock.now, policy });
  const put = async (r: ReportRecord) => {
    await store.commit([reports.recordOp(r)]);
    await reports.stored();
  };
  return { store, clock, reports, put };
}

const idOf = (r: ReportRecord) => toBase64Url(r.messageId);

describe('report record codec', () => {
  it('round-trips every field', () => {
    const r = record(ALICE, T0, 9, 'the content frame');
    expect(decodeReportRecord(encodeReportRecord(r))).toEqual(r);
  });

  it('refuses another version, a truncated record and trailing bytes', () => {
    const bytes = encodeReportRecord(record(ALICE, T0, 9));
    const otherVersion = bytes.slice();
    otherVersion[0] = 2;
    expect(() => decodeReportRecord(otherVersion)).toThrow(StateCorruptError);
    expect(() => decodeReportRecord(bytes.subarray(0, bytes.length - 1))).toThrow(
      StateCorruptError,
    );
    expect(() => decodeReportRecord(Uint8Array.of(...bytes, 0))).toThrow(StateCorruptError);
    expect(() => decodeReportRecord(new Uint8Array(0))).toThrow(StateCorruptError);
  });

  it('refuses fields of the wrong size when encoding', () => {
    expect(() => encodeReportRecord({ ...record(ALICE, T0, 1), stamp: fill(31, 1) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeReportRecord({ ...record(ALICE, T0, 1), signature: fill(64, 1) })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encodeReportRecord({ ...record(ALICE, T0, 1), content: new Uint8Array(98_305) }),
    ).toThrow(ArgumentRangeError);
  });
});

describe('report keys', () => {
  it('sort one sender by receipt, then by mailbox position, and parse back', () => {
    const keys = [
      reportKey(ALICE, T0 + HOUR, fill(16, 1)),
      reportKey(ALICE, T0, fill(16, 0xff)),
      reportKey(ALICE, T0, fill(16, 0x10)),
    ];
    expect([...keys].sort()).toEqual([keys[2], keys[1], keys[0]]);
    expect(parseReportKey(keys[0] as string)).toEqual({
      key: keys[0],
      address: ALICE,
      receivedAt: T0 + HOUR,
      idHex: '01'.repeat(16),
    });
    expect(parseReportKey(`${ALICE}.${T0}.00`)).toBeUndefined();
    expect(parseReportKey('x')).toBeUndefined();
  });
});

describe('ReportStore', () => {
  it('finds a record by id, with or without the sender, and not under another sender', async () => {
    const { reports, put } = setup();
    const r = record(ALICE, T0, 4);
    await put(r);
    await put(record(CAROL, T0, 5));
    expect((await reports.find(idOf(r)))?.record).toEqual(r);
    expect((await reports.find(idOf(r), ALICE))?.record).toEqual(r);
    expect(await reports.find(idOf(r), CAROL)).toBeUndefined();
    expect(await reports.find(toBase64Url(fill(16, 0x77)))).toBeUndefined();
    expect(await reports.find('not an id')).toBeUndefined();
  });

  it('picks the most recent earlier records of the same sender account, oldest first', async () => {
    const { reports, put } = setup();
    const a1 = record(ALICE, T0, 1, 'one');
    const a2 = record(ALICE, T0, 2, 'two');
    const a3 = record(ALICE, T0 + HOUR, 3, 'three');
    const main = record(ALICE, T0 + HOUR, 4, 'main');
    const later = record(ALICE, T0 + 2 * HOUR, 5, 'later');
    for (const r of [later, a3, main, a1, a2, record(CAROL, T0, 3, 'other sender')]) await put(r);
    const found = await reports.find(idOf(main));
    if (!found) throw new Error('main record missing');
    const texts = async (n: number) =>
      (await reports.previous(found.key, n)).map((r) => new TextDecoder().decode(r.content));
    expect(await texts(2)).toEqual(['two', 'three']);
    expect(await texts(5)).toEqual(['one', 'two', 'three']);
    expect(await texts(0)).toEqual([]);
  });

  it('deletes one sender’s records and nothing else', async () => {
    const { store, reports, put } = setup();
    await put(record(ALICE, T0, 1));
    await put(record(ALICE, T0, 2));
    const carol = record(CAROL, T0, 3);
    await put(carol);
    expect(await reports.deleteSender(ALICE)).toBe(2);
    expect(await store.keys('report')).toEqual([reportKey(CAROL, T0, carol.messageId)]);
    expect(await reports.deleteSender(ALICE)).toBe(0);
  });

  it('forgets records past the retention, by receivedAt', async () => {
    const { store, clock, reports, put } = setup(reportPolicy({ reportRetentionDays: 2 }));
    const old = record(ALICE, T0, 1);
    const recent = record(ALICE, T0 + DAY, 2);
    await put(old);
    await put(recent);
    clock.now = T0 + 2 * DAY + 1;
    // Past the retention: not reportable even before a prune ran, and deleted on the lookup.
    expect(await reports.find(idOf(old))).toBeUndefined();
    expect(await store.keys('report')).toHaveLength(1);
    expect((await reports.find(idOf(recent)))?.record).toEqual(recent);
    clock.now = T0 + 3 * DAY + 1;
    expect(await reports.prune()).toBe(1);
    expect(await store.keys('report')).toEqual([]);
  });

  it('keeps at most maxReportableMessages, dropping the oldest', async () => {
    const { store, reports, put } = setup(reportPolicy({ maxReportableMessages: 3 }));
    const all = [1, 2, 3, 4, 5].map((i) => record(i % 2 ? ALICE : CAROL, T0 + i * HOUR, i));
    for (const r of all) await put(r);
    const left = (await store.keys('report')).map((k) => parseReportKey(k)?.receivedAt).sort();
    expect(left).toEqual([T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR]);
    expect(await reports.find(idOf(all[0] as ReportRecord))).toBeUndefined();
  });

  it('prunes keys it never writes', async () => {
    const { store, reports } = setup();
    await store.commit([{ ns: 'report', key: 'stray', value: new Uint8Array(1) }]);
    expect(await reports.prune()).toBe(1);
    expect(await store.keys('report')).toEqual([]);
  });

  it('reports a corrupt record instead of sending it', async () => {
    const { store, reports } = setup();
    const r = record(ALICE, T0, 1);
    const key = reportKey(ALICE, T0, r.messageId);
    await store.commit([{ ns: 'report', key, value: Uint8Array.of(9) }]);
    await expect(reports.find(idOf(r))).rejects.toBeInstanceOf(StateCorruptError);
  });
});

describe('reportPolicy', () => {
  it('has the documented defaults and bounds', () => {
    expect(reportPolicy({})).toEqual({
      retentionMs: 30 * DAY,
      maxRecords: DEFAULT_MAX_REPORTABLE_MESSAGES,
    });
    expect(DEFAULT_MAX_REPORTABLE_MESSAGES).toBe(5_000);
    expect(reportPolicy({ reportRetentionDays: 180 }).retentionMs).toBe(180 * DAY);
    for (const bad of [0, 181, 1.5, Number.NaN]) {
      expect(() => reportPolicy({ reportRetentionDays: bad })).toThrow(ArgumentRangeError);
    }
    for (const bad of [0, 100_001, 2.5]) {
      expect(() => reportPolicy({ maxReportableMessages: bad })).toThrow(ArgumentRangeError);
    }
  });
});
