import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { address, generateAccountKey } from '#sdk/protocol/identity.ts';
import {
  accountFingerprint,
  compareScannable,
  displayableSafetyNumber,
  fingerprintDigits,
  iteratedFingerprint,
  SCANNABLE_BYTES,
  safetyNumber,
} from '#sdk/protocol/safety-number.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex, toHex } from '#sdk/util/bytes.ts';
import { addressToBytes } from '#sdk/wire/identity.ts';

const backend = defaultBackend;
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("Signal's fingerprint construction (libsignal fingerprint.rs test vectors)", () => {
  // With an empty prefix, iteratedFingerprint is libsignal's get_fingerprint; these are the
  // identity keys, stable ids and outputs of libsignal's `fingerprint_test_v1`.
  const aliceKey = fromHex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868');
  const bobKey = fromHex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b');
  const empty = new Uint8Array(0);

  it('reproduces the displayable number and the scannable fingerprints', () => {
    const a = iteratedFingerprint(backend, empty, aliceKey, utf8('+14152222222'), 5200);
    const b = iteratedFingerprint(backend, empty, bobKey, utf8('+14153333333'), 5200);
    expect(toHex(a.subarray(0, 32))).toBe(
      '1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df',
    );
    expect(toHex(b.subarray(0, 32))).toBe(
      'd62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d',
    );
    const expected = '300354477692869396892869876765458257569162576843440918079131';
    expect(displayableSafetyNumber(a, b)).toBe(expected);
    expect(displayableSafetyNumber(b, a)).toBe(expected);
  });
});

describe('account fingerprints (PROTOCOL.md §1)', () => {
  it('hashes LABELS.FINGERPRINT || u16 0 || accountPublic || addressBytes, then 5200 rounds', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const key = account.publicKey;
    let h = concatBytes(
      utf8('Sealpost-Fingerprint-v1'),
      new Uint8Array([0, 0]),
      key,
      addressToBytes(address(backend, key)),
    );
    for (let i = 0; i < 5200; i++) h = sha512(concatBytes(h, key));
    expect(accountFingerprint(backend, key)).toEqual(h);
  });

  it('encodes digits as six 40-bit chunks mod 100000, zero-padded', () => {
    expect(fingerprintDigits(new Uint8Array(30).fill(0xff))).toBe('27775'.repeat(6));
    expect(fingerprintDigits(new Uint8Array(30))).toBe('00000'.repeat(6));
    const one = new Uint8Array(30);
    one[4] = 1; // first chunk = 1
    one[9] = 0x0a; // second chunk = 10
    expect(fingerprintDigits(one)).toBe(`0000100010${'00000'.repeat(4)}`);
    expect(() => fingerprintDigits(new Uint8Array(29))).toThrow(ArgumentRangeError);
  });
});

const alice = await generateAccountKey(backend, systemRng);
const bob = await generateAccountKey(backend, systemRng);

describe('safety numbers', () => {
  const aliceView = safetyNumber(backend, alice.publicKey, bob.publicKey);
  const bobView = safetyNumber(backend, bob.publicKey, alice.publicKey);

  it('is the same 60 digits for both parties', () => {
    expect(aliceView.displayable).toMatch(/^\d{60}$/);
    expect(bobView.displayable).toBe(aliceView.displayable);
    const halves = [aliceView.displayable.slice(0, 30), aliceView.displayable.slice(30)];
    expect([...halves].sort()).toEqual(halves);
  });

  it('builds the QR payload as version 1 || local[0..32] || remote[0..32]', () => {
    expect(aliceView.scannable).toHaveLength(SCANNABLE_BYTES);
    expect(aliceView.scannable).toEqual(
      concatBytes(
        new Uint8Array([1]),
        accountFingerprint(backend, alice.publicKey).subarray(0, 32),
        accountFingerprint(backend, bob.publicKey).subarray(0, 32),
      ),
    );
  });

  it('matches when each side scans the other', () => {
    expect(compareScannable(aliceView.scannable, bobView.scannable)).toBe(true);
    expect(compareScannable(bobView.scannable, aliceView.scannable)).toBe(true);
    // Scanning your own screen is not a verification.
    expect(compareScannable(aliceView.scannable, aliceView.scannable)).toBe(false);
  });

  it('changes when either key changes (interception shows up)', async () => {
    const mallory = await generateAccountKey(backend, systemRng);
    const intercepted = safetyNumber(backend, alice.publicKey, mallory.publicKey);
    const bobIntercepted = safetyNumber(backend, bob.publicKey, mallory.publicKey);
    expect(intercepted.displayable).not.toBe(aliceView.displayable);
    expect(bobIntercepted.displayable).not.toBe(bobView.displayable);
    expect(compareScannable(intercepted.scannable, bobView.scannable)).toBe(false);
    expect(compareScannable(bobView.scannable, intercepted.scannable)).toBe(false);
    expect(compareScannable(bobIntercepted.scannable, intercepted.scannable)).toBe(false);
  });

  it('rejects payloads of another version or size with typed errors', () => {
    const v2 = bobView.scannable.slice();
    v2[0] = 2;
    const err = (() => {
      try {
        compareScannable(aliceView.scannable, v2);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UnsupportedVersionError);
    expect((err as UnsupportedVersionError).version).toBe(2);
    expect(() => compareScannable(aliceView.scannable, bobView.scannable.subarray(0, 64))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() => compareScannable(aliceView.scannable, new Uint8Array(0))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() => compareScannable(aliceView.scannable.subarray(1), bobView.scannable)).toThrow(
      ArgumentRangeError,
    );
  });

  it('rejects keys of the wrong size', () => {
    expect(() => safetyNumber(backend, alice.publicKey.subarray(1), bob.publicKey)).toThrow(
      ArgumentRangeError,
    );
  });
});
