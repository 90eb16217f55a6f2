/**
 * The engine's side of multi-recipient sends (docs/PROTOCOL.md §14): sealing one shared payload
 * and a per-device header for each recipient device, and opening a header delivered with its
 * payload. The header is an ordinary sealed envelope (§6.3) whose ratchet plaintext is the
 * payload reference; franking covers the content itself (§14.7), so reports do not change.
 */
import { MalformedEnvelopeError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, wipe } from '../util/bytes.ts';
import type { SenderCertificate } from '../wire/certificates.ts';
import {
  decodePayloadReference,
  encodePayloadReference,
  isPayloadReference,
  type PayloadReference,
} from '../wire/multi-recipient-payload.ts';
import type { TrustConfig } from './certificates.ts';
import { unsealEnvelope } from './engine-receive.ts';
import { sealFor } from './engine-send.ts';
import type {
  EngineContext,
  MessageHandler,
  ReceivedMessage,
  UnsealOptions,
} from './engine-types.ts';
import type { PeerAddress } from './session-cipher.ts';
import { sessionKey } from './session-lock.ts';
import { openSharedPayload, sealSharedPayload } from './shared-payload.ts';

/** One recipient device's header of a multi-recipient send. */
export interface SealedHeader {
  readonly peer: PeerAddress;
  /** A version-2 sealed envelope carrying the payload reference. */
  readonly header: Uint8Array;
}

/** A shared payload and the headers of every recipient device. */
export interface SealedMultiRecipient {
  readonly payload: Uint8Array;
  readonly headers: readonly SealedHeader[];
}

/**
 * Seals the per-device header for `peer` through `sealFor` (engine-send.ts): franks `content`
 * for the device before anything is encrypted, encrypts the payload reference with the device's
 * session (one committed ratchet step) and seals it to the identity that session is bound to.
 *
 * @throws NoSessionError without a session bound to the pinned identity
 * @throws FrankingUnavailableError without a moderator key or the device's franking key
 *   (nothing was encrypted)
 * @throws ArgumentTypeError / ArgumentRangeError on a malformed reference or certificate
 * @example const header = await sealHeaderFor(context, peer, content, reference, certificate);
 */
export async function sealHeaderFor(
  context: EngineContext,
  peer: PeerAddress,
  content: Uint8Array,
  reference: PayloadReference,
  senderCertificate: Uint8Array,
): Promise<Uint8Array> {
  assertBytes(content, 'content');
  assertBytes(senderCertificate, 'senderCertificate');
  const plaintext = encodePayloadReference(reference);
  try {
    // PROTOCOL.md §14.7: the commitment is over the content, as in a per-device envelope.
    return await sealFor(context, peer, plaintext, senderCertificate, content);
  } finally {
    wipe(plaintext);
  }
}

/**
 * Encrypts `content` once as a shared payload and seals a header for every device of `peers`
 * in turn. A failure for one device (no session, no franking key) stops the call; the headers
 * sealed before it have spent their ratchet steps, as a failed fan-out of per-device envelopes
 * does, and the next attempt seals new ones.
 *
 * @throws as {@link sealHeaderFor}; ArgumentRangeError for no peer or a peer listed twice
 * @example const { payload, headers } = await sealMultiRecipient(context, peers, content, certificate);
 */
export async function sealMultiRecipient(
  context: EngineContext,
  peers: readonly PeerAddress[],
  content: Uint8Array,
  senderCertificate: Uint8Array,
): Promise<SealedMultiRecipient> {
  if (!Array.isArray(peers) || peers.length === 0) {
    throw new ArgumentTypeError('peers must be a non-empty array');
  }
  const seen = new Set<string>();
  for (const peer of peers) {
    const key = sessionKey(peer);
    if (seen.has(key)) throw new ArgumentRangeError('peers lists a device twice');
    seen.add(key);
  }
  const { payload, reference } = sealSharedPayload(context.backend, context.rng, content);
  try {
    const headers: SealedHeader[] = [];
    for (const peer of peers) {
      const header = await sealHeaderFor(context, peer, content, reference, senderCertificate);
      headers.push({ peer: { address: peer.address, deviceId: peer.deviceId }, header });
    }
    return { payload, headers };
  } finally {
    wipe(reference.key);
  }
}

/**
 * Opens a header delivered with its shared payload (PROTOCOL.md §14.6): the envelope as
 * `ProtocolEngine.unseal` does, then, under the sender device's lock, the reference from the
 * ratchet plaintext, the payload under it, and the franking checks on the content; the handler
 * gets the content as `plaintext`. Any failure commits nothing.
 *
 * @throws MalformedEnvelopeError if the ratchet plaintext is not a payload reference, or the
 *   payload does not parse
 * @throws DecryptError if the payload does not open under the reference
 * @throws the errors of `ProtocolEngine.unseal`, and whatever `handle` throws
 * @example const msg = await unsealWithPayload(context, trust, envelope, payload, handle);
 */
export async function unsealWithPayload(
  context: EngineContext,
  trust: TrustConfig,
  envelope: Uint8Array,
  payload: Uint8Array,
  handle?: MessageHandler,
  options: UnsealOptions = {},
): Promise<ReceivedMessage & { certificate: SenderCertificate }> {
  assertBytes(payload, 'payload');
  const contentOf = (plaintext: Uint8Array): Uint8Array => {
    if (!isPayloadReference(plaintext)) {
      throw new MalformedEnvelopeError('a message delivered with a payload must reference it');
    }
    const reference = decodePayloadReference(plaintext);
    try {
      return openSharedPayload(context.backend, payload, reference);
    } finally {
      wipe(reference.key);
    }
  };
  return unsealEnvelope(context, trust, envelope, contentOf, handle, options);
}
