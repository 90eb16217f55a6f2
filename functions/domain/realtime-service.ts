/**
 * Realtime delivery (docs/SERVICE.md §7.3), transport-free: the WebSocket
 * handlers call these methods with connection ids and frame texts. Storage is the message
 * service's (a drain is its fetch, an ack frame its acknowledgement), so a message pushed over a
 * socket is the same record a poll would return, and it stays stored until acknowledged.
 * Delivery over a socket is at least once: a message may arrive both pushed and drained, and
 * the client keeps one per `messageId`. A multi-recipient message goes out with its shared
 * payload on a connection opened with `payloads=1`, as its header alone on any other
 * (docs/PROTOCOL.md §14.6, §14.10).
 */
import {
  type AckResponse,
  type DeliveredMessage,
  deliveryFrame,
  type ErrorFrame,
  encodeFrame,
  type FetchResponse,
  MAX_FETCH_BATCH,
  parseClientFrame,
  REALTIME_CLOSE,
  type ServerFrame,
} from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import { ServiceError } from './errors.ts';
import type { AccountStore, Clock, DeviceRef } from './ports.ts';
import type {
  ConnectionOptions,
  ConnectionRegistry,
  ConnectionSender,
  LiveConnection,
  Notifier,
  NotifyContext,
} from './realtime-ports.ts';
import { deviceRef, registrationIdOf } from './records.ts';

/**
 * What the realtime core uses of the message service (message-service.ts): its fetch, with
 * shared payloads read only when asked for (`GET /v1/messages?payloads=1`), and its
 * acknowledgement.
 */
export interface RealtimeMessages {
  fetch(
    caller: Caller,
    limit: number,
    cursor?: string,
    options?: { readonly payloads?: boolean },
  ): Promise<FetchResponse>;
  ack(caller: Caller, messageIds: readonly string[]): Promise<AckResponse>;
}

/**
 * How a drain ended: `drained` (every message sent, then `queue-empty`), `gone` (the
 * connection disappeared; it was removed), `closed` (the device was removed from its account;
 * the connection was closed with 4410), or `not-connected` (not a device's current connection).
 */
export type DrainResult = 'drained' | 'gone' | 'closed' | 'not-connected';

const PROTOCOL_ERROR_TEXT = {
  oversized: 'frame too large',
  malformed: 'frame is not a JSON object with a type',
  unknown: 'unknown frame type',
} as const;

/**
 * Live connections of devices, their drains and frames, and pushes after a store.
 *
 * @example
 * const realtime = new RealtimeService(connections, sender, accounts, messages, Date.now);
 * await realtime.connected(caller, connectionId);
 * await realtime.drain(connectionId);
 */
export class RealtimeService implements Notifier {
  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly sender: ConnectionSender,
    private readonly accounts: AccountStore,
    private readonly messages: RealtimeMessages,
    private readonly clock: Clock,
  ) {}

  /**
   * Registers `connectionId` as the authenticated device's one live connection, with the
   * frame format its connect asked for (`options.payloads`: shared payloads in message
   * frames). A connection it replaces is closed with 4409 (a failure to close it is ignored:
   * it can no longer receive pushes, and its disconnect will not remove the new one).
   *
   * @example await realtime.connected(caller, 'Ab12=', { payloads: true })
   */
  async connected(
    caller: Caller,
    connectionId: string,
    options: ConnectionOptions = {},
  ): Promise<void> {
    const previous = await this.connections.put(
      caller.ref,
      connectionId,
      this.clock(),
      options.payloads ? { payloads: true } : {},
    );
    if (previous === undefined) return;
    await this.sender
      .close(previous, REALTIME_CLOSE.REPLACED, 'replaced by a newer connection')
      .catch(() => undefined);
  }

  /**
   * Sends the device's queue oldest first, one frame per message (the message, or a pointer
   * when it is too large for a socket message), then `queue-empty`. The fetch reads shared
   * payloads only for a connection that asked for them. Stops when the connection is gone
   * (and removes it).
   *
   * @example await realtime.drain('Ab12=') // 'drained'
   * @throws {ServiceError} `UNAVAILABLE` when storage fails; nothing is removed.
   */
  async drain(connectionId: string): Promise<DrainResult> {
    const current = await this.currentOf(connectionId);
    if (typeof current === 'string') return current;
    const { caller, live } = current;
    const payloads = live.payloads === true;
    let cursor: string | undefined;
    do {
      const page = await this.messages.fetch(caller, MAX_FETCH_BATCH, cursor, { payloads });
      for (const message of page.messages) {
        const frame = deliveryFrame(messageFor(message, payloads));
        if (!(await this.send(connectionId, frame))) return 'gone';
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    return (await this.send(connectionId, { type: 'queue-empty' })) ? 'drained' : 'gone';
  }

  /**
   * Answers one client frame: `ping` with `pong`, `keepalive` with nothing, `ack` with the
   * message service's acknowledgement and an `acked` frame. An oversized, unparseable or unknown frame gets an
   * `error` frame and the connection is closed with 4400; an ack whose fields are invalid or
   * whose acknowledgement fails gets an `error` frame naming its id. Never throws.
   *
   * @example await realtime.onFrame('Ab12=', '{"type":"ping"}') // sends {"type":"pong"}
   */
  async onFrame(connectionId: string, text: string): Promise<void> {
    try {
      const parsed = parseClientFrame(text);
      if (!parsed.ok) {
        if (parsed.reason === 'invalid') {
          await this.sendError(connectionId, 'BAD_REQUEST', 'invalid frame fields', parsed.id);
          return;
        }
        await this.sendError(connectionId, 'BAD_REQUEST', PROTOCOL_ERROR_TEXT[parsed.reason]);
        await this.closeWith(connectionId, REALTIME_CLOSE.PROTOCOL_ERROR, 'protocol error');
        return;
      }
      const frame = parsed.frame;
      // A keepalive only keeps the connection open (on API Gateway it never reaches here).
      if (frame.type === 'keepalive') return;
      if (frame.type === 'ping') {
        await this.send(connectionId, { type: 'pong' });
        return;
      }
      const current = await this.currentOf(connectionId);
      if (current === 'not-connected') {
        await this.closeWith(connectionId, REALTIME_CLOSE.NOT_AUTHENTICATED, 'not authenticated');
        return;
      }
      if (typeof current === 'string') return;
      const { caller } = current;
      try {
        const { acknowledged } = await this.messages.ack(caller, frame.messageIds);
        await this.send(connectionId, { type: 'acked', id: frame.id, acknowledged });
      } catch (err) {
        const known = err instanceof ServiceError;
        await this.sendError(
          connectionId,
          known ? err.code : 'INTERNAL',
          known ? err.message : 'internal error',
          frame.id,
        );
      }
    } catch {
      // The transport gets nothing to handle: a frame that could not be answered is one the
      // client retries (acknowledgement is idempotent) or replaces with a poll.
    }
  }

  /**
   * The connection closed: removes it unless a newer connection of its device replaced it.
   *
   * @example await realtime.disconnected('Ab12=')
   */
  async disconnected(connectionId: string): Promise<void> {
    await this.connections.remove(connectionId);
  }

  /**
   * {@link Notifier}: pushes a just-stored message to its device's live connection, if the
   * connection belongs to the same device generation. The message frame itself is sent (not a
   * wake-up), which saves the client a fetch; a shared payload goes with it only on a
   * connection that asked for payloads. A gone connection is removed; every failure is
   * swallowed: the message is stored and the next drain or poll delivers it. Reports `pushed`,
   * `offline` (no live connection of that generation, or it was gone) or `failed`, so the
   * caller can wake an offline device instead (wakeup-service.ts).
   *
   * @example await realtime.notify(mailbox, message) // 'offline'
   */
  async notify(
    mailbox: DeviceRef,
    message: DeliveredMessage,
    context?: NotifyContext,
  ): Promise<'pushed' | 'offline' | 'failed'> {
    if (context?.pushed) return 'pushed';
    return this.push(mailbox, message, false);
  }

  /**
   * {@link Notifier.pushEarly}: the same push, made while the message's store is under way so
   * that the frame does not wait for the object and record writes. Never throws. A message too
   * large for one frame goes out as a pointer, which sends the device to `GET /v1/messages`;
   * that read finds the message only once it is stored, so a pointer is not pushed early
   * (`offline`: {@link notify} pushes it after the writes).
   *
   * @example await realtime.pushEarly(mailbox, message) // 'pushed'
   */
  async pushEarly(
    mailbox: DeviceRef,
    message: DeliveredMessage,
  ): Promise<'pushed' | 'offline' | 'failed'> {
    return this.push(mailbox, message, true);
  }

  /**
   * Sends the frame of `message` for the device's live connection of the same generation (a
   * pointer is not sent `early`: `offline`). Never throws.
   */
  private async push(
    mailbox: DeviceRef,
    message: DeliveredMessage,
    early: boolean,
  ): Promise<'pushed' | 'offline' | 'failed'> {
    try {
      const live = await this.connections.get(mailbox);
      if (!live || live.device.registrationId !== mailbox.registrationId) return 'offline';
      const frame = deliveryFrame(messageFor(message, live.payloads === true), 'push');
      if (early && frame.type === 'message-pointer') return 'offline';
      return (await this.send(live.connectionId, frame)) ? 'pushed' : 'offline';
    } catch {
      // See above: delivery falls back to the queue.
      return 'failed';
    }
  }

  /**
   * The connection as registered and its current device as a {@link Caller}, read again from
   * the account store (a connection outlives the request that authenticated it). A removed
   * device, or an id now held by a new device, closes the connection with 4410 and removes it.
   */
  private async currentOf(
    connectionId: string,
  ): Promise<{ caller: Caller; live: LiveConnection } | 'not-connected' | 'closed'> {
    const live = await this.connections.byConnection(connectionId);
    if (!live) return 'not-connected';
    const view = await this.accounts.get(live.device.address);
    const device = view?.devices.find((d) => d.deviceId === live.device.deviceId);
    if (!view || !device || registrationIdOf(device.identity) !== live.device.registrationId) {
      await this.closeWith(connectionId, REALTIME_CLOSE.DEVICE_REMOVED, 'device removed');
      return 'closed';
    }
    return { caller: callerFor(live, view, device), live };
  }

  /** Sends a frame; false (and the connection removed) when it is gone. */
  private async send(connectionId: string, frame: ServerFrame): Promise<boolean> {
    const result = await this.sender.send(connectionId, encodeFrame(frame));
    if (result === 'sent') return true;
    await this.connections.remove(connectionId);
    return false;
  }

  private async sendError(
    connectionId: string,
    code: ErrorFrame['code'],
    message: string,
    id?: string,
  ): Promise<void> {
    const frame: ErrorFrame =
      id === undefined ? { type: 'error', code, message } : { type: 'error', code, message, id };
    await this.send(connectionId, frame);
  }

  private async closeWith(connectionId: string, code: number, reason: string): Promise<void> {
    await this.connections.remove(connectionId);
    await this.sender.close(connectionId, code, reason);
  }
}

/**
 * `message` as a connection gets it: a shared payload is kept only where the connection asked
 * for payloads; elsewhere a multi-recipient message is its header alone, as a fetch without
 * `payloads=1` answers (docs/PROTOCOL.md §14.10: an older client drops it as malformed).
 */
function messageFor(message: DeliveredMessage, payloads: boolean): DeliveredMessage {
  if (payloads || message.payload === undefined) return message;
  const { payload: _payload, ...header } = message;
  return header;
}

function callerFor(live: LiveConnection, view: Caller['view'], device: Caller['device']): Caller {
  return {
    address: live.device.address,
    deviceId: device.deviceId,
    device,
    ref: deviceRef(live.device.address, device),
    view,
    accountSigned: false,
  };
}
