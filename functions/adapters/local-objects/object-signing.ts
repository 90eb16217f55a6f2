/**
 * Signatures of the local object service's presigned URLs and forms: HMAC-SHA256 under a
 * secret only the local server holds (32 random bytes per start), over exactly what the URL
 * grants (method, object key, upload id, part number, byte bound, expiry) or, for a form, over
 * its policy (key, exact size, expiry). Checked in constant time. Like S3's SigV4 presigning,
 * a URL is a bearer grant for one operation on one object until it expires.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ATTACHMENT_PREFIX } from '../../deployment.ts';

/** Path of the object service on the local server (form posts go to this path itself). */
export const OBJECTS_PATH = '/_objects';

/** Prefix of every attachment object key, as on S3 (`attachments/<id>`). */
export const ATTACHMENT_KEY_PREFIX = ATTACHMENT_PREFIX;

/** Bytes of the signing secret. */
export const OBJECT_SECRET_BYTES = 32;

/** An attachment id as the adapters accept it: base64url, at most 64 characters. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** An object key the service serves: the attachment prefix (letters and a slash) and one id. */
const KEY_PATTERN = new RegExp(`^${ATTACHMENT_PREFIX}[A-Za-z0-9_-]{1,64}$`);
/** Base64url of an HMAC-SHA256 (32 bytes, unpadded). */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Domain tags, so a URL signature can never pass as a form signature or the reverse. */
const URL_TAG = 'sealpost-local-objects-url-v1';
const FORM_TAG = 'sealpost-local-objects-form-v1';

/** What a presigned URL grants. */
export interface UrlGrant {
  readonly method: 'GET' | 'PUT';
  readonly key: string;
  /** Multipart upload id (part PUTs only). */
  readonly uploadId?: string;
  /** Part number, 1..10,000 (part PUTs only). */
  readonly partNumber?: number;
  /** Most body bytes accepted (part PUTs only). */
  readonly maxBytes?: number;
  /** Last valid instant (ms since the epoch). */
  readonly expires: number;
}

/** The policy of a presigned form: one key, exactly `size` bytes, until `expires`. */
export interface FormPolicy {
  readonly key: string;
  readonly size: number;
  readonly expires: number;
}

/**
 * The object key of an attachment.
 *
 * @example attachmentKey('q2mOO4B3tbgY8lq6HO0W1w') // 'attachments/q2mOO4B3tbgY8lq6HO0W1w'
 * @throws {RangeError} if `id` is not base64url of at most 64 characters.
 */
export function attachmentKey(id: string): string {
  if (!ID_PATTERN.test(id)) throw new RangeError('id must be base64url, 1..64 characters');
  return `${ATTACHMENT_KEY_PREFIX}${id}`;
}

/**
 * Whether `key` is an object key the service serves (guards the directory storage too: no
 * separators besides the prefix's, no dots).
 *
 * @example isObjectKey('attachments/abc') // true
 */
export function isObjectKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * Signs and verifies grants under one secret.
 *
 * @example
 * const signer = ObjectSigner.random();
 * const signature = signer.signUrl({ method: 'GET', key: 'attachments/abc', expires: 1 });
 */
export class ObjectSigner {
  private readonly secret: Buffer;

  /** @throws {RangeError} if `secret` is not {@link OBJECT_SECRET_BYTES} bytes. */
  constructor(secret: Uint8Array) {
    if (secret.length !== OBJECT_SECRET_BYTES) {
      throw new RangeError(`secret must be ${OBJECT_SECRET_BYTES} bytes`);
    }
    this.secret = Buffer.from(secret);
  }

  /** A signer under a fresh random secret. */
  static random(): ObjectSigner {
    return new ObjectSigner(randomBytes(OBJECT_SECRET_BYTES));
  }

  /** The signature (base64url) of a URL grant. */
  signUrl(grant: UrlGrant): string {
    return this.mac(urlMessage(grant));
  }

  /** Whether `signature` is this signer's over `grant` (constant time). */
  verifyUrl(grant: UrlGrant, signature: string): boolean {
    return this.check(urlMessage(grant), signature);
  }

  /** The signature (base64url) over an encoded policy (the form's `policy` field). */
  signPolicy(encodedPolicy: string): string {
    return this.mac(`${FORM_TAG}\n${encodedPolicy}`);
  }

  /** Whether `signature` is this signer's over `encodedPolicy` (constant time). */
  verifyPolicy(encodedPolicy: string, signature: string): boolean {
    return this.check(`${FORM_TAG}\n${encodedPolicy}`, signature);
  }

  private mac(message: string): string {
    return createHmac('sha256', this.secret).update(message, 'utf8').digest('base64url');
  }

  private check(message: string, signature: string): boolean {
    if (!SIGNATURE_PATTERN.test(signature)) return false;
    const expected = createHmac('sha256', this.secret).update(message, 'utf8').digest();
    // Compared as text: base64url decoding ignores the last character's unused bits, so a
    // signature with other bits there would decode to the same bytes and pass.
    const canonical = Buffer.from(expected.toString('base64url'), 'latin1');
    const given = Buffer.from(signature, 'latin1');
    return given.length === canonical.length && timingSafeEqual(given, canonical);
  }
}

/**
 * The signed text of a grant. Every field is digits, base64url or a key of the fixed pattern,
 * so the newline separator cannot be forged into a field.
 */
function urlMessage(grant: UrlGrant): string {
  return [
    URL_TAG,
    grant.method,
    grant.key,
    grant.uploadId ?? '',
    grant.partNumber ?? '',
    grant.maxBytes ?? '',
    grant.expires,
  ].join('\n');
}

/**
 * The `policy` field of a form: base64url of its JSON.
 *
 * @example encodePolicy({ key: 'attachments/abc', size: 1024, expires: 1_700_000_000_000 })
 */
export function encodePolicy(policy: FormPolicy): string {
  const json = JSON.stringify({ key: policy.key, size: policy.size, expires: policy.expires });
  return Buffer.from(json, 'utf8').toString('base64url');
}

/**
 * The policy of an encoded `policy` field, or undefined if it is not one (checked after its
 * signature, so this only guards against the service's own mistakes and stray input).
 *
 * @example decodePolicy(encodePolicy(policy)) // policy
 */
export function decodePolicy(encoded: string): FormPolicy | undefined {
  if (encoded.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { key, size, expires } = value as Record<string, unknown>;
  if (typeof key !== 'string' || !isObjectKey(key)) return undefined;
  if (!Number.isSafeInteger(size) || (size as number) < 0) return undefined;
  if (!Number.isSafeInteger(expires)) return undefined;
  return { key, size: size as number, expires: expires as number };
}
