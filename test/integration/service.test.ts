/**
 * The HTTP app over the DynamoDB and S3 adapters on DynamoDB Local and s3rver: a whole
 * conversation, the 64-way bundle race, and what a sealed send leaves in storage and logs.
 */

import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { awsPorts } from '#functions/adapters/aws-ports.ts';
import { ENVELOPE_PREFIX } from '#functions/deployment.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { StaticSigningKeyProvider } from '#functions/domain/signing-material.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import { ACCESS_KEY_HEADER } from '#sdk/wire/api/signing.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import {
  harness,
  kemPrekey,
  newMessageId,
  oneTimePrekey,
  sendBody,
  testMaterial,
} from '../unit/functions/fixtures.ts';

const local = useLocalAws();

function awsHarness(config = {}) {
  const ports = awsPorts({
    dynamodb: local.aws.dynamodb,
    s3: local.aws.s3,
    table: local.table,
    bucket: local.aws.bucket,
    signingKeys: new StaticSigningKeyProvider(testMaterial()),
  });
  return harness(ports, { config, start: Date.now() });
}

const KEY = new Uint8Array(16).fill(3);

describe('service on DynamoDB Local and s3rver', () => {
  it('registers, links, uploads prekeys, sends small and large envelopes, delivers and deletes', async () => {
    const h = awsHarness({ inlineMaxBytes: 4096 });
    const bob = await h.register(KEY);
    const bob2 = await h.link(bob.account);
    const alice = await h.register();
    const up = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: { oneTimePrekeys: [oneTimePrekey(5)], kemPrekeys: [kemPrekey(bob, 6, false)] },
      signer: bob,
    });
    expect(up.body).toEqual({ ec: 1, pq: 1 });
    const bundles = await h.call({
      method: 'GET',
      path: `/v1/bundles/${bob.account.address}`,
      signer: alice,
    });
    expect(bundles.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 2]);
    expect(bundles.body.devices[0]?.oneTimePrekey?.id).toBe(5);

    const small = randomBytes(1500);
    const large = randomBytes(90_000);
    const ids = [newMessageId(h.clock.now), newMessageId(h.clock.now + 1)];
    for (const [i, env] of [small, large].entries()) {
      const res = await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(ids[i]!, [
          [1, env],
          [2, env],
        ]),
        headers: { [ACCESS_KEY_HEADER]: toBase64Url(KEY) },
      });
      expect(res.status).toBe(200);
    }
    for (const device of [bob, bob2]) {
      const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: device });
      const delivered = fetched.body.messages.map((m: { messageId: string }) => m.messageId);
      // Server positions, not the request ids.
      expect(delivered).toHaveLength(2);
      for (const id of delivered) expect(ids).not.toContain(id);
      expect(fromBase64Url(fetched.body.messages[0]?.envelope ?? '')).toEqual(small);
      expect(fromBase64Url(fetched.body.messages[1]?.envelope ?? '')).toEqual(large);
      const ack = await h.call({
        method: 'POST',
        path: '/v1/messages/ack',
        json: { messageIds: delivered },
        signer: device,
      });
      expect(ack.body).toEqual({ acknowledged: 2 });
      expect(
        (await h.call({ method: 'GET', path: '/v1/messages', signer: device })).body.messages,
      ).toEqual([]);
    }
    const objects = await local.aws.s3.send(
      new ListObjectsV2Command({ Bucket: local.aws.bucket, Prefix: ENVELOPE_PREFIX }),
    );
    const left = (objects.Contents ?? []).filter((o) => o.Key?.includes(bob.account.address));
    expect(left).toEqual([]);
  });

  it('syncs to the own account through the identified route, leaving out the sending device', async () => {
    const h = awsHarness({ identifiedSendRateLimit: { limit: 1, windowMs: 600_000 } });
    const bob = await h.register(KEY);
    const bob2 = await h.link(bob.account);
    const bob3 = await h.link(bob.account);
    const path = `/v1/messages/${bob.account.address}/identified`;
    const others = await h.call({
      method: 'PUT',
      path,
      json: sendBody(newMessageId(h.clock.now), [
        [1, randomBytes(10)],
        [3, randomBytes(10)],
      ]),
      signer: bob2,
    });
    expect(others.status).toBe(200);
    const extra = await h.call({
      method: 'PUT',
      path,
      json: sendBody(newMessageId(h.clock.now), [
        [1, randomBytes(10)],
        [2, randomBytes(10)],
        [3, randomBytes(10)],
      ]),
      signer: bob2,
    });
    expect(extra.status).toBe(409);
    expect(extra.body.error).toMatchObject({ code: 'DEVICE_MISMATCH', missing: [], extra: [2] });
    // Past the per-pair limit of 1: own-account sends are not counted.
    const envs = [randomBytes(300), randomBytes(5000)];
    const id = newMessageId(h.clock.now + 1);
    const again = await h.call({
      method: 'PUT',
      path,
      json: sendBody(id, [
        [1, envs[0]!],
        [3, envs[1]!],
      ]),
      signer: bob2,
    });
    expect(again.status).toBe(200);
    for (const [device, env] of [
      [bob, envs[0]!],
      [bob3, envs[1]!],
    ] as const) {
      const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: device });
      expect(fetched.body.messages).toHaveLength(2);
      expect(fetched.body.messages[1]).toMatchObject({
        source: { address: bob.account.address, deviceId: 2 },
      });
      expect(fetched.body.messages[1]?.messageId).not.toBe(id);
      expect(fromBase64Url(fetched.body.messages[1]?.envelope ?? '')).toEqual(env);
    }
    expect(
      (await h.call({ method: 'GET', path: '/v1/messages', signer: bob2 })).body.messages,
    ).toEqual([]);
  });

  it('hands out 32 one-time keys to 64 parallel bundle fetches, then the last-resort key', async () => {
    const h = awsHarness({ bundleRateLimit: { limit: 1000, windowMs: 600_000 } });
    const bob = await h.register();
    const alice = await h.register();
    const ec = Array.from({ length: 32 }, (_, i) => oneTimePrekey(100 + i));
    const pq = Array.from({ length: 32 }, (_, i) => kemPrekey(bob, 200 + i, false));
    const up = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: { oneTimePrekeys: ec, kemPrekeys: pq },
      signer: bob,
    });
    expect(up.body).toEqual({ ec: 32, pq: 32 });
    const results = await Promise.all(
      Array.from({ length: 64 }, () =>
        h.call({ method: 'GET', path: `/v1/bundles/${bob.account.address}/1`, signer: alice }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const devices = results.map((r) => r.body.devices[0]);
    const ecIds = devices.flatMap((d) => (d?.oneTimePrekey ? [d?.oneTimePrekey.id] : []));
    const pqIds = devices.filter((d) => !d?.kemPrekey.lastResort).map((d) => d?.kemPrekey.id);
    expect(ecIds).toHaveLength(32);
    expect(new Set(ecIds)).toEqual(new Set(ec.map((k) => k.id)));
    expect(pqIds).toHaveLength(32);
    expect(new Set(pqIds)).toEqual(new Set(pq.map((k) => k.id)));
    const lastResort = devices.filter((d) => d?.kemPrekey.lastResort);
    expect(lastResort).toHaveLength(32);
    expect(new Set(lastResort.map((d) => d?.kemPrekey.id))).toEqual(new Set([1]));
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', signer: bob })).body).toEqual({
      ec: 0,
      pq: 0,
    });
  });

  it('keeps no sender address or sender key in objects, metadata, items or logs of a sealed send', async () => {
    // The mailbox counter item is written by every send and inspected too.
    const h = awsHarness({ inlineMaxBytes: 1024 });
    const bob = await h.register(KEY);
    const alice = await h.register();
    // The sender talks to the service as itself first (certificate, bundle), as a real client would.
    const cert = await h.call({ method: 'POST', path: '/v1/certificates/sender', signer: alice });
    expect(cert.status).toBe(200);
    await h.call({ method: 'GET', path: `/v1/bundles/${bob.account.address}`, signer: alice });
    h.logs.length = 0;
    for (const env of [randomBytes(500), randomBytes(5000)]) {
      const res = await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(newMessageId(h.clock.now), [[1, env]]),
        headers: { [ACCESS_KEY_HEADER]: toBase64Url(KEY) },
      });
      expect(res.status).toBe(200);
    }

    const secrets = [
      alice.account.address,
      Buffer.from(alice.account.publicKey).toString('hex'),
      toBase64Url(alice.account.publicKey),
      toBase64Url(alice.signingPublic),
      toBase64Url(alice.dhPublic),
      Buffer.from(alice.dhPublic).toString('hex'),
      toBase64Url(KEY),
    ];
    const rawSecrets = [alice.account.publicKey, alice.signingPublic, alice.dhPublic, KEY];
    const containsRaw = (bytes: Uint8Array) =>
      rawSecrets.some((s) => Buffer.from(bytes).includes(Buffer.from(s)));

    const scan = await local.aws.dynamodb.send(new ScanCommand({ TableName: local.table }));
    const mailboxItems = (scan.Items ?? []).filter((i) =>
      i['pk']?.S?.startsWith(`mbx#${bob.account.address}`),
    );
    expect(mailboxItems.length).toBeGreaterThanOrEqual(3);
    for (const item of mailboxItems) {
      const text = JSON.stringify(item, (_, v) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      );
      for (const s of secrets) expect(text).not.toContain(s);
      for (const v of Object.values(item)) if (v.B) expect(containsRaw(v.B)).toBe(false);
      expect(Object.keys(item).some((k) => k.startsWith('source'))).toBe(false);
    }
    const listed = await local.aws.s3.send(
      new ListObjectsV2Command({ Bucket: local.aws.bucket, Prefix: ENVELOPE_PREFIX }),
    );
    const objects = (listed.Contents ?? []).filter((o) => o.Key?.includes(bob.account.address));
    expect(objects).toHaveLength(1);
    for (const o of objects) {
      for (const s of secrets) expect(o.Key).not.toContain(s);
      const head = await local.aws.s3.send(
        new HeadObjectCommand({ Bucket: local.aws.bucket, Key: o.Key }),
      );
      expect(head.Metadata ?? {}).toEqual({});
    }
    expect(h.logs.length).toBe(2);
    for (const line of h.logs) {
      for (const s of [...secrets, bob.account.address]) expect(line).not.toContain(s);
    }
  });
});
