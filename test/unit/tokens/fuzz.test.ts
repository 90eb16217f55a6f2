/**
 * Untrusted bytes never cause an untyped throw: 1,000 random byte strings each (any length, the
 * exact structure sizes, and valid headers with random bodies) into the functions that read
 * bytes from another party. `verifyToken` and `blindSign` never throw; the SDK decoders throw
 * only their `TokenError` code; `finishToken` refuses every random response.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blindSign, tokenVerifierKey, verifyToken } from '#functions/domain/token-issuer.ts';
import {
  decodeToken,
  finishToken,
  parseTokenKey,
  TOKEN_BYTES,
  TOKEN_KEY_BYTES,
  TOKEN_KEY_SPKI_PREFIX,
  TOKEN_REQUEST_BYTES,
  TOKEN_RESPONSE_BYTES,
} from '#sdk/tokens/index.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { expected, issue, issuerKey, tokenOutcome } from './fixtures.ts';

const RUNS = 1000;
const { request, pending, token } = issue();
const verifier = tokenVerifierKey(issuerKey.publicKey);

/** Random bytes: any length, exactly `size`, or `prefix` followed by random bytes to `size`. */
const hostile = (size: number, prefix: Uint8Array) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 2 * size }),
    fc.uint8Array({ minLength: size, maxLength: size }),
    fc
      .uint8Array({ minLength: size - prefix.length, maxLength: size - prefix.length })
      .map((rest) => concatBytes(prefix, rest)),
  );

describe('hostile bytes', () => {
  it('verifyToken answers false and never throws', () => {
    fc.assert(
      fc.property(hostile(TOKEN_BYTES, token.subarray(0, 98)), (bytes) => {
        expect(verifyToken(verifier, bytes, expected)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('blindSign answers undefined or a 256-byte response and never throws', () => {
    let answered = 0;
    fc.assert(
      fc.property(hostile(TOKEN_REQUEST_BYTES, request.subarray(0, 3)), (bytes) => {
        const response = blindSign(issuerKey, bytes);
        if (response !== undefined) {
          answered++;
          expect(response.length).toBe(256);
          expect(bytes.subarray(0, 3)).toEqual(request.subarray(0, 3));
        }
      }),
      { numRuns: RUNS },
    );
    // The valid-header branch reaches the signer (random bodies below n are signed).
    expect(answered).toBeGreaterThan(0);
  });

  it('decodeToken returns or throws MALFORMED_TOKEN', () => {
    fc.assert(
      fc.property(hostile(TOKEN_BYTES, token.subarray(0, 2)), (bytes) => {
        const outcome = tokenOutcome(() => decodeToken(bytes));
        const wellFormed = bytes.length === TOKEN_BYTES && bytes[0] === 0 && bytes[1] === 2;
        expect(outcome).toBe(wellFormed ? 'ok' : 'MALFORMED_TOKEN');
      }),
      { numRuns: RUNS },
    );
  });

  it('parseTokenKey returns or throws INVALID_TOKEN_KEY', () => {
    fc.assert(
      fc.property(hostile(TOKEN_KEY_BYTES, TOKEN_KEY_SPKI_PREFIX), (bytes) => {
        const outcome = tokenOutcome(() => parseTokenKey(bytes));
        expect(['ok', 'INVALID_TOKEN_KEY']).toContain(outcome);
        if (outcome === 'ok') expect(bytes.length).toBe(TOKEN_KEY_BYTES);
      }),
      { numRuns: RUNS },
    );
  });

  it('finishToken refuses every random response with INVALID_TOKEN_RESPONSE', () => {
    fc.assert(
      fc.property(hostile(TOKEN_RESPONSE_BYTES, new Uint8Array(0)), (bytes) => {
        expect(tokenOutcome(() => finishToken(pending, bytes))).toBe('INVALID_TOKEN_RESPONSE');
      }),
      { numRuns: RUNS },
    );
  });
});
