/**
 * The engine's receive pipeline (docs/PROTOCOL.md §9): under the sender device's lock, read the
 * pin, decrypt with only the states bound to it, judge a new session's identity, let the app's
 * handler durably process the plaintext, and commit the advanced session, the pin and the
 * handler's ops in one atomic commit.
 */
import { decodeIdentityBundle } from '../wire/identity.ts';
import type { MessageType } from '../wire/messages.ts';
import { type DeviceChange, judgeIdentity, pinKey } from './contacts.ts';
import type { EngineContext, MessageHandler, ReceivedMessage } from './engine-types.ts';
import type { PinSource } from './pin-cache.ts';
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
