/**
 * A device with every kind of prekey, shared by the bundle and PQXDH tests: account and device
 * identity, signed prekey 1, one-time prekeys 100 and 101, one-time KEM prekey 200 and
 * last-resort KEM prekey 300 (PROTOCOL.md §3).
 */
import { defaultBackend, type Rng, systemRng } from '#sdk/crypto/index.ts';
import { verifyBundle } from '#sdk/protocol/bundle.ts';
import { address, generateAccountKey, generateDeviceIdentity } from '#sdk/protocol/identity.ts';
import {
  generateKemPrekeys,
  generateLastResortKemPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
  toKemPrekey,
  toOneTimePrekey,
  toSignedPrekey,
} from '#sdk/protocol/prekeys.ts';
import type { PrekeyBundle } from '#sdk/wire/prekeys.ts';

const backend = defaultBackend;
/** Creation time of every prekey made here. */
export const NOW = 1_700_000_000_000;

/** A device of its own account, drawing every private key from `rng`. */
export async function makeDevice(rng: Rng = systemRng) {
  const account = await generateAccountKey(backend, rng);
  const identity = await generateDeviceIdentity(backend, rng, account);
  const spk = await generateSignedPrekey(backend, rng, identity, 1, NOW);
  const opks = await generateOneTimePrekeys(backend, rng, 100, 2);
  const [kem] = await generateKemPrekeys(backend, rng, identity, 200, 1, NOW);
  const lastResort = await generateLastResortKemPrekey(backend, rng, identity, 300, NOW);
  const addr = address(backend, account.publicKey);
  /** The bundle as the service would serve it (device 1), not yet verified. */
  const unverifiedBundle = (withOpk: boolean, useLastResort = false): PrekeyBundle => ({
    address: addr,
    deviceId: 1,
    identity: identity.bundle,
    signedPrekey: toSignedPrekey(spk),
    ...(withOpk ? { oneTimePrekey: toOneTimePrekey(opks[0]!) } : {}),
    kemPrekey: toKemPrekey(useLastResort ? lastResort : kem!),
  });
  const bundle = (withOpk: boolean, useLastResort = false) =>
    verifyBundle(backend, unverifiedBundle(withOpk, useLastResort), addr);
  return { account, identity, spk, opks, kem: kem!, lastResort, addr, unverifiedBundle, bundle };
}
