/**
 * Coalesced acknowledgements over the device's WebSocket (docs/SERVICE.md §7.3, docs/SDK.md
 * §Receiving, "Realtime"): ids committed close together go in one `ack` frame (up to
 * {@link MAX_FETCH_BATCH} ids), so a drained backlog costs one `ack` frame and one `acked`
 * answer instead of two frames per message. Every frame sent is remembered until its `acked`
 * answer; ids of a frame refused with an `error` answer, or left unconfirmed when the connection
 * ends, go back to the loop's `unacked` list (acknowledged by the next connection, the polling
 * loop or the loop's exit), so a socket failure loses no acknowledgement.
 */
import { MAX_FETCH_BATCH } from '../wire/api/limits.ts';
import type { AckedFrame, ErrorFrame } from '../wire/api/realtime.ts';

/** How long a committed id of a pushed message waits for others before its `ack` frame (ms). */
export const ACK_WINDOW_MS = 250;

/**
 * How long a committed id waits while the connection's drain runs (ms): the drain's ids go
 * out together at its `queue-empty` (or at {@link MAX_FETCH_BATCH} ids), this bounds a slow one.
 */
export const DRAIN_ACK_WINDOW_MS = 5_000;

/** What the coalescer sends with: an `ack` frame's id, or undefined when nothing was sent. */
export interface AckChannel {
  ack(messageIds: readonly string[]): string | undefined;
}

/** The `ack` frames of one connection (see the file comment). */
export class AckCoalescer {
  private readonly buffer: string[] = [];
  /** Frames sent and not yet answered, by frame id. */
  private readonly pending = new Map<string, readonly string[]>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param channel the connection's ack sender.
   * @param unacked the loop's ids to acknowledge later; unconfirmed ids go back to it.
   * @example const acks = new AckCoalescer(socket, unacked); acks.add(id, ACK_WINDOW_MS);
   */
  constructor(
    private readonly channel: AckChannel,
    private readonly unacked: string[],
  ) {}

  /**
   * Buffers `messageId`; the buffer goes out at {@link MAX_FETCH_BATCH} ids, or `windowMs`
   * after its first id.
   *
   * @example acks.add(message.messageId, ACK_WINDOW_MS);
   */
  add(messageId: string, windowMs: number): void {
    this.buffer.push(messageId);
    if (this.buffer.length >= MAX_FETCH_BATCH) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), windowMs);
  }

  /**
   * Sends the buffered ids now (in frames of up to {@link MAX_FETCH_BATCH}); ids that could not
   * be sent go back to `unacked`.
   *
   * @example acks.flush();
   */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0) {
      const ids = this.buffer.splice(0, MAX_FETCH_BATCH);
      const frameId = this.channel.ack(ids);
      if (frameId === undefined) {
        this.unacked.push(...ids, ...this.buffer.splice(0));
        return;
      }
      this.pending.set(frameId, ids);
    }
  }

  /**
   * Takes the server's answer to an `ack` frame: `acked` confirms its ids, an `error` puts
   * them back in `unacked`. Answers to frames of no pending id are ignored.
   *
   * @example acks.answer({ type: 'acked', id: '1', acknowledged: 3 });
   */
  answer(frame: AckedFrame | ErrorFrame): void {
    if (frame.id === undefined) return;
    const ids = this.pending.get(frame.id);
    if (!ids) return;
    this.pending.delete(frame.id);
    if (frame.type === 'error') this.unacked.push(...ids);
  }

  /** True while ids are buffered or a sent frame awaits its answer. */
  get outstanding(): boolean {
    return this.buffer.length > 0 || this.pending.size > 0;
  }

  /**
   * The connection ended: buffered ids and those of unanswered frames go back to `unacked`
   * (acknowledging an id twice is harmless).
   *
   * @example acks.abandon();
   */
  abandon(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const ids of this.pending.values()) this.unacked.push(...ids);
    this.pending.clear();
    this.unacked.push(...this.buffer.splice(0));
  }
}
