/**
 * The WebCrypto backend's runtime detection: on Node 20 WebCrypto has X25519 and Ed25519 and is
 * used; a runtime without them, or with a wrong or lenient implementation, gets noble for that
 * curve, decided once (docs/PROTOCOL.md §2.1). ML-KEM-1024 likewise: a SubtleCrypto with the
 * WICG KEM calls (here a stand-in over noble, or Node 24's own) runs it once it matched noble.
 */
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { createWebBackend, webBackend } from '#sdk/crypto/web-backend.ts';
import { InvalidKeyError } from '#sdk/errors.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';

const real = globalThis.crypto.subtle;
/** Whether this runtime's WebCrypto has ML-KEM (Node >= 24 does, Node 20 does not). */
const runtimeKem = typeof (real as { encapsulateBits?: unknown }).encapsulateBits === 'function';

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
    expect(await webBackend.support()).toEqual({ x25519: true, ed25519: true, mlkem: runtimeKem });
  });

  it('falls back to noble for every curve when there is no SubtleCrypto', async () => {
    const backend = createWebBackend({ subtle: undefined });
    expect(await backend.support()).toEqual({ x25519: false, ed25519: false, mlkem: false });
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
    expect(await backend.support()).toEqual({ x25519: false, ed25519: true, mlkem: runtimeKem });
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
    expect(await backend.support()).toEqual({ x25519: true, ed25519: true, mlkem: runtimeKem });
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

/** A fake ML-KEM CryptoKey: what the stand-in below imported. */
interface FakeKemKey {
  readonly publicKey?: Uint8Array;
  readonly secretKey?: Uint8Array;
}

const buffer = (b: Uint8Array) => b.slice().buffer as ArrayBuffer;

/**
 * A SubtleCrypto with the WICG ML-KEM calls, computed by noble (Node 20 has none), counting
 * its calls; `tweak` makes it wrong in one way.
 */
function kemSubtle(tweak: { wrongSecret?: boolean; lenientImport?: boolean } = {}) {
  const calls = { encapsulate: 0, decapsulate: 0, seedImports: 0 };
  const subtle = subtleWith({
    importKey: (async (
      format: string,
      data: Uint8Array,
      algorithm: AlgorithmIdentifier,
      ...rest: unknown[]
    ) => {
      if (algorithmName(algorithm) !== 'ML-KEM-1024') {
        return (real.importKey as (...a: unknown[]) => Promise<CryptoKey>)(
          format,
          data,
          algorithm,
          ...rest,
        );
      }
      const bytes = new Uint8Array(data);
      if (format === 'raw-public') {
        // The FIPS 203 §7.2 modulus check, as browsers run it on import.
        if (!tweak.lenientImport) {
          try {
            ml_kem1024.encapsulate(bytes);
          } catch {
            throw new DOMException('invalid key', 'DataError');
          }
        }
        return { publicKey: bytes } satisfies FakeKemKey;
      }
      if (format === 'raw-seed') {
        calls.seedImports++;
        return { secretKey: ml_kem1024.keygen(bytes).secretKey } satisfies FakeKemKey;
      }
      throw new DOMException('format', 'NotSupportedError');
    }) as unknown as SubtleCrypto['importKey'],
  });
  const kem = {
    async encapsulateBits(_algorithm: unknown, key: FakeKemKey) {
      calls.encapsulate++;
      const { cipherText, sharedSecret } = ml_kem1024.encapsulate(key.publicKey!);
      return { ciphertext: buffer(cipherText), sharedKey: buffer(sharedSecret) };
    },
    async decapsulateBits(_algorithm: unknown, key: FakeKemKey, ciphertext: Uint8Array) {
      calls.decapsulate++;
      if (tweak.wrongSecret) return new Uint8Array(32).fill(1).buffer;
      return buffer(ml_kem1024.decapsulate(new Uint8Array(ciphertext), key.secretKey!));
    },
  };
  const withKem = new Proxy(subtle, {
    get: (target, prop) =>
      prop in kem ? kem[prop as keyof typeof kem] : Reflect.get(target, prop),
  });
  return { subtle: withKem, calls };
}

describe('ML-KEM-1024 on WebCrypto', () => {
  const keySeed = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  const pair = nobleBackend.mlkemKeygen(keySeed);

  it("runs on the runtime's ML-KEM once it matched noble: same bytes either way", async () => {
    const { subtle, calls } = kemSubtle();
    const backend = createWebBackend({ subtle });
    expect((await backend.support()).mlkem).toBe(true);
    const afterProbe = { ...calls };
    expect(afterProbe.decapsulate).toBeGreaterThan(0);

    // Encapsulation on WebCrypto; noble decapsulates it to the same secret.
    const theirs = await backend.mlkemEncapsulate(pair.publicKey);
    expect(calls.encapsulate).toBe(afterProbe.encapsulate + 1);
    expect(toHex(await nobleBackend.mlkemDecapsulate(theirs.cipherText, pair.secretKey))).toBe(
      toHex(theirs.sharedSecret),
    );

    // Decapsulation from the seed on WebCrypto; the same secret as noble's, also when forged.
    const ours = await nobleBackend.mlkemEncapsulate(pair.publicKey);
    const forged = ours.cipherText.slice();
    forged[100]! ^= 4;
    for (const ct of [ours.cipherText, forged]) {
      expect(toHex(await backend.mlkemDecapsulate(ct, pair.secretKey, keySeed))).toBe(
        toHex(await nobleBackend.mlkemDecapsulate(ct, pair.secretKey)),
      );
    }
    expect(calls.decapsulate).toBe(afterProbe.decapsulate + 2);

    // Without the seed (an old record) and with a given message (vectors): noble.
    expect(toHex(await backend.mlkemDecapsulate(ours.cipherText, pair.secretKey))).toBe(
      toHex(ours.sharedSecret),
    );
    const m = new Uint8Array(32).fill(3);
    const fixed = await backend.mlkemEncapsulate(pair.publicKey, m);
    expect(toHex(fixed.cipherText)).toBe(
      toHex((await nobleBackend.mlkemEncapsulate(pair.publicKey, m)).cipherText),
    );
    expect(calls.decapsulate).toBe(afterProbe.decapsulate + 2);
    expect(calls.encapsulate).toBe(afterProbe.encapsulate + 1);
  });

  it('refuses keys as noble does: unreduced public keys, decapsulation keys with a bad H(ek)', async () => {
    const { subtle, calls } = kemSubtle();
    const backend = createWebBackend({ subtle });
    expect((await backend.support()).mlkem).toBe(true);
    const unreduced = pair.publicKey.slice();
    unreduced[0] = 0xff;
    unreduced[1]! |= 0x0f;
    await expect(backend.mlkemEncapsulate(unreduced)).rejects.toThrow(InvalidKeyError);
    await expect(nobleBackend.mlkemEncapsulate(unreduced)).rejects.toThrow(InvalidKeyError);
    const corrupt = pair.secretKey.slice();
    corrupt[3104]! ^= 1; // inside H(ek): the FIPS 203 §7.3 check fails
    const decapsBefore = calls.decapsulate;
    const ct = new Uint8Array(1568);
    await expect(backend.mlkemDecapsulate(ct, corrupt, keySeed)).rejects.toThrow(InvalidKeyError);
    await expect(nobleBackend.mlkemDecapsulate(ct, corrupt, keySeed)).rejects.toThrow(
      InvalidKeyError,
    );
    expect(calls.decapsulate).toBe(decapsBefore);
  });

  it('distrusts a runtime ML-KEM that gives wrong secrets or accepts unreduced keys', async () => {
    for (const tweak of [{ wrongSecret: true }, { lenientImport: true }]) {
      const { subtle, calls } = kemSubtle(tweak);
      const backend = createWebBackend({ subtle });
      const ours = await nobleBackend.mlkemEncapsulate(pair.publicKey);
      expect(toHex(await backend.mlkemDecapsulate(ours.cipherText, pair.secretKey, keySeed))).toBe(
        toHex(ours.sharedSecret),
      );
      expect((await backend.support()).mlkem).toBe(false);
      const probeCalls = { ...calls };
      const theirs = await backend.mlkemEncapsulate(pair.publicKey);
      expect(toHex(await nobleBackend.mlkemDecapsulate(theirs.cipherText, pair.secretKey))).toBe(
        toHex(theirs.sharedSecret),
      );
      await backend.mlkemDecapsulate(ours.cipherText, pair.secretKey, keySeed);
      expect(calls).toEqual(probeCalls);
    }
  });

  it("never touches the runtime's ML-KEM when told to use noble's", async () => {
    const { subtle, calls } = kemSubtle();
    const backend = createWebBackend({ subtle, mlkem: 'noble' });
    const ours = await backend.mlkemEncapsulate(pair.publicKey);
    expect(toHex(await backend.mlkemDecapsulate(ours.cipherText, pair.secretKey, keySeed))).toBe(
      toHex(ours.sharedSecret),
    );
    expect((await backend.support()).mlkem).toBe(false);
    expect(calls).toEqual({ encapsulate: 0, decapsulate: 0, seedImports: 0 });
  });
});
