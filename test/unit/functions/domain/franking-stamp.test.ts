/**
 * The delivery stamp (functions/domain/franking-stamp.ts, docs/PROTOCOL.md §11.4): a known
 * answer computed here independently from the formula (with @noble/hashes, labels spelled
 * out), every bound field changing it, the weekly epoch boundary switching keys, the key cache
 * agreeing with fresh derivation, and delivery stamping only version-2 envelopes.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  FrankingStamper,
  frankingStamp,
  STAMP_EPOCH_MS,
  type StampFields,
  stampEpoch,
  stampKey,
  verifyStamp,
} from '#functions/domain/franking-stamp.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const enc = new TextEncoder();
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i);
const ADDRESS_BYTES = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);
const FIELDS: StampFields = {
  commitment: new Uint8Array(32).fill(0x11),
  recipientAddress: addressFromBytes(ADDRESS_BYTES),
  recipientDeviceId: 3,
  receivedAt: 1_750_000_000_000 - (1_750_000_000_000 % 3_600_000),
  messageId: Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i),
};

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The spec's formula, written out with another library. */
function referenceStamp(secret: Uint8Array, f: StampFields, addressBytes: Uint8Array): Uint8Array {
  const epoch = Math.floor(f.receivedAt / 604_800_000);
  const key = hkdf(
    sha256,
    secret,
    new Uint8Array(0),
    concat(enc.encode('Sealpost-Franking-StampKey-v1'), u32be(epoch)),
    32,
  );
  return hmac(
    sha256,
    key,
    concat(
      enc.encode('Sealpost-Franking-Stamp-v1'),
      f.commitment,
      addressBytes,
      u32be(f.recipientDeviceId),
      u64be(f.receivedAt),
      f.messageId,
    ),
  );
}

/** A minimal version-2 sealed envelope: `2 || commitment || E_pub || encStatic || encInner`. */
function envelope(commitment: Uint8Array, version = 2): Uint8Array {
  const bytes = new Uint8Array(1 + 32 + 32 + 48 + 500).fill(0x5a);
  bytes[0] = version;
  bytes.set(commitment, 1);
  return bytes;
}

describe('frankingStamp', () => {
  it('matches the formula computed independently, and a fixed known answer', () => {
    const stamp = frankingStamp(SECRET, FIELDS);
    expect(stamp).toHaveLength(32);
    expect(toHex(stamp)).toBe(toHex(referenceStamp(SECRET, FIELDS, ADDRESS_BYTES)));
    expect(toHex(stamp)).toBe(KNOWN_STAMP);
    expect(verifyStamp(SECRET, FIELDS, stamp)).toBe(true);
  });

  it('changes with every bound field and with the secret', () => {
    const base = toHex(frankingStamp(SECRET, FIELDS));
    const otherAddress = addressFromBytes(ADDRESS_BYTES.map((b, i) => (i === 19 ? b ^ 1 : b)));
    const variants: [string, StampFields][] = [
      ['commitment', { ...FIELDS, commitment: FIELDS.commitment.map((b, i) => (i ? b : b ^ 1)) }],
      ['recipientAddress', { ...FIELDS, recipientAddress: otherAddress }],
      ['recipientDeviceId', { ...FIELDS, recipientDeviceId: 4 }],
      ['receivedAt', { ...FIELDS, receivedAt: FIELDS.receivedAt + 3_600_000 }],
      [
        'messageId',
        { ...FIELDS, messageId: FIELDS.messageId.map((b, i) => (i === 15 ? b ^ 1 : b)) },
      ],
    ];
    const stamp = fromHex(base);
    for (const [name, fields] of variants) {
      expect(toHex(frankingStamp(SECRET, fields)), name).not.toBe(base);
      expect(verifyStamp(SECRET, fields, stamp), name).toBe(false);
    }
    const otherSecret = SECRET.map((b, i) => (i === 0 ? b ^ 1 : b));
    expect(toHex(frankingStamp(otherSecret, FIELDS))).not.toBe(base);
    expect(verifyStamp(otherSecret, FIELDS, stamp)).toBe(false);
  });

  it('uses the next epoch key from the first millisecond of the next week', () => {
    const week = stampEpoch(FIELDS.receivedAt) + 1;
    const last = { ...FIELDS, receivedAt: week * STAMP_EPOCH_MS - 1 };
    const first = { ...FIELDS, receivedAt: week * STAMP_EPOCH_MS };
    expect(stampEpoch(last.receivedAt)).toBe(week - 1);
    expect(stampEpoch(first.receivedAt)).toBe(week);
    expect(toHex(stampKey(SECRET, week))).not.toBe(toHex(stampKey(SECRET, week - 1)));
    // Each side is the HMAC under its own epoch's key (the reference derives the key per epoch).
    expect(toHex(frankingStamp(SECRET, last))).toBe(
      toHex(referenceStamp(SECRET, last, ADDRESS_BYTES)),
    );
    expect(toHex(frankingStamp(SECRET, first))).toBe(
      toHex(referenceStamp(SECRET, first, ADDRESS_BYTES)),
    );
    // Recomputing `first` under the previous week's key gives another value.
    const input = concat(
      enc.encode('Sealpost-Franking-Stamp-v1'),
      first.commitment,
      ADDRESS_BYTES,
      u32be(first.recipientDeviceId),
      u64be(first.receivedAt),
      first.messageId,
    );
    expect(toHex(hmac(sha256, stampKey(SECRET, week - 1), input))).not.toBe(
      toHex(frankingStamp(SECRET, first)),
    );
  });

  it('a stamper with cached epoch keys agrees with fresh derivation across many epochs', () => {
    const stamper = new FrankingStamper(SECRET);
    const base = stampEpoch(FIELDS.receivedAt);
    // More epochs than the cache holds, revisited out of order.
    const epochs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2, 0, 11, 1, 10];
    for (const e of epochs) {
      const fields = { ...FIELDS, receivedAt: (base + e) * STAMP_EPOCH_MS + 7 * 3_600_000 };
      expect(toHex(stamper.stamp(fields))).toBe(
        toHex(referenceStamp(SECRET, fields, ADDRESS_BYTES)),
      );
      expect(stamper.verify(fields, referenceStamp(SECRET, fields, ADDRESS_BYTES))).toBe(true);
    }
  });

  it('verify answers false, never throws, for malformed stamps and fields', () => {
    const stamp = frankingStamp(SECRET, FIELDS);
    expect(verifyStamp(SECRET, FIELDS, stamp.subarray(0, 31))).toBe(false);
    expect(verifyStamp(SECRET, FIELDS, new Uint8Array(33))).toBe(false);
    expect(verifyStamp(SECRET, { ...FIELDS, commitment: new Uint8Array(31) }, stamp)).toBe(false);
    expect(verifyStamp(SECRET, { ...FIELDS, messageId: new Uint8Array(15) }, stamp)).toBe(false);
    expect(verifyStamp(SECRET, { ...FIELDS, recipientAddress: 'nope' }, stamp)).toBe(false);
    expect(verifyStamp(SECRET, { ...FIELDS, recipientDeviceId: -1 }, stamp)).toBe(false);
    expect(verifyStamp(SECRET, { ...FIELDS, receivedAt: 1.5 }, stamp)).toBe(false);
    expect(verifyStamp(new Uint8Array(31), FIELDS, stamp)).toBe(false);
    expect(() => frankingStamp(SECRET, { ...FIELDS, commitment: new Uint8Array(31) })).toThrow(
      /commitment/,
    );
  });
});

describe('FrankingStamper.forDelivery', () => {
  const stamper = new FrankingStamper(SECRET);
  const recipient = { address: FIELDS.recipientAddress, deviceId: FIELDS.recipientDeviceId };

  it('stamps the commitment of a version-2 envelope', () => {
    const stamp = stamper.forDelivery(
      recipient,
      FIELDS.messageId,
      FIELDS.receivedAt,
      envelope(FIELDS.commitment),
    );
    expect(stamp && toHex(stamp)).toBe(KNOWN_STAMP);
  });

  it('does not stamp an envelope without the version-2 prefix', () => {
    for (const body of [
      envelope(FIELDS.commitment, 1),
      envelope(FIELDS.commitment, 3),
      new Uint8Array(40).fill(2),
      new Uint8Array(0),
    ]) {
      expect(stamper.forDelivery(recipient, FIELDS.messageId, FIELDS.receivedAt, body)).toBe(
        undefined,
      );
    }
  });
});

/** The stamp of {@link FIELDS} under {@link SECRET} (computed with the reference above). */
const KNOWN_STAMP = '967c4af6c7bfae21b74fc93dc4bf55568e09fb27f5c887f7b08caca649f3dbfb';
