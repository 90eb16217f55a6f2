/**
 * The client announces what it can receive (docs/SERVICE.md §4.2, docs/PROTOCOL.md §14.10):
 * `capabilities: ['sharedPayload']` in registration, in linking and in every prekey upload; a
 * device registered by an older client announces it at its next prekey maintenance, once,
 * even when no key is missing. Through the in-process service, which then lists it.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import type { FetchLike, SealpostClient } from '#sdk/client/index.ts';
import { CLIENT_CAPABILITIES, capabilitiesAnnounced } from '#sdk/client/registration.ts';
import { fromUtf8 } from '#sdk/util/bytes.ts';

interface Sent {
  readonly route: string;
  readonly body: Record<string, unknown>;
}

/** A `fetch` over the service that records the JSON bodies of registration, linking and prekey uploads. */
function recording(sealpost: TestSealpost) {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (url, init) => {
    const { pathname } = new URL(url);
    const route = `${init.method} ${pathname.replace(/\/v1\/accounts\/[^/]+/, '/v1/accounts/{a}')}`;
    const watched = ['PUT /v1/accounts/{a}', 'POST /v1/accounts/{a}/devices', 'PUT /v1/prekeys'];
    if (!watched.includes(route) || !init.body) return sealpost.fetch(url, init);
    sent.push({ route, body: JSON.parse(fromUtf8(init.body as Uint8Array)) });
    return sealpost.fetch(url, init);
  };
  return { fetch, sent };
}

/** The capabilities the service lists for `client`'s device. */
async function listed(client: SealpostClient): Promise<readonly string[] | undefined> {
  const { devices } = await client.http.listDevices(client.address);
  return devices.find((d) => d.deviceId === client.deviceId)?.capabilities;
}

describe('device capabilities', () => {
  it('are announced at registration and at linking, and the service lists them', async () => {
    const sealpost = await TestSealpost.start();
    const net = recording(sealpost);
    const alice = await sealpost.register({ fetch: net.fetch });
    const phone = await sealpost.link(alice, { fetch: net.fetch });
    const enrolments = net.sent.filter((s) => s.route !== 'PUT /v1/prekeys');
    expect(enrolments.map((s) => [s.route, s.body.capabilities])).toEqual([
      ['PUT /v1/accounts/{a}', ['sharedPayload']],
      ['POST /v1/accounts/{a}/devices', ['sharedPayload']],
    ]);
    expect(await listed(alice)).toEqual(['sharedPayload']);
    expect(await listed(phone)).toEqual(['sharedPayload']);
    // The store records the announcement: maintenance has nothing to add.
    expect(await capabilitiesAnnounced(alice.engine.store)).toBe(true);
  });

  it('go with every prekey upload', async () => {
    const sealpost = await TestSealpost.start();
    const net = recording(sealpost);
    const bob = await sealpost.register({ fetch: net.fetch, prekeys: { threshold: 150 } });
    net.sent.length = 0;
    const run = await bob.maintainPrekeys();
    expect(run.uploadedOneTime).toBeGreaterThan(0);
    expect(net.sent).toHaveLength(1);
    expect(net.sent[0]?.body.capabilities).toEqual([...CLIENT_CAPABILITIES]);
    expect(net.sent[0]?.body.oneTimePrekeys).toBeDefined();
  });

  it('are announced once by a device an older client registered, with no key to upload', async () => {
    const sealpost = await TestSealpost.start();
    const net = recording(sealpost);
    const bob = await sealpost.register({ fetch: net.fetch });
    // What an older client leaves behind: no capability on the service, no record here.
    await sealpost.ports.accounts.updateDeviceKeys(bob.address, bob.deviceId, { capabilities: [] });
    await bob.engine.store.commit([{ ns: 'meta', key: 'capabilities', value: null }]);
    expect(await listed(bob)).toBeUndefined();
    net.sent.length = 0;

    const first = await bob.maintainPrekeys();
    expect(first.uploadedOneTime).toBe(0);
    expect(first.rotated).toBe(false);
    expect(net.sent.map((s) => [s.route, s.body])).toEqual([
      ['PUT /v1/prekeys', { capabilities: ['sharedPayload'] }],
    ]);
    expect(await listed(bob)).toEqual(['sharedPayload']);
    expect(await capabilitiesAnnounced(bob.engine.store)).toBe(true);

    await bob.maintainPrekeys();
    expect(net.sent).toHaveLength(1);
  });

  it('are announced again after an upload that failed', async () => {
    const sealpost = await TestSealpost.start();
    let fail = false;
    const fetch: FetchLike = async (url, init) =>
      fail && init.method === 'PUT' && new URL(url).pathname === '/v1/prekeys'
        ? new Response(JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'no' } }), {
            status: 400,
            headers: { 'content-type': 'application/json' },
          })
        : sealpost.fetch(url, init);
    const bob = await sealpost.register({ fetch });
    await bob.engine.store.commit([{ ns: 'meta', key: 'capabilities', value: null }]);
    fail = true;
    await expect(bob.maintainPrekeys()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await capabilitiesAnnounced(bob.engine.store)).toBe(false);
    fail = false;
    await bob.maintainPrekeys();
    expect(await capabilitiesAnnounced(bob.engine.store)).toBe(true);
  });
});
