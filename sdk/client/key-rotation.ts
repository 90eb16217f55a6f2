/**
 * Delivery access key rotation (docs/SDK.md, "Blocking and access keys"). A rotation draws a
 * random key and, in this order, so that a crash at any point loses nothing:
 *
 * 1. commits, in one write, the key as the registration's key, the mark that the service does
 *    not have it yet, and a pending key update for every contact (`ClientState.contacts` that
 *    are accepted, docs/SDK.md §Message requests; the blocked ones left out) and for the own
 *    account;
 * 2. sets it on the service (`PUT /v1/account/settings`) and clears the mark;
 * 3. sends each pending key update (content kind 3, built from the registration's key when it
 *    goes out, so a later rotation's key is what a late update carries) and deletes it once
 *    sent. Sealed with the contact's access key when the client holds one the service accepts,
 *    identified otherwise (the service then learns the pair, as for a first contact); to the
 *    own account identified, as every copy to the own devices (docs/SDK.md, "Sending").
 *
 * Updates are delivered only after the service has the key (a contact that learned it earlier
 * would be refused). Failed ones stay with a backoff (5 s doubling to an hour, 20 attempts) and
 * go out on a timer, at `flushKeyUpdates()`, at the next rotation, and after a restart
 * (`SealpostClient.open` schedules them). A contact whose own updates refuse us (`BLOCKED`) or
 * whose account is gone (`NOT_FOUND`) is dropped at once.
 *
 * Records (`meta`): `key-rotation` = `u8 1` (the service may not have the registration's key);
 * `key-update:<address>` = `u8 1 || u64 dueAtMs || u32 attempts`.
 */
import type { Rng } from '../crypto/backend.ts';
import { StateCorruptError } from '../errors.ts';
import type { StoreOp } from '../state/store.ts';
import { ByteReader, ByteWriter } from '../util/bytes.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import { ACCESS_KEY_BYTES } from '../wire/api/limits.ts';
import { createRequestId } from '../wire/api/message-id.ts';
import { isAddress } from '../wire/identity.ts';
import type { CallOptions } from './call-options.ts';
import { adoptAccessKey, type ClientState, type Registration } from './client-state.ts';
import { CONTENT_KIND_KEY_UPDATE, encodeContent } from './content.ts';
import { ApiError, SealedSendUnauthorizedError } from './errors.ts';
import type { Fanout } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import {
  FIRST_RETRY_DELAY_MS,
  MAX_OUTBOX_ATTEMPTS,
  MAX_RETRY_DELAY_MS,
  type OutboxTimer,
} from './outbox.ts';

const VERSION = 1;
const PENDING_KEY = 'key-rotation';
const PREFIX = 'key-update:';
const updateKey = (address: string) => `${PREFIX}${address}`;

/** Answers after which a key update is dropped instead of tried again. */
const FINAL_CODES: ReadonlySet<string> = new Set(['BLOCKED', 'NOT_FOUND', 'FORBIDDEN']);

/** What a rotation or a flush of key updates did. */
export interface KeyUpdateFlush {
  /** Key updates sent (to the own account: also when it has no other device). */
  readonly sent: number;
  /** Key updates still pending (failed this time, or not yet due). */
  readonly pending: number;
  /** Failures of this flush; dropped updates are among them. */
  readonly errors: Error[];
}

interface Entry {
  readonly address: string;
  readonly dueAt: number;
  readonly attempts: number;
}

const defaultTimer: OutboxTimer = (callback, delayMs) => {
  const t = setTimeout(callback, delayMs) as unknown as { unref?: () => void };
  t.unref?.();
  return () => clearTimeout(t as unknown as Parameters<typeof clearTimeout>[0]);
};

/** The wait after `attempts` consecutive failures (none: at once). */
function retryDelay(attempts: number): number {
  if (attempts === 0) return 0;
  return Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
}

function entryOp(address: string, dueAt: number, attempts: number): StoreOp {
  const value = new ByteWriter(13)
    .u8(VERSION)
    .u64(Math.max(0, Math.floor(dueAt)))
    .u32(attempts)
    .finish();
  return { ns: 'meta', key: updateKey(address), value };
}

function decodeEntry(address: string, bytes: Uint8Array): Entry {
  const r = new ByteReader(bytes, 'key update', (m) => new StateCorruptError(m));
  if (r.u8() !== VERSION) throw new StateCorruptError('key update record version');
  const entry = { address, dueAt: r.u64(), attempts: r.u32() };
  r.end();
  return entry;
}

/** Rotations of one client's access key and the queue of key updates they leave. */
export class KeyRotation {
  private readonly timer: OutboxTimer;
  private cancel: (() => void) | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Consecutive failures to give the service the key (backs off the timer). */
  private confirmFailures = 0;

  constructor(
    private readonly ctx: {
      readonly state: ClientState;
      readonly http: SealpostHttpClient;
      readonly fanout: Fanout;
      readonly self: Registration;
      readonly rng: Rng;
      readonly now: () => number;
      readonly timer?: OutboxTimer | undefined;
    },
  ) {
    this.timer = ctx.timer ?? defaultTimer;
  }

  /**
   * Rotates the key (steps 1-3 above) and reports the deliveries.
   *
   * @throws {ApiError | NetworkError | AbortedError} if the service could not be given the key:
   *   the client already uses it, and the next flush sets it again before any update goes out.
   */
  rotate(call?: CallOptions): Promise<KeyUpdateFlush> {
    return this.serially(async () => {
      const { state, self } = this.ctx;
      const key = this.ctx.rng(ACCESS_KEY_BYTES);
      const blocked = new Set(await state.blocked());
      // Only accepted contacts: a message request's sender gets nothing from this account
      // until it is accepted (docs/SDK.md §Message requests).
      const accepted = new Set(await state.accepted());
      const contacts = (await state.contacts()).filter(
        (a) => a !== self.address && !blocked.has(a) && accepted.has(a),
      );
      const now = this.ctx.now();
      const ops: StoreOp[] = [
        state.registrationOp({ ...self, accessKey: key }),
        { ns: 'meta', key: PENDING_KEY, value: Uint8Array.of(VERSION) },
        ...[self.address, ...contacts].map((a) => entryOp(a, now, 0)),
      ];
      // Updates a blocked account still had pending from an earlier rotation never go out.
      for (const e of await this.entries()) {
        if (blocked.has(e.address))
          ops.push({ ns: 'meta', key: updateKey(e.address), value: null });
      }
      await state.store.commit(ops);
      adoptAccessKey(self, key);
      return this.flushNow(true, call);
    });
  }

  /**
   * Gives the service the key if it may not have it, then sends every pending key update
   * (`all`) or the due ones, after any rotation or flush in progress.
   *
   * @throws {ApiError | NetworkError | AbortedError} if the service could not be given the key
   *   (nothing was delivered), or `call.signal` aborted (the update in flight stays pending).
   */
  flush(all: boolean, call?: CallOptions): Promise<KeyUpdateFlush> {
    return this.serially(() => this.flushNow(all, call));
  }

  /** Schedules the pending work (at start-up: what an earlier run left). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.schedule();
  }

  /** Cancels the timer; pending updates stay for the next {@link start}. */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Key updates waiting to be sent. */
  async pending(): Promise<number> {
    return (await this.entries()).length;
  }

  private serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.running.then(run);
    this.running = next.catch(() => undefined);
    return next;
  }

  private async flushNow(all: boolean, call: CallOptions | undefined): Promise<KeyUpdateFlush> {
    const { state } = this.ctx;
    try {
      await this.confirm(call);
      this.confirmFailures = 0;
    } catch (err) {
      if (!call?.signal?.aborted) this.confirmFailures++;
      await this.schedule();
      throw err;
    }
    const errors: Error[] = [];
    let sent = 0;
    let ownRefreshed = false;
    const blocked = new Set(await state.blocked());
    const accepted = new Set(await state.accepted());
    for (const entry of await this.entries()) {
      if (!all && entry.dueAt > this.ctx.now()) continue;
      const key = updateKey(entry.address);
      const own = entry.address === this.ctx.self.address;
      // Blocked, or declined since it was queued: no update goes out.
      if (blocked.has(entry.address) || (!own && !accepted.has(entry.address))) {
        await state.store.commit([{ ns: 'meta', key, value: null }]);
        continue;
      }
      let op: StoreOp;
      try {
        if (entry.address === this.ctx.self.address && !ownRefreshed) {
          // A device linked since the list was last read must get the key too.
          await this.ctx.fanout.refreshOwnDevices(call);
          ownRefreshed = true;
        }
        await this.deliver(entry.address, call);
        sent++;
        op = { ns: 'meta', key, value: null };
      } catch (err) {
        if (call?.signal?.aborted) {
          await this.schedule();
          throw err;
        }
        errors.push(err instanceof Error ? err : new Error('key update failed'));
        const attempts = entry.attempts + 1;
        const final =
          attempts >= MAX_OUTBOX_ATTEMPTS || (err instanceof ApiError && FINAL_CODES.has(err.code));
        op = final
          ? { ns: 'meta', key, value: null }
          : entryOp(entry.address, this.ctx.now() + retryDelay(attempts), attempts);
      }
      await state.store.commit([op]);
    }
    await this.schedule();
    return { sent, pending: await this.pending(), errors };
  }

  /** Sets the registration's key on the service if the mark says it may not have it. */
  private async confirm(call: CallOptions | undefined): Promise<void> {
    const { state, self, http } = this.ctx;
    if ((await state.store.get('meta', PENDING_KEY)) === undefined) return;
    await http.updateSettings({ accessKey: toBase64Url(self.accessKey) }, call);
    await state.store.commit([{ ns: 'meta', key: PENDING_KEY, value: null }]);
  }

  /** Sends one key update with the registration's current key. */
  private async deliver(address: string, call: CallOptions | undefined): Promise<void> {
    const { state, self, fanout, rng } = this.ctx;
    const frame = encodeContent({
      kind: CONTENT_KIND_KEY_UPDATE,
      text: false,
      senderAccessKey: self.accessKey,
      sentAt: this.ctx.now(),
      body: new Uint8Array(0),
    });
    if (address === self.address) {
      await fanout.send(address, frame, createRequestId(rng), { mode: 'identified' }, call);
      return;
    }
    const accessKey = await state.accessKey(address);
    if (accessKey) {
      try {
        await fanout.send(
          address,
          frame,
          createRequestId(rng),
          { mode: 'sealed', auth: { accessKey } },
          call,
        );
        return;
      } catch (err) {
        // The contact rotated too and its update has not reached us: no key of it is valid.
        if (!(err instanceof SealedSendUnauthorizedError)) throw err;
      }
    }
    await fanout.send(address, frame, createRequestId(rng), { mode: 'identified' }, call);
  }

  private async schedule(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
    if (this.stopped) return;
    const unconfirmed = (await this.ctx.state.store.get('meta', PENDING_KEY)) !== undefined;
    const entries = await this.entries();
    if (!unconfirmed && entries.length === 0) return;
    const due = unconfirmed
      ? this.ctx.now() + retryDelay(this.confirmFailures)
      : Math.min(...entries.map((e) => e.dueAt));
    this.cancel = this.timer(
      () => {
        this.cancel = undefined;
        // Failures stay pending with their backoff; flushKeyUpdates() reports them.
        void this.flush(false).catch(() => undefined);
      },
      Math.max(0, due - this.ctx.now()),
    );
  }

  private async entries(): Promise<Entry[]> {
    const out: Entry[] = [];
    const { store } = this.ctx.state;
    for (const key of await store.keys('meta')) {
      if (!key.startsWith(PREFIX)) continue;
      const address = key.slice(PREFIX.length);
      const bytes = await store.get('meta', key);
      if (bytes && isAddress(address)) out.push(decodeEntry(address, bytes));
    }
    return out.sort((a, b) => a.dueAt - b.dueAt || a.address.localeCompare(b.address));
  }
}
