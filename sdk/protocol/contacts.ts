/**
 * Contact device pins and device-list changes (docs/PROTOCOL.md §9.6). A contact device's
 * identity is pinned per `(address, deviceId)`. Addresses are hashes of account keys, so the
 * account key of a verified address cannot change; what changes is the device list: a device
 * id appears, or its identity is replaced by a newer link signed by the same account key. Those
 * are announced as {@link DeviceChange}, not as identity changes.
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { IdentityChangedError, StaleDeviceLinkError, UntrustedIdentityError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { assertBytes, constantTimeEqual } from '../util/bytes.ts';
import {
  decodeIdentityBundle,
  encodeIdentityBundle,
  type IdentityBundle,
} from '../wire/identity.ts';
import type { DeviceChange, EngineContext } from './engine-types.ts';
import { address as addressOf, verifyIdentityBundle } from './identity.ts';
import type { PeerAddress } from './ratchet-session.ts';
import { pinRecords } from './records.ts';
import { retryOnConflict, sessionKey } from './session-lock.ts';

export type { DeviceChange } from './engine-types.ts';
export { StaleDeviceLinkError };

/** Store key of a contact device's pin (`contact` namespace), as for its session record. */
export const pinKey = pinRecords.key;

/**
 * Judges `identity` (already verified for `peer.address`) against `pin`, the device's pinned
 * identity, and returns the ops that pin it (conditional on the pin as read) and the change to
 * announce, if any.
 *
 * @throws {IdentityChangedError} if the account key differs from the pinned one.
 * @throws {StaleDeviceLinkError} if the identity differs but its link epoch is not newer.
 */
export async function judgeIdentity(
  store: StateStore,
  peer: PeerAddress,
  identity: Uint8Array,
  pin: Uint8Array | undefined,
): Promise<{ ops: StoreOp[]; change?: DeviceChange }> {
  if (pin !== undefined && constantTimeEqual(pin, identity)) return { ops: [] };
  const next = decodeIdentityBundle(identity);
  const ops: StoreOp[] = [pinRecords.put(pinKey(peer), identity.slice(), pin ?? null)];
  let kind: DeviceChange['kind'];
  if (pin === undefined) {
    // First contact with an account is no change; a new id of a known account is.
    const prefix = `${peer.address}.`;
    const known = (await store.keys('contact')).some((k) => k.startsWith(prefix));
    if (!known) return { ops };
    kind = 'added';
  } else {
    const old = decodeIdentityBundle(pin);
    if (!constantTimeEqual(old.accountPublic, next.accountPublic)) {
      throw new IdentityChangedError(peer.address, peer.deviceId, next);
    }
    if (next.linkEpoch <= old.linkEpoch)
      throw new StaleDeviceLinkError(peer.address, peer.deviceId);
    kind = 'replaced';
  }
  const verified = await pinRecords.getVerified(store, peer.address);
  const verifiedContact = verified !== undefined && constantTimeEqual(verified, next.accountPublic);
  return { ops, change: { kind, peer, identity: next, verifiedContact } };
}

/**
 * Pins `identity` for `peer` after the user confirmed it, and in the same commit deletes every
 * session state of that device bound to another identity (docs/PROTOCOL.md §9.6).
 *
 * @throws as `ProtocolEngine.confirmIdentity`.
 * @example await confirmPin(context, peer, identity);
 */
export async function confirmPin(
  { backend, cipher, pins, remoteDh }: EngineContext,
  peer: PeerAddress,
  identity: IdentityBundle,
): Promise<void> {
  await verifyIdentityBundle(backend, identity, peer.address);
  if (identity.deviceId !== peer.deviceId) {
    throw new UntrustedIdentityError(peer.address, 'identity is linked as another device');
  }
  const value = encodeIdentityBundle(identity);
  await cipher.exclusive(peer, () =>
    retryOnConflict(async () => {
      const drop = await cipher.retainIdentityOps(peer, value);
      await pins.commit([pinRecords.put(pinKey(peer), value), ...drop]);
    }),
  );
  remoteDh.delete(sessionKey(peer));
}

/**
 * The op that marks (or, with `verified: false`, unmarks) `address`'s safety number as
 * verified; the mark names the account key, which an address cannot change (§9.6).
 *
 * @throws {UntrustedIdentityError} if `accountPublic` does not hash to `address`.
 * @example await store.commit([markVerifiedOp(backend, bob, bobAccountPublic, true)]);
 */
export function markVerifiedOp(
  backend: CryptoBackend,
  address: string,
  accountPublic: Uint8Array,
  verified: boolean,
): StoreOp {
  assertBytes(accountPublic, 'accountPublic', 32);
  if (addressOf(backend, accountPublic) !== address) throw new UntrustedIdentityError(address);
  return pinRecords.putVerified(address, verified ? accountPublic.slice() : null);
}
