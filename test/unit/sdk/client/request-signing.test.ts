/**
 * Owner request signing (docs/SERVICE.md §3.1): the headers name the device, the
 * signature is over exactly `requestSignaturePayload` of the request, and it verifies under the
 * device signing key (and under nothing else).
 */
import { describe, expect, it } from 'vitest';
import {
  clockOffset,
  MAX_CLOCK_OFFSET_MS,
  seedSigner,
  signRequest,
} from '#sdk/client/request-signing.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import {
  ACCOUNT_SIGNATURE_HEADER,
  AUTH_HEADERS,
  accountRequestPayload,
  requestSignaturePayload,
} from '#sdk/wire/api/signing.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const backend = nobleBackend;
const SEED = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const ADDRESS = addressFromBytes(Uint8Array.from({ length: 20 }, (_, i) => 200 - i));
const NOW = 1_750_000_000_000;
const AUDIENCE = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);

/** A deterministic RNG: counts up from `start`, so every nonce is known and distinct. */
function countingRng(start = 0) {
  let n = start;
  return (length: number) => Uint8Array.from({ length }, () => n++ & 0xff);
}

async function sign(method: string, path: string, body: Uint8Array, rng = countingRng()) {
  const signer = seedSigner(backend, ADDRESS, 3, SEED);
  return signRequest(
    { backend, rng, now: () => NOW + 0.7, signer, audience: AUDIENCE },
    method,
    path,
    body,
  );
}

describe('request signing', () => {
  it('names the device and signs requestSignaturePayload of the exact request', async () => {
    const body = utf8('{"messageIds":["AAAA"]}');
    const headers = await sign('POST', '/v1/messages/ack', body);
    expect(Object.keys(headers).sort()).toEqual(Object.values(AUTH_HEADERS).sort());
    expect(headers[AUTH_HEADERS.address]).toBe(ADDRESS);
    expect(headers[AUTH_HEADERS.device]).toBe('3');
    expect(headers[AUTH_HEADERS.timestamp]).toBe(String(NOW));
    const nonce = fromBase64Url(headers[AUTH_HEADERS.nonce]!);
    expect(nonce).toEqual(Uint8Array.from({ length: 16 }, (_, i) => i));

    const payload = requestSignaturePayload({
      audience: AUDIENCE,
      method: 'POST',
      pathAndQuery: '/v1/messages/ack',
      bodyHash: backend.sha256(body),
      timestamp: NOW,
      nonce,
      address: ADDRESS,
      deviceId: 3,
    });
    const signature = fromBase64Url(headers[AUTH_HEADERS.signature]!);
    expect(signature).toEqual(await backend.ed25519Sign(SEED, payload));
    const publicKey = await backend.ed25519PublicKey(SEED);
    expect(await backend.ed25519Verify(publicKey, payload, signature)).toBe(true);
  });

  it('binds method, path with query, body, and device: changing any breaks verification', async () => {
    const body = utf8('{}');
    const headers = await sign('GET', '/v1/messages?limit=50', body);
    const signature = fromBase64Url(headers[AUTH_HEADERS.signature]!);
    const publicKey = await backend.ed25519PublicKey(SEED);
    const base = {
      audience: AUDIENCE,
      method: 'GET',
      pathAndQuery: '/v1/messages?limit=50',
      bodyHash: backend.sha256(body),
      timestamp: NOW,
      nonce: fromBase64Url(headers[AUTH_HEADERS.nonce]!),
      address: ADDRESS,
      deviceId: 3,
    };
    expect(await backend.ed25519Verify(publicKey, requestSignaturePayload(base), signature)).toBe(
      true,
    );
    for (const change of [
      { method: 'PUT' },
      { pathAndQuery: '/v1/messages?limit=51' },
      { pathAndQuery: '/v1/messages' },
      { bodyHash: backend.sha256(new Uint8Array(0)) },
      { timestamp: NOW + 1 },
      { deviceId: 4 },
      { audience: new Uint8Array(32) },
    ]) {
      const payload = requestSignaturePayload({ ...base, ...change });
      expect(await backend.ed25519Verify(publicKey, payload, signature)).toBe(false);
    }
  });

  it('hashes the empty body when there is none', async () => {
    const headers = await sign('DELETE', '/v1/devices/2', new Uint8Array(0));
    const payload = requestSignaturePayload({
      audience: AUDIENCE,
      method: 'DELETE',
      pathAndQuery: '/v1/devices/2',
      bodyHash: backend.sha256(new Uint8Array(0)),
      timestamp: NOW,
      nonce: fromBase64Url(headers[AUTH_HEADERS.nonce]!),
      address: ADDRESS,
      deviceId: 3,
    });
    const publicKey = await backend.ed25519PublicKey(SEED);
    const signature = fromBase64Url(headers[AUTH_HEADERS.signature]!);
    expect(await backend.ed25519Verify(publicKey, payload, signature)).toBe(true);
  });

  it('uses a fresh nonce for every call', async () => {
    const rng = countingRng(7);
    const a = await sign('GET', '/v1/prekeys/count', new Uint8Array(0), rng);
    const b = await sign('GET', '/v1/prekeys/count', new Uint8Array(0), rng);
    expect(a[AUTH_HEADERS.nonce]).not.toBe(b[AUTH_HEADERS.nonce]);
    expect(a[AUTH_HEADERS.signature]).not.toBe(b[AUTH_HEADERS.signature]);
  });

  it('co-signs with the account key over the account payload of the same request', async () => {
    const accountSeed = Uint8Array.from({ length: 32 }, (_, i) => 90 - i);
    const signer = seedSigner(backend, ADDRESS, 3, SEED);
    const headers = await signRequest(
      {
        backend,
        rng: countingRng(),
        now: () => NOW,
        signer,
        audience: AUDIENCE,
        accountSign: (p) => backend.ed25519Sign(accountSeed, p),
      },
      'DELETE',
      '/v1/devices/1',
      new Uint8Array(0),
    );
    const input = {
      audience: AUDIENCE,
      method: 'DELETE',
      pathAndQuery: '/v1/devices/1',
      bodyHash: backend.sha256(new Uint8Array(0)),
      timestamp: NOW,
      nonce: fromBase64Url(headers[AUTH_HEADERS.nonce]!),
      address: ADDRESS,
      deviceId: 3,
    };
    const accountSig = fromBase64Url(headers[ACCOUNT_SIGNATURE_HEADER]!);
    const accountPublic = await backend.ed25519PublicKey(accountSeed);
    expect(
      await backend.ed25519Verify(accountPublic, accountRequestPayload(input), accountSig),
    ).toBe(true);
    // Distinct label: the account signature is not a request signature and vice versa.
    expect(
      await backend.ed25519Verify(accountPublic, requestSignaturePayload(input), accountSig),
    ).toBe(false);
    expect(accountRequestPayload(input).subarray(-100)).toEqual(
      requestSignaturePayload(input).subarray(-100),
    );
    // Without accountSign there is no such header.
    expect(Object.keys(await sign('DELETE', '/v1/devices/1', new Uint8Array(0)))).not.toContain(
      ACCOUNT_SIGNATURE_HEADER,
    );
  });

  it('takes a clock offset from a plausible server time only', () => {
    expect(clockOffset(NOW + 600_000, NOW + 0.9)).toBe(600_000);
    expect(clockOffset(NOW - 600_000, NOW)).toBe(-600_000);
    expect(clockOffset(NOW + MAX_CLOCK_OFFSET_MS, NOW)).toBe(MAX_CLOCK_OFFSET_MS);
    for (const bad of [NOW + MAX_CLOCK_OFFSET_MS + 1, -1, 1.5, '1750000000000', undefined, NaN]) {
      expect(clockOffset(bad, NOW)).toBeUndefined();
    }
  });

  it('refuses what cannot be signed', async () => {
    await expect(sign('get', '/v1/health', new Uint8Array(0))).rejects.toThrow(ArgumentTypeError);
    await expect(sign('GET', 'v1/health', new Uint8Array(0))).rejects.toThrow(ArgumentTypeError);
    await expect(sign('GET', `/${'a'.repeat(2048)}`, new Uint8Array(0))).rejects.toThrow(
      ArgumentRangeError,
    );
  });
});
