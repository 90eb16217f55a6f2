/**
 * Interoperability with the reference implementation, `@cloudflare/privacypass-ts` 0.8.1
 * (`publicVerif`, `BlindRSAMode.PSS`), in both directions:
 * - our key encoding is byte for byte its `getPublicKeyBytes`, so key ids agree;
 * - our client + its Issuer + our finishToken, and its Client + our blindSign + its finalize;
 * - every token, from either side, verifies under its `Origin.verify` and our `verifyToken`,
 *   and a token with a changed bit verifies under neither.
 */
import { webcrypto } from 'node:crypto';
import { publicVerif, TOKEN_TYPES, Token, TokenChallenge } from '@cloudflare/privacypass-ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { blindSign, tokenVerifierKey, verifyToken } from '#functions/domain/token-issuer.ts';
import { systemRng } from '#sdk/crypto/backend.ts';
import {
  beginToken,
  decodeToken,
  finishToken,
  parseTokenKey,
  tokenChallenge,
  tokenKeyId,
} from '#sdk/tokens/index.ts';
import { challenge, challengeDigest, expected, issuerKey } from './fixtures.ts';

const { BlindRSAMode, Client, Issuer, Origin, TokenRequest, TokenResponse, getPublicKeyBytes } =
  publicVerif;
const ROUNDS = 4;
const ISSUER = 'api.sealpost.example';

/** Our issuer key as a WebCrypto RSA-PSS/SHA-384 verification key. */
const ourCryptoKey = await webcrypto.subtle.importKey(
  'jwk',
  { kty: 'RSA', n: issuerKey.privateKey.export({ format: 'jwk' }).n, e: 'AQAB', ext: true },
  { name: 'RSA-PSS', hash: 'SHA-384' },
  true,
  ['verify'],
);

const theirKeys = await Issuer.generateKey(BlindRSAMode.PSS, {
  modulusLength: 2048,
  publicExponent: Uint8Array.of(1, 0, 1),
});
const theirIssuer = new Issuer(BlindRSAMode.PSS, ISSUER, theirKeys.privateKey, theirKeys.publicKey);
const theirPublicKey = await getPublicKeyBytes(theirKeys.publicKey);
const origin = new Origin(BlindRSAMode.PSS);
const theirChallenge = new TokenChallenge(TOKEN_TYPES.BLIND_RSA.value, ISSUER, new Uint8Array(0));

/** Their Token from our bytes (their decoder ignores byte offsets: hand it a fresh copy). */
const theirToken = (bytes: Uint8Array) => Token.deserialize(TOKEN_TYPES.BLIND_RSA, bytes.slice());

describe('privacypass-ts 0.8.1 interoperability', () => {
  it('our key encoding is its getPublicKeyBytes, so the key ids agree', async () => {
    expect(await getPublicKeyBytes(ourCryptoKey)).toEqual(issuerKey.publicKey);
    expect(tokenKeyId(theirPublicKey)).toEqual(await theirIssuer.tokenKeyID());
    expect(tokenKeyId(theirPublicKey)).toEqual(sha256(theirPublicKey));
    expect(parseTokenKey(theirPublicKey).e).toBe(65537n);
    expect(theirChallenge.serialize()).toEqual(challenge);
  });

  it('our client, its issuer: tokens verify on both sides', async () => {
    const verifier = tokenVerifierKey(theirPublicKey);
    for (let i = 0; i < ROUNDS; i++) {
      const { request, pending } = beginToken(systemRng, { publicKey: theirPublicKey, challenge });
      const response = await theirIssuer.issue(
        TokenRequest.deserialize(TOKEN_TYPES.BLIND_RSA, request.slice()),
      );
      const token = finishToken(pending, response.serialize());
      expect(await origin.verify(theirToken(token), theirKeys.publicKey)).toBe(true);
      expect(await theirIssuer.verify(theirToken(token))).toBe(true);
      expect(verifyToken(verifier, token, { challengeDigest, keyId: sha256(theirPublicKey) })).toBe(
        true,
      );
      const changed = token.slice();
      changed[200]! ^= 4;
      expect(await origin.verify(theirToken(changed), theirKeys.publicKey)).toBe(false);
      expect(
        verifyToken(verifier, changed, { challengeDigest, keyId: sha256(theirPublicKey) }),
      ).toBe(false);
    }
  });

  it('its client, our issuer: tokens verify on both sides', async () => {
    const verifier = tokenVerifierKey(issuerKey.publicKey);
    for (let i = 0; i < ROUNDS; i++) {
      const client = new Client(BlindRSAMode.PSS);
      const request = await client.createTokenRequest(theirChallenge, issuerKey.publicKey);
      const response = blindSign(issuerKey, request.serialize());
      expect(response).toBeDefined();
      const token = await client.finalize(new TokenResponse(response!));
      const bytes = token.serialize();
      expect(verifyToken(verifier, bytes, expected)).toBe(true);
      expect(await origin.verify(token, ourCryptoKey)).toBe(true);
      const fields = decodeToken(bytes);
      expect(fields.tokenKeyId).toEqual(issuerKey.keyId);
      expect(fields.challengeDigest).toEqual(challengeDigest);
    }
  });

  it('our client, our issuer: tokens verify under its Origin', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { request, pending } = beginToken(systemRng, {
        publicKey: issuerKey.publicKey,
        challenge,
      });
      const token = finishToken(pending, blindSign(issuerKey, request)!);
      expect(await origin.verify(theirToken(token), ourCryptoKey)).toBe(true);
      expect(theirToken(token).serialize()).toEqual(token);
    }
  });

  it('challenges with a redemption context and origins encode alike', () => {
    const context = systemRng(32);
    const ours = tokenChallenge({
      issuerName: ISSUER,
      redemptionContext: context,
      originInfo: ['a.example', 'b.example'],
    });
    const theirs = new TokenChallenge(TOKEN_TYPES.BLIND_RSA.value, ISSUER, context, [
      'a.example',
      'b.example',
    ]);
    expect(ours).toEqual(theirs.serialize());
  });
});
