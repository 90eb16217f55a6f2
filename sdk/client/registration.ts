/**
 * Registering an account or linking a device (docs/SERVICE.md §3.2, §4): a proof
 * of possession of the account key over the device's IdentityBundle, the signed prekey and the
 * last-resort KEM prekey. One-time prekeys follow in a separate upload (prekey-maintenance.ts).
 *
 * Before anything is created, the service's server certificate must chain to the pinned trust
 * root (docs/SDK.md §Registration): a client pinned to another root could never use the account
 * (every sender certificate would fail), so nothing is registered for it.
 *
 * The delivery access key is derived from the account seed (docs/SDK.md §Access keys):
 * `HKDF-SHA-256(ikm = accountSeed, salt = 0x00*32, info = "Sealpost-AccessKey-v1", L = 16)`,
 * so every device that was given the account key at linking time derives the same key.
 */

import type { CryptoBackend } from '../crypto/backend.ts';
import { InvalidCertificateError } from '../errors.ts';
import type { TrustConfig } from '../protocol/certificates.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import type { AccountKey } from '../protocol/identity.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { constantTimeEqual, utf8 } from '../util/bytes.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import { ACCESS_KEY_BYTES } from '../wire/api/limits.ts';
import type { DeviceCapability, FirstContactMode } from '../wire/api/schemas.ts';
import { registrationPayload } from '../wire/api/signing.ts';
import {
  decodeServerCertificate,
  type ServerCertificate,
  serverCertificatePayload,
} from '../wire/certificates.ts';
import { encodeIdentityBundle } from '../wire/identity.ts';
import { LABELS } from '../wire/labels.ts';
import type { CallOptions } from './call-options.ts';
import type { ClientState, Registration } from './client-state.ts';
import { registrationIdOf } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import { kemPrekeyJson, signedPrekeyJson } from './json.ts';

/** KDF info of the delivery access key. */
export const ACCESS_KEY_INFO = LABELS.ACCESS_KEY;

/**
 * The account's delivery access key.
 *
 * @example deriveAccessKey(backend, account.seed) // 16 bytes
 */
export function deriveAccessKey(backend: CryptoBackend, accountSeed: Uint8Array): Uint8Array {
  return backend.hkdfSha256(accountSeed, new Uint8Array(32), ACCESS_KEY_INFO, ACCESS_KEY_BYTES);
}

/**
 * What this client can receive beyond the base protocol, announced for its device at
 * registration, at linking and with every prekey upload (docs/SERVICE.md §4.2): senders use a
 * capability only when every target device announced it. `sharedPayload`: multi-recipient
 * messages (docs/PROTOCOL.md §14.10).
 */
export const CLIENT_CAPABILITIES: readonly DeviceCapability[] = ['sharedPayload'];

/** Store record (`meta`) of the capabilities the service last accepted for this device. */
const CAPABILITIES_KEY = 'capabilities';
const CAPABILITIES_VERSION = 1;

/** `u8 1 || names joined by ','` (UTF-8): the record of {@link CLIENT_CAPABILITIES}. */
function capabilitiesRecord(): Uint8Array {
  const names = utf8(CLIENT_CAPABILITIES.join(','));
  const value = new Uint8Array(1 + names.length);
  value[0] = CAPABILITIES_VERSION;
  value.set(names, 1);
  return value;
}

/**
 * The op that records {@link CLIENT_CAPABILITIES} as announced, committed once the service
 * accepted a request that carried them.
 *
 * @example await store.commit([capabilitiesAnnouncedOp()]);
 */
export function capabilitiesAnnouncedOp(): StoreOp {
  return { ns: 'meta', key: CAPABILITIES_KEY, value: capabilitiesRecord() };
}

/**
 * Whether the service was told this client's {@link CLIENT_CAPABILITIES}: false for a device
 * registered by an older client (or before a newer capability), whose next prekey maintenance
 * then announces them.
 *
 * @example if (!(await capabilitiesAnnounced(store))) await announce();
 */
export async function capabilitiesAnnounced(store: StateStore): Promise<boolean> {
  const bytes = await store.get('meta', CAPABILITIES_KEY);
  return bytes !== undefined && constantTimeEqual(bytes, capabilitiesRecord());
}

/** The service's validated server certificate and the moderator certificates it lists. */
export type TrustedServer = ServerCertificate & {
  /** As listed (the engine validates each against the trust root before using it). */
  readonly moderatorCertificates: readonly Uint8Array[];
};

/**
 * Checks that the service's server certificate chains to the pinned trust root, is not revoked
 * and has not expired: the check every sender certificate of the account will need
 * (docs/PROTOCOL.md §6.2). Run before registering or linking, so a client pinned to the wrong
 * root (or to a configuration that revokes the service's key) leaves nothing on the server.
 * Also returns the moderator certificates the service lists (docs/SDK.md §Reporting).
 *
 * @throws {InvalidCertificateError} if the service presents another root, or a certificate that
 *   is malformed, not signed by the pinned root, revoked or expired.
 * @throws {ApiError | NetworkError} if the certificate cannot be fetched.
 * @example await verifyServerTrust({ http, backend, trust, now: Date.now() });
 */
export async function verifyServerTrust(
  ctx: {
    readonly http: SealpostHttpClient;
    readonly backend: CryptoBackend;
    readonly trust: TrustConfig;
    readonly now: number;
  },
  call?: CallOptions,
): Promise<TrustedServer> {
  const res = await ctx.http.serverCertificate(call);
  const { trust } = ctx;
  if (!constantTimeEqual(fromBase64Url(res.trustRoot, 'trustRoot'), trust.trustRoot)) {
    throw new InvalidCertificateError('the service names a trust root other than the pinned one');
  }
  let cert: ServerCertificate;
  try {
    cert = decodeServerCertificate(fromBase64Url(res.serverCertificate, 'serverCertificate'));
  } catch (cause) {
    throw new InvalidCertificateError('server certificate is malformed', { cause });
  }
  if (cert.keyId !== res.keyId) {
    throw new InvalidCertificateError('server certificate names another key id');
  }
  if (trust.revokedServerKeyIds.includes(cert.keyId)) {
    throw new InvalidCertificateError('server key is revoked');
  }
  if (ctx.now > cert.notAfter) throw new InvalidCertificateError('server certificate expired');
  const signed = await ctx.backend.ed25519Verify(
    trust.trustRoot,
    serverCertificatePayload(cert),
    cert.signature,
  );
  if (!signed) {
    throw new InvalidCertificateError('server certificate is not signed by the trust root');
  }
  const moderatorCertificates = res.moderatorCertificates.map((c) =>
    fromBase64Url(c, 'moderatorCertificate'),
  );
  return { ...cert, moderatorCertificates };
}

/**
 * Registers (without `account`: a new account, device 1) or links (with the account key of an
 * existing account) the engine's device, announcing {@link CLIENT_CAPABILITIES}, and stores the
 * registration.
 *
 * @throws {ApiError | NetworkError} if the service refuses or cannot be reached.
 * @throws {TypeError} if registering a new account on an engine without the account seed.
 */
export async function registerDevice(ctx: {
  engine: ProtocolEngine;
  http: SealpostHttpClient;
  state: ClientState;
  backend: CryptoBackend;
  now: () => number;
  account: AccountKey | undefined;
  unrestricted: boolean;
  /** Who may start a conversation (docs/SDK.md §Message requests); the service's default when absent. */
  firstContact?: FirstContactMode | undefined;
  call?: CallOptions | undefined;
}): Promise<Registration> {
  const { engine, http, backend } = ctx;
  const seed = ctx.account?.seed ?? engine.accountSeed;
  if (!seed) throw new ArgumentTypeError('registering needs the account seed');
  const upload = await engine.generatePrekeys({ rotateSignedPrekey: true, rotateLastResort: true });
  if (!upload.signedPrekey || !upload.lastResortKemPrekey) {
    throw new ArgumentTypeError('the engine did not produce a signed and a last-resort prekey');
  }
  const accessKey = deriveAccessKey(backend, seed);
  const prekeys = {
    signedPrekey: signedPrekeyJson(upload.signedPrekey),
    lastResortKemPrekey: kemPrekeyJson(upload.lastResortKemPrekey),
  };
  // Proofs are built per attempt: the HTTP client signs them at its server-corrected time.
  const proven = async (timestamp: number) => {
    const identity = encodeIdentityBundle(engine.identity);
    const proof = await backend.ed25519Sign(
      seed,
      registrationPayload(engine.address, identity, timestamp, http.trustRoot),
    );
    return {
      identity: toBase64Url(identity),
      timestamp,
      proof: toBase64Url(proof),
      ...prekeys,
      // docs/PROTOCOL.md §11.1: what senders frank for this device (derived from its DH key).
      frankingKey: toBase64Url(engine.frankingPublicKey),
      capabilities: [...CLIENT_CAPABILITIES],
    };
  };
  const res = ctx.account
    ? await http.addDevice(
        engine.address,
        async (timestamp, deviceId) => {
          // docs/PROTOCOL.md §1.3: the link signature names the id the service is asked for.
          await engine.relink({ deviceId }, seed);
          return { deviceId, ...(await proven(timestamp)) };
        },
        {},
        ctx.call,
      )
    : await http.registerAccount(
        engine.address,
        async (timestamp) => ({
          ...(await proven(timestamp)),
          accessKey: toBase64Url(accessKey),
          ...(ctx.unrestricted ? { unrestricted: true } : {}),
          ...(ctx.firstContact ? { firstContact: ctx.firstContact } : {}),
        }),
        ctx.call,
      );
  const registration = { address: engine.address, deviceId: res.deviceId, accessKey };
  // The account's own device list starts with this device, so sends can skip self at once.
  await ctx.state.store.commit([
    ctx.state.registrationOp(registration),
    capabilitiesAnnouncedOp(),
    ctx.state.devicesOp(engine.address, [
      { deviceId: res.deviceId, registrationId: registrationIdOf(backend, engine.identity) },
    ]),
  ]);
  return registration;
}
