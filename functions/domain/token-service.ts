/**
 * Anonymous tokens (docs/SERVICE.md §15, docs/PROTOCOL.md §13): issuance to authenticated
 * accounts within a daily quota, and redemption on sealed sends and sealed bundle fetches.
 *
 * Issuance stores only the account's daily counter; redemption stores only the spent token's
 * id (SHA-256 of key id and nonce), a hash binding it to the send's request id, and a per
 * recipient daily request counter. The blind signature means no stored or logged value links a
 * redeemed token to the account it was issued to. Nothing here logs.
 */
import { tokenChallenge, tokenChallengeDigest } from 'sealpost/tokens';
import { constantTimeEqual } from 'sealpost/wire';
import {
  fromBase64Url,
  TOKEN_WIRE_BYTES,
  type TokenIssueRequest,
  type TokenIssueResponse,
  type TokenKeysResponse,
  toBase64Url,
  tryFromBase64Url,
} from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { sha256 } from './crypto.ts';
import { ServiceError, UnavailableError } from './errors.ts';
import type { Clock, RateLimiter, SigningKeyProvider } from './ports.ts';
import { assertNotSuspended } from './suspension-service.ts';
import { blindSign, isTokenRequest, verifyToken } from './token-issuer.ts';
import { dayOf, TokenKeyService } from './token-key-service.ts';
import type { TokenPorts } from './token-ports.ts';

const DAY_MS = 86_400_000;
/** Characters of a token's unpadded base64url (354 bytes). */
const TOKEN_HEADER_CHARS = Math.ceil((TOKEN_WIRE_BYTES * 4) / 3);
/** Offsets of the nonce and the key id in a token (RFC 9577 §2.2). */
const NONCE_AT = 2;
const NONCE_END = NONCE_AT + 32;
const KEY_ID_AT = NONCE_END + 32;
const KEY_ID_END = KEY_ID_AT + 32;

const BIND_LABEL = new TextEncoder().encode('Sealpost-TokenBind-v1');
const REFUSED_LABEL = new TextEncoder().encode('Sealpost-TokenRefused-v1');

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** A token that verified: what redemption needs of it. */
export interface VerifiedToken {
  /** SHA-256(token_key_id || nonce): the spent-token id. */
  readonly id: Uint8Array;
  /** The last moment its key redeems tokens. */
  readonly notAfter: number;
}

/** The one answer to every token that does not verify, whatever the reason. */
export function invalidToken(): ServiceError {
  return new ServiceError('INVALID_TOKEN', 'the token is not valid here');
}

function notConfigured(): ServiceError {
  return new ServiceError('NOT_CONFIGURED', 'anonymous tokens are not configured');
}

/** Issuance, verification and redemption of anonymous tokens. */
export class TokenService {
  private readonly keys: TokenKeyService | undefined;
  private digest: Promise<Uint8Array> | undefined;

  constructor(
    /** The token stores; without them issuance is `NOT_CONFIGURED` and every token invalid. */
    private readonly ports: TokenPorts | undefined,
    signing: SigningKeyProvider,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {
    this.keys = ports ? new TokenKeyService(ports.keys, signing) : undefined;
  }

  /** Whether tokens are configured (the stores were given). */
  get enabled(): boolean {
    return this.keys !== undefined;
  }

  /**
   * `GET /v1/tokens/keys`: the signed list of issuer keys that redeem now (today's created if
   * needed).
   *
   * @example const { keys } = await tokens.keyList();
   * @throws {ServiceError} `NOT_CONFIGURED` without token stores.
   */
  async keyList(): Promise<TokenKeysResponse> {
    if (!this.keys) throw notConfigured();
    return { keys: await this.keys.publishedKeys(this.clock()) };
  }

  /**
   * `POST /v1/tokens`: blind signatures for the caller's token requests. In order: the account
   * is not suspended, `keyId` is the key issuing now, every request is well-formed for it
   * (nothing is counted otherwise), the account's daily quota takes the whole batch (a
   * refused batch takes nothing), then each request is signed. Stores only the counter.
   *
   * @throws {ServiceError} `ACCOUNT_SUSPENDED`, `STALE_TOKEN_KEY`, `BAD_REQUEST`,
   *   `TOKEN_QUOTA_EXCEEDED`, `NOT_CONFIGURED`.
   */
  async issue(caller: Caller, req: TokenIssueRequest): Promise<TokenIssueResponse> {
    if (!this.keys || !this.ports) throw notConfigured();
    assertNotSuspended(caller.view.account);
    const now = this.clock();
    const key = await this.keys.issuingKey(now);
    if (!constantTimeEqual(fromBase64Url(req.keyId, 'keyId'), key.keyId)) {
      throw new ServiceError('STALE_TOKEN_KEY', 'the key is not the one issuing now');
    }
    const requests = req.requests.map((r) => fromBase64Url(r, 'requests'));
    const bad = requests.findIndex((r) => !isTokenRequest(key, r));
    if (bad >= 0) {
      throw new ServiceError('BAD_REQUEST', `requests[${bad}] is not a token request for this key`);
    }
    const young = now - caller.view.account.createdAt < this.config.newAccountAgeMs;
    const limit = young ? this.config.newAccountTokenQuotaPerDay : this.config.tokenQuotaPerDay;
    const { granted, used } = await this.ports.quota.take(
      caller.address,
      dayOf(now),
      requests.length,
      limit,
    );
    if (!granted) {
      throw new ServiceError('TOKEN_QUOTA_EXCEEDED', 'the daily token quota is used up');
    }
    const responses = requests.map((r) => {
      const signed = blindSign(key, r);
      // Checked above; only a fault could refuse it now (the tokens are counted already).
      if (signed === undefined) throw new UnavailableError('token signing failed; retry');
      return toBase64Url(signed);
    });
    return { keyId: req.keyId, responses, remaining: Math.max(0, limit - used) };
  }

  /**
   * The token of an `x-sealpost-token` header if it verifies: 354 bytes of type 0x0002, under
   * an issuer key of this deployment that redeems now, for this deployment's challenge, with a
   * valid signature. Every failure is the same `INVALID_TOKEN`.
   *
   * @example const token = await tokens.verify(c.req.header(TOKEN_HEADER));
   * @throws {ServiceError} `INVALID_TOKEN`.
   */
  async verify(header: string): Promise<VerifiedToken> {
    if (!this.keys || typeof header !== 'string' || header.length !== TOKEN_HEADER_CHARS) {
      throw invalidToken();
    }
    const token = tryFromBase64Url(header);
    if (token === undefined || token.length !== TOKEN_WIRE_BYTES) throw invalidToken();
    const keyId = token.slice(KEY_ID_AT, KEY_ID_END);
    const now = this.clock();
    const key = await this.keys.redeemingKey(keyId, now);
    if (key === undefined) throw invalidToken();
    const challengeDigest = await this.challengeDigest();
    if (!verifyToken(key.verifier, token, { challengeDigest, keyId: key.keyId })) {
      throw invalidToken();
    }
    const id = sha256(concat(keyId, token.subarray(NONCE_AT, NONCE_END)));
    return { id, notAfter: key.notAfter };
  }

  /**
   * Redeems a verified token for a sealed send to `recipient` with request id `requestId`:
   * spends it bound to the request id (`TOKEN_SPENT` if another send spent it; the same send
   * again passes without counting anything), then counts the request against the recipient's
   * daily limit (`REQUEST_LIMIT`: the token stays spent, and a retry of this send is refused
   * the same way).
   *
   * @throws {ServiceError} `TOKEN_SPENT`, `REQUEST_LIMIT`.
   */
  async redeem(token: VerifiedToken, recipient: string, requestId: Uint8Array): Promise<void> {
    if (!this.ports) throw invalidToken();
    const spent = this.ports.spent;
    const expiresAt = token.notAfter + this.config.spentTokenMarginMs;
    const bind = sha256(concat(BIND_LABEL, token.id, requestId));
    const refused = sha256(concat(REFUSED_LABEL, token.id, requestId));
    const result = await spent.spend(token.id, expiresAt, bind);
    if (result === 'again') return;
    if (result === 'taken') {
      // The same send after a REQUEST_LIMIT: its token was rebound to `refused`.
      if ((await spent.spend(token.id, expiresAt, refused)) === 'again') throw requestLimit();
      throw new ServiceError('TOKEN_SPENT', 'the token was redeemed already');
    }
    const limit = this.config.requestsPerRecipientPerDay;
    if (!(await this.limiter.hit(`requests:${recipient}`, limit, DAY_MS, this.clock()))) {
      await spent.rebind(token.id, bind, refused);
      throw requestLimit();
    }
  }

  /**
   * Counts a sealed bundle fetch paid by `token` (not spent by it): at most
   * `bundleFetchesPerToken` over the token's life, one counter per token that expires after
   * its `notAfter`.
   *
   * @throws {ServiceError} `RATE_LIMITED`.
   */
  async countFetch(token: VerifiedToken): Promise<void> {
    const key = `tokenfetch:${Buffer.from(token.id).toString('hex')}`;
    // One window for the token's whole life: "now" is its notAfter on every call.
    const limit = this.config.bundleFetchesPerToken;
    if (!(await this.limiter.hit(key, limit, DAY_MS, token.notAfter))) {
      throw new ServiceError('RATE_LIMITED', 'this token paid for its bundle fetches already');
    }
  }

  private challengeDigest(): Promise<Uint8Array> {
    if (this.digest === undefined && this.keys) {
      const keys = this.keys;
      this.digest = keys
        .issuerName()
        .then((issuerName) => tokenChallengeDigest(tokenChallenge({ issuerName })));
      this.digest.catch(() => {
        this.digest = undefined;
      });
    }
    return this.digest ?? Promise.reject(invalidToken());
  }
}

function requestLimit(): ServiceError {
  return new ServiceError('REQUEST_LIMIT', 'the recipient takes no more message requests today');
}
