/**
 * The blocking and access-key part of `SealpostClient` (docs/SDK.md, "Blocking and access
 * keys"): its base class between `ClientDevices` and the messaging members of client.ts, holding
 * the key rotation, the block list and the retry of a sealed send after a contact's key update.
 */
import { systemRng } from '../crypto/backend.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import { Blocking } from './blocking.ts';
import type { CallOptions } from './call-options.ts';
import { ClientDevices } from './client-devices.ts';
import { type ClientOptions, callOf } from './client-options.ts';
import type { ClientCounters, Registration } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';
import { KeyRotation, type KeyUpdateFlush } from './key-rotation.ts';
import { pullKeyUpdate } from './key-update-sweep.ts';

/**
 * The base of `SealpostClient` with the block list and access-key rotation. Not constructed on
 * its own.
 */
export abstract class ClientBlocking extends ClientDevices {
  /** Pending key updates and the rotation that makes them. */
  protected readonly keyRotation: KeyRotation;
  private readonly blocking: Blocking;

  protected constructor(
    engine: ProtocolEngine,
    http: SealpostHttpClient,
    registration: Registration,
    options: ClientOptions,
  ) {
    super(engine, http, registration, options);
    this.keyRotation = new KeyRotation({
      state: this.state,
      http,
      // Key updates go to one contact at a time without a sync copy: the fan-out alone.
      fanout: this.sender.fanout,
      self: registration,
      rng: options.rng ?? systemRng,
      now: this.now,
      timer: options.outbox?.timer,
    });
    this.blocking = new Blocking({
      state: this.state,
      http,
      self: registration,
      rotation: this.keyRotation,
    });
  }

  /**
   * Replaces the account's delivery access key with a fresh random one and gives it to every
   * contact except blocked ones, and to this account's other devices (docs/SDK.md, "Blocking
   * and access keys"). The old key stops authorizing sealed sends at once. The new key is
   * stored before the service is told, and each contact's update stays queued until it went out,
   * so a crash or a failure loses nothing: {@link flushKeyUpdates}, the client's timer and
   * `SealpostClient.open` finish the job. Resolves with what the deliveries did.
   *
   * @throws {ApiError | NetworkError | AbortedError} if the service could not be given the new
   *   key: this device already uses it; call {@link flushKeyUpdates} (or rotate again) to finish.
   * @example const { sent, pending } = await client.rotateAccessKey();
   */
  rotateAccessKey(call?: CallOptions): Promise<KeyUpdateFlush> {
    return this.keyRotation.rotate(callOf(call));
  }

  /**
   * Sends every pending key update now (and first gives the service the key if a rotation could
   * not), and reports what is left. Failed updates stay queued with backoff.
   *
   * @throws {ApiError | NetworkError | AbortedError} if the service could not be given the key.
   * @example const { pending, errors } = await client.flushKeyUpdates();
   */
  flushKeyUpdates(call?: CallOptions): Promise<KeyUpdateFlush> {
    return this.keyRotation.flush(true, callOf(call));
  }

  /** Key updates waiting to be sent. */
  pendingKeyUpdates(): Promise<number> {
    return this.keyRotation.pending();
  }

  /**
   * Blocks an account: from now on what it sends is dropped before the app sees it, `send` to
   * it throws `BlockedContactError`, the service refuses its identified sends (`403 BLOCKED`),
   * and the access key is rotated without giving it the new one, so its sealed sends are
   * refused too (`SealedSendUnauthorizedError`). The block is recorded locally first.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} for a malformed address, the own address,
   *   or a full block list (10,000).
   * @throws {ApiError | NetworkError | AbortedError} if the service could not be told or given
   *   the new key (the local block holds; block again to finish).
   * @example await client.block(spammer);
   */
  block(address: string, call?: CallOptions): Promise<KeyUpdateFlush> {
    return this.blocking.block(address, callOf(call));
  }

  /**
   * Unblocks an account locally and on the service. The key is not rotated back: the account
   * can send identified at once, and sealed once it learned the current key from a message.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} for a malformed or the own address.
   * @throws {ApiError | NetworkError | AbortedError} if the service could not be told.
   * @example await client.unblock(friend);
   */
  unblock(address: string, call?: CallOptions): Promise<void> {
    return this.blocking.unblock(address, callOf(call));
  }

  /**
   * The accounts this device blocks, in address order.
   *
   * @example if ((await client.blocked()).includes(bob)) hide(bob);
   */
  blocked(): Promise<string[]> {
    return this.blocking.list();
  }

  /**
   * Counters for debugging, since this client was opened: `blockedDropped`, messages of blocked
   * accounts dropped before the app saw them.
   *
   * @example client.debugCounters().blockedDropped
   */
  debugCounters(): ClientCounters {
    return { ...this.state.counters };
  }

  /**
   * After a sealed send to `recipient` was refused: commits the key updates among the pending
   * messages and tells whether the recipient's key changed (then the send is worth one retry).
   */
  protected keyUpdateArrived(recipient: string, call?: CallOptions): Promise<boolean> {
    return pullKeyUpdate({ pump: this.loop, http: this.http, state: this.state }, recipient, call);
  }
}
