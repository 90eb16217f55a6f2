/**
 * Server signing material (docs/SERVICE.md §6): the server key, its certificate from the trust
 * root, the root's public key, the moderator (franking judge) key with its certificate from the
 * root, and the secret the delivery stamps derive from (docs/PROTOCOL.md §11). Parsed from the
 * deployment secret's JSON, or generated for local development.
 */

import { frankingPublicKey, generateFrankingKeyPair } from 'sealpost/franking';
import {
  constantTimeEqual,
  decodeModeratorCertificate,
  decodeServerCertificate,
  encodeModeratorCertificate,
  encodeServerCertificate,
  moderatorCertificatePayload,
  serverCertificatePayload,
} from 'sealpost/wire';
import { fromBase64Url, toBase64Url } from 'sealpost/wire/api';
import { ed25519PublicKey, ed25519Sign, ed25519Verify, randomBytes } from './crypto.ts';
import type { SigningKeyProvider, SigningMaterial } from './ports.ts';

/** Version of the signing secret JSON: 2 adds the moderator key and the stamp secret. */
export const SIGNING_SECRET_VERSION = 2;

/** Bytes of the stamp secret. */
const STAMP_SECRET_BYTES = 32;

/** The JSON stored in `SEALPOST_SIGNING_SECRET_ARN` (version 2). */
export interface SigningSecretJson {
  version: typeof SIGNING_SECRET_VERSION;
  keyId: number;
  serverSeed: string;
  serverCertificate: string;
  trustRoot: string;
  /** Key id of the moderator certificate (u32). */
  moderatorKeyId: number;
  /** base64url 32-byte ristretto255 scalar (little-endian, canonical). */
  moderatorSecret: string;
  /** base64url 109-byte ModeratorCertificate by the trust root. */
  moderatorCertificate: string;
  /** base64url 32 random bytes. */
  stampSecret: string;
}

type Json = Record<string, unknown>;

function readJson(text: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('signing secret is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error('signing secret is not a JSON object');
  }
  return json as Json;
}

function u32(json: Json, name: string): number {
  const value = json[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`signing secret ${name} must be a u32`);
  }
  return value;
}

function bytes(json: Json, name: string, size?: number): Uint8Array {
  const value = json[name];
  let out: Uint8Array;
  try {
    out = fromBase64Url(typeof value === 'string' ? value : '', name);
  } catch {
    throw new Error(`signing secret ${name} is not base64url`);
  }
  if (size !== undefined && out.length !== size) {
    throw new Error(`signing secret ${name} must be ${size} bytes`);
  }
  return out;
}

/** The server key fields every version has, checked against each other. */
function serverFields(json: Json) {
  const keyId = u32(json, 'keyId');
  const serverSeed = bytes(json, 'serverSeed', 32);
  const serverCertificate = bytes(json, 'serverCertificate');
  const trustRoot = bytes(json, 'trustRoot', 32);
  let cert: ReturnType<typeof decodeServerCertificate>;
  try {
    cert = decodeServerCertificate(serverCertificate);
  } catch {
    throw new Error('signing secret serverCertificate is not a server certificate');
  }
  if (cert.keyId !== keyId || !constantTimeEqual(cert.serverPublic, ed25519PublicKey(serverSeed))) {
    throw new Error('signing secret serverCertificate does not certify serverSeed/keyId');
  }
  return { keyId, serverSeed, serverCertificate, trustRoot, notAfter: cert.notAfter };
}

/** The moderator public key of a secret scalar, or an error naming the field. */
function moderatorPublicOf(secret: Uint8Array): Uint8Array {
  try {
    return frankingPublicKey(secret);
  } catch {
    throw new Error('signing secret moderatorSecret is not a ristretto255 scalar');
  }
}

/**
 * Parses and checks the secret: the server certificate must decode, carry `keyId`, and certify
 * the public key of `serverSeed`; the moderator certificate must decode, carry
 * `moderatorKeyId`, certify the public key of `moderatorSecret` and be signed by `trustRoot`;
 * so a mismatched secret fails at cold start, not in clients or in reports.
 *
 * @example parseSigningSecret(secretString)
 * @throws {Error} with a message that names the bad field (never its value); version 1 is
 *   refused (it has no moderator key: write version 2, docs/DEPLOY.md).
 */
export function parseSigningSecret(text: string): SigningMaterial {
  const json = readJson(text);
  if (json['version'] !== SIGNING_SECRET_VERSION) {
    throw new Error(`signing secret version must be ${SIGNING_SECRET_VERSION}`);
  }
  const { notAfter: _notAfter, ...server } = serverFields(json);
  const moderatorKeyId = u32(json, 'moderatorKeyId');
  const moderatorSecret = bytes(json, 'moderatorSecret', 32);
  const moderatorCertificate = bytes(json, 'moderatorCertificate');
  const stampSecret = bytes(json, 'stampSecret', STAMP_SECRET_BYTES);
  const moderatorPublic = moderatorPublicOf(moderatorSecret);
  let cert: ReturnType<typeof decodeModeratorCertificate>;
  try {
    cert = decodeModeratorCertificate(moderatorCertificate);
  } catch {
    throw new Error('signing secret moderatorCertificate is not a moderator certificate');
  }
  if (cert.keyId !== moderatorKeyId || !constantTimeEqual(cert.moderatorPublic, moderatorPublic)) {
    throw new Error(
      'signing secret moderatorCertificate does not certify moderatorSecret/moderatorKeyId',
    );
  }
  if (!ed25519Verify(server.trustRoot, moderatorCertificatePayload(cert), cert.signature)) {
    throw new Error('signing secret moderatorCertificate is not signed by trustRoot');
  }
  return {
    ...server,
    moderatorKeyId,
    moderatorSecret,
    moderatorPublic,
    moderatorCertificate,
    stampSecret,
  };
}

/** A moderator key and its certificate by the root, valid until `notAfter`. */
function moderatorMaterial(
  rootSeed: Uint8Array,
  keyId: number,
  notAfter: number,
  secret?: Uint8Array,
): { moderatorSecret: Uint8Array; moderatorPublic: Uint8Array; moderatorCertificate: Uint8Array } {
  const moderatorSecret = secret ?? generateFrankingKeyPair(randomBytes).secretKey;
  const moderatorPublic = moderatorPublicOf(moderatorSecret);
  const fields = { keyId, moderatorPublic, notAfter };
  const signature = ed25519Sign(rootSeed, moderatorCertificatePayload(fields));
  return {
    moderatorSecret,
    moderatorPublic,
    moderatorCertificate: encodeModeratorCertificate({ ...fields, signature }),
  };
}

/**
 * Generates a trust root, a server key and a moderator key certified by it (both until
 * `notAfter`), and a stamp secret (local development and tests). Returns the root seed too:
 * whoever runs this is the trust root.
 *
 * @example const { material, rootSeed } = generateSigningMaterial({ keyId: 1, notAfter: Date.now() + 365 * 864e5 })
 * @throws {RangeError} if a given seed or secret has the wrong size or is not a scalar.
 */
export function generateSigningMaterial(options: {
  keyId: number;
  notAfter: number;
  rootSeed?: Uint8Array;
  serverSeed?: Uint8Array;
  /** @default keyId */
  moderatorKeyId?: number;
  moderatorSecret?: Uint8Array;
  stampSecret?: Uint8Array;
}): { material: SigningMaterial; rootSeed: Uint8Array } {
  const rootSeed = options.rootSeed ?? randomBytes(32);
  const serverSeed = options.serverSeed ?? randomBytes(32);
  const stampSecret = options.stampSecret ?? randomBytes(STAMP_SECRET_BYTES);
  if (stampSecret.length !== STAMP_SECRET_BYTES) {
    throw new RangeError(`stampSecret must be ${STAMP_SECRET_BYTES} bytes`);
  }
  const fields = {
    keyId: options.keyId,
    serverPublic: ed25519PublicKey(serverSeed),
    notAfter: options.notAfter,
  };
  const signature = ed25519Sign(rootSeed, serverCertificatePayload(fields));
  const serverCertificate = encodeServerCertificate({ ...fields, signature });
  const moderatorKeyId = options.moderatorKeyId ?? options.keyId;
  return {
    material: {
      keyId: options.keyId,
      serverSeed,
      serverCertificate,
      trustRoot: ed25519PublicKey(rootSeed),
      moderatorKeyId,
      // The moderator certificate lives as long as the server certificate (docs/DEPLOY.md).
      ...moderatorMaterial(rootSeed, moderatorKeyId, options.notAfter, options.moderatorSecret),
      stampSecret,
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
    version: SIGNING_SECRET_VERSION,
    keyId: m.keyId,
    serverSeed: toBase64Url(m.serverSeed),
    serverCertificate: toBase64Url(m.serverCertificate),
    trustRoot: toBase64Url(m.trustRoot),
    moderatorKeyId: m.moderatorKeyId,
    moderatorSecret: toBase64Url(m.moderatorSecret),
    moderatorCertificate: toBase64Url(m.moderatorCertificate),
    stampSecret: toBase64Url(m.stampSecret),
  };
}

/**
 * Upgrades a version-1 secret to version 2 with the trust root's seed: keeps the server key,
 * adds a fresh moderator key (key id = the server key id, certified by the root until the
 * server certificate's `notAfter`) and a fresh stamp secret. Other members of the JSON (the
 * local server keeps `trustRootSeed` there) are kept.
 *
 * @example const upgraded = upgradeSigningSecret(await readFile(file, 'utf8'), rootSeed);
 * @throws {Error} if the text is not a valid version-1 secret or `rootSeed` is not the seed of
 *   its `trustRoot` (messages name the field, never a value).
 */
export function upgradeSigningSecret(
  text: string,
  rootSeed: Uint8Array,
): SigningSecretJson & Record<string, unknown> {
  const json = readJson(text);
  if (json['version'] !== 1) throw new Error('signing secret to upgrade must be version 1');
  const server = serverFields(json);
  if (rootSeed.length !== 32 || !constantTimeEqual(ed25519PublicKey(rootSeed), server.trustRoot)) {
    throw new Error('signing secret trustRoot is not the public key of the given root seed');
  }
  const moderator = moderatorMaterial(rootSeed, server.keyId, server.notAfter);
  return {
    ...json,
    ...signingSecretJson({
      ...server,
      moderatorKeyId: server.keyId,
      ...moderator,
      stampSecret: randomBytes(STAMP_SECRET_BYTES),
    }),
  };
}

/** A provider over material already in memory. */
export class StaticSigningKeyProvider implements SigningKeyProvider {
  constructor(private readonly material: SigningMaterial) {}
  async get(): Promise<SigningMaterial> {
    return this.material;
  }
}
