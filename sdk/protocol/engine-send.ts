/**
 * The engine's sending side (docs/PROTOCOL.md §4, §6, §9.6): starting a session from a verified
 * bundle, with its pin in the same commit, and sealing for the identity the session used.
 */
import { FrankingUnavailableError, NoSessionError } from '../errors.ts';
import { decodeIdentityBundle, encodeIdentityBundle } from '../wire/identity.ts';
import type { PrekeyBundle } from '../wire/prekeys.ts';
import { verifyBundle } from './bundle.ts';
import { judgeIdentity, pinKey } from './contacts.ts';
import type { EngineContext, StartedSession } from './engine-types.ts';
import { pqxdhInitiate } from './pqxdh.ts';
import { pinRecords } from './records.ts';
import { sealedSenderSeal } from './sealed-sender.ts';
import type { PeerAddress } from './session-cipher.ts';
import { sessionKey } from './session-lock.ts';

/** Where `dhPublic` lies in an encoded IdentityBundle (docs/PROTOCOL.md §1.3). */
const DH_PUBLIC_AT = 64;
const DH_PUBLIC_END = 96;

/**
 * Verifies `bundle` for `expectedAddress`, judges its identity against the pin and starts a
 * PQXDH session; the new pin and the session land in one commit.
 *
 * @throws as `ProtocolEngine.startSession`.
 * @example const started = await startSessionWith(context, bob, bundle);
 */
export async function startSessionWith(
  context: EngineContext,
  expectedAddress: string,
  bundle: PrekeyBundle,
): Promise<StartedSession> {
  const { backend, store } = context;
  const verified = await verifyBundle(backend, bundle, expectedAddress);
  const peer = { address: verified.address, deviceId: verified.deviceId };
  const identityBytes = encodeIdentityBundle(verified.identity);
  const pin = await pinRecords.get(store, pinKey(peer));
  const judged = await judgeIdentity(store, peer, identityBytes, pin);
  const frankingOps =
    bundle.frankingKey === undefined ? [] : [context.franking.peerKeyOp(peer, bundle.frankingKey)];
  const init = await pqxdhInitiate(backend, context.rng, {
    localIdentity: context.local(),
    bundle: verified,
  });
  // The new pin and the session (which drops the old identity's states) land together.
  await context.cipher.initOutgoing(
    peer,
    {
      sk: init.sharedSecret,
      ad: init.associatedData,
      remoteSpkPublic: init.remoteSignedPrekeyPublic,
      remoteIdentity: identityBytes,
      pendingPrekey: init.prekeyFields,
    },
    [...judged.ops, ...frankingOps],
  );
  context.remoteDh.set(sessionKey(peer), verified.identity.dhPublic);
  return judged.change ? { ...peer, deviceChange: judged.change } : peer;
}

/**
 * Encrypts for `peer` (only with a session bound to the pin), commits, and seals the message
 * to the identity that session is bound to. `franked` is what the franking commitment covers:
 * the plaintext itself, or for a shared-payload header the content its reference stands for
 * (docs/PROTOCOL.md §14.7).
 *
 * @throws as `ProtocolEngine.seal`.
 * @example const envelope = await sealFor(context, peer, plaintext, certificate);
 */
export async function sealFor(
  context: EngineContext,
  peer: PeerAddress,
  plaintext: Uint8Array,
  senderCertificate: Uint8Array,
  franked: Uint8Array = plaintext,
): Promise<Uint8Array> {
  const local = context.local();
  // Franked before encryption: a missing key fails here, with no ratchet step spent.
  const { commitment, franking } = await context.franking
    .frankFor(
      context.store,
      context.rng,
      { address: context.address, deviceId: local.bundle.deviceId },
      peer,
      franked,
      context.now(),
    )
    .catch(async (cause: unknown) => {
      // Without any session the documented answer is NoSessionError (start one: its bundle
      // brings the franking key too); checked only on this failure path.
      if (cause instanceof FrankingUnavailableError && !(await context.cipher.hasSession(peer))) {
        throw new NoSessionError();
      }
      throw cause;
    });
  const source = context.pins.source(pinKey(peer));
  const { type, body } = await context.cipher.encryptAndCommit(peer, plaintext, source);
  // The session just used is bound to `pin`, so the envelope goes to the same identity.
  const pin = source.last;
  const recipientDhPublic =
    pin === undefined
      ? await remoteDhPublic(context, peer)
      : pin.subarray(DH_PUBLIC_AT, DH_PUBLIC_END);
  return sealedSenderSeal(context.backend, context.rng, {
    senderIdentity: { dhPrivate: local.dhPrivate, dhPublic: local.bundle.dhPublic },
    recipientDhPublic,
    senderCertificate,
    contentType: type,
    message: body,
    commitment,
    franking,
  });
}

/** The current session's remote DH identity (a device without a pin: sessions of old stores). */
async function remoteDhPublic(context: EngineContext, peer: PeerAddress): Promise<Uint8Array> {
  const key = sessionKey(peer);
  const cached = context.remoteDh.get(key);
  if (cached) return cached;
  const identity = await context.cipher.remoteIdentity(peer);
  if (!identity) throw new NoSessionError();
  const dh = decodeIdentityBundle(identity).dhPublic;
  context.remoteDh.set(key, dh);
  return dh;
}
