/**
 * The daily token issuer keys (functions/domain/token-key-service.ts, docs/PROTOCOL.md §13):
 * one key per UTC day shared by every instance (first writer wins), stored wrapped under the
 * signing secret, redeemable for two more days, published in a list signed by the server key.
 */
import { describe, expect, it } from 'vitest';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import { ed25519PublicKey, ed25519Verify } from '#functions/domain/crypto.ts';
import {
  generateSigningMaterial,
  StaticSigningKeyProvider,
} from '#functions/domain/signing-material.ts';
import {
  dayOf,
  redeemableUntil,
  TokenKeyService,
  unwrapTokenKey,
  wrapTokenKey,
} from '#functions/domain/token-key-service.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';
import { decodeTokenKeyList, tokenKeyListPayload } from '#sdk/wire/token-keys.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 3, 10);

function setup() {
  const { material } = generateSigningMaterial({ keyId: 1, notAfter: T0 + 365 * DAY });
  const signing = new StaticSigningKeyProvider(material);
  const ports = memoryTokenPorts();
  const service = () =>
    new TokenKeyService(ports.keys, signing, { issuerName: 'api.example', listCacheMs: 60_000 });
  return { material, ports, service };
}

describe('TokenKeyService', () => {
  it('stores one key per day that every instance adopts, wrapped', async () => {
    const { material, ports, service } = setup();
    const [a, b] = [service(), service()];
    const [ka, kb] = await Promise.all([a.issuingKey(T0), b.issuingKey(T0 + 1000)]);
    expect(ka.keyId).toEqual(kb.keyId);
    expect(ka.day).toBe(dayOf(T0));
    expect(ka.notAfter).toBe(redeemableUntil(dayOf(T0)));
    expect(ka.notAfter).toBe(Date.UTC(2026, 11, 6) - 1);
    // A third instance later the same day reads the stored key.
    expect((await service().issuingKey(T0 + 3_600_000)).keyId).toEqual(ka.keyId);
    const stored = await ports.keys.get(dayOf(T0));
    expect(stored!.keyId).toEqual(ka.keyId);
    // What is stored does not open without the stamp secret, nor for another day or key id.
    const other = generateSigningMaterial({ keyId: 1, notAfter: T0 + DAY }).material;
    const day = dayOf(T0);
    expect(() =>
      unwrapTokenKey(other.stampSecret, day, stored!.keyId, stored!.wrappedPrivateKey),
    ).toThrow();
    expect(() =>
      unwrapTokenKey(material.stampSecret, day + 1, stored!.keyId, stored!.wrappedPrivateKey),
    ).toThrow();
    expect(() =>
      unwrapTokenKey(material.stampSecret, day, new Uint8Array(32), stored!.wrappedPrivateKey),
    ).toThrow();
    expect(
      unwrapTokenKey(material.stampSecret, day, stored!.keyId, stored!.wrappedPrivateKey).length,
    ).toBeGreaterThan(1000);
  });

  it('wraps with a fresh nonce and authenticates every byte', () => {
    const secret = new Uint8Array(32).fill(1);
    const id = new Uint8Array(32).fill(2);
    const pkcs8 = new Uint8Array(1200).fill(3);
    const w1 = wrapTokenKey(secret, 5, id, pkcs8);
    const w2 = wrapTokenKey(secret, 5, id, pkcs8);
    expect(w1).not.toEqual(w2);
    expect(Buffer.from(w1).includes(Buffer.from(pkcs8.subarray(0, 32)))).toBe(false);
    expect(unwrapTokenKey(secret, 5, id, w1)).toEqual(pkcs8);
    for (const at of [0, 12, w1.length - 1]) {
      const bad = w1.slice();
      bad[at]! ^= 1;
      expect(() => unwrapTokenKey(secret, 5, id, bad)).toThrow();
    }
    expect(() => unwrapTokenKey(secret, 5, id, w1.subarray(0, 28))).toThrow();
  });

  it('starts a new key each UTC day and redeems a key until two days after its own', async () => {
    const { service } = setup();
    const s = service();
    const first = await s.issuingKey(T0);
    const next = await s.issuingKey(T0 + DAY);
    expect(next.keyId).not.toEqual(first.keyId);
    expect((await s.redeemingKey(first.keyId, T0))?.day).toBe(dayOf(T0));
    expect(await s.redeemingKey(first.keyId, first.notAfter)).toBeDefined();
    expect(await s.redeemingKey(first.keyId, first.notAfter + 1)).toBeUndefined();
    // A fresh instance (cold cache) agrees.
    expect(await service().redeemingKey(first.keyId, T0 + 2 * DAY)).toBeDefined();
    expect(await service().redeemingKey(first.keyId, first.notAfter + 1)).toBeUndefined();
    expect(await s.redeemingKey(new Uint8Array(32), T0)).toBeUndefined();
  });

  it('publishes the redeemable keys in a list the server key signed', async () => {
    const { material, service } = setup();
    const s = service();
    const k1 = await s.issuingKey(T0 - 3 * DAY); // no longer redeemable at T0
    const k2 = await s.issuingKey(T0 - DAY);
    const k3 = await s.issuingKey(T0);
    const list = decodeTokenKeyList(fromBase64Url(await s.publishedKeys(T0)));
    expect(list.issuerName).toBe('api.example');
    expect(list.keys.map((k) => k.day)).toEqual([k2.day, k3.day]);
    expect(list.keys.map((k) => k.publicKey)).toEqual([k2.publicKey, k3.publicKey]);
    expect(list.keys.some((k) => k.day === k1.day)).toBe(false);
    const serverPublic = ed25519PublicKey(material.serverSeed);
    expect(ed25519Verify(serverPublic, tokenKeyListPayload(list), list.signature)).toBe(true);
    // Cached for a minute, then rebuilt.
    expect(await s.publishedKeys(T0 + 59_999)).toBe(await s.publishedKeys(T0));
    expect(decodeTokenKeyList(fromBase64Url(await s.publishedKeys(T0 + 60_000))).issuedAt).toBe(
      T0 + 60_000,
    );
  });
});
