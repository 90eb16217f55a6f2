/**
 * A client whose clock is 10 minutes off works: its first signed request or proof is refused
 * as CLOCK_SKEW with the server time, the HTTP client corrects its clock and signs again, and
 * every later request is signed at the corrected time (docs/SERVICE.md §3.1).
 */
import { describe, expect, it } from 'vitest';
import { SealpostHttpClient } from '#sdk/client/http-client.ts';
import { seedSigner } from '#sdk/client/request-signing.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import {
  BOB_ACCESS_KEY,
  harness,
  memoryPorts,
  newAccount,
  newDevice,
  newMessageId,
  registrationBody,
  sendBody,
  TEST_AUDIENCE,
  testMaterial,
} from '../fixtures.ts';

describe('a client with a skewed clock', () => {
  for (const skewMs of [-10 * 60_000, 10 * 60_000]) {
    it(`registers, fetches and sends with its clock ${skewMs / 60_000} minutes off`, async () => {
      const h = harness(memoryPorts(testMaterial()));
      const bob = await h.register(BOB_ACCESS_KEY);
      const requests: { path: string; status: number }[] = [];
      const http = new SealpostHttpClient({
        baseUrl: 'http://sealpost.test',
        fetch: async (url, init) => {
          const res = await h.app.request(url, init);
          requests.push({ path: new URL(url).pathname, status: res.status });
          return res;
        },
        backend: nobleBackend,
        trustRoot: TEST_AUDIENCE,
        now: () => h.clock.now + skewMs,
        retries: 0,
      });
      const device = newDevice(newAccount());
      const address = device.account.address;
      const registered = await http.registerAccount(address, async (timestamp) =>
        registrationBody(device, timestamp),
      );
      expect(registered).toEqual({ address, deviceId: 1 });
      expect(requests).toEqual([
        { path: `/v1/accounts/${address}`, status: 401 },
        { path: `/v1/accounts/${address}`, status: 200 },
      ]);
      expect(http.clockOffset).toBe(-skewMs);
      expect(http.serverNow()).toBe(h.clock.now);

      device.deviceId = 1;
      http.setSigner(seedSigner(nobleBackend, address, 1, device.signingSeed));
      expect(await http.fetchMessages()).toEqual({ messages: [] });
      const body = sendBody(newMessageId(http.serverNow()), [[1, new Uint8Array([1, 2])]]);
      expect((await http.sendIdentified(bob.account.address, body)).duplicate).toBe(false);
      const sealed = sendBody(newMessageId(http.serverNow()), [[1, new Uint8Array([3])]]);
      expect(
        (await http.sendSealed(bob.account.address, sealed, { accessKey: BOB_ACCESS_KEY }))
          .duplicate,
      ).toBe(false);
      // Only the very first request needed the correction.
      expect(requests.slice(2).every((r) => r.status === 200)).toBe(true);
      expect(requests).toHaveLength(5);
    });
  }
});
