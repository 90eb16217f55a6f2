/**
 * VAPID key pairs (RFC 8292): the P-256 key a deployment signs its Web Push requests with, in
 * the form web-push libraries and browsers take (base64url without padding: the uncompressed
 * 65-byte public point and the 32-byte private scalar), and the secret JSON of the deployment
 * contract ({@link VapidSecret}). Node's own crypto, so the deploy-time generator and the local
 * server need no Web Push library.
 */
import { createECDH, generateKeyPairSync } from 'node:crypto';
import type { VapidSecret } from '../../deployment.ts';

/** A VAPID key pair, base64url without padding. */
export interface VapidKeys {
  /** Uncompressed P-256 point (65 bytes): the `applicationServerKey`. */
  readonly publicKey: string;
  /** Private scalar (32 bytes). */
  readonly privateKey: string;
}

/** Where the VAPID keys come from (a Secrets Manager secret on AWS, memory locally). */
export interface VapidKeyProvider {
  get(): Promise<VapidKeys>;
}

/** Keys known at start (the local server, the test kit). */
export class StaticVapidKeys implements VapidKeyProvider {
  constructor(private readonly keys: VapidKeys) {}

  get(): Promise<VapidKeys> {
    return Promise.resolve(this.keys);
  }
}

/**
 * A fresh key pair, as `webPush.generateVAPIDKeys()` makes one.
 *
 * @example const { publicKey, privateKey } = generateVapidKeys();
 */
export function generateVapidKeys(): VapidKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // RFC 7518 §6.2: an EC JWK carries the coordinates as `x`, `y` and the scalar as `d`.
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || typeof jwk.d !== 'string') {
    throw new Error('P-256 key export failed');
  }
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  return { publicKey: point.toString('base64url'), privateKey: jwk.d };
}

/**
 * Checks that `keys` is a P-256 pair: a 32-byte scalar whose public point is exactly
 * `publicKey` (so a mixed-up secret fails at start, not at every push).
 *
 * @example checkVapidKeys(generateVapidKeys()) // returns its argument
 * @throws {RangeError} if either key is malformed or they do not belong together; the message
 *   never contains key material.
 */
export function checkVapidKeys(keys: VapidKeys): VapidKeys {
  const scalar = Buffer.from(keys.privateKey, 'base64url');
  if (scalar.length !== 32 || scalar.toString('base64url') !== keys.privateKey) {
    throw new RangeError('VAPID private key must be 32 bytes of base64url');
  }
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(scalar);
  } catch {
    throw new RangeError('VAPID private key is not a P-256 scalar');
  }
  if (ecdh.getPublicKey().toString('base64url') !== keys.publicKey) {
    throw new RangeError('VAPID public key does not match the private key');
  }
  return keys;
}

/**
 * The secret JSON of a key pair.
 *
 * @example vapidSecretJson(generateVapidKeys()) // '{"version":1,"publicKey":...}'
 */
export function vapidSecretJson(keys: VapidKeys): string {
  const secret: VapidSecret = {
    version: 1,
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
  };
  return JSON.stringify(secret);
}

/**
 * The key pair of a VAPID secret's JSON, checked.
 *
 * @example parseVapidSecret(vapidSecretJson(keys)) // keys
 * @throws {RangeError} if it is not the contract JSON of a matching pair (never echoes it).
 */
export function parseVapidSecret(text: string): VapidKeys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RangeError('VAPID secret is not JSON');
  }
  const s = json as Partial<VapidSecret> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    s.version !== 1 ||
    typeof s.publicKey !== 'string' ||
    typeof s.privateKey !== 'string'
  ) {
    throw new RangeError('VAPID secret is not {version: 1, publicKey, privateKey}');
  }
  return checkVapidKeys({ publicKey: s.publicKey, privateKey: s.privateKey });
}
