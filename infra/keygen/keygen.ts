/**
 * Deploy-time key generation for the sealed-sender certificate chain (PROTOCOL.md §6):
 * trust root -> server certificate -> (at run time) sender certificates; and for franking
 * (PROTOCOL.md §11): trust root -> moderator certificate, plus the delivery stamp secret.
 *
 * Runs once per stack, on the custom resource's Create. The trust root's seed goes to the root
 * secret; the server key, the moderator key, their certificates and the stamp secret to the
 * signing secret; only the root's public key leaves this module (as the resource's data and
 * physical id). Node-only (node:crypto; the ristretto255 moderator key from the SDK's franking
 * module).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { generateFrankingKeyPair } from '#sdk/franking/index.ts';
import {
  encodeModeratorCertificate,
  encodeServerCertificate,
  moderatorCertificatePayload,
  serverCertificatePayload,
} from '#sdk/wire/certificates.ts';

/** Version of the root secret JSON layout. */
export const SECRET_FORMAT_VERSION = 1;

/** Version of the signing secret JSON layout: 2 adds the moderator key and the stamp secret. */
export const SIGNING_SECRET_FORMAT_VERSION = 2;

/** Default key id of the first server key. */
export const DEFAULT_SERVER_KEY_ID = 1;

/** Default validity of the first server certificate: two years, then rotate (docs/DEPLOY.md). */
export const DEFAULT_CERTIFICATE_VALIDITY_DAYS = 730;

const DAY_MS = 86_400_000;

/** Properties the stack passes to the custom resource (CloudFormation sends them as strings). */
export interface KeygenProperties {
  /** ARN of the secret that receives the trust root seed. */
  readonly RootSecretArn: string;
  /** ARN of the secret that receives the server signing material (the service reads it). */
  readonly SigningSecretArn: string;
  /** Server key id (u32, not 0). */
  readonly KeyId: string;
  /** Days from creation until the server certificate's `notAfter`. */
  readonly CertificateValidityDays: string;
}

/** The parts of a CloudFormation custom resource event the generator reads. */
export interface KeygenEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: KeygenProperties;
  /** On Update: the properties before the change. */
  readonly OldResourceProperties?: KeygenProperties;
}

/** What the provider framework reports back to CloudFormation: public data only. */
export interface KeygenResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly TrustRoot: string };
}

/** Side effects, injected so the generator is testable without AWS. */
export interface KeygenDeps {
  /** Stores `value` as the new current version of `secretId` (Secrets Manager PutSecretValue). */
  putSecretValue(secretId: string, value: string): Promise<void>;
  /** Current time in ms since the Unix epoch. */
  now(): number;
}

/** Signing secret JSON (deployment contract): what the API function reads. */
export interface SigningSecret {
  readonly version: typeof SIGNING_SECRET_FORMAT_VERSION;
  readonly keyId: number;
  /** base64url 32-byte Ed25519 seed of the server key. */
  readonly serverSeed: string;
  /** base64url encoded ServerCertificate (PROTOCOL.md §6). */
  readonly serverCertificate: string;
  /** base64url 32-byte trust root public key. */
  readonly trustRoot: string;
  /** Key id of the moderator key (the server key's id at creation). */
  readonly moderatorKeyId: number;
  /** base64url 32-byte ristretto255 scalar of the moderator (franking judge) key. */
  readonly moderatorSecret: string;
  /** base64url encoded ModeratorCertificate (109 bytes, PROTOCOL.md §11.2). */
  readonly moderatorCertificate: string;
  /** base64url 32 random bytes: the delivery stamp secret (PROTOCOL.md §11.4). */
  readonly stampSecret: string;
}

/** Root secret JSON: the trust root, needed only to certify the next server key. */
export interface RootSecret {
  readonly version: typeof SECRET_FORMAT_VERSION;
  /** base64url 32-byte Ed25519 seed of the trust root. */
  readonly rootSeed: string;
  /** base64url 32-byte trust root public key. */
  readonly trustRoot: string;
}

interface Ed25519Pair {
  readonly privateKey: KeyObject;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

function generateEd25519(): Ed25519Pair {
  const { privateKey } = generateKeyPairSync('ed25519');
  // RFC 8037 §2: an OKP JWK carries the 32-byte seed as `d` and the public key as `x`.
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new Error('Ed25519 key export failed');
  }
  return {
    privateKey,
    seed: new Uint8Array(Buffer.from(jwk.d, 'base64url')),
    publicKey: new Uint8Array(Buffer.from(jwk.x, 'base64url')),
  };
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** A base64url 32-byte key: 43 characters, no padding. */
const TRUST_ROOT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function parseKeyId(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 0xffffffff) {
    throw new RangeError('KeyId must be an integer in 1..2^32-1');
  }
  return n;
}

function parseValidityDays(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 3650) {
    throw new RangeError('CertificateValidityDays must be an integer in 1..3650');
  }
  return n;
}

function checkArn(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value.startsWith('arn:')) {
    throw new TypeError(`${name} must be a secret ARN`);
  }
  return value;
}

async function create(props: KeygenProperties, deps: KeygenDeps): Promise<KeygenResponse> {
  const rootSecretArn = checkArn(props.RootSecretArn, 'RootSecretArn');
  const signingSecretArn = checkArn(props.SigningSecretArn, 'SigningSecretArn');
  const keyId = parseKeyId(String(props.KeyId));
  const validityDays = parseValidityDays(String(props.CertificateValidityDays));

  const root = generateEd25519();
  const server = generateEd25519();
  const moderator = generateFrankingKeyPair((n) => new Uint8Array(randomBytes(n)));
  const stampSecret = new Uint8Array(randomBytes(32));
  try {
    const notAfter = deps.now() + validityDays * DAY_MS;
    const fields = { keyId, serverPublic: server.publicKey, notAfter };
    // PROTOCOL.md §6: the trust root signs LABELS.SERVER_CERTIFICATE || (bytes before the signature).
    const signature = new Uint8Array(sign(null, serverCertificatePayload(fields), root.privateKey));
    const certificate = encodeServerCertificate({ ...fields, signature });
    // PROTOCOL.md §11.2: the moderator certificate lives as long as the server certificate.
    const moderatorFields = { keyId, moderatorPublic: moderator.publicKey, notAfter };
    const moderatorSignature = new Uint8Array(
      sign(null, moderatorCertificatePayload(moderatorFields), root.privateKey),
    );
    const moderatorCertificate = encodeModeratorCertificate({
      ...moderatorFields,
      signature: moderatorSignature,
    });
    const trustRoot = b64url(root.publicKey);

    const rootSecret: RootSecret = {
      version: SECRET_FORMAT_VERSION,
      rootSeed: b64url(root.seed),
      trustRoot,
    };
    const signingSecret: SigningSecret = {
      version: SIGNING_SECRET_FORMAT_VERSION,
      keyId,
      serverSeed: b64url(server.seed),
      serverCertificate: b64url(certificate),
      trustRoot,
      moderatorKeyId: keyId,
      moderatorSecret: b64url(moderator.secretKey),
      moderatorCertificate: b64url(moderatorCertificate),
      stampSecret: b64url(stampSecret),
    };
    // Root first: a signing secret must never exist whose root seed was lost.
    await deps.putSecretValue(rootSecretArn, JSON.stringify(rootSecret));
    await deps.putSecretValue(signingSecretArn, JSON.stringify(signingSecret));
    return { PhysicalResourceId: trustRoot, Data: { TrustRoot: trustRoot } };
  } finally {
    root.seed.fill(0);
    server.seed.fill(0);
    moderator.secretKey.fill(0);
    stampSecret.fill(0);
  }
}

/**
 * Handles one custom resource event.
 *
 * - Create: generates the trust root, the server key, the moderator key and the stamp
 *   secret, signs the server and moderator certificates, stores both secrets, returns the trust root public key (base64url) as physical id and as
 *   `Data.TrustRoot`.
 * - Update: keeps the keys (a property change must not silently re-key every client) and
 *   returns the same trust root, read back from the physical id; refuses if either secret
 *   was replaced, since the new one would hold no key.
 * - Delete: does nothing; the secrets follow their own removal policy.
 *
 * Neither the response nor any error message contains secret material.
 *
 * @throws TypeError / RangeError on malformed resource properties
 * @throws Error if a secret cannot be stored, or on Update if a secret was replaced (the
 *   deployment then rolls back)
 * @example
 * ```ts
 * const res = await onEvent(event, { putSecretValue, now: Date.now });
 * ```
 */
export async function onEvent(event: KeygenEvent, deps: KeygenDeps): Promise<KeygenResponse> {
  switch (event.RequestType) {
    case 'Create':
      return create(event.ResourceProperties, deps);
    case 'Update': {
      const trustRoot = event.PhysicalResourceId ?? '';
      if (!TRUST_ROOT_PATTERN.test(trustRoot)) {
        throw new RangeError('physical id is not a trust root public key');
      }
      // New secrets would start with only a placeholder while the keys stay in the old ones;
      // fail the update (and roll back) instead of deploying a service that cannot sign.
      const old = event.OldResourceProperties;
      const now = event.ResourceProperties;
      if (
        old &&
        (old.RootSecretArn !== now.RootSecretArn || old.SigningSecretArn !== now.SigningSecretArn)
      ) {
        throw new Error('the key secrets were replaced; move the keys manually (docs/DEPLOY.md)');
      }
      return { PhysicalResourceId: trustRoot, Data: { TrustRoot: trustRoot } };
    }
    case 'Delete':
      return { PhysicalResourceId: event.PhysicalResourceId ?? 'none' };
    default:
      throw new TypeError('unknown RequestType');
  }
}
