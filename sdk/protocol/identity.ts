/**
 * Account keys, device identities and addresses (PROTOCOL.md §1, docs/PROTOCOL.md §1).
 *
 * An account is an Ed25519 key; its address is a hash of the public key, so anyone holding an
 * address can check a claimed identity without trusting the server. Each device has its own
 * Ed25519 signing key (signs prekeys) and X25519 DH identity key (IK in PQXDH), both bound to
 * the account by one account-key signature.
 */
import {
  type CryptoBackend,
  ED25519_SEED_BYTES,
  type Rng,
  X25519_KEY_BYTES,
} from '../crypto/backend.ts';
import {
  InvalidSignatureError,
  StateCorruptError,
  UnsupportedVersionError,
  UntrustedIdentityError,
} from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter, bytesKey, constantTimeEqual } from '../util/bytes.ts';
import {
  addressFromDigest,
  addressPreimage,
  decodeIdentityBundle,
  deviceLinkPayload,
  encodeIdentityBundle,
  IDENTITY_BUNDLE_BYTES,
  type IdentityBundle,
  isAddress,
} from '../wire/identity.ts';

/** Version byte of the local identity record (2: the bundle carries device id and epoch). */
export const LOCAL_IDENTITY_RECORD_VERSION = 2;
/** Key of the device's own identity record in the `identity` store namespace. */
export const LOCAL_IDENTITY_KEY = 'local';

const FLAG_ACCOUNT_SEED = 1;

/** An account key pair. The seed is the account's master secret: it links new devices. */
export interface AccountKey {
  /** Ed25519 seed (32, secret). */
  readonly seed: Uint8Array;
  /** Ed25519 public key (32). */
  readonly publicKey: Uint8Array;
}

/** This device's identity with its secrets (what `pqxdhInitiate`/`pqxdhRespond` sign and DH with). */
export interface LocalIdentity {
  /** The public identity published to the directory and sent in prekey messages. */
  readonly bundle: IdentityBundle;
  /** Ed25519 seed of the device signing key (32, secret). */
  readonly signingSeed: Uint8Array;
  /** X25519 private key of the device DH identity (32, secret). */
  readonly dhPrivate: Uint8Array;
  /** Account seed (32, secret), kept only on a device allowed to link further devices. */
  readonly accountSeed?: Uint8Array;
}

/**
 * Generates an account key from 32 random bytes.
 *
 * @example const account = await generateAccountKey(backend, systemRng);
 * @throws {ArgumentRangeError} if `rng` returns the wrong number of bytes.
 */
export async function generateAccountKey(backend: CryptoBackend, rng: Rng): Promise<AccountKey> {
  const seed = rng(ED25519_SEED_BYTES);
  assertBytes(seed, 'rng output', ED25519_SEED_BYTES);
  return { seed, publicKey: await backend.ed25519PublicKey(seed) };
}

/**
 * The self-certifying address of an account: base32(SHA-256(LABELS.ADDRESS || accountPublic)[0..20]).
 *
 * @example address(backend, account.publicKey) // 32 characters of a-z2-7
 * @throws {ArgumentTypeError | ArgumentRangeError} if `accountPublic` is not 32 bytes.
 */
export function address(backend: CryptoBackend, accountPublic: Uint8Array): string {
  return addressFromDigest(backend.sha256(addressPreimage(accountPublic)));
}

/** Where a device link is valid: one device id, signed at one epoch (docs/PROTOCOL.md §1.3). */
export interface DeviceLink {
  /** The device id (u32, non-zero) the identity is linked as. */
  readonly deviceId: number;
  /** Link time in ms since the epoch; a newer link of a device id replaces an older one. */
  readonly linkEpoch: number;
}

/**
 * The account key's signature linking a device's signing and DH keys to the account as one
 * device id at one epoch (docs/PROTOCOL.md §1.3). Used when creating a device identity, when the
 * server assigns its id, and when a primary device links another.
 *
 * @example const sig = await signDeviceLink(backend, account.seed, signingPublic, dhPublic, { deviceId: 1, linkEpoch: now() });
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong key sizes, a device id of 0 or a bad epoch.
 */
export async function signDeviceLink(
  backend: CryptoBackend,
  accountSeed: Uint8Array,
  signingPublic: Uint8Array,
  dhPublic: Uint8Array,
  link: DeviceLink,
): Promise<Uint8Array> {
  assertBytes(accountSeed, 'accountSeed', ED25519_SEED_BYTES);
  const payload = deviceLinkPayload(signingPublic, dhPublic, link.deviceId, link.linkEpoch);
  return backend.ed25519Sign(accountSeed, payload);
}

/**
 * This device's identity re-linked as `link` (same keys, new device id and epoch, new account
 * signature). Needs the account seed: the retained one, or the one passed in.
 *
 * @example const next = await relinkLocalIdentity(backend, local, account.seed, { deviceId: 2, linkEpoch: now() });
 * @throws {ArgumentRangeError} if `accountSeed` is not the seed of the identity's account key, or the
 *   id or epoch is out of range.
 */
export async function relinkLocalIdentity(
  backend: CryptoBackend,
  local: LocalIdentity,
  accountSeed: Uint8Array,
  link: DeviceLink,
): Promise<LocalIdentity> {
  assertBytes(accountSeed, 'accountSeed', ED25519_SEED_BYTES);
  const accountPublic = await backend.ed25519PublicKey(accountSeed);
  if (!constantTimeEqual(accountPublic, local.bundle.accountPublic)) {
    throw new ArgumentRangeError("accountSeed is not the seed of this identity's account key");
  }
  const { signingPublic, dhPublic } = local.bundle;
  const linkSignature = await signDeviceLink(backend, accountSeed, signingPublic, dhPublic, link);
  const bundle: IdentityBundle = {
    accountPublic,
    signingPublic,
    dhPublic,
    deviceId: link.deviceId,
    linkEpoch: link.linkEpoch,
    linkSignature,
  };
  return { ...local, bundle };
}

/**
 * Generates a device identity under `account`: a fresh Ed25519 signing key and X25519 DH key
 * (drawn from `rng` in that order, 32 bytes each) linked by the account signature as
 * `options.link` (default: device 1 at epoch 0; re-link with {@link relinkLocalIdentity} once
 * the server has assigned the id).
 *
 * @example const me = await generateDeviceIdentity(backend, systemRng, account, { retainAccountSeed: true });
 * @throws {ArgumentRangeError} if `account.publicKey` is not the public key of `account.seed`.
 */
export async function generateDeviceIdentity(
  backend: CryptoBackend,
  rng: Rng,
  account: AccountKey,
  options: { readonly retainAccountSeed?: boolean; readonly link?: DeviceLink } = {},
): Promise<LocalIdentity> {
  const link = options.link ?? { deviceId: 1, linkEpoch: 0 };
  assertBytes(account.seed, 'account.seed', ED25519_SEED_BYTES);
  const accountPublic = await backend.ed25519PublicKey(account.seed);
  if (!constantTimeEqual(accountPublic, account.publicKey)) {
    throw new ArgumentRangeError('account.publicKey does not match account.seed');
  }
  const signingSeed = rng(ED25519_SEED_BYTES);
  assertBytes(signingSeed, 'rng output', ED25519_SEED_BYTES);
  const dhPrivate = rng(X25519_KEY_BYTES);
  assertBytes(dhPrivate, 'rng output', X25519_KEY_BYTES);
  const signingPublic = await backend.ed25519PublicKey(signingSeed);
  const dhPublic = await backend.x25519PublicKey(dhPrivate);
  const linkSignature = await signDeviceLink(backend, account.seed, signingPublic, dhPublic, link);
  const bundle: IdentityBundle = {
    accountPublic,
    signingPublic,
    dhPublic,
    deviceId: link.deviceId,
    linkEpoch: link.linkEpoch,
    linkSignature,
  };
  return options.retainAccountSeed
    ? { bundle, signingSeed, dhPrivate, accountSeed: account.seed.slice() }
    : { bundle, signingSeed, dhPrivate };
}

/**
 * Identities whose link signature verified, per backend, keyed by all 172 bytes and mapped to
 * their address. A contact's identity comes back in every bundle fetched for it and in every
 * prekey message it sends; Ed25519 verification is deterministic, so a verdict for identical
 * bytes is exact. Bounded, least recently used dropped; only successes are kept.
 */
const VERIFIED_IDENTITY_CACHE_SIZE = 256;
const verifiedIdentities = new WeakMap<CryptoBackend, Map<string, string>>();

function verifiedCache(backend: CryptoBackend): Map<string, string> {
  let cache = verifiedIdentities.get(backend);
  if (cache === undefined) {
    cache = new Map();
    verifiedIdentities.set(backend, cache);
  }
  return cache;
}

/**
 * Verifies a device identity (PROTOCOL.md §1): when `expectedAddress` is given, the account key must
 * hash to it; the link signature must verify under the account key. Returns the identity's
 * address. The signature is checked the first time given bytes are seen (see above).
 *
 * @example await verifyIdentityBundle(backend, bundle, contactAddress);
 * @throws {UntrustedIdentityError} if the account key does not hash to `expectedAddress`.
 * @throws {InvalidSignatureError} if the link signature does not verify.
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong field sizes or a malformed `expectedAddress`.
 */
export async function verifyIdentityBundle(
  backend: CryptoBackend,
  bundle: IdentityBundle,
  expectedAddress?: string,
): Promise<string> {
  const key = bytesKey(encodeIdentityBundle(bundle));
  if (expectedAddress !== undefined && !isAddress(expectedAddress)) {
    throw new ArgumentTypeError('expectedAddress is not a valid address');
  }
  const cache = verifiedCache(backend);
  const cached = cache.get(key);
  const actual = cached ?? address(backend, bundle.accountPublic);
  if (expectedAddress !== undefined && actual !== expectedAddress) {
    throw new UntrustedIdentityError(expectedAddress);
  }
  if (cached !== undefined) {
    cache.delete(key);
    cache.set(key, cached);
    return actual;
  }
  const ok = await backend.ed25519Verify(
    bundle.accountPublic,
    deviceLinkPayload(bundle.signingPublic, bundle.dhPublic, bundle.deviceId, bundle.linkEpoch),
    bundle.linkSignature,
  );
  if (!ok) throw new InvalidSignatureError('device link signature does not verify');
  cache.set(key, actual);
  if (cache.size > VERIFIED_IDENTITY_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return actual;
}

/**
 * Encodes the local identity record. **It contains secrets** (signing seed, DH private key and,
 * if retained, the account seed): store it only in protected client storage. Layout:
 * `u8 version=2 || u8 flags (bit 0: account seed present) || identityBundle(172) ||
 * signingSeed(32) || dhPrivate(32) [|| accountSeed(32)]`.
 *
 * @example await store.commit([{ ns: 'identity', key: LOCAL_IDENTITY_KEY, value: encodeLocalIdentity(me) }]);
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong field sizes.
 */
export function encodeLocalIdentity(identity: LocalIdentity): Uint8Array {
  const bundle = encodeIdentityBundle(identity.bundle);
  assertBytes(identity.signingSeed, 'signingSeed', ED25519_SEED_BYTES);
  assertBytes(identity.dhPrivate, 'dhPrivate', X25519_KEY_BYTES);
  const hasSeed = identity.accountSeed !== undefined;
  if (hasSeed) assertBytes(identity.accountSeed, 'accountSeed', ED25519_SEED_BYTES);
  const w = new ByteWriter(2 + IDENTITY_BUNDLE_BYTES + 96)
    .u8(LOCAL_IDENTITY_RECORD_VERSION)
    .u8(hasSeed ? FLAG_ACCOUNT_SEED : 0)
    .bytes(bundle)
    .bytes(identity.signingSeed)
    .bytes(identity.dhPrivate);
  if (identity.accountSeed !== undefined) w.bytes(identity.accountSeed);
  return w.finish();
}

/**
 * Decodes a record written by {@link encodeLocalIdentity}.
 *
 * @example const me = decodeLocalIdentity(await store.get('identity', LOCAL_IDENTITY_KEY));
 * @throws {UnsupportedVersionError} on an unknown record version.
 * @throws {StateCorruptError} if the record is truncated, has trailing bytes or unknown flags.
 */
export function decodeLocalIdentity(record: Uint8Array): LocalIdentity {
  assertBytes(record, 'record');
  const r = new ByteReader(record, 'identity record', (m) => new StateCorruptError(m));
  const version = r.u8();
  if (version !== LOCAL_IDENTITY_RECORD_VERSION) {
    throw new UnsupportedVersionError(version, 'identity record');
  }
  const flags = r.u8();
  if ((flags & ~FLAG_ACCOUNT_SEED) !== 0) throw new StateCorruptError('identity record flags');
  const bundle = decodeIdentityBundle(r.bytes(IDENTITY_BUNDLE_BYTES));
  const signingSeed = r.bytes(ED25519_SEED_BYTES);
  const dhPrivate = r.bytes(X25519_KEY_BYTES);
  const accountSeed = flags & FLAG_ACCOUNT_SEED ? r.bytes(ED25519_SEED_BYTES) : undefined;
  r.end();
  return accountSeed === undefined
    ? { bundle, signingSeed, dhPrivate }
    : { bundle, signingSeed, dhPrivate, accountSeed };
}
