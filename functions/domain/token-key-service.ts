/**
 * The daily anonymous-token issuer keys (docs/PROTOCOL.md §13): one RSA-2048 key per UTC day,
 * the same for every account (a key per account would let the service link a token to the
 * account it was issued to). The first instance that needs the day's key generates it and
 * stores it with a conditional put (`TokenKeyStore.putIfAbsent`: the first writer wins, the
 * others adopt the stored key); the private key is stored wrapped with AES-256-GCM under a key
 * derived from the signing secret's stamp secret and the day, so the table alone never holds a
 * usable issuer key. A key issues tokens on its day and redeems them until the end of
 * {@link TOKEN_KEY_REDEEM_DAYS} days later; the service publishes the redeemable keys in a list
 * signed by the server key (`sdk/wire/token-keys.ts`).
 */
import { createCipheriv, createDecipheriv, hkdfSync, type KeyObject } from 'node:crypto';
import { encodeTokenKeyList, LABELS, tokenKeyListPayload, u32be } from 'sealpost/wire';
import { toBase64Url } from 'sealpost/wire/api';
import { ed25519Sign, randomBytes } from './crypto.ts';
import type { SigningKeyProvider } from './ports.ts';
import {
  exportTokenIssuerKey,
  generateTokenIssuerKey,
  importTokenIssuerKey,
  type TokenIssuerKey,
  tokenVerifierKey,
} from './token-issuer.ts';
import type { StoredTokenKey, TokenKeyStore } from './token-ports.ts';

const DAY_MS = 86_400_000;
/** A key issued on day D redeems tokens until the end of day D + 2 (UTC). */
export const TOKEN_KEY_REDEEM_DAYS = 2;
/** AES-256-GCM nonce and tag. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The issuer name of a deployment: `sealpost:` and the base64url of its 32-byte trust root
 * public key (52 printable ASCII characters). Derived, so no setting is needed, and it differs
 * between deployments that have their own roots (as their request audience does).
 *
 * @example issuerNameOf(material.trustRoot) // 'sealpost:3q2-7w...'
 */
export const issuerNameOf = (trustRoot: Uint8Array): string => `sealpost:${toBase64Url(trustRoot)}`;

/** The UTC day number of `ms`. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** The last moment (ms) a key of `day` redeems tokens. */
export const redeemableUntil = (day: number): number =>
  (day + 1 + TOKEN_KEY_REDEEM_DAYS) * DAY_MS - 1;

const concatBytes = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** The wrapping key of `day`'s issuer key: HKDF-SHA-256(stampSecret, info = label || u32 day). */
function wrappingKey(stampSecret: Uint8Array, day: number): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      stampSecret,
      new Uint8Array(0),
      concatBytes(LABELS.TOKEN_KEY_WRAP, u32be(day)),
      32,
    ),
  );
}

/**
 * Wraps a PKCS#8 private key: `nonce(12) || AES-256-GCM(pkcs8) || tag(16)`, with the label,
 * the day and the key id as associated data (a wrapped key cannot be moved to another day or
 * paired with another public key).
 */
export function wrapTokenKey(
  stampSecret: Uint8Array,
  day: number,
  keyId: Uint8Array,
  pkcs8: Uint8Array,
): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const key = wrappingKey(stampSecret, day);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(concatBytes(LABELS.TOKEN_KEY_WRAP, u32be(day), keyId));
  const out = concatBytes(nonce, cipher.update(pkcs8), cipher.final(), cipher.getAuthTag());
  key.fill(0);
  return out;
}

/**
 * Unwraps what {@link wrapTokenKey} made.
 *
 * @throws {Error} if the bytes were not wrapped for this secret, day and key id.
 */
export function unwrapTokenKey(
  stampSecret: Uint8Array,
  day: number,
  keyId: Uint8Array,
  wrapped: Uint8Array,
): Uint8Array {
  if (wrapped.length <= NONCE_BYTES + TAG_BYTES) throw new Error('wrapped token key is too short');
  const key = wrappingKey(stampSecret, day);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, NONCE_BYTES));
    decipher.setAAD(concatBytes(LABELS.TOKEN_KEY_WRAP, u32be(day), keyId));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    return new Uint8Array(
      Buffer.concat([
        decipher.update(wrapped.subarray(NONCE_BYTES, wrapped.length - TAG_BYTES)),
        decipher.final(),
      ]),
    );
  } catch {
    throw new Error('wrapped token key does not open under this signing secret');
  } finally {
    key.fill(0);
  }
}

/** A key that redeems tokens. */
export interface RedeemingKey {
  readonly day: number;
  readonly keyId: Uint8Array;
  readonly verifier: KeyObject;
  readonly notAfter: number;
}

/** The issuer keys of a deployment. */
export class TokenKeyService {
  private readonly issuing = new Map<
    number,
    Promise<TokenIssuerKey & { day: number; notAfter: number }>
  >();
  private readonly verifiers = new Map<string, RedeemingKey>();
  private published: { at: number; bytes: string } | undefined;

  constructor(
    private readonly store: TokenKeyStore,
    private readonly signing: SigningKeyProvider,
    private readonly options: {
      /** @default {@link issuerNameOf} the signing material's trust root */
      readonly issuerName?: string;
      readonly listCacheMs?: number;
    } = {},
  ) {}

  /**
   * The issuer name of the token challenge (RFC 9577 §2.1) this deployment issues and redeems
   * tokens for, as its key list publishes it.
   *
   * @example const challenge = tokenChallenge({ issuerName: await keys.issuerName() });
   */
  async issuerName(): Promise<string> {
    return this.options.issuerName ?? issuerNameOf((await this.signing.get()).trustRoot);
  }

  /**
   * The key that issues tokens at `now`: the stored key of the day, or a new one stored first.
   *
   * @example const { key, keyId } = await keys.issuingKey(Date.now());
   */
  issuingKey(now: number): Promise<TokenIssuerKey & { day: number; notAfter: number }> {
    const day = dayOf(now);
    let pending = this.issuing.get(day);
    if (pending === undefined) {
      pending = this.loadOrCreate(day);
      pending.catch(() => this.issuing.delete(day));
      this.issuing.clear();
      this.issuing.set(day, pending);
    }
    return pending;
  }

  private async loadOrCreate(
    day: number,
  ): Promise<TokenIssuerKey & { day: number; notAfter: number }> {
    const material = await this.signing.get();
    let stored = await this.store.get(day);
    if (stored === undefined) {
      const fresh = generateTokenIssuerKey();
      const pkcs8 = exportTokenIssuerKey(fresh);
      const candidate: StoredTokenKey = {
        day,
        keyId: fresh.keyId,
        publicKey: fresh.publicKey,
        wrappedPrivateKey: wrapTokenKey(material.stampSecret, day, fresh.keyId, pkcs8),
        notAfter: redeemableUntil(day),
      };
      pkcs8.fill(0);
      stored = await this.store.putIfAbsent(candidate);
    }
    const pkcs8 = unwrapTokenKey(material.stampSecret, day, stored.keyId, stored.wrappedPrivateKey);
    try {
      return { ...importTokenIssuerKey(pkcs8), day, notAfter: stored.notAfter };
    } finally {
      pkcs8.fill(0);
    }
  }

  /**
   * The key with id `keyId` if it redeems tokens at `now` (its day is at most
   * {@link TOKEN_KEY_REDEEM_DAYS} days ago and not in the future), else undefined.
   *
   * @example const key = await keys.redeemingKey(token.keyId, Date.now());
   */
  async redeemingKey(keyId: Uint8Array, now: number): Promise<RedeemingKey | undefined> {
    const id = toBase64Url(keyId);
    const known = this.verifiers.get(id);
    if (known !== undefined)
      return now <= known.notAfter && dayOf(now) >= known.day ? known : undefined;
    const today = dayOf(now);
    for (const stored of await this.store.range(today - TOKEN_KEY_REDEEM_DAYS, today)) {
      if (toBase64Url(stored.keyId) !== id) continue;
      const key: RedeemingKey = {
        day: stored.day,
        keyId: stored.keyId,
        verifier: tokenVerifierKey(stored.publicKey),
        notAfter: stored.notAfter,
      };
      if (this.verifiers.size >= 16) this.verifiers.clear();
      this.verifiers.set(id, key);
      return now <= key.notAfter ? key : undefined;
    }
    return undefined;
  }

  /**
   * The signed list of keys that redeem tokens at `now` (today's included, created if needed),
   * encoded and base64url; rebuilt at most every `listCacheMs` (60 s).
   *
   * @example const { keys } = { keys: await service.publishedKeys(Date.now()) };
   */
  async publishedKeys(now: number): Promise<string> {
    const cached = this.published;
    if (cached && now >= cached.at && now - cached.at < (this.options.listCacheMs ?? 60_000)) {
      return cached.bytes;
    }
    await this.issuingKey(now);
    const today = dayOf(now);
    const stored = await this.store.range(today - TOKEN_KEY_REDEEM_DAYS, today);
    const fields = {
      issuedAt: now,
      issuerName: await this.issuerName(),
      keys: stored
        .filter((k) => now <= k.notAfter)
        .map((k) => ({ day: k.day, notAfter: k.notAfter, publicKey: k.publicKey })),
    };
    const material = await this.signing.get();
    const signature = ed25519Sign(material.serverSeed, tokenKeyListPayload(fields));
    const bytes = toBase64Url(encodeTokenKeyList({ ...fields, signature }));
    this.published = { at: now, bytes };
    return bytes;
  }
}
