/** Bounded-concurrency mapping for the domain services' storage calls. */

/**
 * `fn` over `items` with at most `concurrency` calls in flight (so one request cannot open a
 * socket per item); results in item order. Rejects with the first failure.
 *
 * @example const bodies = await mapLimited(records, 16, (r) => blobs.get(mailbox, r.position));
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
