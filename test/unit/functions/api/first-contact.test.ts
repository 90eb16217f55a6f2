/**
 * First-contact modes (docs/SERVICE.md §15.1): set at registration (`firstContact`, else
 * `anyone` for `unrestricted: true`, else `requests`) and by `PUT /v1/account/settings`
 * (echoed; `unrestricted` true/false is the older spelling of `anyone`/`contacts`; both given
 * and disagreeing is 400), stored on the account with `unrestricted` kept equal.
 */
import { describe, expect, it } from 'vitest';
import { firstContactOf } from '#functions/domain/ports.ts';
import {
  harness,
  memoryPorts,
  newAccount,
  newDevice,
  registrationBody,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';

async function setup() {
  const h = harness(memoryPorts(testMaterial()));
  const mode = async (d: TestDevice) => {
    const view = await h.ports.accounts.get(d.account.address);
    return { mode: firstContactOf(view!.account), unrestricted: view!.account.unrestricted };
  };
  const settings = (d: TestDevice, json: unknown) =>
    h.call({ method: 'PUT', path: '/v1/account/settings', json, signer: d });
  return { h, mode, settings };
}

describe('first-contact modes', () => {
  it('sets the mode at registration', async () => {
    const { h, mode } = await setup();
    expect(await mode(await h.register())).toEqual({ mode: 'requests', unrestricted: false });
    expect(await mode(await h.register(undefined, { unrestricted: false }))).toEqual({
      mode: 'requests',
      unrestricted: false,
    });
    expect(await mode(await h.register(undefined, { unrestricted: true }))).toEqual({
      mode: 'anyone',
      unrestricted: true,
    });
    for (const m of ['contacts', 'requests', 'anyone'] as const) {
      expect((await mode(await h.register(undefined, { firstContact: m }))).mode).toBe(m);
    }
    expect(
      await mode(await h.register(undefined, { firstContact: 'anyone', unrestricted: true })),
    ).toEqual({ mode: 'anyone', unrestricted: true });
  });

  it('refuses a registration whose unrestricted and firstContact disagree', async () => {
    const { h } = await setup();
    for (const fields of [
      { firstContact: 'requests', unrestricted: true },
      { firstContact: 'contacts', unrestricted: true },
      { firstContact: 'anyone', unrestricted: false },
      { firstContact: 'everyone' },
    ]) {
      const device = newDevice(newAccount());
      const res = await h.call({
        method: 'PUT',
        path: `/v1/accounts/${device.account.address}`,
        json: { ...registrationBody(device, h.clock.now), ...fields },
      });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(await h.ports.accounts.get(device.account.address)).toBeUndefined();
    }
  });

  it('changes the mode in settings and echoes it', async () => {
    const { h, mode, settings } = await setup();
    const bob = await h.register();
    for (const m of ['contacts', 'anyone', 'requests'] as const) {
      const res = await settings(bob, { firstContact: m });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ firstContact: m });
      expect(await mode(bob)).toEqual({ mode: m, unrestricted: m === 'anyone' });
    }
    // The older spelling.
    expect((await settings(bob, { unrestricted: true })).json).toEqual({
      firstContact: 'anyone',
      unrestricted: true,
    });
    expect(await mode(bob)).toEqual({ mode: 'anyone', unrestricted: true });
    expect((await settings(bob, { unrestricted: false })).json).toEqual({
      firstContact: 'contacts',
      unrestricted: false,
    });
    expect(await mode(bob)).toEqual({ mode: 'contacts', unrestricted: false });
    expect((await settings(bob, { unrestricted: true, firstContact: 'anyone' })).json).toEqual({
      firstContact: 'anyone',
      unrestricted: true,
    });
    // A key rotation alone leaves the mode.
    expect((await settings(bob, { accessKey: 'AAAAAAAAAAAAAAAAAAAAAA' })).json).toEqual({});
    expect((await mode(bob)).mode).toBe('anyone');
  });

  it('refuses settings whose fields disagree, changing nothing', async () => {
    const { h, mode, settings } = await setup();
    const bob = await h.register();
    for (const json of [
      { unrestricted: true, firstContact: 'requests' },
      { unrestricted: false, firstContact: 'requests' },
      { unrestricted: false, firstContact: 'anyone' },
      { unrestricted: true, firstContact: 'contacts', accessKey: 'AAAAAAAAAAAAAAAAAAAAAA' },
      { firstContact: 'nobody' },
    ]) {
      const res = await settings(bob, json);
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
    }
    expect(await mode(bob)).toEqual({ mode: 'requests', unrestricted: false });
  });
});
