/**
 * Block lists on the service (docs/SERVICE.md §4.1) over the in-memory adapters: the three
 * routes, the limit, bad input answered as JSON 400s, and the identified-send check (a blocked
 * sender gets 403 BLOCKED, everyone else is delivered as before).
 */
import { describe, expect, it } from 'vitest';
import { MemoryBlockStore } from '#functions/adapters/memory/memory-block-store.ts';
import type { Caller } from '#functions/domain/auth-service.ts';
import { BlockService } from '#functions/domain/block-service.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { ServiceError } from '#functions/domain/errors.ts';
import { API_ERROR_STATUS } from '#sdk/wire/api/errors.ts';
import { MAX_BLOCKED_ACCOUNTS } from '#sdk/wire/api/schemas.ts';
import { addressFromDigest } from '#sdk/wire/identity.ts';
import {
  accessHeaders,
  aliceAndBob,
  harness,
  memoryPorts,
  newAccount,
  newMessageId,
  sendBody,
  type TestDevice,
  testMaterial,
} from './functions/fixtures.ts';

/** A well-formed address no account needs to hold (cheaper than a key pair). */
const someAddress = (): string => addressFromDigest(randomBytes(32));

type Harness = Awaited<ReturnType<typeof aliceAndBob>>['h'];

const blocks = (h: Harness, signer: TestDevice, method: string, address?: string) =>
  h.call({
    method,
    path: address === undefined ? '/v1/account/blocks' : `/v1/account/blocks/${address}`,
    signer,
  });

const identified = (h: Harness, from: TestDevice, to: TestDevice) =>
  h.call({
    method: 'PUT',
    path: `/v1/messages/${to.account.address}/identified`,
    json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(8)]]),
    signer: from,
  });

describe('block routes', () => {
  it('blocks, lists in address order, unblocks, and answers repeats without change', async () => {
    const { h, alice } = await aliceAndBob();
    const others = [newAccount().address, newAccount().address, newAccount().address];
    for (const address of others) {
      const res = await blocks(h, alice, 'PUT', address);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ address, added: true });
    }
    const again = await blocks(h, alice, 'PUT', others[0]);
    expect(again.body).toEqual({ address: others[0], added: false });
    expect((await blocks(h, alice, 'GET')).body).toEqual({ blocked: [...others].sort() });
    expect(h.ports.blocks.size).toBe(3);

    const removed = await blocks(h, alice, 'DELETE', others[1]);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ address: others[1], removed: true });
    expect((await blocks(h, alice, 'DELETE', others[1])).body).toEqual({
      address: others[1],
      removed: false,
    });
    expect((await blocks(h, alice, 'GET')).body.blocked).toEqual([others[0], others[2]].sort());
  });

  it('keeps each account’s list its own', async () => {
    const { h, alice, bob } = await aliceAndBob();
    const carol = newAccount().address;
    await blocks(h, alice, 'PUT', carol);
    expect((await blocks(h, bob, 'GET')).body).toEqual({ blocked: [] });
    expect((await blocks(h, bob, 'DELETE', carol)).body.removed).toBe(false);
    expect((await blocks(h, alice, 'GET')).body.blocked).toEqual([carol]);
  });

  it('refuses bad input with JSON 400s and unsigned requests with 401', async () => {
    const { h, alice } = await aliceAndBob();
    for (const [method, address] of [
      ['PUT', alice.account.address],
      ['PUT', 'not-an-address'],
      ['PUT', `${newAccount().address}a`],
      ['DELETE', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'],
    ] as const) {
      const res = await blocks(h, alice, method, address);
      expect(res.status, `${method} ${address}`).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.body.error.code).toBe('BAD_REQUEST');
    }
    const body = await h.call({
      method: 'PUT',
      path: `/v1/account/blocks/${newAccount().address}`,
      json: { reason: 'spam' },
      signer: alice,
    });
    expect(body.status).toBe(400);
    expect(body.body.error.code).toBe('BAD_REQUEST');
    for (const method of ['PUT', 'DELETE']) {
      const res = await h.call({ method, path: `/v1/account/blocks/${newAccount().address}` });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    expect((await h.call({ method: 'GET', path: '/v1/account/blocks' })).status).toBe(401);
    expect(h.ports.blocks.size).toBe(0);
  });

  it('refuses a block past the limit with 409 BLOCK_LIMIT until one is removed', async () => {
    const { h, alice } = await aliceAndBob();
    const filled: string[] = [];
    for (let i = 0; i < MAX_BLOCKED_ACCOUNTS; i++) {
      const address = someAddress();
      filled.push(address);
      expect(await h.ports.blocks.add(alice.account.address, address, MAX_BLOCKED_ACCOUNTS)).toBe(
        'added',
      );
    }
    const next = newAccount().address;
    const refused = await blocks(h, alice, 'PUT', next);
    expect(refused.status).toBe(409);
    expect(refused.status).toBe(API_ERROR_STATUS.BLOCK_LIMIT);
    expect(refused.body.error.code).toBe('BLOCK_LIMIT');
    // Blocking one already blocked is no new entry: still answered.
    expect((await blocks(h, alice, 'PUT', filled[0])).body.added).toBe(false);
    const list = await blocks(h, alice, 'GET');
    expect(list.body.blocked).toHaveLength(MAX_BLOCKED_ACCOUNTS);
    expect(list.body.blocked).not.toContain(next);

    await blocks(h, alice, 'DELETE', filled[0]);
    expect((await blocks(h, alice, 'PUT', next)).body).toEqual({ address: next, added: true });
  });

  it('holds the limit of the service it is given', async () => {
    const store = new MemoryBlockStore();
    const service = new BlockService(store, 2);
    const caller = { address: newAccount().address } as Caller;
    await service.block(caller, newAccount().address);
    await service.block(caller, newAccount().address);
    const third = service.block(caller, newAccount().address);
    await expect(third).rejects.toBeInstanceOf(ServiceError);
    await expect(third).rejects.toMatchObject({ code: 'BLOCK_LIMIT' });
    expect((await service.list(caller)).blocked).toHaveLength(2);
    expect(() => new BlockService(store, 0)).toThrow(RangeError);
  });
});

describe('identified sends and blocks', () => {
  it('refuses an identified send from a blocked account with 403 BLOCKED and no message', async () => {
    const { h, alice, bob } = await aliceAndBob();
    const carol = await h.register();
    expect((await blocks(h, bob, 'PUT', alice.account.address)).status).toBe(200);

    const refused = await identified(h, alice, bob);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('BLOCKED');
    // Carol is not blocked; the block is Bob's, so Alice still reaches Carol.
    expect((await identified(h, carol, bob)).status).toBe(200);
    expect((await identified(h, alice, carol)).status).toBe(200);
    const inbox = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(inbox.body.messages.map((m) => m.source?.address)).toEqual([carol.account.address]);

    // The service cannot tell who sends sealed: the access key (rotated by the client) decides.
    const sealed = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(8)]]),
      headers: accessHeaders(),
    });
    expect(sealed.status).toBe(200);

    await blocks(h, bob, 'DELETE', alice.account.address);
    expect((await identified(h, alice, bob)).status).toBe(200);
  });

  it('answers 404 for an unknown recipient before looking at blocks', async () => {
    const h = harness(memoryPorts(testMaterial()));
    const alice = await h.register();
    const ghost = newAccount().address;
    await h.ports.blocks.add(ghost, alice.account.address, 10);
    const res = await h.call({
      method: 'PUT',
      path: `/v1/messages/${ghost}/identified`,
      json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(8)]]),
      signer: alice,
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});
