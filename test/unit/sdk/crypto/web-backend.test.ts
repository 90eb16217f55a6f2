/**
 * The WebCrypto backend's runtime detection: on Node 20 WebCrypto has X25519 and Ed25519 and is
 * used; a runtime without them, or with a wrong or lenient implementation, gets noble for that
 * curve, decided once (docs/PROTOCOL.md §2.1).
 */
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { createWebBackend, webBackend } from '#sdk/crypto/web-backend.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';

const real = globalThis.crypto.subtle;

type Overrides = { [K in keyof SubtleCrypto]?: SubtleCrypto[K] };

/** The runtime's SubtleCrypto with some methods replaced. */
function subtleWith(overrides: Overrides): SubtleCrypto {
  return new Proxy(real, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof SubtleCrypto];
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const algorithmName = (algorithm: AlgorithmIdentifier) =>
  typeof algorithm === 'string' ? algorithm : algorithm.name;

// RFC 7748 §6.1 and RFC 8032 §7.1 TEST 2.
const alice = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const bobPublic = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
const seed = fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
const edPublic = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
const message = fromHex('72');
const signature = fromHex(
  '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
);

const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const leToBigInt = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigIntToLe = (n: bigint, length: number) =>
  Uint8Array.from({ length }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

describe('webBackend', () => {
  it('uses WebCrypto for both curves on this runtime', async () => {
    expect(webBackend.name).toBe('webcrypto');
    expect(await webBackend.support()).toEqual({ x25519: true, ed25519: true });
  });

  it('falls back to noble for every curve when there is no SubtleCrypto', async () => {
    const backend = createWebBackend({ subtle: undefined });
    expect(await backend.support()).toEqual({ x25519: false, ed25519: false });
    expect(toHex(await backend.x25519(alice, bobPublic))).toBe(shared);
    expect(toHex(await backend.ed25519PublicKey(seed))).toBe(toHex(edPublic));
    expect(toHex(await backend.ed25519Sign(seed, message))).toBe(toHex(signature));
    expect(await backend.ed25519Verify(edPublic, message, signature)).toBe(true);
  });

  it('falls back per curve and detects only once', async () => {
    let x25519Imports = 0;
    const backend = createWebBackend({
      subtle: subtleWith({
        importKey: ((
          format: KeyFormat,
          data: never,
          algorithm: AlgorithmIdentifier,
          ...rest: never[]
        ) => {
          if (algorithmName(algorithm) === 'X25519') {
            x25519Imports++;
            return Promise.reject(new DOMException('unsupported', 'NotSupportedError'));
          }
          return (real.importKey as (...a: unknown[]) => Promise<CryptoKey>)(
            format,
            data,
            algorithm,
            ...rest,
          );
        }) as SubtleCrypto['importKey'],
      }),
    });
    await Promise.all([backend.x25519(alice, bobPublic), backend.x25519(alice, bobPublic)]);
    expect(await backend.support()).toEqual({ x25519: false, ed25519: true });
    const importsAfterProbe = x25519Imports;
    expect(importsAfterProbe).toBeGreaterThan(0);
    expect(toHex(await backend.x25519(alice, bobPublic))).toBe(shared);
    expect(toHex(await backend.x25519PublicKey(alice))).toBe(
      toHex(await nobleBackend.x25519PublicKey(alice)),
    );
    expect(x25519Imports).toBe(importsAfterProbe);
    expect(toHex(await backend.ed25519Sign(seed, message))).toBe(toHex(signature));
  });

  it('distrusts a WebCrypto that derives wrong secrets', async () => {
    let derives = 0;
    const backend = createWebBackend({
      subtle: subtleWith({
        deriveBits: (async () => {
          derives++;
          return new Uint8Array(32).fill(1).buffer;
        }) as SubtleCrypto['deriveBits'],
      }),
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => backend.x25519(alice, bobPublic)),
    );
    expect(results.map(toHex)).toEqual(Array(5).fill(shared));
    expect(derives).toBe(1);
    expect((await backend.support()).x25519).toBe(false);
  });

  it('rejects S >= L even when the runtime verifier would accept it (RFC 8032 §5.1.7)', async () => {
    const lenient = subtleWith({
      verify: (async (algorithm, key, sig, data) => {
        const s = leToBigInt(new Uint8Array(sig as ArrayBuffer).subarray(32));
        if (s >= ED25519_L) return true;
        return real.verify(algorithm, key, sig, data);
      }) as SubtleCrypto['verify'],
    });
    const backend = createWebBackend({ subtle: lenient });
    expect(await backend.support()).toEqual({ x25519: true, ed25519: true });
    const malleated = signature.slice();
    malleated.set(bigIntToLe(leToBigInt(signature.subarray(32)) + ED25519_L, 32), 32);
    const buffer = (b: Uint8Array) => b.slice().buffer as ArrayBuffer;
    const key = await real.importKey('raw', buffer(edPublic), 'Ed25519', false, ['verify']);
    expect(await lenient.verify('Ed25519', key, buffer(malleated), buffer(message))).toBe(true);
    expect(await backend.ed25519Verify(edPublic, message, malleated)).toBe(false);
    expect(await backend.ed25519Verify(edPublic, message, signature)).toBe(true);
  });

  it('returns false when the runtime refuses to import a public key', async () => {
    const backend = createWebBackend({
      subtle: subtleWith({
        importKey: ((
          format: KeyFormat,
          data: Uint8Array,
          algorithm: AlgorithmIdentifier,
          ...rest: never[]
        ) => {
          if (format === 'raw' && data[0] === edPublic[0]) {
            return Promise.reject(new DOMException('not on curve', 'DataError'));
          }
          return (real.importKey as (...a: unknown[]) => Promise<CryptoKey>)(
            format,
            data,
            algorithm,
            ...rest,
          );
        }) as SubtleCrypto['importKey'],
      }),
    });
    expect(await backend.ed25519Verify(edPublic, message, signature)).toBe(false);
  });
});
