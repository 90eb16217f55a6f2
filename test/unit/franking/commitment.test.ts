/**
 * Content binding (PROTOCOL.md §11.3.1, §11.3.2): the commitment opens only to its own (key, content),
 * carries its label, and the franked message lays out its context byte for byte.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  checkFrankingCommitment,
  FRANKING_LABELS,
  FRANKING_MESSAGE_BYTES,
  frankingCommitment,
  frankingMessage,
} from '#sdk/franking/index.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, toHex, utf8 } from '#sdk/util/bytes.ts';
import { addressToBytes } from '#sdk/wire/identity.ts';
import { seededRng } from '../../../scripts/lib/seeded-rng.ts';

const rng = seededRng('franking commitment tests');

describe('frankingCommitment', () => {
  const key = rng(32);
  const content = utf8('meet at noon');
  const c = frankingCommitment(key, content);

  it('is HMAC-SHA-256(key, "Sealpost-Franking-Commit-v1" || content)', () => {
    expect(new TextDecoder().decode(FRANKING_LABELS.COMMIT)).toBe('Sealpost-Franking-Commit-v1');
    expect(toHex(c)).toBe(toHex(hmac(sha256, key, concatBytes(FRANKING_LABELS.COMMIT, content))));
    // Without the label it would be a different value.
    expect(toHex(c)).not.toBe(toHex(hmac(sha256, key, content)));
  });

  it('opens to its own key and content only', () => {
    expect(checkFrankingCommitment(c, key, content)).toBe(true);
    expect(checkFrankingCommitment(c, key, utf8('meet at noon!'))).toBe(false);
    expect(checkFrankingCommitment(c, key, utf8('meet at nooN'))).toBe(false);
    expect(checkFrankingCommitment(c, key, new Uint8Array(0))).toBe(false);
    const otherKey = key.slice();
    otherKey[0]! ^= 1;
    expect(checkFrankingCommitment(c, otherKey, content)).toBe(false);
    for (let i = 0; i < 32; i++) {
      const bent = c.slice();
      bent[i]! ^= 1 << (i % 8);
      expect(checkFrankingCommitment(bent, key, content)).toBe(false);
    }
  });

  it('answers false, not an error, for wrong sizes of peer values', () => {
    expect(checkFrankingCommitment(c.subarray(0, 31), key, content)).toBe(false);
    expect(checkFrankingCommitment(c, key.subarray(0, 31), content)).toBe(false);
    expect(checkFrankingCommitment(concatBytes(c, new Uint8Array(1)), key, content)).toBe(false);
  });

  it('throws for arguments that are not bytes, and for a short key when committing', () => {
    expect(() => frankingCommitment(key.subarray(1), content)).toThrow(ArgumentRangeError);
    expect(() => frankingCommitment(key, 'text' as unknown as Uint8Array)).toThrow(
      ArgumentTypeError,
    );
    expect(() => checkFrankingCommitment('c' as unknown as Uint8Array, key, content)).toThrow(
      ArgumentTypeError,
    );
  });

  it('depends on the key: one content under two keys gives two commitments', () => {
    const a = frankingCommitment(rng(32), content);
    const b = frankingCommitment(rng(32), content);
    expect(toHex(a)).not.toBe(toHex(b));
  });
});

describe('frankingMessage', () => {
  const ctx = {
    commitment: rng(32),
    senderAddress: 'aebagbafaydqqcikbmga2dqpcaireeyu',
    senderDeviceId: 0x01020304,
    recipientAddress: '6dypb4hq6dypb4hq6dypb4hq6dypb4hq',
    recipientDeviceId: 2,
    moderatorKeyId: 0xffffffff,
  };

  it('lays out label || commitment || sender(20) || u32 || recipient(20) || u32 || u32', () => {
    const m = frankingMessage(ctx);
    expect(m.length).toBe(FRANKING_MESSAGE_BYTES);
    expect(m.length).toBe(112);
    expect(toHex(m)).toBe(
      toHex(
        concatBytes(
          utf8('Sealpost-Franking-Message-v1'),
          ctx.commitment,
          addressToBytes(ctx.senderAddress),
          Uint8Array.of(1, 2, 3, 4),
          addressToBytes(ctx.recipientAddress),
          Uint8Array.of(0, 0, 0, 2),
          Uint8Array.of(0xff, 0xff, 0xff, 0xff),
        ),
      ),
    );
  });

  it('changes with every field', () => {
    const base = toHex(frankingMessage(ctx));
    const variants = [
      { ...ctx, commitment: rng(32) },
      { ...ctx, senderAddress: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' },
      { ...ctx, senderDeviceId: 5 },
      { ...ctx, recipientAddress: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' },
      { ...ctx, recipientDeviceId: 3 },
      { ...ctx, moderatorKeyId: 0 },
      // Sender and recipient swapped.
      {
        ...ctx,
        senderAddress: ctx.recipientAddress,
        recipientAddress: ctx.senderAddress,
      },
    ];
    for (const v of variants) expect(toHex(frankingMessage(v))).not.toBe(base);
  });

  it('refuses malformed contexts', () => {
    expect(() => frankingMessage({ ...ctx, commitment: rng(31) })).toThrow(ArgumentRangeError);
    expect(() => frankingMessage({ ...ctx, senderAddress: 'not an address' })).toThrow(
      ArgumentTypeError,
    );
    expect(() => frankingMessage({ ...ctx, recipientAddress: 'A'.repeat(32) })).toThrow(
      ArgumentTypeError,
    );
    expect(() => frankingMessage({ ...ctx, senderDeviceId: 0 })).toThrow(ArgumentRangeError);
    expect(() => frankingMessage({ ...ctx, recipientDeviceId: 2 ** 32 })).toThrow(
      ArgumentRangeError,
    );
    expect(() => frankingMessage({ ...ctx, moderatorKeyId: -1 })).toThrow(ArgumentRangeError);
    expect(() => frankingMessage({ ...ctx, moderatorKeyId: 1.5 })).toThrow(ArgumentRangeError);
    expect(() => frankingMessage(null as unknown as typeof ctx)).toThrow(ArgumentTypeError);
  });
});
