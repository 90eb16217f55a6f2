/**
 * `Moderators.sealHeader` (sdk/client/moderators.ts), the franked seal of a multi-recipient
 * header (docs/PROTOCOL.md §14.3, §14.7), over real engines and a fake service: like `seal` it
 * repairs a missing moderator key and a missing recipient franking key once each, and the
 * header it returns opens with the shared payload to the content, franked for the recipient
 * (the opening checks the commitment against the content); when the repair brings nothing the
 * typed `FrankingUnavailableError` reaches the caller and nothing was encrypted.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '#sdk/client/errors.ts';
import { type ModeratorHttp, Moderators } from '#sdk/client/moderators.ts';
import { systemRng } from '#sdk/crypto/backend.ts';
import { defaultBackend as backend } from '#sdk/crypto/index.ts';
import { FrankingUnavailableError } from '#sdk/errors.ts';
import { sealSharedPayload } from '#sdk/protocol/shared-payload.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { fromUtf8, toBase64Url, utf8 } from '#sdk/util/bytes.ts';
import { aliceAndBob } from '../protocol/engine-fixtures.ts';

const T0 = 1_760_000_000_000;

/** Alice's engine without moderator keys and without Bob's franking key; Bob is complete. */
async function setup() {
  const now = () => T0;
  const { server, alice, bob } = await aliceAndBob(now);
  await alice.engine.setModeratorCertificates([]);
  const { frankingKey: _withheld, ...bundle } = bob.bundle();
  await alice.engine.startSession(bob.engine.address, bundle);
  const service = { bundleFound: true, certificateFetches: 0, bundleFetches: 0 };
  const http: ModeratorHttp = {
    serverCertificate: async () => {
      service.certificateFetches++;
      return {
        keyId: 7,
        serverCertificate: '',
        trustRoot: toBase64Url(server.trust.trustRoot),
        moderatorCertificates: [toBase64Url(server.moderatorCertificate)],
      };
    },
    fetchDeviceBundle: async (address: string, deviceId: number) => {
      service.bundleFetches++;
      if (!service.bundleFound) throw new ApiError('NOT_FOUND', 404, 'fetchDeviceBundle', 'gone');
      return {
        address,
        devices: [{ deviceId, frankingKey: toBase64Url(bob.engine.frankingPublicKey) }],
      };
    },
  } as unknown as ModeratorHttp;
  const moderators = new Moderators({ engine: alice.engine, http, store: new MemoryStore(), now });
  const certificate = await server.certify(alice.engine, alice.deviceId);
  return { alice, bob, service, moderators, certificate };
}

describe('Moderators.sealHeader', () => {
  it('repairs both franking keys once, and the header opens with the payload to the franked content', async () => {
    const { bob, service, moderators, certificate } = await setup();
    const content = utf8('one payload for every device');
    const { payload, reference } = sealSharedPayload(backend, systemRng, content);
    const header = await moderators.sealHeader(bob.peer, content, reference, certificate);
    expect([service.certificateFetches, service.bundleFetches]).toEqual([1, 1]);
    const opened = await bob.engine.unsealWithPayload(header, payload);
    expect(fromUtf8(opened.plaintext)).toBe('one payload for every device');
    expect(opened.franking?.moderatorKeyId).toBe(3);
    // The header carries the reference, not the content: the per-device path refuses it.
    const second = await moderators.sealHeader(bob.peer, content, reference, certificate);
    await expect(bob.engine.unseal(second)).rejects.toMatchObject({ code: 'MALFORMED_ENVELOPE' });
    expect([service.certificateFetches, service.bundleFetches]).toEqual([1, 1]);
  });

  it('lets FrankingUnavailableError through when the recipient device is gone', async () => {
    const { bob, service, moderators, certificate } = await setup();
    service.bundleFound = false;
    const content = utf8('x');
    const { reference } = sealSharedPayload(backend, systemRng, content);
    await expect(
      moderators.sealHeader(bob.peer, content, reference, certificate),
    ).rejects.toBeInstanceOf(FrankingUnavailableError);
    expect(service.bundleFetches).toBe(1);
  });
});
