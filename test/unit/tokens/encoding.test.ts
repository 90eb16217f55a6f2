/**
 * The token encodings (RFC 9577 §2.1, RFC 9578 §6): TokenChallenge bytes equal the reference
 * implementation's, the issuer key parser accepts exactly the RFC 9578 §6.5 encoding of an
 * RSA-2048 key, the token decoder accepts exactly 354-byte tokens of type 0x0002, and every
 * refusal is the documented error.
 */
import { generateKeyPairSync, type RSAPSSKeyPairKeyObjectOptions } from 'node:crypto';
import { TOKEN_TYPES, TokenChallenge } from '@cloudflare/privacypass-ts';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as issuer from '#functions/domain/token-issuer.ts';
import {
  decodeToken,
  parseTokenKey,
  TOKEN_BYTES,
  TOKEN_INPUT_BYTES,
  TOKEN_KEY_BYTES,
  TOKEN_KEY_SPKI_PREFIX,
  TOKEN_KEY_SPKI_SUFFIX,
  TOKEN_REQUEST_BYTES,
  TOKEN_RESPONSE_BYTES,
  TOKEN_TYPE_BLIND_RSA,
  TokenError,
  tokenChallenge,
  tokenChallengeDigest,
  tokenInput,
  tokenKeyId,
} from '#sdk/tokens/index.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, toHex } from '#sdk/util/bytes.ts';
import { big, challenge, issue, issuerKey, tokenOutcome } from './fixtures.ts';

const { token } = issue();
const modulus = () =>
  big(Buffer.from(issuerKey.privateKey.export({ format: 'jwk' }).n!, 'base64url'));

describe('sizes', () => {
  it('are those of RFC 9578 §6 for a 2048-bit key, on both sides', () => {
    expect([TOKEN_BYTES, TOKEN_REQUEST_BYTES, TOKEN_RESPONSE_BYTES]).toEqual([354, 259, 256]);
    expect([TOKEN_INPUT_BYTES, TOKEN_KEY_BYTES, TOKEN_TYPE_BLIND_RSA]).toEqual([98, 342, 2]);
    expect([issuer.TOKEN_BYTES, issuer.TOKEN_REQUEST_BYTES, issuer.TOKEN_RESPONSE_BYTES]).toEqual([
      354, 259, 256,
    ]);
    expect(issuer.TOKEN_TYPE_BLIND_RSA).toBe(TOKEN_TYPE_BLIND_RSA);
    expect(token.length).toBe(TOKEN_BYTES);
    expect(issuerKey.publicKey.length).toBe(TOKEN_KEY_BYTES);
  });
});

describe('tokenChallenge', () => {
  it('encodes the Sealpost challenge: type 2, the issuer name, empty context and origins', () => {
    expect(toHex(challenge)).toBe(
      `00020014${Buffer.from('api.sealpost.example').toString('hex')}000000`,
    );
    expect(tokenChallengeDigest(challenge)).toEqual(sha256(challenge));
  });

  it('equals the reference TokenChallenge serialization for any fields', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
        fc.array(fc.domain(), { maxLength: 4 }),
        (issuerName, redemptionContext, originInfo) => {
          const ours = tokenChallenge({ issuerName, redemptionContext, originInfo });
          const theirs = new TokenChallenge(
            TOKEN_TYPES.BLIND_RSA.value,
            issuerName,
            redemptionContext ?? new Uint8Array(0),
            originInfo.length === 0 ? undefined : originInfo,
          ).serialize();
          expect(toHex(ours)).toBe(toHex(theirs));
          const decoded = TokenChallenge.deserialize(ours.slice());
          expect(decoded.issuerName).toBe(issuerName);
          expect(decoded.originInfo ?? []).toEqual(originInfo);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accepts an issuer name of 65,535 bytes and refuses one more', () => {
    expect(tokenChallenge({ issuerName: 'a'.repeat(0xffff) }).length).toBe(2 + 2 + 0xffff + 3);
    expect(() => tokenChallenge({ issuerName: 'a'.repeat(0x10000) })).toThrow(ArgumentRangeError);
  });

  it('refuses fields outside RFC 9577 §2.1 with argument errors', () => {
    const bad: [object, typeof ArgumentRangeError][] = [
      [{ issuerName: '' }, ArgumentRangeError],
      [{ issuerName: 42 }, ArgumentTypeError],
      [{}, ArgumentTypeError],
      [{ issuerName: 'a', redemptionContext: new Uint8Array(31) }, ArgumentRangeError],
      [{ issuerName: 'a', redemptionContext: new Uint8Array(33) }, ArgumentRangeError],
      [{ issuerName: 'a', redemptionContext: 'x'.repeat(32) }, ArgumentTypeError],
      [{ issuerName: 'a', originInfo: ['a,b'] }, ArgumentRangeError],
      [{ issuerName: 'a', originInfo: [''] }, ArgumentRangeError],
      [{ issuerName: 'a', originInfo: [7] }, ArgumentTypeError],
      [{ issuerName: 'a', originInfo: 'origin.example' }, ArgumentTypeError],
      [{ issuerName: 'a', originInfo: ['x'.repeat(40000), 'y'.repeat(40000)] }, ArgumentRangeError],
    ];
    for (const [args, type] of bad) {
      expect(() => tokenChallenge(args as never), JSON.stringify(args).slice(0, 60)).toThrow(type);
    }
    expect(() => tokenChallenge(null as never)).toThrow(ArgumentTypeError);
  });
});

describe('parseTokenKey and tokenKeyId', () => {
  it('read the modulus and exponent 65537 of a generated key; the id is SHA-256 of the encoding', () => {
    expect(parseTokenKey(issuerKey.publicKey)).toEqual({ n: modulus(), e: 65537n });
    expect(tokenKeyId(issuerKey.publicKey)).toEqual(sha256(issuerKey.publicKey));
    expect(tokenKeyId(issuerKey.publicKey)).toEqual(issuerKey.keyId);
    const at = TOKEN_KEY_SPKI_PREFIX.length;
    expect(issuerKey.publicKey.subarray(0, at)).toEqual(TOKEN_KEY_SPKI_PREFIX);
    expect(issuerKey.publicKey.subarray(at + 256)).toEqual(TOKEN_KEY_SPKI_SUFFIX);
  });

  it('refuse a change to any byte of the fixed encoding', () => {
    const pk = issuerKey.publicKey;
    const fixed = [
      ...Array.from({ length: TOKEN_KEY_SPKI_PREFIX.length }, (_, i) => i),
      ...Array.from({ length: TOKEN_KEY_SPKI_SUFFIX.length }, (_, i) => pk.length - 1 - i),
    ];
    expect(fixed.length).toBe(86);
    for (const i of fixed) {
      for (const bit of [0x01, 0x80]) {
        const changed = pk.slice();
        changed[i]! ^= bit;
        expect(
          tokenOutcome(() => parseTokenKey(changed)),
          `byte ${i}`,
        ).toBe('INVALID_TOKEN_KEY');
        expect(tokenOutcome(() => tokenKeyId(changed))).toBe('INVALID_TOKEN_KEY');
      }
    }
  });

  it('refuse other encodings of RSA keys, other sizes and non-RSA moduli', () => {
    // (@types/node declares saltLength a string; node:crypto wants a number.)
    const options = {
      modulusLength: 2048,
      hashAlgorithm: 'sha384',
      mgf1HashAlgorithm: 'sha384',
      saltLength: 48,
    } as unknown as RSAPSSKeyPairKeyObjectOptions;
    const pssKey = generateKeyPairSync('rsa-pss', options).publicKey;
    const at = TOKEN_KEY_SPKI_PREFIX.length;
    const refused = [
      // node:crypto's rsa-pss export carries NULL digest parameters: another key id.
      new Uint8Array(pssKey.export({ format: 'der', type: 'spki' })),
      new Uint8Array(
        issuer.tokenVerifierKey(issuerKey.publicKey).export({ format: 'der', type: 'spki' }),
      ),
      issuerKey.publicKey.subarray(0, TOKEN_KEY_BYTES - 1),
      concatBytes(issuerKey.publicKey, new Uint8Array(1)),
      new Uint8Array(0),
      new Uint8Array(TOKEN_KEY_BYTES),
      concatBytes(TOKEN_KEY_SPKI_PREFIX, new Uint8Array(256).fill(0x7f), TOKEN_KEY_SPKI_SUFFIX),
      concatBytes(TOKEN_KEY_SPKI_PREFIX, new Uint8Array(256).fill(0xfe), TOKEN_KEY_SPKI_SUFFIX),
      concatBytes(issuerKey.publicKey.subarray(0, at), new Uint8Array(261)),
    ];
    for (const key of refused) {
      expect(tokenOutcome(() => parseTokenKey(key))).toBe('INVALID_TOKEN_KEY');
    }
    expect(() => parseTokenKey('key' as never)).toThrow(ArgumentTypeError);
    expect(() => parseTokenKey(Array.from(issuerKey.publicKey) as never)).toThrow(
      ArgumentTypeError,
    );
  });
});

describe('decodeToken and tokenInput', () => {
  it('split a token into its fields, as copies', () => {
    const decoded = decodeToken(token);
    expect(decoded.tokenType).toBe(2);
    expect(decoded.challengeDigest).toEqual(sha256(challenge));
    expect(decoded.tokenKeyId).toEqual(issuerKey.keyId);
    expect(
      concatBytes(
        Uint8Array.of(0, 2),
        decoded.nonce,
        decoded.challengeDigest,
        decoded.tokenKeyId,
        decoded.authenticator,
      ),
    ).toEqual(token);
    expect(tokenInput(decoded)).toEqual(token.subarray(0, TOKEN_INPUT_BYTES));
    decoded.nonce.fill(0);
    expect(decodeToken(token).nonce).not.toEqual(decoded.nonce);
  });

  it('refuse every other type and every other size with MALFORMED_TOKEN', () => {
    for (const type of [0x0000, 0x0001, 0x0003, 0x0102, 0x0200, 0xda7a, 0xffff]) {
      const other = token.slice();
      other[0] = type >>> 8;
      other[1] = type & 0xff;
      expect(tokenOutcome(() => decodeToken(other))).toBe('MALFORMED_TOKEN');
    }
    for (const size of [0, 1, 98, 353, 355, 708]) {
      const bytes = new Uint8Array(size);
      bytes.set(token.subarray(0, Math.min(size, TOKEN_BYTES)));
      expect(tokenOutcome(() => decodeToken(bytes))).toBe('MALFORMED_TOKEN');
    }
    expect(() => decodeToken(Buffer.from(token).toString('hex') as never)).toThrow(
      ArgumentTypeError,
    );
    const err = (() => {
      try {
        decodeToken(new Uint8Array(3));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TokenError);
    expect((err as TokenError).name).toBe('TokenError');
  });

  it('tokenInput checks its fields', () => {
    const fields = decodeToken(token);
    expect(() => tokenInput({ ...fields, tokenType: 1 })).toThrow(ArgumentRangeError);
    expect(() => tokenInput({ ...fields, nonce: new Uint8Array(31) })).toThrow(ArgumentRangeError);
    expect(() => tokenInput({ ...fields, challengeDigest: new Uint8Array(33) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => tokenInput({ ...fields, tokenKeyId: 'id' as never })).toThrow(ArgumentTypeError);
  });
});
