/**
 * The receive loop over the fetch and acknowledge routes (docs/SDK.md §Receiving): a batch call
 * and an async iterator. Acknowledgements are sent only for ids whose processing has been
 * committed (or that can never be read), batched per fetched page: the iterator's ride on its
 * next fetch (`GET /v1/messages?ack=`), and go in a request of their own only when no fetch
 * follows (the loop stops).
 *
 * The iterator outlives transient failures (docs/SDK.md §Receiving, "A long-running loop"):
 * a fetch or acknowledgement that fails with a retryable error is reported to `onRetry` and
 * tried again after an exponential backoff with jitter, so a fleet of clients that lost the
 * service at the same moment does not return in lockstep. Nothing is lost meanwhile: messages
 * stay on the server until acknowledged, and ids acknowledged late come again as seen ids.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import { MAX_FETCH_BATCH } from '../wire/api/limits.ts';
import type { DeliveredMessage, FetchResponse } from '../wire/api/schemas.ts';
import type { CallOptions } from './call-options.ts';
import { callOf } from './client-options.ts';
import type { ClientState, Registration } from './client-state.ts';
import { ApiError, type SealpostClientError } from './errors.ts';
import { MAX_FETCH_ACK_IDS, type SealpostHttpClient } from './http-client.ts';
import { type RealtimeConfig, receiveStream } from './realtime-loop.ts';
import {
  anySignal,
  backoffBounds,
  type ConnectionState,
  EXIT_ACK_TIMEOUT_MS,
  isTransient,
  type MessagePump,
  type ReceiveStreamOptions,
  receiveRetryDelay,
  sleep,
} from './receive-common.ts';
import {
  type AppHandler,
  type IncomingMessage,
  type Outcome,
  type ReceivedAttachments,
  type ReceiveFailure,
  Receiver,
} from './receiver.ts';
import type { ReportIntake } from './report-intake.ts';
import type { DeviceChangeListener } from './sender-check.ts';

export {
  DEFAULT_RECEIVE_BACKOFF,
  EXIT_ACK_TIMEOUT_MS,
  isTransient,
  type ReceiveBackoff,
  type ReceiveRetry,
  type ReceiveStreamOptions,
  receiveRetryDelay,
} from './receive-common.ts';
export type { AppHandler, ConnectionState, IncomingMessage, ReceiveFailure };

/** Options of a batch receive; `signal` and `timeoutMs` apply to every request of the batch. */
export interface ReceiveOptions extends CallOptions {
  /** Messages to fetch (1..100). @default 100 */
  readonly limit?: number;
  /** Opaque position to continue after (from a previous batch's `cursor`). */
  readonly cursor?: string;
  /** Runs for each message before its state is committed; throwing keeps the message queued. */
  readonly onMessage?: AppHandler;
  /** Told about every message that was not delivered to the app. */
  readonly onFailure?: (failure: ReceiveFailure) => void;
}

/** The result of one batch. */
export interface ReceiveBatch {
  readonly messages: IncomingMessage[];
  readonly failures: ReceiveFailure[];
  /** Present when more messages may follow after this batch. */
  readonly cursor?: string;
}

/** Seen ids are pruned at most this often. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Thrown into the engine's handler when the app left the loop before finishing a message. */
class HandedBack extends Error {}

/** Batch and streaming receive for one device. */
export class ReceiveLoop implements MessagePump {
  private readonly receiver: Receiver;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: {
      readonly engine: ProtocolEngine;
      readonly http: SealpostHttpClient;
      readonly state: ClientState;
      readonly backend: CryptoBackend;
      readonly self: Registration;
      readonly now: () => number;
      /** Jitter of the backoff. */
      readonly rng: Rng;
      readonly onDeviceChange?: DeviceChangeListener | undefined;
      /** Receive over a WebSocket (docs/SDK.md §Receiving, "Realtime"); polling without. */
      readonly realtime?: RealtimeConfig | undefined;
      /** Binds the downloads of received attachments to the client (docs/SDK.md §Attachments). */
      readonly attachments: ReceivedAttachments;
      /** Reports and suspensions (docs/SDK.md §Reporting, §Suspended senders). */
      readonly intake: ReportIntake;
    },
  ) {
    this.receiver = new Receiver(ctx);
  }

  /**
   * Fetches one page, processes every message in order, then acknowledges.
   *
   * @throws {ApiError | NetworkError} if the fetch or the acknowledgement fails (an
   *   unacknowledged message comes again and is then recognised as seen).
   */
  async batch(options: ReceiveOptions): Promise<ReceiveBatch> {
    const call = callOf(options);
    const res = await this.ctx.http.fetchMessages(
      {
        limit: options.limit ?? MAX_FETCH_BATCH,
        ...(options.cursor ? { cursor: options.cursor } : {}),
      },
      call,
    );
    const messages: IncomingMessage[] = [];
    const failures: ReceiveFailure[] = [];
    const ack: string[] = [];
    // docs/SDK.md §Suspended senders: the revocation list is fresh before a batch is opened.
    if (res.messages.length > 0) await this.ctx.intake.beforeBatch(call);
    for (const delivered of res.messages) {
      const { outcome, ack: shouldAck } = await this.receiver.process(
        delivered,
        options.onMessage,
        call,
      );
      if (shouldAck) ack.push(delivered.messageId);
      this.collect(outcome, messages, failures, options.onFailure);
    }
    if (ack.length > 0) await this.ctx.http.ackMessages(ack, call);
    await this.maybePrune();
    return res.cursor ? { messages, failures, cursor: res.cursor } : { messages, failures };
  }

  /**
   * Yields messages as they arrive; each is committed and acknowledged once the consumer asks
   * for the next one. Over the device's WebSocket when the client has one (docs/SDK.md
   * §Receiving, "Realtime"), otherwise by polling every `pollIntervalMs` when the mailbox is
   * empty. Transient failures are reported to `onRetry` and waited out with backoff; ends when
   * `signal` aborts.
   *
   * @throws {SealpostClientError} a failure that is not transient (e.g. `UNAUTHORIZED` when
   *   this device was removed), which ends the loop.
   * @throws {RangeError} at the first iteration if `backoff` is not 0 < initial <= max.
   */
  async *iterate(options: ReceiveStreamOptions): AsyncGenerator<IncomingMessage, void, undefined> {
    backoffBounds(options.backoff ?? {});
    // Ids committed (or unreadable) and not yet acknowledged: sent before the next fetch.
    const unacked: string[] = [];
    try {
      const host = { loop: this, http: this.ctx.http, rng: this.ctx.rng };
      yield* receiveStream(host, this.ctx.realtime, options, unacked);
    } finally {
      if (unacked.length > 0) await this.ackOnExit(unacked.splice(0), options);
    }
  }

  /**
   * The polling loop. The acknowledgements of a page ride on the next fetch (its `ack`
   * parameter, docs/SERVICE.md §7.2), which follows at once: one request instead of an
   * acknowledgement and a fetch. Ids are in `unacked` only once their processing is committed
   * (or they can never be read), and leave it only when a request that acknowledged them
   * succeeded. When the loop stops instead of fetching again (`until` aborted after a page
   * that ended the queue), what is left is acknowledged with `POST /v1/messages/ack`; when
   * `options.signal` aborts, the caller's exit acknowledgement does it. Ends when
   * `options.signal` aborts, or after the fetch that follows `until` aborting (used between
   * WebSocket attempts).
   *
   * @throws {SealpostClientError} a failure that is not transient.
   */
  async *poll(
    options: ReceiveStreamOptions,
    unacked: string[],
    until?: AbortSignal,
  ): AsyncGenerator<IncomingMessage, void, undefined> {
    const { signal } = options;
    const call = callOf(options);
    const poll = options.pollIntervalMs ?? 1000;
    const waits = until ? anySignal(signal, until) : signal;
    let cursor: string | undefined;
    let failures = 0;
    while (!signal?.aborted) {
      let res: FetchResponse;
      try {
        res = await this.fetchAcknowledging(unacked, cursor, call);
      } catch (err) {
        if (signal?.aborted) return;
        if (!isTransient(err)) throw err;
        failures++;
        await this.wait(err, failures, options, waits);
        if (until?.aborted) return;
        continue;
      }
      failures = 0;
      for (const delivered of res.messages) {
        yield* this.deliver(delivered, options, (id) => unacked.push(id));
        if (signal?.aborted) return;
      }
      await this.maybePrune();
      cursor = res.cursor;
      if (res.messages.length === 0 && !cursor) await sleep(poll, waits);
      if (until?.aborted && !cursor) {
        // No fetch follows to carry them; a failure leaves them to the next connection or poll.
        await this.ackQuietly(unacked, call);
        return;
      }
    }
  }

  /**
   * One page after `cursor`, acknowledging up to {@link MAX_FETCH_ACK_IDS} ids of `unacked` with
   * it (more are posted first); the ids acknowledged leave `unacked` once the request succeeded.
   *
   * @throws {SealpostClientError} as the fetch and the acknowledgement.
   */
  private async fetchAcknowledging(
    unacked: string[],
    cursor: string | undefined,
    call: CallOptions | undefined,
  ): Promise<FetchResponse> {
    const ids = [...new Set(unacked)];
    const riding = ids.slice(-MAX_FETCH_ACK_IDS);
    // More than a fetch carries (a full page, or ids a socket handed back): the rest first.
    if (ids.length > riding.length) {
      const posted = ids.slice(0, ids.length - riding.length);
      await this.ackAll(posted, call);
      removeIds(unacked, posted);
    }
    const res = await this.ctx.http.fetchMessages(
      {
        // Pages no larger than a fetch acknowledges: a page's ids all ride on the next one.
        limit: MAX_FETCH_ACK_IDS,
        ...(cursor ? { cursor } : {}),
        ...(riding.length > 0 ? { ack: riding } : {}),
      },
      call,
    );
    removeIds(unacked, riding);
    return res;
  }

  /** `POST /v1/messages/ack` of `ids`, {@link MAX_FETCH_BATCH} distinct ids per request. */
  private async ackAll(ids: readonly string[], call: CallOptions | undefined): Promise<void> {
    const distinct = [...new Set(ids)];
    for (let i = 0; i < distinct.length; i += MAX_FETCH_BATCH) {
      await this.ctx.http.ackMessages(distinct.slice(i, i + MAX_FETCH_BATCH), call);
    }
  }

  /**
   * Acknowledges `unacked` (emptying it on success) when the polling loop stops without the
   * loop ending; a transient failure leaves the ids for whatever receives next.
   *
   * @throws {SealpostClientError} a failure that is not transient.
   */
  private async ackQuietly(unacked: string[], call: CallOptions | undefined): Promise<void> {
    if (unacked.length === 0) return;
    const ids = [...unacked];
    try {
      await this.ackAll(ids, call);
      removeIds(unacked, ids);
    } catch (err) {
      if (!isTransient(err)) throw err;
    }
  }

  /**
   * Processes one delivered message and yields it to the consumer; `ack(id)` is called once
   * its processing is committed (or it can never be read), also when the consumer left the loop.
   */
  async *deliver(
    delivered: DeliveredMessage,
    options: ReceiveStreamOptions,
    ack: (messageId: string) => void,
  ): AsyncGenerator<IncomingMessage, void, undefined> {
    // Polled pages and pushed frames alike (at most one fetch per `revocationRefreshMs`).
    await this.ctx.intake.beforeBatch(callOf(options));
    const step = this.start(delivered, callOf(options));
    const message = await step.message;
    if (message) {
      let finished = false;
      try {
        yield message;
        finished = true;
      } finally {
        step.release(finished);
        if ((await step.done).ack) ack(delivered.messageId);
      }
    } else {
      const { outcome, ack: shouldAck } = await step.done;
      if (shouldAck) ack(delivered.messageId);
      // A failure caused by the abort itself is no news to the app.
      if (!options.signal?.aborted) this.collect(outcome, [], [], options.onFailure);
    }
  }

  /** Reports a transient failure and waits out its backoff (or until `signal` aborts). */
  private async wait(
    error: SealpostClientError,
    attempt: number,
    options: ReceiveStreamOptions,
    signal = options.signal,
  ): Promise<void> {
    const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : undefined;
    const delayMs = receiveRetryDelay(attempt, options.backoff ?? {}, this.ctx.rng, retryAfterMs);
    try {
      options.onRetry?.({ error, attempt, delayMs });
    } catch {
      // An observer that throws must not end the loop it observes.
    }
    await sleep(delayMs, signal);
  }

  /**
   * The last acknowledgement of a loop that ends (the consumer left it, the signal aborted, or
   * a failure ended it). A transient failure is swallowed: those ids come again and are then
   * acknowledged as seen without reaching the app.
   */
  private async ackOnExit(ids: string[], options: ReceiveStreamOptions): Promise<void> {
    const aborted = options.signal?.aborted ?? false;
    // The loop's own signal is spent: a fresh one bounds this request and its retries.
    const call = aborted ? { signal: AbortSignal.timeout(EXIT_ACK_TIMEOUT_MS) } : callOf(options);
    try {
      await this.ackAll(ids, call);
    } catch (err) {
      if (!isTransient(err) && !aborted) throw err;
    }
  }

  /**
   * Starts processing one message with a handler that waits for the consumer: `message`
   * resolves with the decrypted message (or undefined if processing ended without one), and
   * `release(true)` lets the commit proceed while `release(false)` abandons it.
   */
  private start(delivered: DeliveredMessage, call: CallOptions | undefined) {
    let release!: (ok: boolean) => void;
    const gate = new Promise<boolean>((r) => {
      release = r;
    });
    let reached!: (m: IncomingMessage) => void;
    const handed = new Promise<IncomingMessage>((r) => {
      reached = r;
    });
    const done = this.receiver.process(
      delivered,
      async (m) => {
        reached(m);
        if (!(await gate)) throw new HandedBack();
      },
      call,
    );
    const message = Promise.race([handed, done.then(() => undefined)]);
    return { message, release, done };
  }

  private collect(
    outcome: Outcome,
    messages: IncomingMessage[],
    failures: ReceiveFailure[],
    onFailure: ((failure: ReceiveFailure) => void) | undefined,
  ): void {
    if (outcome.kind === 'delivered') messages.push(outcome.message);
    if (outcome.kind === 'failed' && !(outcome.failure.error instanceof HandedBack)) {
      failures.push(outcome.failure);
      onFailure?.(outcome.failure);
    }
  }

  private async maybePrune(): Promise<void> {
    const now = this.ctx.now();
    if (now - this.prunedAt < PRUNE_INTERVAL_MS) return;
    this.prunedAt = now;
    await this.ctx.state.pruneSeen(now);
    await this.ctx.intake.prune();
  }
}

/** Removes every occurrence of `ids` from `list`, in place. */
function removeIds(list: string[], ids: readonly string[]): void {
  const done = new Set(ids);
  let kept = 0;
  for (const id of list) if (!done.has(id)) list[kept++] = id;
  list.length = kept;
}
