/**
 * Keys of the block items (docs/SERVICE.md §4.1, §8.1), beside the table's other keys (keys.ts):
 * one partition per blocking account holding one item per blocked account and the count item.
 * The partition is a new prefix; no existing key changes.
 */
import type { ItemKey } from './keys.ts';

/** Partition of the accounts `owner` blocks. */
export const blockPartition = (owner: string): string => `blk#${owner}`;
/** Sort-key prefix of the pair items ('b#' < 'count'). */
export const BLOCKED_SK_PREFIX = 'b#';
/** The item saying `owner` blocks `blocked`. */
export const blockKey = (owner: string, blocked: string): ItemKey => ({
  pk: blockPartition(owner),
  sk: `${BLOCKED_SK_PREFIX}${blocked}`,
});
/** The exact number of pair items of `owner` (the limit is checked against it). */
export const blockCountKey = (owner: string): ItemKey => ({
  pk: blockPartition(owner),
  sk: 'count',
});
