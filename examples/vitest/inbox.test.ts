/**
 * An app's own test with the Sealpost test kit: the real service runs in this process (no
 * network, no AWS), and clients are made by the kit, so the test controls time too.
 */
import { TestSealpost } from '@sealpost/testing';
import { SealedSendUnauthorizedError } from 'sealpost';
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

  it('cannot write sealed to someone whose card it does not have', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await sealpost.register();

    await expect(alice.send(bob.address, 'hi')).rejects.toBeInstanceOf(SealedSendUnauthorizedError);
  });
});
