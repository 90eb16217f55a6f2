/**
 * Every Project Wycheproof vector of every primitive, through every backend that implements it
 * (backends sharing one implementation, such as noble's ML-KEM, run it once). `valid` must
 * match, `invalid` must be rejected; `acceptable` cases are decided below and documented in
 * docs/PROTOCOL.md §2.4.
 */
import { describe, expect, it } from 'vitest';
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { DecryptError, InvalidKeyError } from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { constantTimeEqual, toHex } from '#sdk/util/bytes.ts';
import {
  allTests,
  backends,
  hexField,
  loadWycheproof,
  type WycheproofGroup,
  type WycheproofTest,
} from './helpers.ts';

// `node (pkcs8)` differs from `node` only in how private keys are imported, which the RFC and
// cross-backend tests cover; the vectors exercise the curve and cipher code once per backend.
const vectorBackends = backends.filter((b) => b.name !== 'node (pkcs8)');

/** Backends with a distinct implementation of `method` (shared noble code runs once). */
function implementing(method: keyof CryptoBackend): CryptoBackend[] {
  return vectorBackends.filter(
    (b, i) => vectorBackends.findIndex((o) => o[method] === b[method]) === i,
  );
}

type Check = (group: WycheproofGroup, test: WycheproofTest) => Promise<string | undefined>;

/** Runs every test of a file; returns the failures (tcId and reason), expecting none. */
async function runAll(file: string, check: Check): Promise<string[]> {
  const failures: string[] = [];
  for (const { group, test } of allTests(loadWycheproof(file))) {
    const failure = await check(group, test).catch((e: unknown) => `threw ${String(e)}`);
    if (failure) failures.push(`tcId ${test.tcId} (${test.result}, ${test.comment}): ${failure}`);
  }
  return failures;
}

async function rejection(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe.each(implementing('x25519'))('Wycheproof X25519: $name', (backend) => {
  it('computes every valid and acceptable shared secret, rejects every zero one', async () => {
    const failures = await runAll('x25519_test.json', async (_g, test) => {
      const shared = hexField(test, 'shared');
      const run = () => backend.x25519(hexField(test, 'private'), hexField(test, 'public'));
      // RFC 7748 §6.1: an all-zero result means a low-order peer key; PQXDH and the ratchet
      // must abort, so we reject these "acceptable" vectors by design. Every other acceptable
      // case (twist points, non-canonical u >= p) is computed exactly as RFC 7748 §5 defines.
      if (test.result === 'invalid' || shared.every((b) => b === 0)) {
        const e = await rejection(run);
        return e instanceof InvalidKeyError ? undefined : `expected InvalidKeyError, got ${e}`;
      }
      const got = await run();
      return constantTimeEqual(got, shared) ? undefined : `got ${toHex(got)}`;
    });
    expect(failures).toEqual([]);
  });
});

describe.each(implementing('ed25519Verify'))('Wycheproof Ed25519: $name', (backend) => {
  it('accepts every valid signature and rejects every invalid one', async () => {
    const failures = await runAll('ed25519_test.json', async (group, test) => {
      const publicKey = (group['publicKey'] as { pk: string }).pk;
      const ok = await backend.ed25519Verify(
        hexField({ tcId: test.tcId, result: test.result, pk: publicKey }, 'pk'),
        hexField(test, 'msg'),
        hexField(test, 'sig'),
      );
      return ok === (test.result === 'valid') ? undefined : `verify returned ${ok}`;
    });
    expect(failures).toEqual([]);
  });
});

describe.each(implementing('aeadOpen'))('Wycheproof ChaCha20-Poly1305: $name', (backend) => {
  it('seals and opens every valid vector and rejects every invalid one', async () => {
    const failures = await runAll('chacha20_poly1305_test.json', async (group, test) => {
      const [key, nonce, aad, msg] = ['key', 'iv', 'aad', 'msg'].map((f) => hexField(test, f));
      const sealed = new Uint8Array([...hexField(test, 'ct'), ...hexField(test, 'tag')]);
      if (test.result === 'invalid') {
        const e = await rejection(() => backend.aeadOpen(key!, nonce!, sealed, aad!));
        // A modified tag must fail authentication; a nonce of the wrong size is an argument error.
        const expected = group['ivSize'] === 96 ? DecryptError : ArgumentRangeError;
        return e instanceof expected ? undefined : `expected ${expected.name}, got ${e}`;
      }
      const got = backend.aeadSeal(key!, nonce!, msg!, aad!);
      if (!constantTimeEqual(got, sealed)) return `sealed ${toHex(got)}`;
      const opened = backend.aeadOpen(key!, nonce!, sealed, aad!);
      return constantTimeEqual(opened, msg!) ? undefined : `opened ${toHex(opened)}`;
    });
    expect(failures).toEqual([]);
  });
});

describe.each(implementing('hkdfSha256'))('Wycheproof HKDF-SHA-256: $name', (backend) => {
  it('derives every valid output and refuses oversized ones', async () => {
    const failures = await runAll('hkdf_sha256_test.json', async (_g, test) => {
      const [ikm, salt, info] = ['ikm', 'salt', 'info'].map((f) => hexField(test, f));
      const run = () => backend.hkdfSha256(ikm!, salt!, info!, test['size'] as number);
      if (test.result === 'invalid') {
        const e = await rejection(run);
        return e instanceof ArgumentRangeError
          ? undefined
          : `expected ArgumentRangeError, got ${e}`;
      }
      const got = run();
      return constantTimeEqual(got, hexField(test, 'okm')) ? undefined : `got ${toHex(got)}`;
    });
    expect(failures).toEqual([]);
  });
});

describe.each(implementing('hmacSha256'))('Wycheproof HMAC-SHA-256: $name', (backend) => {
  it('matches every valid tag (truncated to the group tag size) and no modified one', async () => {
    const failures = await runAll('hmac_sha256_test.json', async (group, test) => {
      const tagBytes = (group['tagSize'] as number) / 8;
      const mac = backend.hmacSha256(hexField(test, 'key'), hexField(test, 'msg'));
      const matches = constantTimeEqual(mac.subarray(0, tagBytes), hexField(test, 'tag'));
      return matches === (test.result === 'valid') ? undefined : `match was ${matches}`;
    });
    expect(failures).toEqual([]);
  });
});

describe.each(implementing('mlkemDecapsulate'))('Wycheproof ML-KEM-1024: $name', (backend) => {
  it('derives keys and decapsulates (incl. implicit rejection); refuses bad sizes', async () => {
    const failures = await runAll('mlkem_1024_test.json', async (_g, test) => {
      const seed = hexField(test, 'seed');
      const cipherText = hexField(test, 'c');
      if (test.result === 'invalid') {
        // Wrong-length seeds ("private key") and ciphertexts are argument errors.
        const e = await rejection(async () => {
          const { secretKey } = backend.mlkemKeygen(seed);
          await backend.mlkemDecapsulate(cipherText, secretKey);
        });
        return e instanceof ArgumentRangeError
          ? undefined
          : `expected ArgumentRangeError, got ${e}`;
      }
      const { publicKey, secretKey } = backend.mlkemKeygen(seed);
      if (!constantTimeEqual(publicKey, hexField(test, 'ek'))) return 'encapsulation key differs';
      const shared = await backend.mlkemDecapsulate(cipherText, secretKey);
      if (!constantTimeEqual(shared, hexField(test, 'K'))) return `got ${toHex(shared)}`;
      // With the key's seed as well (what WebCrypto decapsulates from): the same secret.
      const fromSeed = await backend.mlkemDecapsulate(cipherText, secretKey, seed);
      return constantTimeEqual(fromSeed, hexField(test, 'K')) ? undefined : 'seed path differs';
    });
    expect(failures).toEqual([]);
  });

  it('encapsulates every valid key and refuses unreduced or wrong-size keys', async () => {
    const failures = await runAll('mlkem_1024_encaps_test.json', async (_g, test) => {
      const run = () => backend.mlkemEncapsulate(hexField(test, 'ek'), hexField(test, 'm'));
      if (test.result === 'invalid') {
        const e = await rejection(run);
        // FIPS 203 §7.2 modulus check: coefficients >= q make the key invalid.
        const expected =
          hexField(test, 'ek').length === 1568 ? InvalidKeyError : ArgumentRangeError;
        return e instanceof expected ? undefined : `expected ${expected.name}, got ${e}`;
      }
      const { cipherText, sharedSecret } = await run();
      if (!constantTimeEqual(cipherText, hexField(test, 'c'))) return 'ciphertext differs';
      return constantTimeEqual(sharedSecret, hexField(test, 'K')) ? undefined : 'secret differs';
    });
    expect(failures).toEqual([]);
  });

  it('encapsulates with its own randomness: the same keys accepted and refused', async () => {
    let valid = 0;
    const failures = await runAll('mlkem_1024_encaps_test.json', async (_g, test) => {
      const run = () => backend.mlkemEncapsulate(hexField(test, 'ek'));
      if (test.result === 'invalid') {
        const e = await rejection(run);
        const expected =
          hexField(test, 'ek').length === 1568 ? InvalidKeyError : ArgumentRangeError;
        return e instanceof expected ? undefined : `expected ${expected.name}, got ${e}`;
      }
      const first = await run();
      const second = await run();
      valid++;
      if (first.cipherText.length !== 1568 || first.sharedSecret.length !== 32) return 'sizes';
      // A fresh message each time: neither the ciphertext nor the secret repeats.
      return constantTimeEqual(first.cipherText, second.cipherText) ||
        constantTimeEqual(first.sharedSecret, second.sharedSecret)
        ? 'randomness repeated'
        : undefined;
    });
    expect(failures).toEqual([]);
    expect(valid).toBeGreaterThan(0);
  });
});
