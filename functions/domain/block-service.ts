/**
 * Block lists (docs/SERVICE.md §4.1). An account may block up to `MAX_BLOCKED_ACCOUNTS` other
 * accounts; the service then refuses their identified sends to it (`403 BLOCKED`, checked by
 * `MessageService.sendIdentified`). It cannot refuse their sealed sends, whose sender it does not
 * know: the blocking client rotates its delivery access key instead (docs/SDK.md, "Blocking and
 * access keys"). What the service learns is the block relation itself, as it learns the pair
 * of an identified first contact. Blocking an address does not check that it is registered,
 * so the routes answer the same for every well-formed address.
 */
import {
  type BlockAdded,
  type BlockList,
  type BlockRemoved,
  MAX_BLOCKED_ACCOUNTS,
} from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import { ServiceError } from './errors.ts';
import type { BlockStore } from './ports.ts';

/** Adding, removing and listing the accounts an account blocks. */
export class BlockService {
  /**
   * @param limit most accounts one account may block
   * @throws {RangeError} if `limit` is not a positive integer.
   */
  constructor(
    private readonly blocks: BlockStore,
    private readonly limit: number = MAX_BLOCKED_ACCOUNTS,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError('the block limit must be a positive integer');
    }
  }

  /**
   * Blocks `address` for the caller's account; blocking it again answers `added: false`.
   *
   * @throws {ServiceError} `BAD_REQUEST` for the caller's own address, `BLOCK_LIMIT` when the
   *   account already blocks as many accounts as allowed.
   * @example await blocks.block(caller, spammer) // { address: spammer, added: true }
   */
  async block(caller: Caller, address: string): Promise<BlockAdded> {
    if (address === caller.address) {
      throw new ServiceError('BAD_REQUEST', 'an account cannot block itself');
    }
    const result = await this.blocks.add(caller.address, address, this.limit);
    if (result === 'limit') {
      throw new ServiceError('BLOCK_LIMIT', `an account blocks at most ${this.limit} accounts`);
    }
    return { address, added: result === 'added' };
  }

  /**
   * Unblocks `address`; `removed` is false when it was not blocked.
   *
   * @example await blocks.unblock(caller, friend) // { address: friend, removed: true }
   */
  async unblock(caller: Caller, address: string): Promise<BlockRemoved> {
    return { address, removed: await this.blocks.remove(caller.address, address) };
  }

  /**
   * Every account the caller's account blocks, in address order.
   *
   * @example (await blocks.list(caller)).blocked
   */
  async list(caller: Caller): Promise<BlockList> {
    return { blocked: await this.blocks.list(caller.address) };
  }
}
