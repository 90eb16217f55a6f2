/**
 * Block lists on the local engines (docs/SERVICE.md §4.1, §8.1): the BlockStore contract on the
 * in-memory adapter and on DynamoDB Local (racing adds cannot pass the limit, the count item
 * stays exact), the items a block leaves in the table, and the routes with the identified-send
 * check over the AWS adapters.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { awsPorts } from '#functions/adapters/aws-ports.ts';
import { DynamoBlockStore } from '#functions/adapters/dynamodb/dynamo-block-store.ts';
import { MemoryBlockStore } from '#functions/adapters/memory/memory-block-store.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { BlockStore } from '#functions/domain/ports.ts';
import { StaticSigningKeyProvider } from '#functions/domain/signing-material.ts';
import { addressFromDigest } from '#sdk/wire/identity.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { harness, newMessageId, sendBody, testMaterial } from '../unit/functions/fixtures.ts';

const local = useLocalAws();

const someAddress = (): string => addressFromDigest(randomBytes(32));

function blockStoreContract(name: string, make: () => BlockStore): void {
  describe(`BlockStore contract: ${name}`, () => {
    it('adds once, lists in address order, checks and removes per owner', async () => {
      const blocks = make();
      const owner = someAddress();
      const [a, b, c] = [someAddress(), someAddress(), someAddress()];
      expect(await blocks.add(owner, b, 10)).toBe('added');
      expect(await blocks.add(owner, a, 10)).toBe('added');
      expect(await blocks.add(owner, b, 10)).toBe('exists');
      expect(await blocks.list(owner)).toEqual([a, b].sort());
      expect(await blocks.has(owner, a)).toBe(true);
      expect(await blocks.has(owner, c)).toBe(false);
      // The relation has a direction, and other owners have their own lists.
      expect(await blocks.has(a, owner)).toBe(false);
      expect(await blocks.list(someAddress())).toEqual([]);
      expect(await blocks.remove(owner, a)).toBe(true);
      expect(await blocks.remove(owner, a)).toBe(false);
      expect(await blocks.has(owner, a)).toBe(false);
      expect(await blocks.list(owner)).toEqual([b]);
    });

    it('refuses an add past the limit, and counts removals back', async () => {
      const blocks = make();
      const owner = someAddress();
      const [a, b, c] = [someAddress(), someAddress(), someAddress()];
      expect(await blocks.add(owner, a, 2)).toBe('added');
      expect(await blocks.add(owner, b, 2)).toBe('added');
      expect(await blocks.add(owner, c, 2)).toBe('limit');
      expect(await blocks.has(owner, c)).toBe(false);
      // Already blocked wins over the limit: nothing would change.
      expect(await blocks.add(owner, a, 2)).toBe('exists');
      expect(await blocks.remove(owner, b)).toBe(true);
      expect(await blocks.add(owner, c, 2)).toBe('added');
      expect(await blocks.list(owner)).toEqual([a, c].sort());
    });

    it('never lets racing adds past the limit', async () => {
      const blocks = make();
      const owner = someAddress();
      const targets = Array.from({ length: 12 }, someAddress);
      const settled = await Promise.allSettled(targets.map((t) => blocks.add(owner, t, 5)));
      // A DynamoDB transaction that lost a race may be refused as a conflict (503, retried by
      // clients); whatever got through, the limit holds and the count matches the pairs.
      const added = targets.filter((_, i) => {
        const r = settled[i];
        return r?.status === 'fulfilled' && r.value === 'added';
      });
      expect(added.length).toBeLessThanOrEqual(5);
      const listed = await blocks.list(owner);
      expect(listed).toEqual([...added].sort());
      const rest = targets.filter((t) => !added.includes(t));
      for (const t of rest) {
        const answer = await blocks.add(owner, t, 5);
        if (listed.length < 5) {
          expect(answer).toBe('added');
          listed.push(t);
        } else {
          expect(answer).toBe('limit');
        }
      }
      expect(await blocks.list(owner)).toHaveLength(5);
    });
  });
}

blockStoreContract('memory', () => new MemoryBlockStore());
blockStoreContract('dynamodb', () => new DynamoBlockStore(local.aws.dynamodb, local.table));

describe('block items on DynamoDB Local', () => {
  it('keeps one item per pair and an exact count in the owner’s partition', async () => {
    const blocks = new DynamoBlockStore(local.aws.dynamodb, local.table);
    const owner = someAddress();
    const [a, b] = [someAddress(), someAddress()];
    await blocks.add(owner, a, 10);
    await blocks.add(owner, b, 10);
    await blocks.add(owner, b, 10);
    await blocks.remove(owner, a);
    const { Items = [] } = await local.aws.dynamodb.send(
      new ScanCommand({
        TableName: local.table,
        FilterExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `blk#${owner}` } },
        ConsistentRead: true,
      }),
    );
    const items = Items.map((i) => ({ sk: i['sk']?.S, n: i['n']?.N, blocked: i['blocked']?.S }));
    expect(items.sort((x, y) => String(x.sk).localeCompare(String(y.sk)))).toEqual([
      { sk: `b#${b}`, n: undefined, blocked: b },
      { sk: 'count', n: '1', blocked: undefined },
    ]);
    // A block does not expire.
    expect(Items.every((i) => i['ttl'] === undefined)).toBe(true);
  });

  it('serves the routes and refuses identified sends from a blocked account (403)', async () => {
    const ports = awsPorts({
      dynamodb: local.aws.dynamodb,
      s3: local.aws.s3,
      table: local.table,
      bucket: local.aws.bucket,
      signingKeys: new StaticSigningKeyProvider(testMaterial()),
    });
    const h = harness(ports, { start: Date.now() });
    const bob = await h.register(new Uint8Array(16).fill(3));
    const alice = await h.register();
    const carol = await h.register();
    const send = (from: typeof alice) =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}/identified`,
        json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(8)]]),
        signer: from,
      });
    const path = `/v1/account/blocks/${alice.account.address}`;
    expect((await h.call({ method: 'PUT', path, signer: bob })).body).toEqual({
      address: alice.account.address,
      added: true,
    });
    expect((await h.call({ method: 'GET', path: '/v1/account/blocks', signer: bob })).body).toEqual(
      { blocked: [alice.account.address] },
    );
    const refused = await send(alice);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('BLOCKED');
    expect((await send(carol)).status).toBe(200);
    expect((await h.call({ method: 'DELETE', path, signer: bob })).body.removed).toBe(true);
    expect((await send(alice)).status).toBe(200);
  });
});
