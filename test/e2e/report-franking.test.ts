/**
 * Receiver binding end to end (docs/SDK.md §Reporting, docs/PROTOCOL.md §11.5): a sender whose
 * envelope carries a commitment that does not open to the plaintext (its envelope is built by
 * `sealedSenderSeal` with a wrong commitment; everything else, the ratchet message and the
 * franking signature, is genuine) gets nothing shown: the recipient's client drops it with
 * `UnreportableMessageError` before the app's handler runs, acknowledges it, and the next
 * honest message of the same sender still arrives.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it, vi } from 'vitest';
import type { IncomingMessage } from '#sdk/client/index.ts';
import { UnreportableMessageError } from '#sdk/errors.ts';

/** Whether the next seals carry a commitment to other content than they encrypt. */
const tamper = vi.hoisted(() => ({ commitment: false }));

vi.mock('#sdk/protocol/sealed-sender.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#sdk/protocol/sealed-sender.ts')>();
  return {
    ...real,
    sealedSenderSeal: (...args: Parameters<typeof real.sealedSenderSeal>) => {
      const [backend, rng, params] = args;
      if (!tamper.commitment) return real.sealedSenderSeal(backend, rng, params);
      const wrong = params.commitment.map((b) => b ^ 0x5a);
      return real.sealedSenderSeal(backend, rng, { ...params, commitment: wrong });
    },
  };
});

describe('a message whose commitment does not open', () => {
  it('is dropped before the app sees it, and the conversation goes on', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await sealpost.register();
    await alice.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());

    tamper.commitment = true;
    try {
      await alice.send(bob.address, 'deniable abuse');
    } finally {
      tamper.commitment = false;
    }
    const seen: IncomingMessage[] = [];
    const onMessage = (m: IncomingMessage) => void seen.push(m);
    const dropped = await bob.receiveBatch({ onMessage });
    expect(seen).toEqual([]);
    expect(dropped.messages).toEqual([]);
    expect(dropped.failures).toHaveLength(1);
    const { error, acknowledged } = dropped.failures[0] ?? {};
    expect(error).toBeInstanceOf(UnreportableMessageError);
    expect((error as UnreportableMessageError).reason).toBe('commitment');
    expect(acknowledged).toBe(true);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
    expect(await bob.engine.store.keys('report')).toEqual([]);

    await alice.send(bob.address, 'honest');
    const next = await bob.receiveBatch({ onMessage });
    expect(next.failures).toEqual([]);
    expect(seen.map((m) => [m.text, m.reportable])).toEqual([['honest', true]]);
  });
});
