/**
 * The send path of `SealpostClient` (docs/SDK.md §Sending, §Outbox): the message to every
 * device of the recipient under a fresh random request id, then its sync copy for the own
 * account's other devices queued in the outbox and sent later as a request of its own, under
 * another fresh id. Nothing in either request (ids, times, sizes beyond padding) relates it to
 * the other. Each request is one multi-recipient request when it reaches two or more devices
 * that all take shared payloads (`Fanout`, docs/PROTOCOL.md §14): the copy is sealed with a
 * payload of its own, never the message's.
 */
import type { AttachmentPointer } from '../attachments/index.ts';
import type { Rng } from '../crypto/backend.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { utf8 } from '../util/bytes.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import { ACCESS_KEY_BYTES } from '../wire/api/limits.ts';
import { createRequestId } from '../wire/api/message-id.ts';
import type { AttachmentInput, UploadedAttachment } from './attachments/types.ts';
import type { CallOptions } from './call-options.ts';
import type { MessageContent, SendResult } from './client-options.ts';
import type { ClientState, Registration } from './client-state.ts';
import { CONTENT_KIND_MESSAGE, CONTENT_KIND_SYNC, encodeContent } from './content.ts';
import { ApiError, RequestLimitError } from './errors.ts';
import type { Fanout } from './fanout.ts';
import { Outbox, type OutboxOptions } from './outbox.ts';
import type { TokenWallet } from './token-wallet.ts';

/** Own device lists are re-read from the service at most this often before a sync copy. */
export const OWN_DEVICES_REFRESH_MS = 5 * 60 * 1000;

/** What one send carries, with its attachments uploaded. */
export interface OutgoingMessage {
  /** True when `body` is UTF-8 text (the app gave a string). */
  readonly text: boolean;
  readonly body: Uint8Array;
  readonly attachments?: readonly AttachmentPointer[];
}

/** What the app asked to send, its attachments possibly still to upload. */
export interface SendRequest {
  readonly text: boolean;
  readonly body: Uint8Array;
  readonly attachments: readonly (AttachmentInput | UploadedAttachment)[] | undefined;
}

/**
 * Reads the `content` argument of `send`: a string (text), bytes, or a {@link MessageContent}
 * with at most one of `text` and `body` and optional attachments.
 *
 * @example sendRequestOf({ text: 'the photos', attachments: [{ data: photo }] })
 * @throws {ArgumentTypeError} for any other shape, or both `text` and `body`.
 */
export function sendRequestOf(content: Uint8Array | string | MessageContent): SendRequest {
  if (typeof content === 'string')
    return { text: true, body: utf8(content), attachments: undefined };
  if (content instanceof Uint8Array) return { text: false, body: content, attachments: undefined };
  if (typeof content !== 'object' || content === null) {
    throw new ArgumentTypeError(
      'content must be a string, a Uint8Array or { text?, body?, attachments? }',
    );
  }
  const { text, body, attachments } = content;
  if (text !== undefined && body !== undefined) {
    throw new ArgumentTypeError('content takes text or body, not both');
  }
  if (text !== undefined && typeof text !== 'string') {
    throw new ArgumentTypeError('content.text must be a string');
  }
  if (body !== undefined && !(body instanceof Uint8Array)) {
    throw new ArgumentTypeError('content.body must be a Uint8Array');
  }
  return text !== undefined
    ? { text: true, body: utf8(text), attachments }
    : { text: false, body: body ?? new Uint8Array(0), attachments };
}

/**
 * Checks that a message with these attachment pointers (placeholders of the same sizes will
 * do) fits one content frame, also as a sync copy: before anything is uploaded for it.
 *
 * @example assertMessageFits({ text: false, body, attachments: plan.placeholders });
 * @throws {ArgumentRangeError} if body and pointers together pass the plaintext limit, or there
 *   are more than 32 attachments.
 */
export function assertMessageFits(message: OutgoingMessage): void {
  encodeContent({
    kind: CONTENT_KIND_SYNC,
    text: message.text,
    senderAccessKey: new Uint8Array(ACCESS_KEY_BYTES),
    sentAt: 0,
    destination: 'a'.repeat(32),
    body: message.body,
    ...(message.attachments ? { attachments: message.attachments } : {}),
  });
}

/** Sends messages and their sync copies for one device. */
export class MessageSender {
  /** The queue of sync copies. */
  readonly outbox: Outbox;
  private ownDevicesCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: {
      readonly fanout: Fanout;
      readonly state: ClientState;
      readonly self: Registration;
      /** Pays for sealed sends to accounts whose access key the client lacks. */
      readonly wallet: TokenWallet;
      readonly rng: Rng;
      readonly now: () => number;
      readonly outbox?: OutboxOptions | undefined;
    },
  ) {
    this.outbox = new Outbox({
      store: ctx.state.store,
      rng: ctx.rng,
      now: ctx.now,
      options: ctx.outbox,
      send: (frame, requestId, call) => this.sendSync(frame, requestId, call),
    });
  }

  /**
   * Seals for every device of `recipient`, then queues the sync copy (with the same
   * attachment pointers: the own devices can download them too).
   */
  async send(
    recipient: string,
    message: OutgoingMessage,
    identified: boolean,
    call?: CallOptions,
  ): Promise<SendResult> {
    const frame = {
      text: message.text,
      senderAccessKey: this.ctx.self.accessKey,
      sentAt: this.ctx.now(),
      body: message.body,
      ...(message.attachments?.length ? { attachments: message.attachments } : {}),
    };
    const plaintext = encodeContent({ ...frame, kind: CONTENT_KIND_MESSAGE });
    const sync = encodeContent({ ...frame, kind: CONTENT_KIND_SYNC, destination: recipient });
    const requestId = createRequestId(this.ctx.rng);
    const accessKey = identified ? undefined : await this.ctx.state.accessKey(recipient);
    const sent = identified
      ? await this.ctx.fanout.send(recipient, plaintext, requestId, { mode: 'identified' }, call)
      : accessKey
        ? await this.ctx.fanout.send(
            recipient,
            plaintext,
            requestId,
            { mode: 'sealed', auth: { accessKey } },
            call,
          )
        : await this.sendRequest(recipient, plaintext, requestId, call);
    const result = { messageId: toBase64Url(requestId), recipientDevices: sent?.devices ?? 0 };
    if (!(await this.mayHaveOtherDevices())) return { ...result, sync: 'none' };
    // Queued only once the message went out: a send that failed has no copy to make.
    await this.outbox.enqueue(sync);
    return { ...result, sync: 'queued' };
  }

  /**
   * A message request (docs/SDK.md §Message requests): sealed, paid with a token taken from the
   * wallet for this message alone. A token the service refuses as invalid or spent is dropped
   * and the send tried once more with another.
   *
   * @throws {NoTokensError} if the wallet is empty (a refill is scheduled).
   * @throws {RequestLimitError} if the recipient takes no more requests today.
   * @throws {SealedSendUnauthorizedError} if the recipient takes no requests.
   */
  private async sendRequest(
    recipient: string,
    plaintext: Uint8Array,
    requestId: Uint8Array,
    call: CallOptions | undefined,
  ): ReturnType<Fanout['send']> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.ctx.wallet.take();
      try {
        return await this.ctx.fanout.send(
          recipient,
          plaintext,
          requestId,
          { mode: 'sealed', auth: { token } },
          call,
        );
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // Refused before anything was stored: the same request id goes out with another token.
        if ((err.code === 'INVALID_TOKEN' || err.code === 'TOKEN_SPENT') && attempt === 0) continue;
        if (err.code === 'REQUEST_LIMIT') throw new RequestLimitError(recipient, { cause: err });
        throw err;
      }
    }
  }

  /** The fan-out messages go through (key updates use it on their own, without a sync copy). */
  get fanout(): Fanout {
    return this.ctx.fanout;
  }

  /** False only when the own device list, read recently, names no other device. */
  private async mayHaveOtherDevices(): Promise<boolean> {
    if (this.ctx.now() - this.ownDevicesCheckedAt >= OWN_DEVICES_REFRESH_MS) return true;
    const own = await this.ctx.state.devices(this.ctx.self.address);
    return own.some((d) => d.deviceId !== this.ctx.self.deviceId);
  }

  /** Forgets when the own device list was read, so the next sync copy reads it again. */
  ownDevicesChanged(): void {
    this.ownDevicesCheckedAt = Number.NEGATIVE_INFINITY;
  }

  private async sendSync(
    frame: Uint8Array,
    requestId: Uint8Array,
    call: CallOptions | undefined,
  ): Promise<void> {
    if (this.ctx.now() - this.ownDevicesCheckedAt >= OWN_DEVICES_REFRESH_MS) {
      await this.ctx.fanout.refreshOwnDevices(call);
      this.ownDevicesCheckedAt = this.ctx.now();
    }
    // Identified: the service lists the own account's devices except this one (docs/SERVICE.md
    // §7.1), and the sender is the account itself, so the server learns nothing it did not know.
    // With no other device nothing is sent.
    await this.ctx.fanout.send(
      this.ctx.self.address,
      frame,
      requestId,
      { mode: 'identified' },
      call,
    );
  }
}
