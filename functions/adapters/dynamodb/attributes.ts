/**
 * Hand-written AttributeValue codecs (no document client: it is not needed for a handful of
 * item shapes, and it would add to the cold-start bundle). Readers throw on a malformed stored
 * item instead of returning garbage.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ItemKey } from './keys.ts';

/** A DynamoDB item. */
export type Item = Record<string, AttributeValue>;

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });
export const B = (value: Uint8Array): AttributeValue => ({ B: value });
export const BOOL = (value: boolean): AttributeValue => ({ BOOL: value });

/** The key attributes of `key`. */
export function keyItem(key: ItemKey): Item {
  return { pk: S(key.pk), sk: S(key.sk) };
}

function corrupt(name: string): Error {
  return new Error(`stored item has a malformed attribute ${name}`);
}

export function readS(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw corrupt(name);
  return v;
}

export function readN(item: Item, name: string): number {
  const v = item[name]?.N;
  const n = v === undefined ? Number.NaN : Number(v);
  if (!Number.isFinite(n)) throw corrupt(name);
  return n;
}

export function readB(item: Item, name: string): Uint8Array {
  const v = item[name]?.B;
  if (!(v instanceof Uint8Array)) throw corrupt(name);
  return v;
}

export function readBool(item: Item, name: string): boolean {
  const v = item[name]?.BOOL;
  if (typeof v !== 'boolean') throw corrupt(name);
  return v;
}

/** Checks the record version every item carries (`v`), so a future layout cannot be misread. */
export function checkVersion(item: Item, expected: number): void {
  if (readN(item, 'v') !== expected) throw corrupt('v');
}
