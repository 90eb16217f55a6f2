/**
 * Receiving (docs/SDK.md §Receiving): fetch a batch, open each envelope with the engine, let
 * the app process the message inside the engine's handler, commit the session state together
 * with the seen message id, and only then acknowledge. Delivery is at least once; the seen ids
 * and the ratchet's own duplicate check make it exactly once for the app.
 *
 * Outcomes per message:
 * - processed, or a duplicate (seen id, `DuplicateMessageError`): acknowledged;
 * - permanently unreadable (malformed, bad certificate, failed decryption, …): acknowledged and
 *   reported, since no retry can ever read it;
 * - from a removed device, or one the service does not list (`DeviceRemovedError`, checked
 *   before the app sees it, sender-check.ts): acknowledged and reported;
 * - from another account without a delivery stamp or with franking that does not verify
 *   (`UnreportableMessageError`), or from a suspended account (`SenderSuspendedError`), checked
 *   before the app sees it (report-intake.ts): acknowledged and reported;
 * - a contact's identity changed (`IdentityChangedError`): kept on the server and reported until
 *   the app confirms the new identity;
 * - from a blocked account, or a key update (content kind 3): committed and acknowledged, never
 *   shown (docs/SDK.md, "Blocking and access keys"); a key update from the own account becomes
 *   this device's access key;
 * - anything else (the app's handler threw, the store failed, the sender's device list could not
 *   be read): kept and reported as retryable.
 */
import type { AttachmentPointer } from '../attachments/index.ts';
import type { CryptoBackend } from '../crypto/backend.ts';
import {
  DecryptError,
  DuplicateMessageError,
  IdentityChangedError,
  InvalidBundleError,
  InvalidCertificateError,
  InvalidKeyError,
  InvalidMessageError,
  InvalidSignatureError,
  MalformedEnvelopeError,
  NoSessionError,
  PrekeyNotFoundError,
  TooManySkippedError,
  UnreportableMessageError,
  UnsupportedVersionError,
  UntrustedIdentityError,
} from '../errors.ts';
import { StaleDeviceLinkError } from '../protocol/contacts.ts';
import type {
  DeviceChange,
  MessageHandler,
  ProtocolEngine,
  ReceivedMessage,
} from '../protocol/engine.ts';
import type { StoreOp } from '../state/store.ts';
import { constantTimeEqual, fromUtf8 } from '../util/bytes.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import { DEFAULT_MESSAGE_TTL_DAYS, RECEIVED_AT_PRECISION_MS } from '../wire/api/limits.ts';
import type { DeliveredMessage } from '../wire/api/schemas.ts';
import type { IdentityBundle } from '../wire/identity.ts';
import type { ReceivedAttachment } from './attachments/types.ts';
import { syncBlockListOps } from './blocking.ts';
import type { CallOptions } from './call-options.ts';
import { adoptAccessKey, type ClientState, type Registration } from './client-state.ts';
import {
  CONTENT_KIND_KEY_UPDATE,
  CONTENT_KIND_SYNC,
  type Content,
  decodeContent,
} from './content.ts';
import { DeviceRemovedError, SenderSuspendedError } from './errors.ts';
import { registrationIdOf } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { ReportIntake } from './report-intake.ts';
import { type DeviceChangeListener, SenderCheck } from './sender-check.ts';

/** How long a seen message id is kept after the message's `receivedAt`: the lifetime plus a day. */
export const SEEN_RETENTION_MS = (DEFAULT_MESSAGE_TTL_DAYS + 1) * 24 * 60 * 60 * 1000;

/** A decrypted message, as the app sees it. */
export interface IncomingMessage {
  /** The message's position in this device's mailbox (base64url), assigned by the server. */
  readonly id: string;
  readonly sender: { readonly address: string; readonly deviceId: number };
  readonly body: Uint8Array;
  /** The body as text when the sender sent a string. */
  readonly text: string | undefined;
  /** The sender's clock when it sent the message (ms). */
  readonly sentAt: number;
  /** The server's clock when it stored the message, rounded down to the hour (ms). */
  readonly receivedAt: number;
  /** False for an identified send (the server knew the sender). */
  readonly sealed: boolean;
  /** Present on a copy of a message another device of this account sent to `destination`. */
  readonly sync?: { readonly destination: string };
  /** The sender device's identity (public keys). */
  readonly senderIdentity: IdentityBundle;
  /**
   * Set when this message is the first from a new device of a known contact (`added`) or from
   * a device id the contact re-linked (`replaced`: new keys, same account key). Not an identity
   * change: the account, and so the safety number, is the same (docs/SDK.md §Device changes).
   */
  readonly deviceChange?: DeviceChange;
  /**
   * The message's attachments (empty when it has none): metadata, and a verified download
   * (docs/SDK.md §Attachments).
   */
  readonly attachments: readonly ReceivedAttachment[];
  /**
   * Whether this device stored what a report of the message needs (docs/SDK.md §Reporting):
   * true for messages from other accounts, false for the own account's copies.
   */
  readonly reportable: boolean;
  /**
   * True for a message request: the sender is not a contact of this account (docs/SDK.md
   * §Message requests): this device never sent to it, accepted it, added its card, or saw
   * another own device send to it. Until `acceptRequest` (or a reply) the SDK sends it nothing
   * on its own. Always false for the own account's copies.
   */
  readonly request: boolean;
}

/**
 * An identified send names its sender; it must be the one the certificate vouches for.
 *
 * @throws {MalformedEnvelopeError} if the server named another sender.
 */
function checkSource(delivered: DeliveredMessage, received: ReceivedMessage): void {
  const { source } = delivered;
  const { sender } = received;
  if (source && (source.address !== sender.address || source.deviceId !== sender.deviceId)) {
    throw new MalformedEnvelopeError('the server-named sender differs from the sealed sender');
  }
}

/** Makes the app's view of a received attachment pointer, its download bound to the client. */
export interface ReceivedAttachments {
  received(pointer: AttachmentPointer): ReceivedAttachment;
}

/** Why a delivered message was not handed to the app. */
export interface ReceiveFailure {
  readonly id: string;
  readonly error: Error;
  /** Whether it was acknowledged (deleted from the server: it will not come again). */
  readonly acknowledged: boolean;
}

/** Processes a decrypted message durably before its state is committed. */
export type AppHandler = (message: IncomingMessage) => Promise<void> | void;

const PERMANENT = [
  DecryptError,
  MalformedEnvelopeError,
  InvalidCertificateError,
  UnsupportedVersionError,
  InvalidMessageError,
  TooManySkippedError,
  UntrustedIdentityError,
  NoSessionError,
  PrekeyNotFoundError,
  InvalidKeyError,
  InvalidSignatureError,
  InvalidBundleError,
  DeviceRemovedError,
  StaleDeviceLinkError,
  UnreportableMessageError,
  SenderSuspendedError,
];

/** True for an error no redelivery can cure. */
export function isPermanent(err: unknown): boolean {
  return PERMANENT.some((cls) => err instanceof cls);
}

/** The outcome of processing one delivered message. */
export type Outcome =
  | { readonly kind: 'delivered'; readonly message: IncomingMessage }
  | { readonly kind: 'duplicate' }
  /** Committed and never shown: from a blocked account, or a key update. */
  | { readonly kind: 'dropped'; readonly reason: 'blocked' | 'key-update' }
  | { readonly kind: 'failed'; readonly failure: ReceiveFailure };

/** Opens and processes delivered messages for one device. */
export class Receiver {
  constructor(
    private readonly ctx: {
      readonly engine: ProtocolEngine;
      readonly http: SealpostHttpClient;
      readonly state: ClientState;
      readonly backend: CryptoBackend;
      readonly self: Registration;
      readonly now: () => number;
      readonly onDeviceChange?: DeviceChangeListener | undefined;
      readonly attachments: ReceivedAttachments;
      /** Stamp and suspension checks, report records (docs/SDK.md §Reporting). */
      readonly intake: ReportIntake;
    },
  ) {
    this.senders = new SenderCheck(ctx);
  }

  private readonly senders: SenderCheck;

  /**
   * Processes one delivered message; `handle` runs before the commit. Never throws: every
   * failure is an outcome, and `ack` says whether the id must be acknowledged.
   */
  async process(
    delivered: DeliveredMessage,
    handle: AppHandler | undefined,
    call?: CallOptions,
  ): Promise<{ outcome: Outcome; ack: boolean }> {
    const id = delivered.messageId;
    try {
      if (await this.ctx.state.seen(id)) return { outcome: { kind: 'duplicate' }, ack: true };
      let message: IncomingMessage | undefined;
      let dropped: 'blocked' | 'key-update' | undefined;
      let ownKey: Uint8Array | undefined;
      const envelope = fromBase64Url(delivered.envelope, 'envelope');
      // Certificates are judged at the end of the hour the server received the message in (it
      // reports the hour only), bounded to the message lifetime: never later than now.
      const now = this.ctx.now();
      const receivedAt = Math.max(delivered.receivedAt, now - SEEN_RETENTION_MS);
      const at = Math.min(now, receivedAt + RECEIVED_AT_PRECISION_MS);
      const handler: MessageHandler = async (received) => {
        checkSource(delivered, received);
        const { address, deviceId } = received.sender;
        const { state, self } = this.ctx;
        // Blocked (docs/SDK.md, "Blocking and access keys"): dropped before the device check
        // and the app; the ratchet step and the seen id are committed, so it never comes again.
        if (address !== self.address && (await state.isBlocked(address))) {
          dropped = 'blocked';
          return [state.seenOp(delivered.messageId, delivered.receivedAt + SEEN_RETENTION_MS)];
        }
        // Without a stamp no report could verify; a suspended account is not heard (§Reporting).
        if (address !== self.address) this.ctx.intake.admit(delivered, address);
        const content = decodeContent(received.plaintext);
        if (content.kind !== CONTENT_KIND_KEY_UPDATE) {
          const request = address !== self.address && !(await state.isAccepted(address));
          message = this.toMessage(delivered, received, content, request);
        }
        // Before the app sees it: a removed or unlisted device is refused (docs/SDK.md
        // §Device removal), and only the service's list adds a device.
        const device = {
          deviceId,
          registrationId: registrationIdOf(this.ctx.backend, received.senderIdentity),
        };
        // A sealed message's sender list is read sealed, with the key its frame carries.
        const deviceOps = await this.senders.check(
          address,
          device,
          { sealed: delivered.source === undefined, accessKey: content.senderAccessKey },
          call,
        );
        const ops = [...(await this.commitOps(delivered, received)), ...deviceOps];
        if (message === undefined) {
          dropped = 'key-update';
          if (address !== self.address) return ops;
          // The own account rotated its key on another device: it is this device's key now,
          // and the block list that came with the rotation is the service's.
          ownKey = content.senderAccessKey;
          ops.push(state.registrationOp({ ...self, accessKey: ownKey }));
          return [...ops, ...(await syncBlockListOps(state, this.ctx.http, call))];
        }
        const record = message.reportable
          ? this.ctx.intake.recordOp(delivered, received)
          : undefined;
        if (record) ops.push(record);
        // Another own device wrote to the destination: it is a contact here too.
        if (message.sync && !(await state.isAccepted(message.sync.destination))) {
          ops.push(state.acceptOp(message.sync.destination));
        }
        if (handle) await handle(message);
        return ops;
      };
      // docs/PROTOCOL.md §14.6: a multi-recipient message comes as its header and the shared
      // payload; everything after the opening is the same for both kinds.
      const payload =
        delivered.payload === undefined ? undefined : fromBase64Url(delivered.payload, 'payload');
      if (payload === undefined) {
        await this.ctx.engine.unseal(envelope, handler, { validAt: at });
      } else {
        await this.ctx.engine.unsealWithPayload(envelope, payload, handler, { validAt: at });
      }
      if (dropped === 'blocked') this.ctx.state.counters.blockedDropped++;
      if (ownKey) adoptAccessKey(this.ctx.self, ownKey);
      if (dropped) return { outcome: { kind: 'dropped', reason: dropped }, ack: true };
      if (!message) throw new MalformedEnvelopeError('no message was produced');
      if (message.deviceChange) this.ctx.onDeviceChange?.(message.deviceChange);
      if (message.reportable) await this.ctx.intake.stored();
      return { outcome: { kind: 'delivered', message }, ack: true };
    } catch (error) {
      if (error instanceof DuplicateMessageError) {
        return { outcome: { kind: 'duplicate' }, ack: true };
      }
      // Franked for a moderator key this device lacks: opened again once the refresh brings it.
      const retry = await this.ctx.intake.retryUnknownModerator(error, call);
      if (retry === true) return this.process(delivered, handle, call);
      const err =
        retry instanceof Error
          ? retry
          : error instanceof Error
            ? error
            : new Error('receive failed');
      const ack = isPermanent(err) && !(err instanceof IdentityChangedError);
      return { outcome: { kind: 'failed', failure: { id, error: err, acknowledged: ack } }, ack };
    }
  }

  /** Checks the frame and builds the app's view. */
  private toMessage(
    delivered: DeliveredMessage,
    received: ReceivedMessage,
    content: Content,
    request: boolean,
  ): IncomingMessage {
    const { sender } = received;
    const own = sender.address === this.ctx.self.address;
    if (content.kind === CONTENT_KIND_SYNC && !own) {
      throw new MalformedEnvelopeError('a sync message from another account');
    }
    const base = {
      id: delivered.messageId,
      sender,
      body: content.body,
      text: content.text ? fromUtf8(content.body) : undefined,
      sentAt: content.sentAt,
      receivedAt: delivered.receivedAt,
      sealed: delivered.source === undefined,
      senderIdentity: received.senderIdentity,
      attachments: (content.attachments ?? []).map((p) => this.ctx.attachments.received(p)),
      reportable: !own && received.franking !== undefined && delivered.stamp !== undefined,
      request,
    };
    const withChange = received.deviceChange
      ? { ...base, deviceChange: received.deviceChange }
      : base;
    return content.destination === undefined
      ? withChange
      : { ...withChange, sync: { destination: content.destination } };
  }

  /**
   * Ops committed with the session: the seen id (kept a lifetime after `receivedAt`, the only
   * time the server reports) and the sender's access key when it is new.
   */
  private async commitOps(
    delivered: DeliveredMessage,
    received: ReceivedMessage,
  ): Promise<StoreOp[]> {
    const state = this.ctx.state;
    const ops: StoreOp[] = [
      state.seenOp(delivered.messageId, delivered.receivedAt + SEEN_RETENTION_MS),
    ];
    const { address } = received.sender;
    if (address !== this.ctx.self.address) {
      const key = decodeContent(received.plaintext).senderAccessKey;
      const known = await state.accessKey(address);
      if (!known || !constantTimeEqual(known, key)) ops.push(state.accessKeyOp(address, key));
    }
    return ops;
  }
}
