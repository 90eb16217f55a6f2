/**
 * An app's own test with the Sealpost test kit: the real service runs in this process (no
 * network, no AWS), and clients are made by the kit, so the test controls time too.
 */
import { TestSealpost } from '@sealpost/testing';
import { NoTokensError } from 'sealpost';
import { describe, expect, it } from 'vitest';
import { greet, inboxLines } from './inbox.ts';

describe('inbox', () => {
  it('greets a contact, sealed, and shows the greeting on the other side', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await sealpost.register();

    await greet(alice, bob.contactCard(), 'Alice');

    expect(await inboxLines(bob, new Map([[alice.address, 'Alice']]))).toEqual([
      'Alice: Hello from Alice!',
    ]);
    expect(await inboxLines(bob, new Map())).toEqual([]);
  });

  it('writes to a stranger as a sealed message request, paid with an anonymous token', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await sealpost.register();

    // Without tokens in its wallet a client cannot write to someone whose card it lacks.
    await expect(alice.send(bob.address, 'hi')).rejects.toBeInstanceOf(NoTokensError);
    await alice.refillTokens();
    await alice.send(bob.address, 'hi');

    const { messages } = await bob.receiveBatch();
    expect(messages.map((m) => [m.text, m.sealed, m.request])).toEqual([['hi', true, true]]);
  });
});
