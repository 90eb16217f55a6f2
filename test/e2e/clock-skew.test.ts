/**
 * A device whose clock is 10 minutes off (twice the signature window) still registers, links,
 * sends and receives: the HTTP client learns the server's time from the `CLOCK_SKEW` answer and
 * signs again (docs/SERVICE.md §3.1). Runs the real service in-process (`@sealpost/testing`).
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { SealpostClient } from '#sdk/client/index.ts';
import { SIGNATURE_WINDOW_MS } from '#sdk/wire/api/limits.ts';

const TEN_MINUTES = 10 * 60 * 1000;
const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);

describe.each([
  ['ahead', TEN_MINUTES],
  ['behind', -TEN_MINUTES],
])('a client whose clock is 10 minutes %s', (_, skew) => {
  it('registers, links a device, sends, receives and syncs', async () => {
    expect(Math.abs(skew)).toBeGreaterThan(SIGNATURE_WINDOW_MS);
    const sealpost = await TestSealpost.start();
    const skewed = (store = sealpost.clientOptions().store) => ({
      ...sealpost.clientOptions(store),
      now: () => sealpost.now() + skew,
    });
    const carol = await SealpostClient.register(skewed());
    const carolPhone = await SealpostClient.link({
      ...skewed(),
      account: carol.exportAccountKey()!,
    });
    const dan = await sealpost.register();
    await carol.addContact(dan.contactCard());
    await dan.addContact(carol.contactCard());

    await carol.send(dan.address, 'from a skewed clock');
    expect(await texts(dan)).toEqual(['from a skewed clock']);
    await dan.send(carol.address, 'to a skewed clock');
    expect(await texts(carol)).toEqual(['to a skewed clock']);
    expect(await texts(carolPhone)).toEqual(['to a skewed clock']);
    expect(await carol.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    expect((await carolPhone.receiveBatch()).messages).toMatchObject([
      { text: 'from a skewed clock', sync: { destination: dan.address } },
    ]);
    expect(Math.abs(carol.http.clockOffset + skew)).toBeLessThan(1000);
  });
});
