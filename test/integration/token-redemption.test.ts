/**
 * Message requests on DynamoDB Local and s3rver (docs/SERVICE.md §15): tokens issued through
 * the app, 64 concurrent sealed sends with one token and distinct request ids (exactly one
 * 200), the same send retried (accepted, stored once), the per-recipient limit with its
 * refused retry, and a first-contact mode round trip through the DynamoDB account store,
 * including an account item written before modes existed.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { awsPorts, awsTokenPorts } from '#functions/adapters/aws-ports.ts';
import { accountKey } from '#functions/adapters/dynamodb/keys.ts';
import { StaticSigningKeyProvider } from '#functions/domain/signing-material.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import {
  BOB_ACCESS_KEY,
  harness,
  newMessageId,
  sendBody,
  type TestDevice,
  testMaterial,
} from '../unit/functions/fixtures.ts';
import { issueTokens, tokenHeaders } from '../unit/functions/token-fixture.ts';

const local = useLocalAws();
const DAY_MS = 86_400_000;
/** One deployment's signing material: the day's issuer key is wrapped under its secret. */
const MATERIAL = testMaterial();

function awsHarness(config = {}) {
  const { dynamodb, s3, bucket } = local.aws;
  const ports = awsPorts({
    dynamodb,
    s3,
    table: local.table,
    bucket,
    signingKeys: new StaticSigningKeyProvider(MATERIAL),
  });
  // Real time: DynamoDB Local expires items by the wall clock.
  const now = Date.now();
  const h = harness(ports, {
    config,
    start: now - 8 * DAY_MS,
    tokens: awsTokenPorts({ dynamodb, table: local.table }),
  });
  const send = (to: TestDevice, token: Uint8Array, messageId = newMessageId(0)) =>
    h.call({
      method: 'PUT',
      path: `/v1/messages/${to.account.address}`,
      json: sendBody(messageId, [[1, new Uint8Array([7, 7])]]),
      headers: tokenHeaders(token),
    });
  const inbox = async (d: TestDevice) =>
    (await h.call({ method: 'GET', path: '/v1/messages', signer: d })).body.messages;
  return { h, now, send, inbox };
}

describe('message requests on DynamoDB Local', () => {
  it('lets exactly one of 64 concurrent sends with one token through, and a retry again', async () => {
    const { h, now, send, inbox } = awsHarness();
    const sender = await h.register();
    const bob = await h.register(BOB_ACCESS_KEY);
    h.clock.now = now;
    const [token, other] = await issueTokens(h, sender, 2);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => send(bob, token!, newMessageId(i))),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('TOKEN_SPENT');
    }
    expect(await inbox(bob)).toHaveLength(1);
    const id = newMessageId(99);
    expect((await send(bob, other!, id)).body.duplicate).toBe(false);
    const again = await send(bob, other!, id);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(await inbox(bob)).toHaveLength(2);
  });

  it('refuses past the per-recipient limit, and the retry of the refused send too', async () => {
    const { h, now, send } = awsHarness({ requestsPerRecipientPerDay: 1 });
    const sender = await h.register();
    const bob = await h.register(BOB_ACCESS_KEY);
    h.clock.now = now;
    const [t1, t2] = await issueTokens(h, sender, 2);
    expect((await send(bob, t1!)).status).toBe(200);
    const id = newMessageId(1);
    expect((await send(bob, t2!, id)).body.error.code).toBe('REQUEST_LIMIT');
    expect((await send(bob, t2!, id)).body.error.code).toBe('REQUEST_LIMIT');
    expect((await send(bob, t2!)).body.error.code).toBe('TOKEN_SPENT');
  });

  it('stores the first-contact mode and reads an item without it by `unrestricted`', async () => {
    const { h, now, send } = awsHarness();
    const sender = await h.register();
    const bob = await h.register(BOB_ACCESS_KEY, { firstContact: 'contacts' });
    h.clock.now = now;
    const { pk, sk } = accountKey(bob.account.address);
    const key = { pk: { S: pk }, sk: { S: sk } };
    const item = async () =>
      (await local.aws.dynamodb.send(new GetItemCommand({ TableName: local.table, Key: key })))
        .Item;
    const stored = await item();
    expect(stored?.['firstContact']).toEqual({ S: 'contacts' });
    expect(stored?.['unrestricted']).toEqual({ BOOL: false });
    const [token, t2] = await issueTokens(h, sender, 2);
    expect((await send(bob, token!)).status).toBe(401);
    const res = await h.call({
      method: 'PUT',
      path: '/v1/account/settings',
      json: { unrestricted: true },
      signer: bob,
    });
    expect(res.json).toEqual({ firstContact: 'anyone', unrestricted: true });
    expect((await item())?.['firstContact']).toEqual({ S: 'anyone' });
    // As written before modes existed: no `firstContact`, `unrestricted` false -> requests.
    await local.aws.dynamodb.send(
      new UpdateItemCommand({
        TableName: local.table,
        Key: key,
        UpdateExpression: 'REMOVE firstContact SET unrestricted = :f',
        ExpressionAttributeValues: { ':f': { BOOL: false } },
      }),
    );
    expect((await send(bob, token!)).status).toBe(200);
    await local.aws.dynamodb.send(
      new UpdateItemCommand({
        TableName: local.table,
        Key: key,
        UpdateExpression: 'SET unrestricted = :t',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
    const open = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(5), [[1, new Uint8Array([1])]]),
    });
    expect(open.status).toBe(200);
    expect((await send(bob, t2!)).status).toBe(200);
  });
});
