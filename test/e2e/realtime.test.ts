/**
 * Push delivery end to end: SDK clients receive over the real WebSocket endpoint of the test
 * kit's local server (`listen()`), with HTTP on the same port. Bob's device is online; Alice's
 * sealed send reaches Bob's `receive()` as a pushed frame, with no poll: the server sees no
 * `GET /v1/messages` from Bob after his loop is open, and his mailbox is empty afterwards.
 */
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type ConnectionState, type FetchLike, SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';

describe('realtime delivery over the local WebSocket endpoint', () => {
  it('pushes a sealed message to an online device and acknowledges it over the socket', async () => {
    const sealpost = await TestSealpost.start();
    const { url, close } = await sealpost.listen();
    const requests: string[] = [];
    const counting: FetchLike = (input, init) => {
      requests.push(`${init.method ?? 'GET'} ${new URL(input).pathname}`);
      return fetch(input, init);
    };
    try {
      const base = { baseUrl: url, trust: sealpost.trust, now: sealpost.now };
      const alice = await SealpostClient.register({ ...base, store: new MemoryStore() });
      const bob = await SealpostClient.register({
        ...base,
        store: new MemoryStore(),
        fetch: counting,
        webSocket: WebSocket,
      });
      await alice.addContact(bob.contactCard());
      await bob.addContact(alice.contactCard());

      const states: ConnectionState[] = [];
      const abort = new AbortController();
      let opened!: () => void;
      const open = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const loop = (async () => {
        const texts: string[] = [];
        for await (const m of bob.receive({
          signal: abort.signal,
          onConnectionState: (s) => {
            states.push(s);
            if (s === 'open') opened();
          },
        })) {
          texts.push(m.text ?? '');
          if (texts.length === 2) abort.abort();
        }
        return texts;
      })();

      await open;
      const pollsBefore = requests.filter((r) => r === 'GET /v1/messages').length;
      await alice.send(bob.address, 'pushed one');
      await alice.send(bob.address, 'pushed two');
      expect(await loop).toEqual(['pushed one', 'pushed two']);
      expect(states.slice(0, 2)).toEqual(['connecting', 'open']);
      expect(states).not.toContain('polling');
      // Delivered by push: Bob's client fetched nothing over HTTP once the socket was open.
      expect(requests.filter((r) => r === 'GET /v1/messages').length).toBe(pollsBefore);
      // Acknowledged over the socket: nothing is left for Bob on the server.
      const left = await bob.receiveBatch();
      expect(left.messages).toEqual([]);
    } finally {
      await close();
    }
  });
});
