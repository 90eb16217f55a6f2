/**
 * Ports of realtime delivery (docs/SERVICE.md §7.3): where live connections are
 * registered, how frames reach them, and the hook the message service calls after a store.
 * Nothing here knows about WebSockets or API Gateway.
 */
import type { DeliveredMessage } from 'sealpost/wire/api';
import type { DeviceRef } from './ports.ts';

/** A device's live connection as registered. */
export interface LiveConnection {
  readonly connectionId: string;
  /** The device generation that authenticated the connection. */
  readonly device: DeviceRef;
  readonly connectedAt: number;
  /**
   * True for a connection opened with `payloads=1`: its message frames carry the shared
   * payload of a multi-recipient message (docs/PROTOCOL.md §14.6); absent for the others,
   * which get such a message's header alone.
   */
  readonly payloads?: boolean;
}

/** How a connection was opened, besides its device (the connect query's format choices). */
export interface ConnectionOptions {
  /** The connect query had `payloads=1`. */
  readonly payloads?: boolean;
}

/**
 * Live connections, at most one per device (address and device id). A device generation is
 * stored with its connection so a connection never outlives a removed device's id reuse.
 */
export interface ConnectionRegistry {
  /**
   * Makes `connectionId` the device's connection, with its `options` (read back as
   * {@link LiveConnection.payloads}); returns the connection it replaced, if any (that one is
   * no longer found by {@link byConnection}).
   */
  put(
    device: DeviceRef,
    connectionId: string,
    connectedAt: number,
    options?: ConnectionOptions,
  ): Promise<string | undefined>;
  /** The device's current connection, or undefined. */
  get(device: { address: string; deviceId: number }): Promise<LiveConnection | undefined>;
  /**
   * Removes `connectionId` only if it is still its device's current connection (a late
   * disconnect of a replaced connection leaves the newer one in place). True if removed.
   */
  remove(connectionId: string): Promise<boolean>;
  /** The connection if it is its device's current one, else undefined. */
  byConnection(connectionId: string): Promise<LiveConnection | undefined>;
}

/** How frames reach a connection (API Gateway's management API on AWS). */
export interface ConnectionSender {
  /** Sends one text frame; `'gone'` when the connection no longer exists (HTTP 410). */
  send(connectionId: string, frameText: string): Promise<'sent' | 'gone'>;
  /** Closes the connection with a close code (`REALTIME_CLOSE`) and a short reason. */
  close(connectionId: string, code: number, reason: string): Promise<void>;
}

/**
 * Called by the message service after a message is stored (its index record written), with
 * the mailbox and the message as `GET /v1/messages?payloads=1` would return it (a
 * multi-recipient message with its `payload`: the notifier drops it for a connection that did
 * not ask for payloads). A failure never fails
 * the send: the message is stored and the next drain delivers it. A realtime notifier may
 * report whether the device's live connection got it (`pushed`; else `offline` or `failed`),
 * so a device it did not reach can be woken instead (wakeup-service.ts).
 */
export interface Notifier {
  notify(
    mailbox: DeviceRef,
    message: DeliveredMessage,
    context?: NotifyContext,
  ): Promise<'pushed' | 'offline' | 'failed' | undefined>;
  /**
   * Pushes a message whose store is still under way (its position assigned, its object and
   * record being written) to the device's live connection, if it has one; never wakes. The
   * message service then calls {@link notify} once the record is written, with `pushed` when
   * this reached the connection: a device that connected in between is pushed to then, and one
   * that connected before already has it, so no connect falls between push and drain.
   */
  pushEarly?(
    mailbox: DeviceRef,
    message: DeliveredMessage,
  ): Promise<'pushed' | 'offline' | 'failed'>;
}

/** What the message service knows of a store besides the message. */
export interface NotifyContext {
  /** The mailbox held no other message: its device has acknowledged everything before it. */
  readonly firstPending: boolean;
  /** {@link Notifier.pushEarly} already put the message on the device's live connection. */
  readonly pushed?: boolean;
}

/**
 * The message service's optional realtime hook: the notifier and where a failed notification
 * is counted (one JSON line, a count only: no address, id or content).
 */
export interface NotifyHook {
  readonly notifier: Notifier;
  readonly log: (line: string) => void;
}
