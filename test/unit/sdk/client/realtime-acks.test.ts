/**
 * Coalesced acknowledgements over the WebSocket (sdk/client/realtime-acks.ts, docs/SERVICE.md
 * §7.3): ids committed together go in one `ack` frame of up to 100 ids, a frame's ids are
 * confirmed only by its `acked` answer, and ids refused, unsent or unconfirmed when the
 * connection ends go back to the loop's `unacked` list; and, end to end against the fake
 * realtime server, a drained backlog is acknowledged with a single frame.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SealpostClient } from '#sdk/client/index.ts';
import { ACK_WINDOW_MS, type AckChannel, AckCoalescer } from '#sdk/client/realtime-acks.ts';
import { closeServers, observed, setup } from './realtime-fake.ts';

afterEach(() => {
  vi.useRealTimers();
  return closeServers();
});

/** A channel that records its frames; `open` false makes it send nothing. */
function channel(open = true): AckChannel & { frames: string[][]; open: boolean } {
  const c = {
    frames: [] as string[][],
    open,
    ack(ids: readonly string[]) {
      if (!c.open) return undefined;
      c.frames.push([...ids]);
      return String(c.frames.length);
    },
  };
  return c;
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `id${from + i}`);

describe('AckCoalescer', () => {
  it('sends the ids of one window in one frame, after the window', () => {
    vi.useFakeTimers();
    const c = channel();
    const unacked: string[] = [];
    const acks = new AckCoalescer(c, unacked);
    for (const id of ids(3)) acks.add(id, ACK_WINDOW_MS);
    expect(c.frames).toEqual([]);
    vi.advanceTimersByTime(ACK_WINDOW_MS);
    expect(c.frames).toEqual([ids(3)]);
    acks.add('later', ACK_WINDOW_MS);
    vi.advanceTimersByTime(ACK_WINDOW_MS);
    expect(c.frames).toEqual([ids(3), ['later']]);
    expect(unacked).toEqual([]);
  });

  it('sends at once at 100 ids, and never more than 100 in a frame', () => {
    vi.useFakeTimers();
    const c = channel();
    const acks = new AckCoalescer(c, []);
    for (const id of ids(150)) acks.add(id, ACK_WINDOW_MS);
    expect(c.frames).toEqual([ids(100)]);
    acks.flush();
    expect(c.frames).toEqual([ids(100), ids(50, 100)]);
  });

  it('confirms a frame only by its acked answer; an error answer puts its ids back', () => {
    const c = channel();
    const unacked: string[] = [];
    const acks = new AckCoalescer(c, unacked);
    acks.add('a', ACK_WINDOW_MS);
    acks.flush();
    acks.add('b', ACK_WINDOW_MS);
    acks.flush();
    expect(acks.outstanding).toBe(true);
    acks.answer({ type: 'acked', id: '1', acknowledged: 1 });
    acks.answer({ type: 'error', id: '2', code: 'RATE_LIMITED', message: 'slow down' });
    // An answer to no pending frame changes nothing.
    acks.answer({ type: 'acked', id: '9', acknowledged: 1 });
    expect(unacked).toEqual(['b']);
    expect(acks.outstanding).toBe(false);
  });

  it('puts back unsent, buffered and unconfirmed ids when the connection ends', () => {
    const c = channel();
    const unacked: string[] = [];
    const acks = new AckCoalescer(c, unacked);
    acks.add('sent', ACK_WINDOW_MS);
    acks.flush();
    acks.add('buffered', ACK_WINDOW_MS);
    acks.abandon();
    expect(unacked.sort()).toEqual(['buffered', 'sent']);
    expect(acks.outstanding).toBe(false);

    c.open = false;
    const later: string[] = [];
    const closed = new AckCoalescer(c, later);
    closed.add('x', ACK_WINDOW_MS);
    closed.flush();
    expect(later).toEqual(['x']);
    expect(closed.outstanding).toBe(false);
  });
});

describe('receive() acknowledgements over a WebSocket', () => {
  it('acknowledges a drained backlog with one ack frame', async () => {
    const { alice, bob, server, options } = await setup();
    for (const text of ['m1', 'm2', 'm3']) await alice.send(bob.address, text);
    const abort = new AbortController();
    const texts: string[] = [];
    const loop = (async () => {
      for await (const m of (await SealpostClient.open(options)).receive(
        observed(abort.signal, [], server),
      )) {
        texts.push(m.text ?? '');
      }
    })();
    await server.until(() => server.acked.length === 3);
    abort.abort();
    await loop;

    expect(texts).toEqual(['m1', 'm2', 'm3']);
    const ackFrames = server.connections.flatMap((c) => c.frames.filter((f) => f.type === 'ack'));
    expect(ackFrames).toHaveLength(1);
    expect(ackFrames[0]?.type === 'ack' && ackFrames[0].messageIds).toHaveLength(3);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('sends what is buffered when the loop ends, before the socket closes', async () => {
    const { alice, bob, server, options } = await setup();
    const abort = new AbortController();
    const states: string[] = [];
    const texts: string[] = [];
    const loop = (async () => {
      for await (const m of (await SealpostClient.open(options)).receive(
        observed(abort.signal, states as never[], server),
      )) {
        texts.push(m.text ?? '');
        // Ends the loop right after the message: its id is committed when the loop asks for
        // the next one, inside the push window.
        abort.abort();
      }
    })();
    await server.until(() => states.includes('open'));
    await alice.send(bob.address, 'pushed');
    await server.pushNewest();
    await loop;

    expect(texts).toEqual(['pushed']);
    // Acknowledged over the socket (no separate HTTP acknowledgement), before the close.
    expect(server.acked).toHaveLength(1);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });
});
