/**
 * AES-256-GCM cipher handles and incremental SHA-256 (sdk/crypto/backend.ts), the two
 * primitives attachments add (docs/PROTOCOL.md §10): every Wycheproof AES-GCM vector through
 * every backend that has its own implementation, the NIST GCM spec's AES-256 test cases, and the
 * argument and error contract shared by all backends.
 */
import { describe, expect, it } from 'vitest';
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { createWebBackend } from '#sdk/crypto/web-backend.ts';
import { DecryptError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { constantTimeEqual, fromHex, toHex } from '#sdk/util/bytes.ts';
import { allTests, backends, hexField, loadWycheproof } from './helpers.ts';

/** Backends with a distinct implementation of `method`. */
function implementing(method: keyof CryptoBackend): CryptoBackend[] {
  return backends.filter((b, i) => backends.findIndex((o) => o[method] === b[method]) === i);
}

async function rejection(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  return undefined;
}

const notBytes = [1, 2, 3] as unknown as Uint8Array;
const key32 = () => Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/**
 * "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega, Appendix B, test cases 13-16
 * (AES-256, 96-bit IV): key, IV, plaintext, AAD, ciphertext, tag.
 */
const GCM_SPEC_CASES = [
  {
    name: 'test case 13 (empty)',
    key: '0'.repeat(64),
    iv: '0'.repeat(24),
    pt: '',
    aad: '',
    ct: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'test case 14 (one zero block)',
    key: '0'.repeat(64),
    iv: '0'.repeat(24),
    pt: '0'.repeat(32),
    aad: '',
    ct: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'test case 15 (four blocks)',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
    aad: '',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'test case 16 (partial block, AAD)',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
] as const;

describe.each(implementing('aesGcmCipher'))('AES-256-GCM: $name', (backend) => {
  it('matches the AES-256 test cases of the GCM specification', async () => {
    for (const c of GCM_SPEC_CASES) {
      const cipher = await backend.aesGcmCipher(fromHex(c.key));
      const sealed = await cipher.seal(fromHex(c.iv), fromHex(c.pt), fromHex(c.aad));
      expect(toHex(sealed), c.name).toBe(c.ct + c.tag);
      expect(toHex(await cipher.open(fromHex(c.iv), sealed, fromHex(c.aad))), c.name).toBe(c.pt);
    }
  });

  it('passes every Wycheproof AES-GCM vector: 256-bit keys and 96-bit nonces only', async () => {
    const failures: string[] = [];
    for (const { group, test } of allTests(loadWycheproof('aes_gcm_test.json'))) {
      const [key, iv, aad, msg] = ['key', 'iv', 'aad', 'msg'].map((f) => hexField(test, f));
      const sealed = new Uint8Array([...hexField(test, 'ct'), ...hexField(test, 'tag')]);
      const check = async (): Promise<string | undefined> => {
        // AES-128/192 keys and IVs other than 96 bits are caller errors here: the protocol
        // uses AES-256 with STREAM nonces of 12 bytes only.
        if (group['keySize'] !== 256) {
          const e = await rejection(() => backend.aesGcmCipher(key!));
          return e instanceof ArgumentRangeError
            ? undefined
            : `expected ArgumentRangeError, got ${e}`;
        }
        const cipher = await backend.aesGcmCipher(key!);
        if (group['ivSize'] !== 96) {
          const e = await rejection(() => cipher.open(iv!, sealed, aad!));
          const s = await rejection(() => cipher.seal(iv!, msg!, aad!));
          return e instanceof ArgumentRangeError && s instanceof ArgumentRangeError
            ? undefined
            : `expected ArgumentRangeError, got ${e} and ${s}`;
        }
        if (test.result === 'invalid') {
          const e = await rejection(() => cipher.open(iv!, sealed, aad!));
          return e instanceof DecryptError ? undefined : `expected DecryptError, got ${e}`;
        }
        const got = await cipher.seal(iv!, msg!, aad!);
        if (!constantTimeEqual(got, sealed)) return `sealed ${toHex(got)}`;
        const opened = await cipher.open(iv!, sealed, aad!);
        return constantTimeEqual(opened, msg!) ? undefined : `opened ${toHex(opened)}`;
      };
      const failure = await check().catch((e: unknown) => `threw ${String(e)}`);
      if (failure) failures.push(`tcId ${test.tcId} (${test.result}, ${test.comment}): ${failure}`);
    }
    expect(failures).toEqual([]);
  });

  it('checks arguments like every primitive: ArgumentRangeError for sizes, ArgumentTypeError for types', async () => {
    await expect(backend.aesGcmCipher(new Uint8Array(31))).rejects.toThrow(ArgumentRangeError);
    await expect(backend.aesGcmCipher(new Uint8Array(16))).rejects.toThrow(ArgumentRangeError);
    await expect(backend.aesGcmCipher(notBytes)).rejects.toThrow(ArgumentTypeError);
    const cipher = await backend.aesGcmCipher(key32());
    const nonce = new Uint8Array(12);
    const empty = new Uint8Array(0);
    await expect(cipher.seal(new Uint8Array(8), empty, empty)).rejects.toThrow(ArgumentRangeError);
    await expect(cipher.open(new Uint8Array(13), new Uint8Array(16), empty)).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(cipher.seal(nonce, notBytes, empty)).rejects.toThrow(ArgumentTypeError);
    await expect(cipher.seal(nonce, empty, notBytes)).rejects.toThrow(ArgumentTypeError);
    await expect(cipher.open(nonce, notBytes, empty)).rejects.toThrow(ArgumentTypeError);
    // Shorter than a tag: an authentication failure, not an argument error (the input is remote).
    await expect(cipher.open(nonce, new Uint8Array(15), empty)).rejects.toThrow(DecryptError);
  });

  it('keeps its own copy of the key and returns plain arrays the caller owns', async () => {
    const key = key32();
    const cipher = await backend.aesGcmCipher(key);
    const reference = await (await nobleBackend.aesGcmCipher(key32())).seal(
      new Uint8Array(12),
      new Uint8Array(100),
      new Uint8Array(3),
    );
    key.fill(0);
    const sealed = await cipher.seal(new Uint8Array(12), new Uint8Array(100), new Uint8Array(3));
    expect(toHex(sealed)).toBe(toHex(reference));
    const opened = await cipher.open(new Uint8Array(12), sealed, new Uint8Array(3));
    for (const value of [sealed, opened]) {
      expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
      expect(value.byteLength).toBe(value.buffer.byteLength);
    }
  });
});

describe.each(implementing('sha256Hasher'))('incremental SHA-256: $name', (backend) => {
  it('hashes the FIPS 180-4 "abc" example in pieces', () => {
    const hasher = backend.sha256Hasher();
    hasher
      .update(new Uint8Array([0x61]))
      .update(new Uint8Array(0))
      .update(fromHex('6263'));
    expect(toHex(hasher.digest())).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('refuses non-bytes and any use after digest()', () => {
    const hasher = backend.sha256Hasher();
    expect(() => hasher.update(notBytes)).toThrow(ArgumentTypeError);
    hasher.update(new Uint8Array(3));
    const digest = hasher.digest();
    expect(toHex(digest)).toBe(toHex(backend.sha256(new Uint8Array(3))));
    expect(() => hasher.update(new Uint8Array(1))).toThrow(ArgumentRangeError);
    expect(() => hasher.digest()).toThrow(ArgumentRangeError);
  });
});

describe('WebCrypto backend without SubtleCrypto', () => {
  it('runs AES-256-GCM on noble with the same bytes', async () => {
    const limited = createWebBackend({ subtle: undefined });
    const key = key32();
    const nonce = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    const plaintext = new Uint8Array(1000).fill(0x5a);
    const aad = new Uint8Array(34);
    const [ours, theirs] = await Promise.all(
      [limited, nobleBackend].map(async (b) =>
        (await b.aesGcmCipher(key)).seal(nonce, plaintext, aad),
      ),
    );
    expect(toHex(ours!)).toBe(toHex(theirs!));
    const cipher = await limited.aesGcmCipher(key);
    const tampered = ours!.slice();
    tampered[0]! ^= 1;
    await expect(cipher.open(nonce, tampered, aad)).rejects.toThrow(DecryptError);
  });
});
