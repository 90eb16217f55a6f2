/**
 * The outbox of sync copies (docs/SDK.md §Outbox). A copy of a sent message for the own
 * account's other devices is its own identified request, sent at an independent random delay
 * after the sealed send it copies, so neither the stored records nor the request times tie the
 * two together beyond what the IP address already does. The entry is committed in one store
 * write after the sealed send succeeds, flushed by a timer, retried with backoff on failure and
 * scheduled again when the client opens its store after a restart.
 *
 * Record (`meta`, key `outbox:<base64url(requestId)>`):
 * `u8 1 || u64 dueAtMs || u32 attempts || frame` (the content frame to seal at flush time; the
 * device list may change before then and a 409/410 repair seals again anyway).
 */
import { type Rng, randomFraction } from '../crypto/backend.ts';
import { StateCorruptError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { ByteReader, ByteWriter } from '../util/bytes.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import { createRequestId } from '../wire/api/message-id.ts';
import type { CallOptions } from './call-options.ts';

const VERSION = 1;
const PREFIX = 'outbox:';

/** Default range of the random delay before a sync copy is sent (ms). */
export const DEFAULT_SYNC_DELAY_MS = { min: 2_000, max: 60_000 } as const;
/** First retry delay after a failed flush; doubles per attempt up to {@link MAX_RETRY_DELAY_MS}. */
export const FIRST_RETRY_DELAY_MS = 5_000;
/** Longest retry delay. */
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** Attempts after which a sync copy is given up (about 15 hours of retries). */
export const MAX_OUTBOX_ATTEMPTS = 20;

/** Runs `callback` after `delayMs`; returns a function that cancels it. */
export type OutboxTimer = (callback: () => void, delayMs: number) => () => void;

/** Outbox settings of {@link ClientOptions}. */
export interface OutboxOptions {
  /** Shortest random delay before a sync copy is sent (ms). @default 2000 */
  readonly minDelayMs?: number;
  /** Longest random delay (ms). @default 60000 */
  readonly maxDelayMs?: number;
  /** @default `setTimeout` (unref'd on Node, so a pending copy never keeps a process alive) */
  readonly timer?: OutboxTimer;
}

/** What a flush did. */
export interface OutboxFlush {
  /** Copies sent (or found to have no other own device to go to). */
  readonly sent: number;
  /** Copies still queued (failed this time, or not yet due). */
  readonly pending: number;
  /** Failures of this flush; given-up copies are among them. */
  readonly errors: Error[];
}

/** Sends one queued copy under its request id, with the call controls of the flush (if any). */
export type OutboxSend = (
  frame: Uint8Array,
  requestId: Uint8Array,
  call: CallOptions | undefined,
) => Promise<void>;

const defaultTimer: OutboxTimer = (callback, delayMs) => {
  const t = setTimeout(callback, delayMs) as unknown as { unref?: () => void };
  t.unref?.();
  return () => clearTimeout(t as unknown as Parameters<typeof clearTimeout>[0]);
};

interface Entry {
  readonly key: string;
  readonly dueAt: number;
  readonly attempts: number;
  readonly frame: Uint8Array;
}

function encode(dueAt: number, attempts: number, frame: Uint8Array): Uint8Array {
  return new ByteWriter(13 + frame.length)
    .u8(VERSION)
    .u64(Math.max(0, Math.floor(dueAt)))
    .u32(attempts)
    .bytes(frame)
    .finish();
}

function decode(key: string, bytes: Uint8Array): Entry {
  const r = new ByteReader(bytes, 'outbox entry', (m) => new StateCorruptError(m));
  if (r.u8() !== VERSION) throw new StateCorruptError('outbox entry record version');
  return { key, dueAt: r.u64(), attempts: r.u32(), frame: r.rest() };
}

/**
 * The delay range of `options` with defaults applied.
 *
 * @throws {RangeError} if the range is not 0 <= minDelayMs <= maxDelayMs (finite).
 * @example outboxDelays({ minDelayMs: 0 }) // { min: 0, max: 60000 }
 */
export function outboxDelays(options: OutboxOptions | undefined): { min: number; max: number } {
  const min = options?.minDelayMs ?? DEFAULT_SYNC_DELAY_MS.min;
  const max = options?.maxDelayMs ?? Math.max(min, DEFAULT_SYNC_DELAY_MS.max);
  if (!(min >= 0 && max >= min && Number.isFinite(max))) {
    throw new ArgumentRangeError('outbox delays must satisfy 0 <= minDelayMs <= maxDelayMs');
  }
  return { min, max };
}

/** The durable queue of sync copies of one client. */
export class Outbox {
  private readonly min: number;
  private readonly max: number;
  private readonly timer: OutboxTimer;
  private cancel: (() => void) | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  /** @throws {RangeError} if the delay range is not 0 <= min <= max. */
  constructor(
    private readonly ctx: {
      readonly store: StateStore;
      readonly rng: Rng;
      readonly now: () => number;
      readonly send: OutboxSend;
      readonly options?: OutboxOptions | undefined;
    },
  ) {
    ({ min: this.min, max: this.max } = outboxDelays(ctx.options));
    this.timer = ctx.options?.timer ?? defaultTimer;
  }

  /**
   * Queues `frame` under a fresh random request id, due after a random delay (and after every
   * copy already queued), in one commit.
   */
  async enqueue(frame: Uint8Array): Promise<void> {
    const key = PREFIX + toBase64Url(createRequestId(this.ctx.rng));
    // Never before a copy queued earlier, so the own devices get the copies in send order.
    const latest = Math.max(0, ...(await this.entries()).map((e) => e.dueAt));
    const dueAt = Math.max(this.ctx.now() + this.randomDelay(), latest + 1);
    await this.ctx.store.commit([{ ns: 'meta', key, value: encode(dueAt, 0, frame) }]);
    await this.schedule();
  }

  /** Schedules the earliest queued entry (at start-up: entries left by an earlier run). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.schedule();
  }

  /** Cancels the timer; queued entries stay for the next {@link start}. */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Entries in the queue. */
  async size(): Promise<number> {
    return (await this.keys()).length;
  }

  /**
   * Sends every queued copy now (`all`) or only the due ones, after any flush in progress.
   * An aborted `call.signal` stops the flush: the copy being sent stays queued as it was (no
   * attempt is counted) and the flush rejects with the abort's error.
   */
  flush(all: boolean, call?: CallOptions): Promise<OutboxFlush> {
    const run = this.running.then(() => this.flushNow(all, call));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async flushNow(all: boolean, call: CallOptions | undefined): Promise<OutboxFlush> {
    const errors: Error[] = [];
    let sent = 0;
    for (const entry of await this.entries()) {
      if (!all && entry.dueAt > this.ctx.now()) continue;
      const requestId = fromBase64Url(entry.key.slice(PREFIX.length), 'outbox key');
      const ops: StoreOp[] = [];
      try {
        await this.ctx.send(entry.frame, requestId, call);
        sent++;
        ops.push({ ns: 'meta', key: entry.key, value: null });
      } catch (err) {
        if (call?.signal?.aborted) {
          // The caller gave up, the copy did not fail: it keeps its due time and attempts.
          await this.schedule();
          throw err;
        }
        errors.push(err instanceof Error ? err : new Error('sync copy failed'));
        const attempts = entry.attempts + 1;
        const retry = Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
        ops.push({
          ns: 'meta',
          key: entry.key,
          value:
            attempts >= MAX_OUTBOX_ATTEMPTS
              ? null
              : encode(this.ctx.now() + retry, attempts, entry.frame),
        });
      }
      await this.ctx.store.commit(ops);
    }
    await this.schedule();
    return { sent, pending: await this.size(), errors };
  }

  private async schedule(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
    if (this.stopped) return;
    const entries = await this.entries();
    if (entries.length === 0) return;
    const due = Math.min(...entries.map((e) => e.dueAt));
    this.cancel = this.timer(
      () => {
        this.cancel = undefined;
        // Failures stay queued with their backoff; flushOutbox() reports them.
        void this.flush(false).catch(() => undefined);
      },
      Math.max(0, due - this.ctx.now()),
    );
  }

  private randomDelay(): number {
    const u = randomFraction(this.ctx.rng);
    return this.min + Math.floor(u * (this.max - this.min + 1));
  }

  private async keys(): Promise<string[]> {
    return (await this.ctx.store.keys('meta')).filter((k) => k.startsWith(PREFIX));
  }

  private async entries(): Promise<Entry[]> {
    const out: Entry[] = [];
    for (const key of await this.keys()) {
      const bytes = await this.ctx.store.get('meta', key);
      if (bytes) out.push(decode(key, bytes));
    }
    return out.sort((a, b) => a.dueAt - b.dueAt);
  }
}
