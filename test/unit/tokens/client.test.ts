/**
 * The token client (RFC 9578 §6.1, §6.3): the request's layout, the order of the random draws,
 * the token's fields, and `finishToken` refusing every response that is not the issuer's
 * blind signature of this very request (wrong size, >= n, a changed bit, another request's,
 * another key's) with `INVALID_TOKEN_RESPONSE`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { blindSign } from '#functions/domain/token-issuer.ts';
import { systemRng } from '#sdk/crypto/backend.ts';
import {
  beginToken,
  decodeToken,
  finishToken,
  parseTokenKey,
  TokenError,
  tokenChallenge,
  tokenKeyId,
} from '#sdk/tokens/index.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import {
  big,
  bytesOf,
  challenge,
  counting,
  issue,
  issuerKey,
  otherKey,
  replay,
  tokenOutcome,
} from './fixtures.ts';

const { n } = parseTokenKey(issuerKey.publicKey);

/** A blind draw below 2^2047 < n, so a replayed Rng needs no second draw. */
const smallBlind = () => {
  const r = systemRng(256);
  r[0]! &= 0x7f;
  return r;
};

describe('beginToken', () => {
  it('draws the nonce, the salt and the blind, in that order, and lays out the request', () => {
    // A blind below n, so it is drawn once (a random 256-byte draw is >= n up to half the time).
    const rng = counting(replay(concatBytes(systemRng(32 + 48), smallBlind())));
    const { request, pending } = beginToken(rng, { publicKey: issuerKey.publicKey, challenge });
    expect(rng.sizes).toEqual([32, 48, 256]);
    expect(request.length).toBe(259);
    expect([...request.subarray(0, 3)]).toEqual([0x00, 0x02, issuerKey.keyId[31]]);
    expect(big(request.subarray(3)) < n).toBe(true);
    expect(pending.tokenKeyId).toEqual(tokenKeyId(issuerKey.publicKey));
    expect(pending.challengeDigest).toEqual(sha256(challenge));
    expect(pending.tokenInput).toEqual(
      concatBytes(Uint8Array.of(0, 2), pending.nonce, pending.challengeDigest, pending.tokenKeyId),
    );
  });

  it('makes a token whose fields are the nonce drawn, the challenge digest and the key id', () => {
    const nonce = systemRng(32);
    const rest = concatBytes(systemRng(48), smallBlind());
    const { token } = issue(issuerKey, replay(concatBytes(nonce, rest)));
    const fields = decodeToken(token);
    expect(fields.nonce).toEqual(nonce);
    expect(fields.challengeDigest).toEqual(sha256(challenge));
    expect(fields.tokenKeyId).toEqual(issuerKey.keyId);
  });

  it('hides the token behind the blind: other blinds, other requests, the same token', () => {
    const nonceAndSalt = systemRng(32 + 48);
    const a = issue(issuerKey, replay(concatBytes(nonceAndSalt, smallBlind())));
    const b = issue(issuerKey, replay(concatBytes(nonceAndSalt, smallBlind())));
    expect(a.request).not.toEqual(b.request);
    expect(a.response).not.toEqual(b.response);
    // Deterministic PSS with one salt and one nonce: one signature, whatever the blind was.
    expect(a.token).toEqual(b.token);
  });

  it('refuses a key that is not an RSA-2048 token key with INVALID_TOKEN_KEY', () => {
    const bad = issuerKey.publicKey.slice();
    bad[20]! ^= 1;
    expect(tokenOutcome(() => beginToken(systemRng, { publicKey: bad, challenge }))).toBe(
      'INVALID_TOKEN_KEY',
    );
  });

  it('refuses a challenge that is not a TokenChallenge of type 0x0002', () => {
    const publicKey = issuerKey.publicKey;
    const other = challenge.slice();
    other[1] = 1;
    const bad = [
      other,
      challenge.subarray(0, challenge.length - 1),
      concatBytes(challenge, new Uint8Array(1)),
      Uint8Array.of(0, 2, 0, 0, 0, 0, 0),
      Uint8Array.of(0, 2, 0, 0, 0, 0, 0, 0),
      // A redemption context of 5 bytes.
      Uint8Array.of(0, 2, 0, 1, 0x61, 5, 1, 2, 3, 4, 5, 0, 0),
      new Uint8Array(0),
    ];
    for (const c of bad) {
      expect(() => beginToken(systemRng, { publicKey, challenge: c })).toThrow(ArgumentRangeError);
    }
    const withContext = tokenChallenge({
      issuerName: 'a',
      redemptionContext: new Uint8Array(32),
      originInfo: ['o.example'],
    });
    expect(beginToken(systemRng, { publicKey, challenge: withContext }).request.length).toBe(259);
  });

  it('refuses arguments of the wrong type', () => {
    const publicKey = issuerKey.publicKey;
    expect(() => beginToken(null as never, { publicKey, challenge })).toThrow(ArgumentTypeError);
    expect(() => beginToken(systemRng, null as never)).toThrow(ArgumentTypeError);
    expect(() => beginToken(systemRng, { publicKey, challenge: 'c' as never })).toThrow(
      ArgumentTypeError,
    );
    expect(() => beginToken(systemRng, { publicKey: 'k' as never, challenge })).toThrow(
      ArgumentTypeError,
    );
    expect(() => beginToken(() => new Uint8Array(3), { publicKey, challenge })).toThrow(
      ArgumentRangeError,
    );
  });
});

describe('finishToken', () => {
  it('refuses responses that are not the blind signature of this request', () => {
    const { request, pending, response } = issue();
    const another = issue();
    const retargeted = request.slice();
    retargeted[2] = otherKey.keyId[31]!;
    const otherKeys = blindSign(otherKey, retargeted);
    const refused: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['255 bytes', response.subarray(1)],
      ['257 bytes', concatBytes(response, new Uint8Array(1))],
      ['n', bytesOf(n)],
      ['all ones', new Uint8Array(256).fill(0xff)],
      ['zero', new Uint8Array(256)],
      ['response + n', bytesOf((big(response) + n) % 2n ** 2048n)],
      ["another request's", another.response],
      ['the token signature', another.token.subarray(98)],
      ["the request's blinded message", request.subarray(3)],
    ];
    if (otherKeys !== undefined) refused.push(["another key's", otherKeys]);
    for (const [name, r] of refused) {
      expect(
        tokenOutcome(() => finishToken(pending, r)),
        name,
      ).toBe('INVALID_TOKEN_RESPONSE');
    }
    for (let i = 0; i < 256; i++) {
      const changed = response.slice();
      changed[i]! ^= 1 << (i % 8);
      expect(
        tokenOutcome(() => finishToken(pending, changed)),
        `byte ${i}`,
      ).toBe('INVALID_TOKEN_RESPONSE');
    }
    // The pending state is unharmed by the refusals.
    expect(finishToken(pending, response).length).toBe(354);
  });

  it('throws a TokenError with its code and no bytes in the message', () => {
    const { pending } = issue();
    try {
      finishToken(pending, new Uint8Array(256));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TokenError);
      expect((err as TokenError).code).toBe('INVALID_TOKEN_RESPONSE');
      expect((err as Error).message).not.toMatch(/[0-9a-f]{16}/);
    }
  });

  it('refuses arguments of the wrong type', () => {
    const { pending, response } = issue();
    expect(() => finishToken(pending, Array.from(response) as never)).toThrow(ArgumentTypeError);
    expect(() => finishToken({} as never, response)).toThrow(ArgumentTypeError);
    expect(() => finishToken(null as never, response)).toThrow(ArgumentTypeError);
  });
});
