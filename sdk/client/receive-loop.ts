/**
 * The receive loop over the fetch and acknowledge routes (docs/SDK.md §Receiving): a batch call
 * and an async iterator. Acknowledgements are sent only for ids whose processing has been
 * committed (or that can never be read), batched per fetched page.
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import { MAX_FETCH_BATCH } from '../wire/api/limits.ts';
import type { DeliveredMessage } from '../wire/api/schemas.ts';
import type { ClientState, Registration } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';
import {
  type AppHandler,
  type IncomingMessage,
  type Outcome,
  type ReceiveFailure,
  Receiver,
} from './receiver.ts';
import type { DeviceChangeListener } from './sender-check.ts';

export type { AppHandler, IncomingMessage, ReceiveFailure };

/** Options of a batch receive. */
export interface ReceiveOptions {
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Batch and streaming receive for one device. */
export class ReceiveLoop {
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
      readonly onDeviceChange?: DeviceChangeListener | undefined;
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
    const res = await this.ctx.http.fetchMessages({
      limit: options.limit ?? MAX_FETCH_BATCH,
      ...(options.cursor ? { cursor: options.cursor } : {}),
    });
    const messages: IncomingMessage[] = [];
    const failures: ReceiveFailure[] = [];
    const ack: string[] = [];
    for (const delivered of res.messages) {
      const { outcome, ack: shouldAck } = await this.receiver.process(delivered, options.onMessage);
      if (shouldAck) ack.push(delivered.messageId);
      this.collect(outcome, messages, failures, options.onFailure);
    }
    if (ack.length > 0) await this.ctx.http.ackMessages(ack);
    await this.maybePrune();
    return res.cursor ? { messages, failures, cursor: res.cursor } : { messages, failures };
  }

  /**
   * Yields messages as they arrive; each is committed and acknowledged once the consumer asks
   * for the next one. Polls every `pollIntervalMs` when the mailbox is empty; ends when
   * `signal` aborts.
   */
  async *iterate(options: {
    readonly signal?: AbortSignal;
    readonly pollIntervalMs?: number;
    readonly onFailure?: (failure: ReceiveFailure) => void;
  }): AsyncGenerator<IncomingMessage, void, undefined> {
    const { signal } = options;
    const poll = options.pollIntervalMs ?? 1000;
    let cursor: string | undefined;
    while (!signal?.aborted) {
      const res = await this.ctx.http.fetchMessages({
        limit: MAX_FETCH_BATCH,
        ...(cursor ? { cursor } : {}),
      });
      const ack: string[] = [];
      try {
        for (const delivered of res.messages) {
          const step = this.start(delivered);
          const message = await step.message;
          if (message) {
            let finished = false;
            try {
              yield message;
              finished = true;
            } finally {
              step.release(finished);
              if ((await step.done).ack) ack.push(delivered.messageId);
            }
          } else {
            const { outcome, ack: shouldAck } = await step.done;
            if (shouldAck) ack.push(delivered.messageId);
            this.collect(outcome, [], [], options.onFailure);
          }
          if (signal?.aborted) return;
        }
      } finally {
        if (ack.length > 0) await this.ctx.http.ackMessages(ack);
      }
      await this.maybePrune();
      cursor = res.cursor;
      if (res.messages.length === 0 && !cursor) await sleep(poll, signal);
    }
  }

  /**
   * Starts processing one message with a handler that waits for the consumer: `message`
   * resolves with the decrypted message (or undefined if processing ended without one), and
   * `release(true)` lets the commit proceed while `release(false)` abandons it.
   */
  private start(delivered: DeliveredMessage) {
    let release!: (ok: boolean) => void;
    const gate = new Promise<boolean>((r) => {
      release = r;
    });
    let reached!: (m: IncomingMessage) => void;
    const handed = new Promise<IncomingMessage>((r) => {
      reached = r;
    });
    const done = this.receiver.process(delivered, async (m) => {
      reached(m);
      if (!(await gate)) throw new HandedBack();
    });
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
  }
}
