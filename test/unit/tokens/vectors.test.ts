/**
 * Replays test/vectors/tokens.json: the published vectors (RFC 9474 Appendix A,
 * RSABSSA-SHA384-PSS-Deterministic; RFC 9578 Appendix A.2, token type 0x0002) through the SDK
 * client and the service issuer, then Sealpost's seeded vectors (keys, challenges, issuances
 * from their recorded draws) and the invalid cases with their verdicts. The generator must
 * reproduce the file byte for byte.
 */
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  blindSign,
  importTokenIssuerKey,
  tokenVerifierKey,
  verifyToken,
} from '#functions/domain/token-issuer.ts';
import {
  blind,
  finalize,
  i2osp,
  modInverse,
  rsaPublicKey,
  rsassaPssVerify,
} from '#sdk/tokens/blind-rsa.ts';
import {
  beginToken,
  decodeToken,
  finishToken,
  parseTokenKey,
  tokenChallenge,
  tokenKeyId,
} from '#sdk/tokens/index.ts';
import { concatBytes, fromHex, toHex } from '#sdk/util/bytes.ts';
import { tokenVectorsJson } from '../../../scripts/gen-vectors-tokens.ts';
import { replay, tokenOutcome } from './fixtures.ts';

interface Issuance {
  name: string;
  key: number;
  challenge: number;
  rng: string;
  nonce: string;
  salt: string;
  blind: string;
  inverse: string;
  tokenInput: string;
  encodedMessage: string;
  request: string;
  response: string;
  token: string;
}
interface Vectors {
  rfc9474: Record<
    'p' | 'q' | 'n' | 'e' | 'd' | 'msg' | 'salt' | 'inv' | 'blinded_msg' | 'blind_sig' | 'sig',
    string
  >;
  rfc9578: {
    skS: string;
    pkcs8: string;
    pkS: string;
    vectors: Record<
      'token_challenge' | 'nonce' | 'blind' | 'salt' | 'token_request' | 'token_response' | 'token',
      string
    >[];
  };
  keys: { p: string; q: string; d: string; pkcs8: string; publicKey: string; keyId: string }[];
  challenges: {
    issuerName: string;
    redemptionContext: string;
    originInfo: string[];
    challenge: string;
    digest: string;
  }[];
  issuances: Issuance[];
  invalid: {
    tokens: { name: string; token: string; decode: string; verify: boolean }[];
    requests: { name: string; request: string; response: string | null }[];
    responses: { name: string; response: string; token: string | null }[];
    keys: { name: string; publicKey: string; valid: boolean }[];
  };
}

const text = readFileSync(new URL('../../vectors/tokens.json', import.meta.url), 'utf8');
const vectors = JSON.parse(text) as Vectors;
const keys = vectors.keys.map((k) => importTokenIssuerKey(fromHex(k.pkcs8)));
const hexInt = (h: string) => BigInt(`0x${h}`);
const b64u = (x: bigint) => {
  const hex = x.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
};

describe('token vectors (test/vectors/tokens.json)', () => {
  it('are reproduced byte for byte by scripts/gen-vectors-tokens.ts', () => {
    expect(tokenVectorsJson()).toBe(text);
  });

  it('cover the documented cases', () => {
    expect(vectors.rfc9578.vectors.length).toBe(5);
    expect(vectors.keys.length).toBe(2);
    expect(vectors.issuances.map((i) => i.name)).toContain('rejected-blinds');
    expect(vectors.invalid.tokens.length).toBeGreaterThanOrEqual(18);
    expect(vectors.invalid.requests.length).toBeGreaterThanOrEqual(8);
    expect(vectors.invalid.responses.length).toBeGreaterThanOrEqual(9);
    expect(vectors.invalid.keys.length).toBeGreaterThanOrEqual(11);
  });
});

describe('RFC 9474 Appendix A, RSABSSA-SHA384-PSS-Deterministic', () => {
  const v = vectors.rfc9474;
  const n = hexInt(v.n);
  const key = rsaPublicKey(n, hexInt(v.e));
  const inv = hexInt(v.inv);

  it('Blind reproduces blinded_msg from the salt and r = inv^-1', () => {
    const r = modInverse(inv, n)!;
    const rng = replay(concatBytes(fromHex(v.salt), i2osp(r, 512)));
    const blinded = blind(rng, key, fromHex(v.msg));
    expect(rng.left()).toBe(0);
    expect(toHex(blinded.blindedMessage)).toBe(v.blinded_msg);
    expect(blinded.inverse).toBe(inv);
  });

  it('raw RSA with OpenSSL reproduces blind_sig; Finalize reproduces sig', () => {
    const [p, q, d] = [hexInt(v.p), hexInt(v.q), hexInt(v.d)];
    const privateKey = createPrivateKey({
      key: {
        kty: 'RSA',
        n: b64u(n),
        e: b64u(hexInt(v.e)),
        d: b64u(d),
        p: b64u(p),
        q: b64u(q),
        dp: b64u(d % (p - 1n)),
        dq: b64u(d % (q - 1n)),
        qi: b64u(modInverse(q, p)!),
      },
      format: 'jwk',
    });
    const blindSig = privateDecrypt(
      { key: privateKey, padding: constants.RSA_NO_PADDING },
      fromHex(v.blinded_msg),
    );
    expect(blindSig.toString('hex')).toBe(v.blind_sig);
    const sig = finalize(key, fromHex(v.msg), fromHex(v.blind_sig), inv);
    expect(sig && toHex(sig)).toBe(v.sig);
    expect(rsassaPssVerify(key, fromHex(v.msg), fromHex(v.sig))).toBe(true);
  });
});

describe('RFC 9578 Appendix A.2, token type 0x0002', () => {
  const pem = Buffer.from(vectors.rfc9578.skS, 'hex').toString('utf8');
  const pkcs8 = new Uint8Array(createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' }));
  const key = importTokenIssuerKey(pkcs8);
  const pkS = fromHex(vectors.rfc9578.pkS);

  it('the issuer key encodes as pkS', () => {
    expect(toHex(pkcs8)).toBe(vectors.rfc9578.pkcs8);
    expect(key.publicKey).toEqual(pkS);
    expect(tokenKeyId(pkS)).toEqual(key.keyId);
  });

  it.each(vectors.rfc9578.vectors.map((v, i) => [i + 1, v] as const))(
    'vector %i: token_request, token_response and token',
    (_, v) => {
      const rng = replay(fromHex(v.nonce + v.salt + v.blind));
      const challenge = fromHex(v.token_challenge);
      const { request, pending } = beginToken(rng, { publicKey: pkS, challenge });
      expect(rng.left()).toBe(0);
      expect(toHex(request)).toBe(v.token_request);
      const response = blindSign(key, request);
      expect(response && toHex(response)).toBe(v.token_response);
      const token = finishToken(pending, fromHex(v.token_response));
      expect(toHex(token)).toBe(v.token);
      const fields = decodeToken(token);
      expect(toHex(fields.nonce)).toBe(v.nonce);
      expect(fields.challengeDigest).toEqual(sha256(challenge));
      expect(fields.tokenKeyId).toEqual(sha256(pkS));
      const expected = { challengeDigest: sha256(challenge), keyId: key.keyId };
      expect(verifyToken(tokenVerifierKey(pkS), token, expected)).toBe(true);
    },
  );
});

describe('Sealpost vectors', () => {
  it('keys: PKCS#8 imports to the recorded encoding, id and modulus p*q', () => {
    vectors.keys.forEach((k, i) => {
      expect(toHex(keys[i]!.publicKey)).toBe(k.publicKey);
      expect(toHex(keys[i]!.keyId)).toBe(k.keyId);
      expect(parseTokenKey(keys[i]!.publicKey).n).toBe(hexInt(k.p) * hexInt(k.q));
    });
  });

  it('challenges encode as recorded', () => {
    for (const c of vectors.challenges) {
      const bytes = tokenChallenge({
        issuerName: c.issuerName,
        redemptionContext: fromHex(c.redemptionContext),
        originInfo: c.originInfo,
      });
      expect(toHex(bytes)).toBe(c.challenge);
      expect(toHex(sha256(bytes))).toBe(c.digest);
    }
  });

  it.each(vectors.issuances.map((i) => [i.name, i] as const))('issuance %s', (_, i) => {
    const key = keys[i.key]!;
    const rng = replay(fromHex(i.rng));
    const { request, pending } = beginToken(rng, {
      publicKey: key.publicKey,
      challenge: fromHex(vectors.challenges[i.challenge]!.challenge),
    });
    expect(rng.left()).toBe(0);
    expect(toHex(request)).toBe(i.request);
    expect(toHex(pending.nonce)).toBe(i.nonce);
    expect(toHex(pending.tokenInput)).toBe(i.tokenInput);
    expect(toHex(i2osp(pending.inverse, 256))).toBe(i.inverse);
    expect(i.rng.startsWith(i.nonce + i.salt) && i.rng.endsWith(i.blind)).toBe(true);
    const response = blindSign(key, request);
    expect(response && toHex(response)).toBe(i.response);
    const token = finishToken(pending, response!);
    expect(toHex(token)).toBe(i.token);
    const expected = {
      challengeDigest: fromHex(vectors.challenges[i.challenge]!.digest),
      keyId: key.keyId,
    };
    expect(verifyToken(tokenVerifierKey(key.publicKey), token, expected)).toBe(true);
  });

  const base = vectors.issuances[0]!;
  const expected0 = {
    challengeDigest: fromHex(vectors.challenges[base.challenge]!.digest),
    keyId: keys[0]!.keyId,
  };

  it.each(vectors.invalid.tokens.map((c) => [c.name, c] as const))('token %s', (_, c) => {
    const token = fromHex(c.token);
    expect(tokenOutcome(() => decodeToken(token))).toBe(c.decode);
    expect(verifyToken(tokenVerifierKey(keys[0]!.publicKey), token, expected0)).toBe(c.verify);
  });

  it.each(vectors.invalid.requests.map((c) => [c.name, c] as const))('request %s', (_, c) => {
    const response = blindSign(keys[0]!, fromHex(c.request));
    expect(response === undefined ? null : toHex(response)).toBe(c.response);
  });

  it.each(vectors.invalid.responses.map((c) => [c.name, c] as const))('response %s', (_, c) => {
    const { pending } = beginToken(replay(fromHex(base.rng)), {
      publicKey: keys[0]!.publicKey,
      challenge: fromHex(vectors.challenges[base.challenge]!.challenge),
    });
    let outcome: string;
    try {
      outcome = toHex(finishToken(pending, fromHex(c.response)));
    } catch (err) {
      outcome = tokenOutcome(() => {
        throw err;
      });
    }
    expect(outcome).toBe(c.token ?? 'INVALID_TOKEN_RESPONSE');
  });

  it.each(vectors.invalid.keys.map((c) => [c.name, c] as const))('key %s', (_, c) => {
    const publicKey = fromHex(c.publicKey);
    expect(tokenOutcome(() => parseTokenKey(publicKey))).toBe(c.valid ? 'ok' : 'INVALID_TOKEN_KEY');
    if (c.valid) expect(tokenVerifierKey(publicKey).type).toBe('public');
    else expect(() => tokenVerifierKey(publicKey)).toThrow(RangeError);
  });
});
