/**
 * The engine's receive pipeline (docs/PROTOCOL.md §9): under the sender device's lock, read the
 * pin, decrypt with only the states bound to it, judge a new session's identity, let the app's
 * handler durably process the plaintext, and commit the advanced session, the pin and the
 * handler's ops in one atomic commit. Sealed envelopes go through {@link unsealEnvelope} first:
 * the sealed-sender layer (§6.4), then the content checks of §11.5 and §14.6 in the handler.
 */
import type { StoreOp } from '../state/store.ts';
import type { SenderCertificate } from '../wire/certificates.ts';
import { decodeIdentityBundle } from '../wire/identity.ts';
import type { MessageType } from '../wire/messages.ts';
import type { TrustConfig } from './certificates.ts';
import { type DeviceChange, judgeIdentity, pinKey } from './contacts.ts';
import type { ReceivedFranking } from './engine-franking.ts';
import type {
  EngineContext,
  MessageHandler,
  ReceivedMessage,
  UnsealOptions,
} from './engine-types.ts';
import type { PinSource } from './pin-cache.ts';
import { assertCertificateMatchesIdentity, sealedSenderOpen } from './sealed-sender.ts';
import { type PeerAddress, releaseHolding } from './session-cipher.ts';
import { MAX_COMMIT_ATTEMPTS, retriesAfter, sessionKey } from './session-lock.ts';

/**
 * Decrypts, checks, handles and commits one message from `sender` under its lock (no
 * interleaved encrypt). A commit lost to another writer decrypts again on the fresh state
 * (§9.1); so does an attempt that failed, before `handle` ran, on a pin held in memory that may
 * have been stale (pin-cache.ts).
 *
 * @throws as `ProtocolEngine.decrypt`.
 * @example const received = await receiveMessage(context, sender, type, body, handle);
 */
export function receiveMessage(
  context: EngineContext,
  sender: PeerAddress,
  type: MessageType,
  body: Uint8Array,
  handle: MessageHandler | undefined,
): Promise<ReceivedMessage> {
  const source = context.pins.source(pinKey(sender));
  return context.cipher.exclusive(sender, async () => {
    for (let attempt = 1; ; attempt++) {
      const progress = { handled: false };
      try {
        return await receiveOnce(context, sender, type, body, handle, source, progress);
      } catch (error) {
        if (retriesAfter(error, attempt)) continue;
        // Any other failure before `handle` ran may come from a stale pin held in memory.
        const again = !progress.handled && attempt < MAX_COMMIT_ATTEMPTS && (await source.stale());
        if (!again) throw error;
      }
    }
  });
}

/**
 * What a message's content is, given its ratchet plaintext: the plaintext itself for a
 * per-device envelope, the opened shared payload for a header (docs/PROTOCOL.md §14.6). Runs
 * under the sender device's lock before the franking checks; throwing commits nothing.
 */
export type ContentOf = (plaintext: Uint8Array) => Uint8Array;

/**
 * Opens a sealed envelope (docs/PROTOCOL.md §6.4) and receives the ratchet message inside it
 * through {@link receiveMessage}: under the sender device's lock, the certificate must name the
 * session's identity (§6), `contentOf` turns the ratchet plaintext into the content, the
 * franking checks run on that content (§11.5, §14.7), and only then does `handle` see it (as
 * `plaintext`, with the franking data); its ops are committed with the session. Any failure
 * before the commit commits nothing.
 *
 * @throws as `ProtocolEngine.unseal`, whatever `contentOf` throws, and whatever `handle` throws.
 * @example const msg = await unsealEnvelope(context, trust, envelope, (p) => p, handle, {});
 */
export async function unsealEnvelope(
  context: EngineContext,
  trust: TrustConfig,
  envelope: Uint8Array,
  contentOf: ContentOf,
  handle: MessageHandler | undefined,
  options: UnsealOptions,
): Promise<ReceivedMessage & { certificate: SenderCertificate }> {
  const local = context.local();
  const opened = await sealedSenderOpen(context.backend, {
    recipientIdentity: { dhPrivate: local.dhPrivate, dhPublic: local.bundle.dhPublic },
    envelope,
    trust,
    now: options.validAt ?? context.now(),
  });
  const sender = { address: opened.senderAddress, deviceId: opened.senderDeviceId };
  const self = { address: context.address, deviceId: local.bundle.deviceId };
  let franking: ReceivedFranking | undefined;
  let content: Uint8Array | undefined;
  const received = await receiveMessage(
    context,
    sender,
    opened.contentType,
    opened.message,
    async (m): Promise<readonly StoreOp[] | undefined> => {
      // Sealed sender §6: the certificate must name the identity the session is bound to.
      assertCertificateMatchesIdentity(opened.certificate, m.senderIdentity.dhPublic);
      const opening = contentOf(m.plaintext);
      // §11.5: a message whose report would not verify is never handed to the app.
      const moderatorKeyId = await context.franking.check(
        self,
        opened.certificate,
        opened.commitment,
        opened.franking,
        opening,
      );
      content = opening;
      franking = {
        commitment: opened.commitment,
        ...opened.franking,
        moderatorKeyId,
        senderCertificate: opened.senderCertificate,
      };
      const learn = await context.franking.learnOp(
        context.store,
        sender,
        opened.certificate.frankingKey,
      );
      const ops = handle ? await handle({ ...m, plaintext: opening, franking }) : undefined;
      return learn === undefined ? ops : [learn, ...(ops ?? [])];
    },
  );
  // The handler ran for the attempt that committed: `content` is what it was given.
  return {
    ...received,
    plaintext: content ?? received.plaintext,
    franking,
    certificate: opened.certificate,
  };
}

/** One attempt of {@link receiveMessage}: read the pin, decrypt, judge, handle, commit. */
async function receiveOnce(
  { store, cipher, pins, remoteDh }: EngineContext,
  sender: PeerAddress,
  type: MessageType,
  body: Uint8Array,
  handle: MessageHandler | undefined,
  source: PinSource,
  progress: { handled: boolean },
): Promise<ReceivedMessage> {
  // A pin held in memory comes without a promise: no await, no extra turn of the queue.
  const read = source.read();
  const { pin, check } = read instanceof Promise ? await read : read;
  // Only states bound to the pin are tried (§9.6); a new session is judged below.
  const result = await cipher.decryptHolding(sender, type, body, pin);
  try {
    const senderIdentity = decodeIdentityBundle(result.remoteIdentity);
    const ops = [...result.ops];
    let deviceChange: DeviceChange | undefined;
    if (result.sessionCreated) {
      const judged = await judgeIdentity(store, sender, result.remoteIdentity, pin);
      ops.push(...judged.ops);
      deviceChange = judged.change;
    }
    // The commit holds only if the pin used is still stored (a new pin's op checks it too).
    if (ops.length === result.ops.length) ops.push(check);
    const received: ReceivedMessage = {
      sender,
      plaintext: result.plaintext,
      senderIdentity,
      sessionCreated: result.sessionCreated,
      ...(deviceChange ? { deviceChange } : {}),
    };
    progress.handled = handle !== undefined;
    const extra = handle ? await handle(received) : undefined;
    await pins.commit(extra ? [...ops, ...extra] : ops);
    // The state that opened the message is now current (it may be a promoted archived one).
    remoteDh.set(sessionKey(sender), senderIdentity.dhPublic);
    return received;
  } finally {
    releaseHolding(result);
  }
}
