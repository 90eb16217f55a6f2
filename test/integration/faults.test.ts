/**
 * Fault injection: each storage call made by a send, a fetch and an acknowledgement fails once
 * in turn (before the call reaches storage, and after it took effect but before the answer
 * arrives). The client retries until the call succeeds. Afterwards every message was delivered
 * intact to every device, none is shown twice to a client that drops ids it has seen, and once
 * everything is acknowledged nothing of it is stored.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DynamoAccountStore, DynamoMessageIndex } from '#functions/adapters/dynamodb/index.ts';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import { S3BlobStore } from '#functions/adapters/s3/s3-blob-store.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { UnavailableError } from '#functions/domain/errors.ts';
import type { Ports } from '#functions/domain/ports.ts';
import { deviceRef } from '#functions/domain/records.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { mailboxFixture } from '../unit/functions/domain/mailbox-fixture.ts';

type Mode = 'before' | 'after';
type StoragePorts = Pick<Ports, 'accounts' | 'index' | 'blobs' | 'limiter'>;

/** Counts storage calls and fails the `failAt`-th one once. */
class FaultPlan {
  calls = 0;
  failAt = -1;
  mode: Mode = 'before';
  armed = false;
  injected = 0;
}

function withFaults(ports: StoragePorts, plan: FaultPlan): StoragePorts {
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
    index: wrap(ports.index),
    blobs: wrap(ports.blobs),
    limiter: wrap(ports.limiter),
  };
}

async function untilOk<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await call();
    } catch (err) {
      expect(err).toBeInstanceOf(UnavailableError);
    }
  }
  throw new Error('no success after retries');
}

type Phase = 'send' | 'fetch' | 'ack';

/** What remains stored for the scenario's account: records and objects. */
type Remains = (address: string) => Promise<{ records: number; objects: number }>;

/**
 * One scenario: an account with two devices gets three sends (an inline envelope, two in the
 * blob store), each device fetches and acknowledges; faults in `phase`.
 */
async function scenario(
  base: StoragePorts,
  remains: Remains,
  phase: Phase,
  failAt: number,
  mode: Mode,
) {
  const plan = new FaultPlan();
  const f = await mailboxFixture(withFaults(base, plan), {
    devices: 2,
    config: { inlineMaxBytes: 1000 },
  });
  const sends = [
    [randomBytes(300), randomBytes(310)],
    [randomBytes(3000), randomBytes(3010)],
    [randomBytes(2000), randomBytes(2010)],
  ];
  const arm = (p: Phase) => {
    // Every phase is counted; only `phase` gets the fault.
    plan.armed = p === phase;
    plan.calls = 0;
    plan.failAt = failAt;
    plan.mode = mode;
  };

  arm('send');
  for (const bodies of sends) {
    const requestId = randomBytes(16);
    await untilOk(() => f.send(requestId, bodies));
  }
  const calls = { send: plan.calls, fetch: 0, ack: 0 };

  for (const [d, caller] of f.callers.entries()) {
    // The client shows a message once per delivered id and acknowledges what it received.
    const seen = new Map<string, Uint8Array>();
    arm('fetch');
    const first = await untilOk(() => f.service.fetch(caller, 100));
    calls.fetch += plan.calls;
    for (const m of first.messages) seen.set(m.messageId, fromBase64Url(m.envelope));
    arm('ack');
    await untilOk(() => f.service.ack(caller, [...seen.keys()]));
    calls.ack += plan.calls;
    plan.armed = false;
    // Whatever was not delivered or not acknowledged is redelivered now (at least once).
    for (;;) {
      const more = await untilOk(() => f.service.fetch(caller, 100));
      if (more.messages.length === 0) break;
      for (const m of more.messages) seen.set(m.messageId, fromBase64Url(m.envelope));
      await untilOk(() =>
        f.service.ack(
          caller,
          more.messages.map((m) => m.messageId),
        ),
      );
    }
    const shown = [...seen.values()].map((b) => Buffer.from(b).toString('hex')).sort();
    const sent = sends.map((s) => Buffer.from(s[d]!).toString('hex')).sort();
    expect(shown).toEqual(sent);
  }
  expect(await remains(f.address)).toEqual({ records: 0, objects: 0 });
  return { injected: plan.injected, calls };
}

async function sweep(make: () => StoragePorts, remains: Remains) {
  // A fault-free run tells how many storage calls each phase makes.
  const clean = await scenario(make(), remains, 'send', -1, 'before');
  expect(clean.injected).toBe(0);
  let injected = 0;
  for (const phase of ['send', 'fetch', 'ack'] as const) {
    expect(clean.calls[phase]).toBeGreaterThan(1);
    // Per device, so every call of the phase is hit on the first device's run.
    for (let k = 0; k < clean.calls[phase]; k++) {
      for (const mode of ['before', 'after'] as const) {
        injected += (await scenario(make(), remains, phase, k, mode)).injected;
      }
    }
  }
  expect(injected).toBeGreaterThan(0);
}

describe('faults with in-memory adapters', () => {
  it('delivers every message once and leaves nothing after a fault at any storage call', async () => {
    let ports: { index: MemoryMessageIndex; blobs: MemoryBlobStore } | undefined;
    await sweep(
      () => {
        const p = {
          accounts: new MemoryAccountStore(),
          index: new MemoryMessageIndex(),
          blobs: new MemoryBlobStore(),
          limiter: new MemoryRateLimiter(),
        };
        ports = p;
        return p;
      },
      async () => ({
        records: ports!.index.dump().records.length,
        objects: ports!.blobs.objects.size,
      }),
    );
  });
});

async function objectsOf(s3: S3Client, bucket: string, address: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }),
    );
    n += (out.Contents ?? []).filter((o) => o.Key?.includes(address)).length;
    token = out.NextContinuationToken;
  } while (token);
  return n;
}

describe('faults with DynamoDB Local and s3rver', () => {
  const local = useLocalAws();

  it('delivers every message once and leaves nothing after a fault at any storage call', async () => {
    const make = () => ({
      accounts: new DynamoAccountStore(local.aws.dynamodb, local.table),
      index: new DynamoMessageIndex(local.aws.dynamodb, local.table),
      blobs: new S3BlobStore(local.aws.s3, local.aws.bucket),
      limiter: new MemoryRateLimiter(),
    });
    const index = new DynamoMessageIndex(local.aws.dynamodb, local.table);
    await sweep(make, async (address) => {
      const view = await new DynamoAccountStore(local.aws.dynamodb, local.table).get(address);
      let records = 0;
      for (const d of view!.devices) {
        records += (await index.list(deviceRef(address, d), { limit: 100 })).records.length;
      }
      return { records, objects: await objectsOf(local.aws.s3, local.aws.bucket, address) };
    });
  }, 300_000);
});
