/**
 * Blocking (docs/SDK.md, "Blocking and access keys"). A client keeps a local block list
 * (`meta` `blocked:<address>`, at most {@link MAX_BLOCKED_CONTACTS}) and the service keeps one
 * per account (docs/SERVICE.md §4.1). The local list drops what a blocked account sends before
 * the app sees it (receiver.ts) and refuses the app's own sends to it; the service's refuses
 * the blocked account's identified sends. A sealed send names no sender the service could
 * check, so blocking also rotates the delivery access key (key-rotation.ts) and gives the new
 * one to every contact but the blocked one.
 */
import type { StoreOp } from '../state/store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { isAddress } from '../wire/identity.ts';
import type { CallOptions } from './call-options.ts';
import { type ClientState, MAX_BLOCKED_CONTACTS, type Registration } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { KeyRotation, KeyUpdateFlush } from './key-rotation.ts';

/**
 * The ops that make the local block list the service's (an own device rotated the key after a
 * block: the list it blocked under comes with the new key, docs/SDK.md).
 *
 * @throws {ApiError | NetworkError} if the service's list cannot be read (the message that
 *   asked for it stays on the server and is tried again).
 * @example const ops = await syncBlockListOps(state, http, call);
 */
export async function syncBlockListOps(
  state: ClientState,
  http: SealpostHttpClient,
  call?: CallOptions,
): Promise<StoreOp[]> {
  const remote = new Set((await http.listBlocked(call)).blocked);
  const local = new Set(await state.blocked());
  const ops: StoreOp[] = [];
  for (const address of local) if (!remote.has(address)) ops.push(state.blockOp(address, false));
  for (const address of remote) if (!local.has(address)) ops.push(state.blockOp(address));
  return ops;
}

/** The block list of one client. */
export class Blocking {
  constructor(
    private readonly ctx: {
      readonly state: ClientState;
      readonly http: SealpostHttpClient;
      readonly self: Registration;
      readonly rotation: KeyRotation;
    },
  ) {}

  /**
   * Blocks `address`: on the local list first (its messages are dropped from now on), then on
   * the service, then a key rotation that leaves it out. Blocking it again repeats the service
   * call and the rotation (to finish one that failed).
   *
   * @throws {ArgumentTypeError} if `address` is not an address.
   * @throws {ArgumentRangeError} for the own address, or when the local list is full.
   * @throws {ApiError | NetworkError} if the service refused or could not be reached (the
   *   local block holds; block again to finish).
   */
  async block(address: string, call?: CallOptions): Promise<KeyUpdateFlush> {
    const { state, http, rotation } = this.ctx;
    this.check(address);
    if (!(await state.isBlocked(address))) {
      if ((await state.blocked()).length >= MAX_BLOCKED_CONTACTS) {
        throw new ArgumentRangeError(`at most ${MAX_BLOCKED_CONTACTS} accounts can be blocked`);
      }
      await state.store.commit([state.blockOp(address)]);
    }
    await http.blockAccount(address, call);
    return rotation.rotate(call);
  }

  /**
   * Unblocks `address` locally and on the service. The key is not rotated: the account learns
   * the current key from the next message it is sent.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} as {@link block}.
   * @throws {ApiError | NetworkError} if the service could not be told (the local list no longer
   *   holds it; unblock again to finish).
   */
  async unblock(address: string, call?: CallOptions): Promise<void> {
    const { state, http } = this.ctx;
    this.check(address);
    await state.store.commit([state.blockOp(address, false)]);
    await http.unblockAccount(address, call);
  }

  /** The local block list, in address order. */
  list(): Promise<string[]> {
    return this.ctx.state.blocked();
  }

  private check(address: string): void {
    if (!isAddress(address)) throw new ArgumentTypeError('address is not an address');
    if (address === this.ctx.self.address) {
      throw new ArgumentRangeError('an account cannot block itself');
    }
  }
}
