/**
 * Every error the SDK throws carries a `code` (docs/SDK.md §Errors), argument errors included:
 * they are `SealpostError`s with the code `INVALID_ARGUMENT`.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '#sdk/client/content.ts';
import { SealpostError } from '#sdk/errors.ts';
import {
  ArgumentRangeError,
  ArgumentTypeError,
  INVALID_ARGUMENT,
} from '#sdk/util/argument-errors.ts';
import { assertBytes, fromBase64Url } from '#sdk/util/bytes.ts';
import { decodeIdentityBundle } from '#sdk/wire/identity.ts';

/** The error `fn` throws (sync or async). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('argument errors', () => {
  it('an oversized message body is an ArgumentRangeError with code INVALID_ARGUMENT', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await sealpost.register();
    await alice.addContact(bob.contactCard());
    const err = await thrown(() => alice.send(bob.address, new Uint8Array(MAX_MESSAGE_BYTES + 1)));
    expect(err).toBeInstanceOf(SealpostError);
    expect(err).toBeInstanceOf(ArgumentRangeError);
    expect(err).not.toBeInstanceOf(RangeError);
    expect((err as ArgumentRangeError).code).toBe(INVALID_ARGUMENT);
    // Nothing was sent.
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });

  it('a malformed address is an ArgumentTypeError with the code', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const err = await thrown(() => alice.send('not an address', 'hi'));
    expect(err).toBeInstanceOf(ArgumentTypeError);
    expect((err as ArgumentTypeError).code).toBe(INVALID_ARGUMENT);
    expect((err as ArgumentTypeError).name).toBe('ArgumentTypeError');
  });

  it('byte checks and codecs throw coded errors', async () => {
    const cases = [
      () => assertBytes('x' as unknown as Uint8Array, 'field'),
      () => assertBytes(new Uint8Array(3), 'field', 4),
      () => fromBase64Url('***', 'field'),
      () => decodeIdentityBundle(new Uint8Array(5)),
    ];
    const codes: string[] = [];
    for (const fn of cases) {
      const err = await thrown(fn);
      expect(err).toBeInstanceOf(SealpostError);
      codes.push((err as SealpostError).code);
    }
    expect(codes).toEqual([
      INVALID_ARGUMENT,
      INVALID_ARGUMENT,
      INVALID_ARGUMENT,
      'MALFORMED_ENVELOPE',
    ]);
  });
});
