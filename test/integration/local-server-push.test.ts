/**
 * Wake-ups of the local server (`npm start`, docs/SERVICE.md §7.3): its VAPID key pair is made
 * once and kept in the data directory (browser subscriptions name it), it can be turned off,
 * and over DynamoDB Local a subscription is stored in the table and a stored message wakes its
 * device through the `web-push-testing` stand-in on loopback.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoPushSubscriptions } from '#functions/adapters/dynamodb/dynamo-push-subscriptions.ts';
import { startLocalServer } from '#functions/api/local.ts';
import { SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { type PushStandIn, startPushStandIn } from '../helpers/push-stand-in.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-local-push-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local server wake-ups', () => {
  it('keeps its VAPID key pair in the data directory across restarts', async () => {
    const first = await startLocalServer({ port: 0, dataDir: dir, log: () => {} });
    const key = (await (await fetch(`${first.url}/v1/push/key`)).json()) as {
      applicationServerKey: string;
    };
    await first.close();
    const file = join(dir, 'vapid.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored.version).toBe(1);
    expect(key.applicationServerKey).toBe(stored.publicKey);
    const second = await startLocalServer({ port: 0, dataDir: dir, log: () => {} });
    expect(await (await fetch(`${second.url}/v1/push/key`)).json()).toEqual(key);
    await second.close();
  });

  it('answers NOT_CONFIGURED with wake-ups turned off', async () => {
    const server = await startLocalServer({ port: 0, dataDir: dir, log: () => {}, webPush: false });
    const res = await fetch(`${server.url}/v1/push/key`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_CONFIGURED');
    await server.close();
  });

  describe('over DynamoDB Local', () => {
    let aws: LocalAws;
    let standIn: PushStandIn;
    beforeAll(async () => {
      vi.spyOn(console, 'error').mockImplementation(() => undefined);
      aws = await startLocalAws();
      standIn = await startPushStandIn();
    });
    afterAll(async () => {
      await standIn?.close();
      await aws?.stop();
      vi.restoreAllMocks();
    });

    it('stores the subscription in the table and wakes the device through the stand-in', async () => {
      const table = await aws.createTable();
      const logs: string[] = [];
      const server = await startLocalServer({
        port: 0,
        dataDir: dir,
        aws: { dynamodb: aws.dynamoEndpoint, s3: aws.s3Endpoint, table, bucket: aws.bucket },
        log: (l) => logs.push(l),
      });
      try {
        const base = {
          baseUrl: server.url,
          trust: { trustRoot: server.trustRoot },
        };
        const alice = await SealpostClient.register({ ...base, store: new MemoryStore() });
        const bob = await SealpostClient.register({ ...base, store: new MemoryStore() });
        await alice.addContact(bob.contactCard());
        const { applicationServerKey } = await bob.http.pushKey();
        const subscription = await standIn.subscribe(applicationServerKey);
        await bob.subscribePush({
          subscription: { endpoint: subscription.endpoint, keys: subscription.keys },
        });
        const stored = await new DynamoPushSubscriptions(aws.dynamodb, table).get({
          address: bob.address,
          deviceId: bob.deviceId,
        });
        expect(stored?.subscription.endpoint).toBe(subscription.endpoint);

        await alice.send(bob.address, 'hello');
        await alice.send(bob.address, 'again');
        expect(await standIn.notifications(subscription.clientHash)).toEqual(['']);
        expect(logs.filter((l) => l.includes('wakeupFailed'))).toEqual([]);
      } finally {
        await server.close();
      }
    });
  });
});
