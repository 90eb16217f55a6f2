/**
 * The send path of `SealpostClient` (docs/SDK.md §Sending, §Outbox): the message to every
 * device of the recipient under a fresh random request id, then its sync copy for the own
 * account's other devices queued in the outbox and sent later as a request of its own, under
 * another fresh id. Nothing in either request (ids, times, sizes beyond padding) relates it to
 * the other.
 */
import type { Rng } from '../crypto/backend.ts';
import { utf8 } from '../util/bytes.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import { createRequestId } from '../wire/api/message-id.ts';
import type { CallOptions } from './call-options.ts';
import type { SendResult } from './client-options.ts';
import type { ClientState, Registration } from './client-state.ts';
import { CONTENT_KIND_MESSAGE, CONTENT_KIND_SYNC, encodeContent } from './content.ts';
import type { Fanout } from './fanout.ts';
import { Outbox, type OutboxOptions } from './outbox.ts';

/** Own device lists are re-read from the service at most this often before a sync copy. */
export const OWN_DEVICES_REFRESH_MS = 5 * 60 * 1000;

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

  /** Seals for every device of `recipient`, then queues the sync copy. */
  async send(
    recipient: string,
    content: Uint8Array | string,
    identified: boolean,
    call?: CallOptions,
  ): Promise<SendResult> {
    const text = typeof content === 'string';
    const body = text ? utf8(content) : content;
    const frame = {
      text,
      senderAccessKey: this.ctx.self.accessKey,
      sentAt: this.ctx.now(),
      body,
    };
    const plaintext = encodeContent({ ...frame, kind: CONTENT_KIND_MESSAGE });
    const sync = encodeContent({ ...frame, kind: CONTENT_KIND_SYNC, destination: recipient });
    const requestId = createRequestId(this.ctx.rng);
    const delivery = identified
      ? ({ mode: 'identified' } as const)
      : ({ mode: 'sealed', accessKey: await this.ctx.state.accessKey(recipient) } as const);
    const sent = await this.ctx.fanout.send(recipient, plaintext, requestId, delivery, call);
    const result = { messageId: toBase64Url(requestId), recipientDevices: sent?.devices ?? 0 };
    if (!(await this.mayHaveOtherDevices())) return { ...result, sync: 'none' };
    // Queued only once the message went out: a send that failed has no copy to make.
    await this.outbox.enqueue(sync);
    return { ...result, sync: 'queued' };
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
