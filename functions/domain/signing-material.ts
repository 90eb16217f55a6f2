/**
 * Server signing material (docs/SERVICE.md §Certificates): the server key, its
 * certificate from the trust root, and the root's public key. Parsed from the deployment
 * secret's JSON, or generated for local development.
 */

import {
  constantTimeEqual,
  decodeServerCertificate,
  encodeServerCertificate,
  serverCertificatePayload,
} from 'sealpost/wire';
import { fromBase64Url, toBase64Url } from 'sealpost/wire/api';
import { ed25519PublicKey, ed25519Sign, randomBytes } from './crypto.ts';
import type { SigningKeyProvider, SigningMaterial } from './ports.ts';

/** The JSON stored in `SEALPOST_SIGNING_SECRET_ARN` (version 1). */
export interface SigningSecretJson {
  version: 1;
  keyId: number;
  serverSeed: string;
  serverCertificate: string;
  trustRoot: string;
}

/**
 * Parses and checks the secret: the certificate must decode, carry `keyId`, and certify the
 * public key of `serverSeed`, so a mismatched secret fails at cold start, not in clients.
 *
 * @example parseSigningSecret(secretString)
 * @throws {Error} with a message that names the bad field (never its value).
 */
export function parseSigningSecret(text: string): SigningMaterial {
  let json: Partial<SigningSecretJson>;
  try {
    json = JSON.parse(text) as Partial<SigningSecretJson>;
  } catch {
    throw new Error('signing secret is not JSON');
  }
  if (json.version !== 1) throw new Error('signing secret version must be 1');
  const keyId = json.keyId;
  if (typeof keyId !== 'number' || !Number.isInteger(keyId) || keyId < 0 || keyId > 0xffffffff) {
    throw new Error('signing secret keyId must be a u32');
  }
  const field = (name: 'serverSeed' | 'serverCertificate' | 'trustRoot', size?: number) => {
    const value = json[name];
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(typeof value === 'string' ? value : '', name);
    } catch {
      throw new Error(`signing secret ${name} is not base64url`);
    }
    if (size !== undefined && bytes.length !== size)
      throw new Error(`signing secret ${name} must be ${size} bytes`);
    return bytes;
  };
  const serverSeed = field('serverSeed', 32);
  const serverCertificate = field('serverCertificate');
  const trustRoot = field('trustRoot', 32);
  const cert = decodeServerCertificate(serverCertificate);
  if (cert.keyId !== keyId || !constantTimeEqual(cert.serverPublic, ed25519PublicKey(serverSeed))) {
    throw new Error('signing secret serverCertificate does not certify serverSeed/keyId');
  }
  return { keyId, serverSeed, serverCertificate, trustRoot };
}

/**
 * Generates a trust root and a server key certified by it (local development and tests).
 * Returns the root seed too: whoever runs this is the trust root.
 *
 * @example const { material, rootSeed } = generateSigningMaterial({ keyId: 1, notAfter: Date.now() + 365 * 864e5 })
 */
export function generateSigningMaterial(options: {
  keyId: number;
  notAfter: number;
  rootSeed?: Uint8Array;
  serverSeed?: Uint8Array;
}): { material: SigningMaterial; rootSeed: Uint8Array } {
  const rootSeed = options.rootSeed ?? randomBytes(32);
  const serverSeed = options.serverSeed ?? randomBytes(32);
  const fields = {
    keyId: options.keyId,
    serverPublic: ed25519PublicKey(serverSeed),
    notAfter: options.notAfter,
  };
  const signature = ed25519Sign(rootSeed, serverCertificatePayload(fields));
  const serverCertificate = encodeServerCertificate({ ...fields, signature });
  return {
    material: {
      keyId: options.keyId,
      serverSeed,
      serverCertificate,
      trustRoot: ed25519PublicKey(rootSeed),
    },
    rootSeed,
  };
}

/**
 * The secret JSON of some material (the inverse of {@link parseSigningSecret}).
 *
 * @example JSON.stringify(signingSecretJson(material))
 */
export function signingSecretJson(m: SigningMaterial): SigningSecretJson {
  return {
    version: 1,
    keyId: m.keyId,
    serverSeed: toBase64Url(m.serverSeed),
    serverCertificate: toBase64Url(m.serverCertificate),
    trustRoot: toBase64Url(m.trustRoot),
  };
}

/** A provider over material already in memory. */
export class StaticSigningKeyProvider implements SigningKeyProvider {
  constructor(private readonly material: SigningMaterial) {}
  async get(): Promise<SigningMaterial> {
    return this.material;
  }
}
