/**
 * The service's issuer and verifier (functions/domain/token-issuer.ts): keys are RSA-2048 with
 * exponent 65537 published in the RFC 9578 §6.5 encoding and survive a PKCS#8 round trip;
 * `blindSign` answers RSASP1 of exactly the acceptable requests, `undefined` for the others,
 * and never releases a faulty signature; `verifyToken` accepts the honest token only: not a
 * token with any bit changed, another type, size, key id or challenge, another key's
 * signature, another salt length or another padding.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  publicEncrypt,
  sign,
} from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '#functions/domain/errors.ts';
import {
  blindSign,
  exportTokenIssuerKey,
  importTokenIssuerKey,
  type TokenIssuerKey,
  tokenVerifierKey,
  verifyToken,
} from '#functions/domain/token-issuer.ts';
import { parseTokenKey, tokenKeyId } from '#sdk/tokens/index.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { big, bytesOf, challengeDigest, expected, issue, issuerKey, otherKey } from './fixtures.ts';

const { n } = parseTokenKey(issuerKey.publicKey);
const verifier = tokenVerifierKey(issuerKey.publicKey);
const { request, response, token } = issue();
const input = token.subarray(0, 98);
const header = request.subarray(0, 3);
const withBlinded = (z: bigint) => concatBytes(header, bytesOf(z));

const rsaPublic = createPublicKey(issuerKey.privateKey);
const pkcs8Of = (key: KeyObject) => new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));

describe('issuer keys', () => {
  it('are RSA-2048, e = 65537, published in the RFC 9578 encoding with its SHA-256 id', () => {
    expect(issuerKey.privateKey.asymmetricKeyType).toBe('rsa');
    expect(issuerKey.privateKey.asymmetricKeyDetails).toMatchObject({
      modulusLength: 2048,
      publicExponent: 65537n,
    });
    const jwk = issuerKey.privateKey.export({ format: 'jwk' });
    expect(n).toBe(big(Buffer.from(jwk.n!, 'base64url')));
    expect(issuerKey.keyId).toEqual(sha256(issuerKey.publicKey));
    expect(issuerKey.keyId).toEqual(tokenKeyId(issuerKey.publicKey));
    expect(otherKey.keyId).not.toEqual(issuerKey.keyId);
  });

  it('survive a PKCS#8 round trip and sign identically after it', () => {
    const pkcs8 = exportTokenIssuerKey(issuerKey);
    const again = importTokenIssuerKey(pkcs8);
    expect(again.publicKey).toEqual(issuerKey.publicKey);
    expect(again.keyId).toEqual(issuerKey.keyId);
    expect(blindSign(again, request)).toEqual(response);
  });

  it('refuse PKCS#8 keys of another kind or size, and bytes that are not PKCS#8', () => {
    const rsa = (modulusLength: number, publicExponent = 65537) =>
      generateKeyPairSync('rsa', { modulusLength, publicExponent }).privateKey;
    const refused: Uint8Array[] = [
      generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha384' }).privateKey,
      rsa(1024),
      rsa(3072),
      rsa(2048, 3),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      generateKeyPairSync('ed25519').privateKey,
    ].map(pkcs8Of);
    refused.push(new Uint8Array(100), issuerKey.publicKey, new Uint8Array(0));
    for (const bytes of refused) expect(() => importTokenIssuerKey(bytes)).toThrow(RangeError);
    expect(() => importTokenIssuerKey('key' as never)).toThrow(TypeError);
    expect(() => exportTokenIssuerKey({ ...issuerKey, privateKey: verifier })).toThrow(TypeError);
  });

  it('verifier keys come only from the RFC 9578 encoding of an RSA-2048 key', () => {
    expect(verifier.asymmetricKeyType).toBe('rsa');
    expect(verifier.type).toBe('public');
    const spki = new Uint8Array(verifier.export({ format: 'der', type: 'spki' }));
    expect(() => tokenVerifierKey(spki)).toThrow(RangeError);
    // Bytes of the fixed encoding, the modulus's top bit (81) and its parity bit (336).
    const changes: [number, number][] = [
      [0, 0x02],
      [9, 0x02],
      [33, 0x02],
      [61, 0x02],
      [66, 0x02],
      [80, 0x02],
      [81, 0x80],
      [336, 0x01],
      [337, 0x02],
      [341, 0x02],
    ];
    for (const [at, bit] of changes) {
      const changed = issuerKey.publicKey.slice();
      changed[at]! ^= bit;
      expect(() => tokenVerifierKey(changed), `byte ${at}`).toThrow(RangeError);
    }
    const even = issuerKey.publicKey.slice();
    even[81 + 255]! &= 0xfe;
    expect(() => tokenVerifierKey(even)).toThrow(RangeError);
    expect(() => tokenVerifierKey(issuerKey.publicKey.subarray(1))).toThrow(RangeError);
    expect(() => tokenVerifierKey([] as never)).toThrow(TypeError);
  });
});

describe('blindSign', () => {
  it('answers RSASP1 of the blinded message: response^e = blinded (mod n)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: n - 1n }), (z) => {
        const r = blindSign(issuerKey, withBlinded(z));
        expect(r).toBeDefined();
        expect(r!.length).toBe(256);
        // RSAVP1 with OpenSSL: s^e mod n.
        const m = big(publicEncrypt({ key: rsaPublic, padding: constants.RSA_NO_PADDING }, r!));
        expect(m).toBe(z);
      }),
      { numRuns: 25 },
    );
    expect(blindSign(issuerKey, withBlinded(n - 1n))).toBeDefined();
    expect(blindSign(issuerKey, withBlinded(0n))).toEqual(new Uint8Array(256));
  });

  it('answers undefined for any other size, type, key id, or a blinded value >= n', () => {
    const refused: [string, unknown][] = [
      ['empty', new Uint8Array(0)],
      ['258 bytes', request.subarray(0, 258)],
      ['260 bytes', concatBytes(request, new Uint8Array(1))],
      ['n', withBlinded(n)],
      ['n + 1', withBlinded(n + 1n)],
      ['2^2048 - 1', concatBytes(header, new Uint8Array(256).fill(0xff))],
      ['a string', 'request'],
      ['an array', Array.from(request)],
      ['null', null],
      ['undefined', undefined],
    ];
    for (const type of [0x0000, 0x0001, 0x0003, 0x0102, 0xda7a, 0xffff]) {
      const r = request.slice();
      r[0] = type >>> 8;
      r[1] = type & 0xff;
      refused.push([`type ${type}`, r]);
    }
    for (let id = 0; id < 256; id++) {
      if (id === issuerKey.keyId[31]) continue;
      const r = request.slice();
      r[2] = id;
      refused.push([`truncated key id ${id}`, r]);
    }
    for (const [name, r] of refused) {
      expect(blindSign(issuerKey, r as Uint8Array), name).toBeUndefined();
    }
  });

  it('throws on a key whose published half is not its own', () => {
    expect(() => blindSign({ ...otherKey, privateKey: issuerKey.privateKey }, request)).toThrow(
      RangeError,
    );
    const fresh = importTokenIssuerKey(exportTokenIssuerKey(issuerKey));
    expect(() => blindSign({ ...fresh, keyId: otherKey.keyId }, request)).toThrow(RangeError);
    expect(() => blindSign({ ...fresh, publicKey: otherKey.publicKey }, request)).toThrow(
      RangeError,
    );
    expect(blindSign(fresh, request)).toEqual(response);
    expect(() => blindSign({ ...issuerKey, privateKey: 'k' } as never, request)).toThrow(TypeError);
  });

  it('releases nothing when the signature fails its check (a computation fault)', () => {
    // A key whose private exponent and CRT exponents are off: OpenSSL's own CRT check falls
    // back to d, which is wrong too, so only the RSAVP1 check can catch it.
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    });
    const off = (v: string) => {
      const b = Buffer.from(v, 'base64url');
      b[b.length - 1]! ^= 0x02;
      return b.toString('base64url');
    };
    const faulty = createPrivateKey({
      key: { ...jwk, d: off(jwk.d!), dp: off(jwk.dp!), dq: off(jwk.dq!) },
      format: 'jwk',
    });
    const key: TokenIssuerKey = importTokenIssuerKey(pkcs8Of(faulty));
    const r = concatBytes(Uint8Array.of(0, 2, key.keyId[31]!), bytesOf(12345678901234567890n));
    expect(() => blindSign(key, r)).toThrow(UnavailableError);
  });
});

describe('verifyToken', () => {
  it('accepts the honest token, under the JWK-built key and under node:crypto’s own parse', () => {
    expect(verifyToken(verifier, token, expected)).toBe(true);
    const parsed = createPublicKey({
      key: Buffer.from(issuerKey.publicKey),
      format: 'der',
      type: 'spki',
    });
    expect(parsed.asymmetricKeyType).toBe('rsa-pss');
    expect(verifyToken(parsed, token, expected)).toBe(true);
  });

  it('refuses the token with any single bit changed', () => {
    for (let i = 0; i < token.length * 8; i++) {
      const changed = token.slice();
      changed[i >> 3]! ^= 0x80 >> (i & 7);
      if (verifyToken(verifier, changed, expected)) throw new Error(`bit ${i} accepted`);
    }
  });

  it('refuses another size, type, key id or challenge, and non-bytes, without throwing', () => {
    const other = issue(otherKey);
    const typed = token.slice();
    typed[1] = 1;
    const refused: [string, unknown, typeof expected][] = [
      ['353 bytes', token.subarray(0, 353), expected],
      ['355 bytes', concatBytes(token, new Uint8Array(1)), expected],
      ['empty', new Uint8Array(0), expected],
      ['type 1', typed, expected],
      ['another key id expected', token, { ...expected, keyId: otherKey.keyId }],
      ['another challenge expected', token, { ...expected, challengeDigest: sha256(token) }],
      ["another key's token", other.token, expected],
      ["another key's token, its own id", other.token, { ...expected, keyId: otherKey.keyId }],
      ['a string', 'token', expected],
      ['null', null, expected],
      ['a number', 354, expected],
    ];
    for (const [name, t, e] of refused) {
      expect(verifyToken(verifier, t as Uint8Array, e), name).toBe(false);
    }
    expect(verifyToken(tokenVerifierKey(otherKey.publicKey), token, expected)).toBe(false);
    expect(challengeDigest).toEqual(expected.challengeDigest);
  });

  it('refuses signatures by another key, with another salt length or another padding', () => {
    const pss = (key: KeyObject, saltLength: number) =>
      sign('sha384', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
    const forged = [
      pss(otherKey.privateKey, 48),
      pss(issuerKey.privateKey, 32),
      pss(issuerKey.privateKey, 64),
      pss(issuerKey.privateKey, 0),
      sign('sha384', input, { key: issuerKey.privateKey, padding: constants.RSA_PKCS1_PADDING }),
      sign('sha256', input, {
        key: issuerKey.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 48,
      }),
    ];
    for (const signature of forged) {
      expect(verifyToken(verifier, concatBytes(input, signature), expected)).toBe(false);
    }
    // The control: the same construction with the right parameters verifies.
    expect(verifyToken(verifier, concatBytes(input, pss(issuerKey.privateKey, 48)), expected)).toBe(
      true,
    );
  });

  it('throws on arguments the service supplies wrongly', () => {
    expect(() => verifyToken(issuerKey.privateKey, token, expected)).toThrow(TypeError);
    expect(() => verifyToken('key' as never, token, expected)).toThrow(TypeError);
    expect(() => verifyToken(verifier, token, { ...expected, keyId: new Uint8Array(31) })).toThrow(
      RangeError,
    );
    expect(() => verifyToken(verifier, token, undefined as never)).toThrow(TypeError);
  });
});
