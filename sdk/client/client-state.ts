/**
 * The client's own records in the state store (docs/SDK.md §State), next to the engine's
 * identity, prekeys, sessions and pinned contacts. Every record starts with a version byte.
 *
 * | namespace | key | value |
 * |---|---|---|
 * | meta | `client` | `u8 1 || addressBytes(20) || u32 deviceId || accessKey(16)` |
 * | meta | `sender-certificate` | `u8 1 || u64 expiresMs || var16(certificate)` |
 * | meta | `devices:<address>` | `u8 2 || u8 n || n × (u32 deviceId || u32 registrationId || u8 flags)` (flags bit 0: `sharedPayload`; version 1 without `flags` still loads) |
 * | meta | `access-key:<address>` | `u8 1 || accessKey(16)` |
 * | meta | `removed:<address>` | `u8 1 || u8 n || n × (u32 deviceId || u32 registrationId)` |
 * | meta | `outbox:<base64url(requestId)>` | see `outbox.ts` |
 * | meta | `blocked:<address>` | `u8 1` (the local block list, docs/SDK.md "Blocking and access keys") |
 * | meta | `key-rotation`, `key-update:<address>` | see `key-rotation.ts` |
 * | meta | `accepted:<address>` | `u8 1` (a contact: not a message request, docs/SDK.md §Message requests) |
 * | meta | `requests` | `u8 1` (the accepted set was seeded from older state, see {@link ClientState.seedAccepted}) |
 * | seen | base64url(messageId) | `u8 1 || u64 forgetAfterMs` |
 */
import { StateCorruptError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ByteReader, ByteWriter } from '../util/bytes.ts';
import { ACCESS_KEY_BYTES, MAX_DEVICES } from '../wire/api/limits.ts';
import { knownCapabilities, MAX_BLOCKED_ACCOUNTS } from '../wire/api/schemas.ts';
import { MAX_SENDER_CERTIFICATE_BYTES } from '../wire/certificates.ts';
import { ADDRESS_BYTES, addressFromBytes, addressToBytes, isAddress } from '../wire/identity.ts';

const VERSION = 1;
/** Version of the device list record: version 1 had no flags byte. */
const DEVICES_VERSION = 2;
/** Device flag: the device announced the `sharedPayload` capability. */
const FLAG_SHARED_PAYLOAD = 0x01;
const CLIENT_KEY = 'client';
const CERT_KEY = 'sender-certificate';
const devicesKey = (address: string) => `devices:${address}`;
const accessKeyKey = (address: string) => `access-key:${address}`;
const removedKey = (address: string) => `removed:${address}`;
const BLOCKED_PREFIX = 'blocked:';
const blockedKey = (address: string) => `${BLOCKED_PREFIX}${address}`;
const ACCEPTED_PREFIX = 'accepted:';
const acceptedKey = (address: string) => `${ACCEPTED_PREFIX}${address}`;
const REQUESTS_KEY = 'requests';
/** Keys naming an address the client has a session with or received its access key from. */
const CONTACT_PREFIXES = ['devices:', 'access-key:'] as const;

/** Accounts the local block list holds at most (the service's limit). */
export const MAX_BLOCKED_CONTACTS = MAX_BLOCKED_ACCOUNTS;

/**
 * Contacts a key rotation delivers the new key to at most (docs/SDK.md, "Blocking and access
 * keys"): those beyond learn it from the next message they get.
 */
export const MAX_KEY_UPDATE_CONTACTS = 10_000;

/**
 * Removed devices remembered per account: the newest ones are kept, enough for every id being
 * replaced twice (an older removed generation also fails the service's device-list check).
 */
export const MAX_REMEMBERED_REMOVED = 2 * MAX_DEVICES;

/** This device's registration. */
export interface Registration {
  readonly address: string;
  readonly deviceId: number;
  /** The account's delivery access key (secret; shared with contacts inside messages). */
  readonly accessKey: Uint8Array;
}

/** A device of a contact the client encrypts for. */
export interface KnownDevice {
  readonly deviceId: number;
  /** u32 from SHA-256 of the device's IdentityBundle (the service's registration id). */
  readonly registrationId: number;
  /**
   * The device announced the `sharedPayload` capability (in its bundle or the service's device
   * list): it opens multi-recipient messages (docs/PROTOCOL.md §14). Absent when it did not, or
   * when the client learned of the device before capabilities existed.
   */
  readonly sharedPayload?: boolean;
}

/**
 * Whether a device listed with `capabilities` (a bundle or a device list entry) takes shared
 * payloads (docs/PROTOCOL.md §14.10).
 *
 * @example sharesPayload({ capabilities: ['sharedPayload'] }) // true
 */
export function sharesPayload(listed: { readonly capabilities?: readonly string[] }): boolean {
  return knownCapabilities(listed.capabilities).includes('sharedPayload');
}

/**
 * A {@link KnownDevice} from the ids of a device and the bundle or device list entry that
 * lists it (`sharedPayload` set when that entry announces it).
 *
 * @example knownDevice(2, registrationIdOf(backend, bundle.identity), json)
 */
export function knownDevice(
  deviceId: number,
  registrationId: number,
  listed: { readonly capabilities?: readonly string[] },
): KnownDevice {
  return sharesPayload(listed)
    ? { deviceId, registrationId, sharedPayload: true }
    : { deviceId, registrationId };
}

/** In-memory counters of one client for debugging (never persisted, never an address). */
export interface ClientCounters {
  /** Messages from blocked senders dropped before the app saw them. */
  blockedDropped: number;
}

/**
 * Replaces the access key of the in-memory registration every part of the client shares, after
 * the new key was committed to the store.
 *
 * @example adoptAccessKey(self, newKey);
 */
export function adoptAccessKey(reg: Registration, key: Uint8Array): void {
  (reg as { accessKey: Uint8Array }).accessKey = key.slice();
}

/** A cached sender certificate. */
export interface CachedCertificate {
  readonly certificate: Uint8Array;
  readonly expires: number;
}

const reader = (bytes: Uint8Array, what: string) =>
  new ByteReader(bytes, what, (m) => new StateCorruptError(m));

function checkVersion(r: ByteReader, what: string): void {
  if (r.u8() !== VERSION) throw new StateCorruptError(`${what} record version`);
}

/**
 * The entries of a device list after its version byte: `u8 n || n × (u32 deviceId ||
 * u32 registrationId [|| u8 flags])`. Unknown flag bits are refused (a newer record format).
 */
function readDevices(r: ByteReader, flags: boolean): KnownDevice[] {
  const n = r.u8();
  if (n > 2 * MAX_DEVICES) throw new StateCorruptError('device list is too long');
  const out: KnownDevice[] = [];
  for (let i = 0; i < n; i++) {
    const deviceId = r.u32();
    const registrationId = r.u32();
    const bits = flags ? r.u8() : 0;
    if ((bits & ~FLAG_SHARED_PAYLOAD) !== 0) throw new StateCorruptError('unknown device flags');
    out.push(
      bits & FLAG_SHARED_PAYLOAD
        ? { deviceId, registrationId, sharedPayload: true }
        : { deviceId, registrationId },
    );
  }
  r.end();
  return out;
}

/** Typed access to the client's records; writes are returned as ops for atomic commits. */
export class ClientState {
  /** Debug counters of the client this state belongs to. */
  readonly counters: ClientCounters = { blockedDropped: 0 };

  constructor(readonly store: StateStore) {}

  /** The registration, if this store holds a registered device. */
  async registration(): Promise<Registration | undefined> {
    const bytes = await this.store.get('meta', CLIENT_KEY);
    if (!bytes) return undefined;
    const r = reader(bytes, 'client');
    checkVersion(r, 'client');
    const reg = {
      address: addressFromBytes(r.bytes(ADDRESS_BYTES)),
      deviceId: r.u32(),
      accessKey: r.bytes(ACCESS_KEY_BYTES),
    };
    r.end();
    return reg;
  }

  /** The op that stores `reg`. */
  registrationOp(reg: Registration): StoreOp {
    const value = new ByteWriter(1 + ADDRESS_BYTES + 4 + ACCESS_KEY_BYTES)
      .u8(VERSION)
      .bytes(addressToBytes(reg.address))
      .u32(reg.deviceId)
      .bytes(reg.accessKey)
      .finish();
    return { ns: 'meta', key: CLIENT_KEY, value };
  }

  /** The cached sender certificate, if any. */
  async certificate(): Promise<CachedCertificate | undefined> {
    const bytes = await this.store.get('meta', CERT_KEY);
    if (!bytes) return undefined;
    const r = reader(bytes, 'sender certificate');
    checkVersion(r, 'sender certificate');
    const expires = r.u64();
    const certificate = r.var16(MAX_SENDER_CERTIFICATE_BYTES);
    r.end();
    return { certificate, expires };
  }

  /** Stores a sender certificate. */
  async saveCertificate(c: CachedCertificate): Promise<void> {
    const value = new ByteWriter(11 + c.certificate.length)
      .u8(VERSION)
      .u64(c.expires)
      .var16(c.certificate)
      .finish();
    await this.store.commit([{ ns: 'meta', key: CERT_KEY, value }]);
  }

  /** The devices of `address` the client last knew (empty if none). */
  async devices(address: string): Promise<KnownDevice[]> {
    const bytes = await this.store.get('meta', devicesKey(address));
    if (!bytes) return [];
    const r = reader(bytes, 'device list');
    const version = r.u8();
    if (version === VERSION) return readDevices(r, false);
    if (version !== DEVICES_VERSION) throw new StateCorruptError('device list record version');
    return readDevices(r, true);
  }

  /**
   * Devices of `address` the client learned were removed (from a 409 `extra`, a 410, or the
   * service's device list), oldest first.
   */
  removedDevices(address: string): Promise<KnownDevice[]> {
    return this.deviceList(removedKey(address));
  }

  /**
   * The op that adds `removed` to the removed devices of `address`, keeping the newest
   * {@link MAX_REMEMBERED_REMOVED}; undefined when there is nothing new.
   */
  async removedOp(address: string, removed: readonly KnownDevice[]): Promise<StoreOp | undefined> {
    const current = await this.removedDevices(address);
    const fresh = removed.filter(
      (d) =>
        !current.some((c) => c.deviceId === d.deviceId && c.registrationId === d.registrationId),
    );
    if (fresh.length === 0) return undefined;
    const all = [...current, ...fresh].slice(-MAX_REMEMBERED_REMOVED);
    const w = new ByteWriter(2 + 8 * all.length).u8(VERSION).u8(all.length);
    for (const d of all) w.u32(d.deviceId).u32(d.registrationId);
    return { ns: 'meta', key: removedKey(address), value: w.finish() };
  }

  private async deviceList(key: string): Promise<KnownDevice[]> {
    const bytes = await this.store.get('meta', key);
    if (!bytes) return [];
    const r = reader(bytes, 'device list');
    checkVersion(r, 'device list');
    return readDevices(r, false);
  }

  /**
   * The op that stores the device list of `address` (sorted by id, one entry per id, the last
   * given entry of an id winning), with each device's `sharedPayload` flag.
   */
  devicesOp(address: string, devices: readonly KnownDevice[]): StoreOp {
    const byId = new Map(devices.map((d) => [d.deviceId, d]));
    const sorted = [...byId.values()].sort((a, b) => a.deviceId - b.deviceId);
    const w = new ByteWriter(2 + 9 * sorted.length).u8(DEVICES_VERSION).u8(sorted.length);
    for (const d of sorted) {
      w.u32(d.deviceId)
        .u32(d.registrationId)
        .u8(d.sharedPayload === true ? FLAG_SHARED_PAYLOAD : 0);
    }
    return { ns: 'meta', key: devicesKey(address), value: w.finish() };
  }

  /** The access key a contact shared with us, if any. */
  async accessKey(address: string): Promise<Uint8Array | undefined> {
    const bytes = await this.store.get('meta', accessKeyKey(address));
    if (!bytes) return undefined;
    const r = reader(bytes, 'access key');
    checkVersion(r, 'access key');
    const key = r.bytes(ACCESS_KEY_BYTES);
    r.end();
    return key;
  }

  /** The op that stores a contact's access key. */
  accessKeyOp(address: string, key: Uint8Array): StoreOp {
    const value = new ByteWriter(1 + ACCESS_KEY_BYTES).u8(VERSION).bytes(key).finish();
    return { ns: 'meta', key: accessKeyKey(address), value };
  }

  /** Whether `address` is on the local block list. */
  async isBlocked(address: string): Promise<boolean> {
    return (await this.store.get('meta', blockedKey(address))) !== undefined;
  }

  /** The local block list, in address order. */
  async blocked(): Promise<string[]> {
    return (await this.store.keys('meta'))
      .filter((k) => k.startsWith(BLOCKED_PREFIX))
      .map((k) => k.slice(BLOCKED_PREFIX.length))
      .sort();
  }

  /** The op that puts `address` on the local block list (`false`: takes it off). */
  blockOp(address: string, blocked = true): StoreOp {
    return {
      ns: 'meta',
      key: blockedKey(address),
      value: blocked ? Uint8Array.of(VERSION) : null,
    };
  }

  /**
   * Whether `address` is a contact (docs/SDK.md §Message requests): this account sent to it,
   * accepted its request, added its card, or another own device sent to it. The own account
   * always is.
   */
  async isAccepted(address: string): Promise<boolean> {
    if (address === (await this.registration())?.address) return true;
    return (await this.store.get('meta', acceptedKey(address))) !== undefined;
  }

  /** The op that makes `address` a contact (`false`: its messages are requests again). */
  acceptOp(address: string, accepted = true): StoreOp {
    return {
      ns: 'meta',
      key: acceptedKey(address),
      value: accepted ? Uint8Array.of(VERSION) : null,
    };
  }

  /** Every contact (accepted address), in address order. */
  async accepted(): Promise<string[]> {
    return (await this.store.keys('meta'))
      .filter((k) => k.startsWith(ACCEPTED_PREFIX))
      .map((k) => k.slice(ACCEPTED_PREFIX.length))
      .filter(isAddress)
      .sort();
  }

  /**
   * Once per store: state from before message requests has no contact records, and every
   * account it holds a device list or an access key of was a conversation already (the client
   * sent to it, received from it, or added its card), so each becomes a contact. A store
   * created with message requests is marked at once and seeds nothing later.
   */
  async seedAccepted(): Promise<void> {
    if ((await this.store.get('meta', REQUESTS_KEY)) !== undefined) return;
    const self = (await this.registration())?.address;
    const ops = (await this.contacts(Number.MAX_SAFE_INTEGER))
      .filter((a) => a !== self)
      .map((a) => this.acceptOp(a));
    await this.store.commit([
      ...ops,
      { ns: 'meta', key: REQUESTS_KEY, value: Uint8Array.of(VERSION) },
    ]);
  }

  /**
   * Every account the client has a device list of (it sent to it, or the service vouched for a
   * device that wrote to it) or an access key of (a message or a contact card), in address
   * order, at most `limit`. The own account is among them (its own device list).
   */
  async contacts(limit = MAX_KEY_UPDATE_CONTACTS): Promise<string[]> {
    const found = new Set<string>();
    for (const key of await this.store.keys('meta')) {
      const prefix = CONTACT_PREFIXES.find((p) => key.startsWith(p));
      if (prefix === undefined) continue;
      const address = key.slice(prefix.length);
      if (isAddress(address)) found.add(address);
    }
    return [...found].sort().slice(0, limit);
  }

  /** Whether a message id was already processed. */
  async seen(messageId: string): Promise<boolean> {
    return (await this.store.get('seen', messageId)) !== undefined;
  }

  /** The op that records a processed message id until `forgetAfter`. */
  seenOp(messageId: string, forgetAfter: number): StoreOp {
    return {
      ns: 'seen',
      key: messageId,
      value: new ByteWriter(9).u8(VERSION).u64(forgetAfter).finish(),
    };
  }

  /**
   * Deletes seen ids past their time: the server never delivers a message after its lifetime,
   * so a duplicate can no longer arrive.
   */
  async pruneSeen(now: number): Promise<number> {
    const ops: StoreOp[] = [];
    for (const key of await this.store.keys('seen')) {
      const bytes = await this.store.get('seen', key);
      if (!bytes) continue;
      const r = reader(bytes, 'seen id');
      checkVersion(r, 'seen id');
      if (r.u64() < now) ops.push({ ns: 'seen', key, value: null });
    }
    if (ops.length > 0) await this.store.commit(ops);
    return ops.length;
  }
}
