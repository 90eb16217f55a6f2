/**
 * Contract of SharedPayloadStore (docs/PROTOCOL.md §14.8), observed through the port alone:
 * every adapter must pass it. The object goes exactly when the last reference added is
 * released; adding is a set union; a release of a reference not in the set changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { SharedPayloadStore } from '#functions/domain/ports.ts';

// Far ahead of the wall clock, in whole hours: DynamoDB Local runs TTL, and would delete a set
// whose `ttl` is already past while a test still uses it.
const HOUR = 3_600_000;
const EXPIRES = 1_138_889 * HOUR;

const refs = (n: number) => Array.from({ length: n }, () => randomBytes(16));

/** A stored payload with `n` references, as the store writes one: references, then object. */
async function stored(payloads: SharedPayloadStore, n: number) {
  const id = randomBytes(16);
  const body = randomBytes(1137);
  const positions = refs(n);
  await payloads.addRefs(id, positions, EXPIRES);
  await payloads.put(id, body);
  return { id, body, positions };
}

export function sharedPayloadStoreContract(
  name: string,
  make: () => Promise<SharedPayloadStore>,
): void {
  describe(`SharedPayloadStore contract: ${name}`, () => {
    it('reads a stored payload back, and nothing for an unknown id', async () => {
      const payloads = await make();
      const { id, body } = await stored(payloads, 1);
      expect(await payloads.get(id)).toEqual(body);
      expect(await payloads.get(randomBytes(16))).toBeUndefined();
    });

    it('deletes the object with the last release, not before', async () => {
      const payloads = await make();
      const { id, body, positions } = await stored(payloads, 3);
      await payloads.release(id, positions[0]!);
      await payloads.release(id, positions[1]!);
      expect(await payloads.get(id)).toEqual(body);
      await payloads.release(id, positions[2]!);
      expect(await payloads.get(id)).toBeUndefined();
    });

    it('removes a reference once: a second release of it, or of one never added, keeps the object', async () => {
      const payloads = await make();
      const { id, body, positions } = await stored(payloads, 2);
      await payloads.release(id, positions[0]!);
      await payloads.release(id, positions[0]!);
      await payloads.release(id, randomBytes(16));
      expect(await payloads.get(id)).toEqual(body);
      await payloads.release(id, positions[1]!);
      expect(await payloads.get(id)).toBeUndefined();
    });

    it('adds as a set union: a retry that adds the same references again counts nothing twice', async () => {
      const payloads = await make();
      const { id, body, positions } = await stored(payloads, 2);
      const later = refs(1);
      // The retry of the same request: its positions again, one new mailbox's position.
      await payloads.addRefs(id, [...positions, ...later], EXPIRES + HOUR);
      await payloads.put(id, body);
      for (const ref of positions) await payloads.release(id, ref);
      expect(await payloads.get(id)).toEqual(body);
      await payloads.release(id, later[0]!);
      expect(await payloads.get(id)).toBeUndefined();
    });

    it('leaves nothing after concurrent releases of every reference', async () => {
      const payloads = await make();
      const { id, positions } = await stored(payloads, 24);
      await Promise.all(positions.map((ref) => payloads.release(id, ref)));
      expect(await payloads.get(id)).toBeUndefined();
      // Releasing again, with nothing left, is harmless.
      await payloads.release(id, positions[0]!);
      expect(await payloads.get(id)).toBeUndefined();
    });

    it('keeps a reference added while the last one is released', async () => {
      const payloads = await make();
      for (let round = 0; round < 6; round++) {
        const { id, body, positions } = await stored(payloads, 1);
        const retried = refs(1);
        // A retry re-adding (then re-putting) races the acknowledgement of the last record:
        // in every order, the set ends holding the new reference and the object exists.
        await Promise.all([
          payloads.release(id, positions[0]!),
          payloads.addRefs(id, retried, EXPIRES),
        ]);
        await payloads.put(id, body);
        expect(await payloads.get(id), `round ${round}`).toEqual(body);
        await payloads.release(id, retried[0]!);
        expect(await payloads.get(id), `round ${round}`).toBeUndefined();
      }
    });
  });
}
