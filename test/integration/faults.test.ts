/**
 * Fault injection: each storage call made by a send, a fetch and an acknowledgement fails once
 * in turn (before the call reaches storage, and after it took effect but before the answer
 * arrives). The client retries until it gets a 2xx. Afterwards every message is delivered
 * intact, nothing is lost, and the only duplicates are redeliveries of unacknowledged messages.
 */
import { describe, expect, it } from 'vitest';
import { awsPorts } from '../../functions/adapters/aws-ports.ts';
import { randomBytes } from '../../functions/domain/crypto.ts';
import { UnavailableError } from '../../functions/domain/errors.ts';
import type { Ports } from '../../functions/domain/ports.ts';
import { StaticSigningKeyProvider } from '../../functions/domain/signing-material.ts';
import { fromBase64Url, toBase64Url } from '../../sdk/wire/api/codec.ts';
import { ACCESS_KEY_HEADER } from '../../sdk/wire/api/signing.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import {
  type Call,
  harness,
  memoryPorts,
  newMessageId,
  sendBody,
  testMaterial,
} from '../unit/functions/fixtures.ts';

type Mode = 'before' | 'after';

/** Counts storage calls and fails the `failAt`-th one once. */
class FaultPlan {
  calls = 0;
  failAt = -1;
  mode: Mode = 'before';
  armed = false;
  injected = 0;
}

function withFaults(ports: Ports, plan: FaultPlan): Ports {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const n = plan.calls++;
          const fail = plan.armed && n === plan.failAt;
          if (fail && plan.mode === 'before') {
            plan.injected++;
            throw new UnavailableError('injected fault');
          }
          const result = await value.apply(t, args);
          if (fail) {
            plan.injected++;
            throw new UnavailableError('injected fault');
          }
          return result;
        };
      },
    });
  return {
    accounts: wrap(ports.accounts),
    prekeys: wrap(ports.prekeys),
    index: wrap(ports.index),
    blobs: wrap(ports.blobs),
    replay: wrap(ports.replay),
    limiter: wrap(ports.limiter),
    signingKeys: ports.signingKeys,
  };
}

const KEY = new Uint8Array(16).fill(5);

async function untilOk(h: ReturnType<typeof harness>, call: Call) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await h.call(call);
    if (res.status === 200) return res;
    expect(res.status, JSON.stringify(res.body)).toBe(503);
  }
  throw new Error('no success after retries');
}

type Phase = 'send' | 'fetch' | 'ack';

/**
 * One scenario: three messages (inline, object, and an object sent late, which goes through a
 * redirect) through send, fetch, ack; faults in `phase`. Quota counting is exact
 * (`quotaSampleEvery: 1`) so every run makes the same storage calls.
 */
async function scenario(base: Ports, phase: Phase, failAt: number, mode: Mode) {
  const plan = new FaultPlan();
  const h = harness(withFaults(base, plan), {
    config: { inlineMaxBytes: 1000, quotaSampleEvery: 1 },
    start: Date.now(),
  });
  const bob = await h.register(KEY);
  plan.armed = false;
  const envelopes = [randomBytes(300), randomBytes(3000), randomBytes(2000)];
  const ids = [
    newMessageId(h.clock.now),
    newMessageId(h.clock.now + 1),
    newMessageId(h.clock.now - 20 * 60_000),
  ];
  const arm = (p: Phase) => {
    // Every phase is counted; only `phase` gets the fault.
    plan.armed = p === phase;
    plan.calls = 0;
    plan.failAt = failAt;
    plan.mode = mode;
  };

  arm('send');
  for (const [i, env] of envelopes.entries()) {
    await untilOk(h, {
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(ids[i]!, [[1, env]]),
      headers: { [ACCESS_KEY_HEADER]: toBase64Url(KEY) },
    });
  }
  const sendCalls = plan.calls;

  arm('fetch');
  const fetched = await untilOk(h, { method: 'GET', path: '/v1/messages', signer: bob });
  const fetchCalls = plan.calls;
  const received = new Map<string, Uint8Array>();
  for (const m of fetched.body.messages) received.set(m.messageId, fromBase64Url(m.envelope));

  arm('ack');
  await untilOk(h, {
    method: 'POST',
    path: '/v1/messages/ack',
    json: { messageIds: [...received.keys()] },
    signer: bob,
  });
  const ackCalls = plan.calls;
  plan.armed = false;

  // Whatever was not delivered or not acknowledged is redelivered now (at least once).
  for (;;) {
    const more = await untilOk(h, { method: 'GET', path: '/v1/messages', signer: bob });
    if (more.body.messages.length === 0) break;
    for (const m of more.body.messages) received.set(m.messageId, fromBase64Url(m.envelope));
    await untilOk(h, {
      method: 'POST',
      path: '/v1/messages/ack',
      json: { messageIds: more.body.messages.map((m: { messageId: string }) => m.messageId) },
      signer: bob,
    });
  }
  expect([...received.keys()].sort()).toEqual([...ids].sort());
  for (const [i, id] of ids.entries()) expect(received.get(id)).toEqual(envelopes[i]);
  return { injected: plan.injected, calls: { send: sendCalls, fetch: fetchCalls, ack: ackCalls } };
}

async function sweep(make: () => Ports) {
  // A fault-free run tells how many storage calls each phase makes.
  const clean = await scenario(make(), 'send', -1, 'before');
  expect(clean.injected).toBe(0);
  let injected = 0;
  for (const phase of ['send', 'fetch', 'ack'] as const) {
    expect(clean.calls[phase]).toBeGreaterThan(3);
    for (let k = 0; k < clean.calls[phase]; k++) {
      for (const mode of ['before', 'after'] as const) {
        injected += (await scenario(make(), phase, k, mode)).injected;
      }
    }
  }
  const total = 2 * (clean.calls.send + clean.calls.fetch + clean.calls.ack);
  expect(injected).toBe(total);
}

describe('faults with in-memory adapters', () => {
  it('delivers every message after a fault at any storage call', async () => {
    await sweep(() => memoryPorts(testMaterial()));
  });
});

describe('faults with DynamoDB Local and s3rver', () => {
  const local = useLocalAws();

  it('delivers every message after a fault at any storage call', async () => {
    const material = new StaticSigningKeyProvider(testMaterial());
    await sweep(() =>
      awsPorts({
        dynamodb: local.aws.dynamodb,
        s3: local.aws.s3,
        table: local.table,
        bucket: local.aws.bucket,
        signingKeys: material,
      }),
    );
  });
});
