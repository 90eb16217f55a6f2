/**
 * `register` and `link` check the service's server certificate against the pinned trust root
 * before anything is created (docs/SDK.md §Registration): a client pinned to another root, or
 * to a configuration that revokes the service's key, leaves no account on the server and no
 * identity in its store.
 */

import { createHash } from 'node:crypto';
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { type FetchLike, SealpostClient } from '#sdk/client/index.ts';
import type { Rng } from '#sdk/crypto/backend.ts';
import { InvalidCertificateError } from '#sdk/errors.ts';
import type { TrustConfig } from '#sdk/protocol/certificates.ts';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';

/** A deterministic stream (SHA-256 in counter mode), so the same account key can be made twice. */
function seeded(seed: string): Rng {
  let counter = 0;
  let pool = new Uint8Array(0);
  return (length) => {
    while (pool.length < length) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      const next = new Uint8Array(pool.length + block.length);
      next.set(pool);
      next.set(block, pool.length);
      pool = next;
    }
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}

/** The service's `fetch`, recording `METHOD path` of every request. */
function recording(sealpost: TestSealpost) {
  const requests: string[] = [];
  const fetch: FetchLike = (url, init) => {
    requests.push(`${init.method} ${new URL(url).pathname}`);
    return sealpost.fetch(url, init);
  };
  return { fetch, requests };
}

/** The address the account key drawn first from `seed` certifies. */
async function addressOf(seed: string, trust: TrustConfig): Promise<string> {
  const { engine } = await ProtocolEngine.create({
    store: new MemoryStore(),
    trust,
    rng: seeded(seed),
  });
  return engine.address;
}

const otherRoot = (sealpost: TestSealpost) => {
  const root = sealpost.trust.trustRoot.slice();
  root[0] = root[0]! ^ 1;
  return root;
};

describe('registration checks the trust root first', () => {
  it.each([
    [
      'another trust root',
      (s: TestSealpost) => ({ trustRoot: otherRoot(s), revokedServerKeyIds: [] }),
    ],
    [
      'a revoked server key',
      (s: TestSealpost) => ({ trustRoot: s.trust.trustRoot, revokedServerKeyIds: [1] }),
    ],
  ])(
    'with %s nothing is registered, and the same account registers once the trust is right',
    async (_, wrongTrust) => {
      const sealpost = await TestSealpost.start();
      const { fetch, requests } = recording(sealpost);
      const address = await addressOf('alice', sealpost.trust);
      const store = new MemoryStore();

      const attempt = SealpostClient.register({
        ...sealpost.clientOptions(store),
        fetch,
        trust: wrongTrust(sealpost),
        rng: seeded('alice'),
      });

      await expect(attempt).rejects.toBeInstanceOf(InvalidCertificateError);
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_CERTIFICATE' });
      expect(requests).toEqual(['GET /v1/certificates/server']);
      expect(await sealpost.ports.accounts.get(address)).toBeUndefined();
      expect(await store.keys('identity')).toEqual([]);

      // No orphan: the same account key registers (an orphan would answer ACCOUNT_EXISTS).
      const alice = await SealpostClient.register({
        ...sealpost.clientOptions(),
        rng: seeded('alice'),
      });
      expect(alice.address).toBe(address);
      expect((await sealpost.ports.accounts.get(address))?.devices.map((d) => d.deviceId)).toEqual([
        1,
      ]);
    },
  );

  it('links no device under another trust root', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const account = alice.exportAccountKey();
    if (!account) throw new Error('the first device holds the account key');
    const { fetch, requests } = recording(sealpost);

    await expect(
      SealpostClient.link({
        ...sealpost.clientOptions(),
        fetch,
        trust: { trustRoot: otherRoot(sealpost), revokedServerKeyIds: [] },
        account,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CERTIFICATE' });
    expect(requests).toEqual(['GET /v1/certificates/server']);
    expect(
      (await sealpost.ports.accounts.get(alice.address))?.devices.map((d) => d.deviceId),
    ).toEqual([1]);
  });

  it('registers under the pinned root given as base64url', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await SealpostClient.register({
      ...sealpost.clientOptions(),
      trust: { trustRoot: sealpost.trustRoot },
    });
    expect(
      (await sealpost.ports.accounts.get(alice.address))?.devices.map((d) => d.deviceId),
    ).toEqual([1]);
  });
});
