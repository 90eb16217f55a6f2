/**
 * Generates test/vectors/tokens.json: known-answer vectors of the anonymous tokens (Privacy
 * Pass token type 0x0002, publicly verifiable blind RSA-2048, RFC 9578 §6 with
 * RSABSSA-SHA384-PSS-Deterministic of RFC 9474).
 *
 * Two parts:
 * - the published vectors (RFC 9474 Appendix A, RFC 9578 Appendix A.2, from
 *   scripts/lib/token-kats.ts), which the SDK client and the service's issuer must reproduce;
 * - Sealpost's own, from a SHA-256 counter-mode stream over a fixed seed: two issuer keys
 *   (primes searched from the stream), challenges of the shapes the service uses, issuances
 *   with every byte the client drew, and invalid tokens, requests, responses and keys with the
 *   verdict each function must give.
 *
 * Each issuance is computed by the SDK client and the service issuer and checked independently
 * with bare arithmetic (BigInt RSA, `node:crypto` PSS verification, the PSS salt recovered
 * with `node:crypto` hashes); the script refuses to write vectors if anything disagrees.
 *
 * Run: `npx tsx --conditions=sealpost-source scripts/gen-vectors-tokens.ts`
 * (test/unit/tokens/vectors.test.ts checks that the output equals the committed file).
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  blindSign,
  importTokenIssuerKey,
  tokenVerifierKey,
  verifyToken,
} from '#functions/domain/token-issuer.ts';
import type { Rng } from '#sdk/crypto/backend.ts';
import { blind, emsaPssEncode, finalize, rsaPublicKey } from '#sdk/tokens/blind-rsa.ts';
import {
  beginToken,
  decodeToken,
  finishToken,
  parseTokenKey,
  TOKEN_KEY_SPKI_PREFIX,
  TOKEN_KEY_SPKI_SUFFIX,
  TokenError,
  tokenChallenge,
  tokenKeyId,
} from '#sdk/tokens/index.ts';
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from '#sdk/util/bytes.ts';
import { seededRng } from './lib/seeded-rng.ts';
import { big, intBytes as bytes, E, inverse, modPow, seededRsaKey } from './lib/seeded-rsa.ts';
import {
  RFC9474_PSS_DETERMINISTIC,
  RFC9578_PKS,
  RFC9578_SKS,
  RFC9578_VECTORS,
} from './lib/token-kats.ts';

const SEED = 'Sealpost anonymous token vectors v1';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what}: implementation and specification disagree`);
}

/** An Rng handing out exactly `data`, failing if asked for more. */
function replay(data: Uint8Array): Rng & { left(): number } {
  let at = 0;
  const rng = ((n: number) => {
    if (at + n > data.length) throw new Error('replay exhausted');
    at += n;
    return data.slice(at - n, at);
  }) as Rng & { left(): number };
  rng.left = () => data.length - at;
  return rng;
}

/** An Rng over `rng` that remembers what it handed out. */
function recording(rng: Rng) {
  const drawn: Uint8Array[] = [];
  const take: Rng = (n) => {
    const out = rng(n);
    drawn.push(out.slice());
    return out;
  };
  return { rng: take, drawn: () => concatBytes(...drawn) };
}

/** An RSA-2048 issuer key from the stream, through PKCS#8 as the service stores it. */
function streamIssuerKey(stream: Rng) {
  const { p, q, n, d, pkcs8 } = seededRsaKey(stream);
  const key = importTokenIssuerKey(pkcs8);
  const spki = concatBytes(TOKEN_KEY_SPKI_PREFIX, bytes(n, 256), TOKEN_KEY_SPKI_SUFFIX);
  check(equalBytes(key.publicKey, spki), 'issuer key encoding');
  check(toHex(key.keyId) === createHash('sha256').update(spki).digest('hex'), 'key id');
  // The encoding is what node:crypto parses as an RSASSA-PSS key with the RFC 9578 parameters
  // (and the issuances verify under that parse, so it reads this modulus).
  const parsed = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const details = parsed.asymmetricKeyDetails;
  check(
    parsed.asymmetricKeyType === 'rsa-pss' &&
      details?.hashAlgorithm === 'sha384' &&
      details.mgf1HashAlgorithm === 'sha384' &&
      details.saltLength === 48 &&
      details.modulusLength === 2048 &&
      details.publicExponent === E,
    'issuer key parameters',
  );
  return { p, q, n, d, pkcs8, key };
}

/** MGF1-SHA-384 with node:crypto (RFC 8017 §B.2.1), independent of the SDK's. */
function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out: Buffer[] = [];
  for (let c = 0; out.length * 48 < length; c++) {
    out.push(
      createHash('sha384')
        .update(seed)
        .update(Uint8Array.of(c >>> 24, c >>> 16, c >>> 8, c))
        .digest(),
    );
  }
  return new Uint8Array(Buffer.concat(out).subarray(0, length));
}

/** The salt inside a 256-byte EMSA-PSS encoding (RFC 8017 §9.1.2 steps 5-11), sLen 48. */
function pssSalt(em: Uint8Array): Uint8Array {
  const db = mgf1(em.subarray(207, 255), 207).map((m, i) => m ^ em[i]!);
  db[0]! &= 0x7f;
  check(db.subarray(0, 158).every((b) => b === 0) && db[158] === 1, 'PSS padding');
  return db.slice(159);
}

/** A deterministic RSASSA-PSS signature by BigInt: salt of any length (invalid cases). */
function pssSign(m: Uint8Array, salt: Uint8Array, n: bigint, d: bigint): Uint8Array {
  return bytes(modPow(big(emsaPssEncode(m, 2047, salt)), d, n), 256);
}

function tokenCode(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof TokenError) return err.code;
    throw err;
  }
}

function rfc9474() {
  const v = RFC9474_PSS_DETERMINISTIC;
  const n = BigInt(`0x${v.n}`);
  const d = BigInt(`0x${v.d}`);
  const inv = BigInt(`0x${v.inv}`);
  const key = rsaPublicKey(n, BigInt(`0x${v.e}`));
  check(BigInt(`0x${v.p}`) * BigInt(`0x${v.q}`) === n, 'RFC 9474 n = p*q');
  const r = inverse(inv, n);
  const b = blind(replay(concatBytes(fromHex(v.salt), bytes(r, 512))), key, fromHex(v.msg));
  check(toHex(b.blindedMessage) === v.blinded_msg && b.inverse === inv, 'RFC 9474 blinded_msg');
  check(
    toHex(bytes(modPow(big(b.blindedMessage), d, n), 512)) === v.blind_sig,
    'RFC 9474 blind_sig',
  );
  const sig = finalize(key, fromHex(v.msg), fromHex(v.blind_sig), inv);
  check(sig !== undefined && toHex(sig) === v.sig, 'RFC 9474 sig');
  return { ...v, source: 'RFC 9474 Appendix A (RSABSSA-SHA384-PSS-Deterministic)' };
}

function rfc9578() {
  const pem = Buffer.from(RFC9578_SKS, 'hex').toString('utf8');
  const pkcs8 = new Uint8Array(createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' }));
  const key = importTokenIssuerKey(pkcs8);
  check(toHex(key.publicKey) === RFC9578_PKS, 'RFC 9578 pkS');
  const verifier = tokenVerifierKey(key.publicKey);
  for (const v of RFC9578_VECTORS) {
    const rng = replay(fromHex(v.nonce + v.salt + v.blind));
    const { request, pending } = beginToken(rng, {
      publicKey: key.publicKey,
      challenge: fromHex(v.token_challenge),
    });
    check(rng.left() === 0 && toHex(request) === v.token_request, 'RFC 9578 token_request');
    const response = blindSign(key, request);
    check(
      response !== undefined && toHex(response) === v.token_response,
      'RFC 9578 token_response',
    );
    const token = finishToken(pending, fromHex(v.token_response));
    check(toHex(token) === v.token, 'RFC 9578 token');
    const challengeDigest = createHash('sha256').update(fromHex(v.token_challenge)).digest();
    check(verifyToken(verifier, token, { challengeDigest, keyId: key.keyId }), 'RFC 9578 verify');
  }
  return {
    source: 'RFC 9578 Appendix A.2 (token type 0x0002)',
    skS: RFC9578_SKS,
    pkcs8: toHex(pkcs8),
    pkS: RFC9578_PKS,
    vectors: RFC9578_VECTORS,
  };
}

const u16 = (n: number) => Uint8Array.of(n >>> 8, n & 0xff);

/** The vectors as the JSON text of test/vectors/tokens.json. */
export function tokenVectorsJson(): string {
  const stream = seededRng(SEED);
  const keys = [streamIssuerKey(stream), streamIssuerKey(stream)];
  const [k0, k1] = keys as [(typeof keys)[0], (typeof keys)[0]];

  const challenges = [
    { issuerName: 'api.sealpost.example' },
    { issuerName: 'issuer.example', redemptionContext: stream(32), originInfo: ['origin.example'] },
    { issuerName: 'issuer.example', originInfo: ['foo.example', 'bar.example'] },
    { issuerName: 'émetteur.example' },
  ].map((args) => {
    const challenge = tokenChallenge(args);
    const name = utf8(args.issuerName);
    const context = args.redemptionContext ?? new Uint8Array(0);
    const origins = utf8((args.originInfo ?? []).join(','));
    const spec = concatBytes(
      u16(2),
      u16(name.length),
      name,
      Uint8Array.of(context.length),
      context,
      u16(origins.length),
      origins,
    );
    check(equalBytes(challenge, spec), `challenge ${args.issuerName}`);
    return {
      args,
      challenge,
      digest: new Uint8Array(createHash('sha256').update(challenge).digest()),
    };
  });

  /** One issuance; `draws` replaces the stream when given (to record rejected blinds). */
  const issue = (name: string, keyIndex: number, challengeIndex: number, draws?: Uint8Array) => {
    const { key, n, d } = keys[keyIndex]!;
    const c = challenges[challengeIndex]!;
    const rec = recording(draws === undefined ? stream : replay(draws));
    const { request, pending } = beginToken(rec.rng, {
      publicKey: key.publicKey,
      challenge: c.challenge,
    });
    const rng = rec.drawn();
    const response = blindSign(key, request);
    check(response !== undefined, `${name} issued`);
    const token = finishToken(pending, response!);
    // Independently: the nonce and the blind r are the first and the last draw; the response
    // is z^d; the token is input || response * r^-1; the signature verifies with OpenSSL and
    // its encoding holds the drawn salt.
    const nonce = rng.subarray(0, 32);
    const salt = rng.subarray(32, 80);
    const r = big(rng.subarray(rng.length - 256));
    const z = big(request.subarray(3));
    check(toHex(response!) === toHex(bytes(modPow(z, d, n), 256)), `${name} blind signature`);
    const input = concatBytes(u16(2), nonce, c.digest, key.keyId);
    const s = (big(response!) * inverse(r, n)) % n;
    check(equalBytes(token, concatBytes(input, bytes(s, 256))), `${name} token`);
    check(
      request[2] === key.keyId[31] && equalBytes(request.subarray(0, 2), u16(2)),
      `${name} request`,
    );
    const em = bytes(modPow(s, E, n), 256);
    check(equalBytes(pssSalt(em), salt), `${name} salt`);
    const publicKey = createPublicKey({
      key: Buffer.from(key.publicKey),
      format: 'der',
      type: 'spki',
    });
    check(
      verify(
        'sha384',
        input,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
        token.subarray(98),
      ),
      `${name} PSS`,
    );
    check(
      verifyToken(tokenVerifierKey(key.publicKey), token, {
        challengeDigest: c.digest,
        keyId: key.keyId,
      }),
      `${name} verify`,
    );
    return {
      name,
      key: keyIndex,
      challenge: challengeIndex,
      rng: toHex(rng),
      nonce: toHex(nonce),
      salt: toHex(salt),
      blind: toHex(bytes(r, 256)),
      inverse: toHex(bytes(inverse(r, n), 256)),
      tokenInput: toHex(input),
      encodedMessage: toHex(em),
      request: toHex(request),
      response: toHex(response!),
      token: toHex(token),
    };
  };

  const issuances = [
    issue('sealpost-challenge', 0, 0),
    issue('redemption-context', 0, 1),
    issue('origin-list', 0, 2),
    issue('utf8-issuer', 0, 3),
    issue('second-key', 1, 0),
    // The blind is drawn again when a draw is >= n or 0 (RFC 9474 §4.2 random_integer_uniform).
    issue(
      'rejected-blinds',
      0,
      0,
      concatBytes(
        stream(32),
        stream(48),
        new Uint8Array(256).fill(0xff),
        new Uint8Array(256),
        stream(256),
      ),
    ),
  ];

  const base = issuances[0]!;
  const token = fromHex(base.token);
  const request = fromHex(base.request);
  const response = fromHex(base.response);
  const { key: key0 } = k0;
  const verifier0 = tokenVerifierKey(key0.publicKey);
  const expected0 = { challengeDigest: challenges[0]!.digest, keyId: key0.keyId };
  const mutate = (b: Uint8Array, f: (c: Uint8Array) => void) => {
    const c = b.slice();
    f(c);
    return c;
  };
  const input = token.subarray(0, 98);
  const otherDigestToken = fromHex(issuances[1]!.token);
  const tokenCases: { name: string; token: Uint8Array; decode: string; verify: boolean }[] = [
    { name: 'valid', token, decode: 'ok', verify: true },
    {
      name: 'type-0x0001',
      token: mutate(token, (t) => (t[1] = 1)),
      decode: 'MALFORMED_TOKEN',
      verify: false,
    },
    {
      name: 'type-0x0102',
      token: mutate(token, (t) => (t[0] = 1)),
      decode: 'MALFORMED_TOKEN',
      verify: false,
    },
    { name: 'truncated', token: token.subarray(0, 353), decode: 'MALFORMED_TOKEN', verify: false },
    {
      name: 'extended',
      token: concatBytes(token, new Uint8Array(1)),
      decode: 'MALFORMED_TOKEN',
      verify: false,
    },
    { name: 'empty', token: new Uint8Array(0), decode: 'MALFORMED_TOKEN', verify: false },
    {
      name: 'nonce-bit',
      token: mutate(token, (t) => (t[2]! ^= 0x80)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'challenge-digest-bit',
      token: mutate(token, (t) => (t[40]! ^= 0x01)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'key-id-bit',
      token: mutate(token, (t) => (t[97]! ^= 0x01)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'authenticator-first-bit',
      token: mutate(token, (t) => (t[98]! ^= 0x80)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'authenticator-last-bit',
      token: mutate(token, (t) => (t[353]! ^= 0x01)),
      decode: 'ok',
      verify: false,
    },
    { name: 'other-challenge', token: otherDigestToken, decode: 'ok', verify: false },
    { name: 'other-key', token: fromHex(issuances[4]!.token), decode: 'ok', verify: false },
    {
      name: 'signed-by-other-key',
      token: concatBytes(input, pssSign(input, stream(48), k1.n, k1.d)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'salt-length-32',
      token: concatBytes(input, pssSign(input, stream(32), k0.n, k0.d)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'salt-length-0',
      token: concatBytes(input, pssSign(input, new Uint8Array(0), k0.n, k0.d)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'pkcs1-v1_5-signature',
      token: concatBytes(
        input,
        sign('sha384', input, { key: key0.privateKey, padding: constants.RSA_PKCS1_PADDING }),
      ),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'authenticator-zero',
      token: concatBytes(input, new Uint8Array(256)),
      decode: 'ok',
      verify: false,
    },
    {
      name: 'authenticator-n',
      token: concatBytes(input, bytes(k0.n, 256)),
      decode: 'ok',
      verify: false,
    },
  ];
  const invalidTokens = tokenCases.map((c) => {
    check(tokenCode(() => decodeToken(c.token)) === c.decode, `token ${c.name} decode`);
    check(verifyToken(verifier0, c.token, expected0) === c.verify, `token ${c.name} verify`);
    return { name: c.name, token: toHex(c.token), decode: c.decode, verify: c.verify };
  });

  const requestCases: { name: string; request: Uint8Array; response: Uint8Array | null }[] = [
    { name: 'valid', request, response },
    {
      name: 'blinded-zero',
      request: concatBytes(request.subarray(0, 3), new Uint8Array(256)),
      response: new Uint8Array(256),
    },
    { name: 'truncated', request: request.subarray(0, 258), response: null },
    { name: 'extended', request: concatBytes(request, new Uint8Array(1)), response: null },
    { name: 'type-0x0001', request: mutate(request, (r) => (r[1] = 1)), response: null },
    {
      name: 'other-truncated-key-id',
      request: mutate(request, (r) => (r[2]! ^= 1)),
      response: null,
    },
    {
      name: 'blinded-equals-n',
      request: concatBytes(request.subarray(0, 3), bytes(k0.n, 256)),
      response: null,
    },
    {
      name: 'blinded-all-ones',
      request: concatBytes(request.subarray(0, 3), new Uint8Array(256).fill(0xff)),
      response: null,
    },
  ];
  const invalidRequests = requestCases.map((c) => {
    const got = blindSign(key0, c.request);
    check(
      c.response === null ? got === undefined : got !== undefined && equalBytes(got, c.response),
      `request ${c.name}`,
    );
    return {
      name: c.name,
      request: toHex(c.request),
      response: c.response === null ? null : toHex(c.response),
    };
  });

  const pendingOf = (i: (typeof issuances)[number]) =>
    beginToken(replay(fromHex(i.rng)), {
      publicKey: keys[i.key]!.key.publicKey,
      challenge: challenges[i.challenge]!.challenge,
    }).pending;
  const z = big(request.subarray(3));
  const responseCases: { name: string; response: Uint8Array; token: Uint8Array | null }[] = [
    { name: 'valid', response, token },
    { name: 'truncated', response: response.subarray(0, 255), token: null },
    { name: 'extended', response: concatBytes(response, new Uint8Array(1)), token: null },
    { name: 'bit-flip', response: mutate(response, (r) => (r[128]! ^= 0x10)), token: null },
    { name: 'equals-n', response: bytes(k0.n, 256), token: null },
    { name: 'zero', response: new Uint8Array(256), token: null },
    { name: 'other-request', response: fromHex(issuances[1]!.response), token: null },
    { name: 'other-key', response: bytes(modPow(z % k1.n, k1.d, k1.n), 256), token: null },
    { name: 'unblinded-signature', response: token.subarray(98), token: null },
  ];
  const invalidResponses = responseCases.map((c) => {
    let got: Uint8Array | string;
    try {
      got = finishToken(pendingOf(base), c.response);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      got = err.code;
    }
    check(
      c.token === null
        ? got === 'INVALID_TOKEN_RESPONSE'
        : typeof got !== 'string' && equalBytes(got, c.token),
      `response ${c.name}`,
    );
    return {
      name: c.name,
      response: toHex(c.response),
      token: c.token === null ? null : toHex(c.token),
    };
  });

  const pk = key0.publicKey;
  const at = TOKEN_KEY_SPKI_PREFIX.length;
  const nodePssSpki = fromHex(
    '30820156304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a86' +
      '4886f70d010108300d06096086480165030402020500a2030201300382010f003082010a0282010100',
  );
  const keyCases: { name: string; publicKey: Uint8Array; valid: boolean }[] = [
    { name: 'valid', publicKey: pk, valid: true },
    {
      name: 'rsa-encryption-spki',
      publicKey: new Uint8Array(
        createPublicKey(key0.privateKey).export({ format: 'der', type: 'spki' }),
      ),
      valid: false,
    },
    {
      name: 'rsa-pss-null-digest-parameters',
      publicKey: concatBytes(nodePssSpki, pk.subarray(at)),
      valid: false,
    },
    { name: 'salt-length-32', publicKey: mutate(pk, (b) => (b[66] = 0x20)), valid: false },
    { name: 'hash-sha256', publicKey: mutate(pk, (b) => (b[33] = 0x01)), valid: false },
    { name: 'mgf1-sha256', publicKey: mutate(pk, (b) => (b[61] = 0x01)), valid: false },
    { name: 'modulus-top-bit-clear', publicKey: mutate(pk, (b) => (b[at]! &= 0x7f)), valid: false },
    { name: 'modulus-even', publicKey: mutate(pk, (b) => (b[at + 255]! &= 0xfe)), valid: false },
    {
      name: 'exponent-3',
      publicKey: concatBytes(
        mutate(pk.subarray(0, at + 256), (b) => {
          b[3] = 0x50;
          b[70] = 0x0d;
          b[75] = 0x08;
        }),
        fromHex('020103'),
      ),
      valid: false,
    },
    { name: 'truncated', publicKey: pk.subarray(0, pk.length - 1), valid: false },
    { name: 'extended', publicKey: concatBytes(pk, new Uint8Array(1)), valid: false },
  ];
  const invalidKeys = keyCases.map((c) => {
    const code = tokenCode(() => parseTokenKey(c.publicKey));
    check(code === (c.valid ? 'ok' : 'INVALID_TOKEN_KEY'), `key ${c.name}`);
    if (c.valid) check(parseTokenKey(c.publicKey).n === k0.n, 'key modulus');
    return { name: c.name, publicKey: toHex(c.publicKey), valid: c.valid };
  });

  const vectors = {
    description:
      'Anonymous tokens: Privacy Pass token type 0x0002, publicly verifiable blind RSA-2048 (RFC 9578 §6, RSABSSA-SHA384-PSS-Deterministic of RFC 9474). Byte strings are hex; "rng" is every byte the client drew, in order (nonce, PSS salt, then blinds until one is in [1, n)).',
    generator: 'scripts/gen-vectors-tokens.ts',
    seed: SEED,
    rfc9474: rfc9474(),
    rfc9578: rfc9578(),
    keys: keys.map((k) => ({
      p: toHex(bytes(k.p, 128)),
      q: toHex(bytes(k.q, 128)),
      d: toHex(bytes(k.d, 256)),
      pkcs8: toHex(k.pkcs8),
      publicKey: toHex(k.key.publicKey),
      keyId: toHex(k.key.keyId),
    })),
    challenges: challenges.map((c) => ({
      issuerName: c.args.issuerName,
      redemptionContext: toHex(c.args.redemptionContext ?? new Uint8Array(0)),
      originInfo: c.args.originInfo ?? [],
      challenge: toHex(c.challenge),
      digest: toHex(c.digest),
    })),
    issuances,
    invalid: {
      tokens: invalidTokens,
      requests: invalidRequests,
      responses: invalidResponses,
      keys: invalidKeys,
    },
  };
  check(
    tokenKeyId(pk).every((b, i) => b === key0.keyId[i]),
    'tokenKeyId',
  );
  return `${JSON.stringify(vectors, null, 2)}\n`;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'tokens.json');
  writeFileSync(out, tokenVectorsJson());
  console.log(`wrote ${out}`);
}
