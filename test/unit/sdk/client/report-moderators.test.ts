/**
 * Moderator certificates and the franked seal on the client (sdk/client/moderators.ts,
 * docs/SDK.md §Reporting), over real engines and a fake service: a send repairs a missing
 * moderator key or recipient franking key once and then succeeds (the recipient opens it); when
 * the repair brings nothing the typed `FrankingUnavailableError` reaches the caller; held
 * certificates persist (only those that chain to the pinned root) and reload into a fresh
 * engine; refreshes after an unknown key are rate-limited.
 */
import { describe, expect, it } from 'vitest';
import { trustConfig } from '#sdk/client/client-options.ts';
import { ApiError } from '#sdk/client/errors.ts';
import {
  decodeModeratorList,
  encodeModeratorList,
  type ModeratorHttp,
  Moderators,
  UNKNOWN_KEY_REFRESH_MS,
} from '#sdk/client/moderators.ts';
import { ReportIntake } from '#sdk/client/report-intake.ts';
import type { ReportStore } from '#sdk/client/report-store.ts';
import type { Revocations } from '#sdk/client/revocations.ts';
import { defaultBackend as backend } from '#sdk/crypto/index.ts';
import {
  FrankingUnavailableError,
  StateCorruptError,
  UnreportableMessageError,
} from '#sdk/errors.ts';
import { issueModeratorCertificate } from '#sdk/protocol/certificates.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { fromUtf8, toBase64Url, utf8 } from '#sdk/util/bytes.ts';
import { aliceAndBob, DAY, Device } from '../protocol/engine-fixtures.ts';

const T0 = 1_760_000_000_000;

/** Alice's engine without moderator keys and without Bob's franking key; Bob is complete. */
async function setup() {
  const clock = { now: T0 };
  const now = () => clock.now;
  const { server, alice, bob } = await aliceAndBob(now);
  await alice.engine.setModeratorCertificates([]);
  const { frankingKey: _withheld, ...bundle } = bob.bundle();
  await alice.engine.startSession(bob.engine.address, bundle);
  const service = {
    moderatorCertificates: [server.moderatorCertificate],
    bundleFound: true,
    certificateFetches: 0,
    bundleFetches: 0,
  };
  const http = {
    serverCertificate: async () => {
      service.certificateFetches++;
      return {
        keyId: 7,
        serverCertificate: '',
        trustRoot: toBase64Url(server.trust.trustRoot),
        moderatorCertificates: service.moderatorCertificates.map(toBase64Url),
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
  const store = new MemoryStore();
  const moderators = new Moderators({ engine: alice.engine, http, store, now });
  const certificate = await server.certify(alice.engine, alice.deviceId);
  return { server, alice, bob, service, store, clock, moderators, certificate, http };
}

describe('Moderators.seal', () => {
  it('refreshes the moderator certificates and fetches the recipient’s key once, then seals', async () => {
    const { alice, bob, service, moderators, certificate } = await setup();
    await expect(alice.engine.seal(bob.peer, utf8('x'), certificate)).rejects.toBeInstanceOf(
      FrankingUnavailableError,
    );
    const sealed = await moderators.seal(bob.peer, utf8('franked'), certificate);
    expect(service.certificateFetches).toBe(1);
    expect(service.bundleFetches).toBe(1);
    const opened = await bob.engine.unseal(sealed);
    expect(fromUtf8(opened.plaintext)).toBe('franked');
    expect(opened.franking?.moderatorKeyId).toBe(3);
    // Both repairs stuck: the next seal needs no request.
    await moderators.seal(bob.peer, utf8('again'), certificate);
    expect([service.certificateFetches, service.bundleFetches]).toEqual([1, 1]);
  });

  it('lets FrankingUnavailableError through when the service has no usable moderator key', async () => {
    const { service, moderators, bob, certificate, server } = await setup();
    const expired = await issueModeratorCertificate(backend, server.rootSeed, {
      keyId: 4,
      moderatorPublic: server.moderator.publicKey,
      notAfter: T0 - 1,
    });
    service.moderatorCertificates = [expired];
    await expect(moderators.seal(bob.peer, utf8('x'), certificate)).rejects.toBeInstanceOf(
      FrankingUnavailableError,
    );
    expect(service.certificateFetches).toBe(1);
    expect(service.bundleFetches).toBe(0);
  });

  it('lets FrankingUnavailableError through when the recipient device is gone', async () => {
    const { service, moderators, bob, certificate } = await setup();
    service.bundleFound = false;
    await expect(moderators.seal(bob.peer, utf8('x'), certificate)).rejects.toBeInstanceOf(
      FrankingUnavailableError,
    );
    expect(service.bundleFetches).toBe(1);
  });
});

describe('held moderator certificates', () => {
  it('persist only what chains to the pinned root and reload into a fresh engine', async () => {
    const { server, store, moderators, clock, http } = await setup();
    const stranger = await issueModeratorCertificate(
      backend,
      crypto.getRandomValues(new Uint8Array(32)),
      { keyId: 9, moderatorPublic: server.moderator.publicKey, notAfter: T0 + DAY },
    );
    expect(await moderators.add([stranger, server.moderatorCertificate])).toBe(true);
    expect(await moderators.add([server.moderatorCertificate])).toBe(false);
    const stored = await store.get('meta', 'moderator-certificates');
    expect(stored && decodeModeratorList(stored)).toEqual([server.moderatorCertificate]);

    const fresh = await Device.create(server.trust, () => clock.now);
    await fresh.engine.setModeratorCertificates([]);
    const reloaded = new Moderators({ engine: fresh.engine, http, store, now: () => clock.now });
    expect(reloaded.hasCurrent()).toBe(false);
    await reloaded.load();
    expect(reloaded.hasCurrent()).toBe(true);
    expect(fresh.engine.moderatorKeys().map((k) => k.keyId)).toEqual([3]);
  });

  it('refresh after an unknown key at most every UNKNOWN_KEY_REFRESH_MS', async () => {
    const { service, moderators, clock } = await setup();
    expect(await moderators.refreshForUnknownKey()).toBe(true);
    expect(await moderators.refreshForUnknownKey()).toBe(false);
    expect(service.certificateFetches).toBe(1);
    clock.now += UNKNOWN_KEY_REFRESH_MS;
    expect(await moderators.refreshForUnknownKey()).toBe(false);
    expect(service.certificateFetches).toBe(2);
  });

  it('refreshes for an unknown key or a failed signature only, and reports a failed refresh', async () => {
    const calls: string[] = [];
    const intake = new ReportIntake({
      reports: {} as ReportStore,
      revocations: {} as Revocations,
      moderators: {
        refreshForUnknownKey: async () => {
          calls.push('refresh');
          if (calls.length === 3) throw new Error('offline');
          return true;
        },
      } as unknown as Moderators,
      now: () => 0,
    });
    expect(await intake.retryUnknownModerator(new UnreportableMessageError('moderator key'))).toBe(
      true,
    );
    expect(await intake.retryUnknownModerator(new UnreportableMessageError('signature'))).toBe(
      true,
    );
    expect(await intake.retryUnknownModerator(new UnreportableMessageError('signature'))).toEqual(
      new Error('offline'),
    );
    expect(await intake.retryUnknownModerator(new UnreportableMessageError('commitment'))).toBe(
      false,
    );
    expect(await intake.retryUnknownModerator(new UnreportableMessageError('stamp'))).toBe(false);
    expect(await intake.retryUnknownModerator(new Error('other'))).toBe(false);
    expect(calls).toEqual(['refresh', 'refresh', 'refresh']);
  });

  it('keeps the revoked moderator key ids of the client’s trust configuration', () => {
    const trustRoot = toBase64Url(new Uint8Array(32).fill(7));
    expect(trustConfig({ trustRoot, revokedModeratorKeyIds: [3] })).toEqual({
      trustRoot: new Uint8Array(32).fill(7),
      revokedServerKeyIds: [],
      revokedModeratorKeyIds: [3],
    });
    expect(trustConfig({ trustRoot })).not.toHaveProperty('revokedModeratorKeyIds');
  });

  it('decodes its record strictly', () => {
    const bytes = encodeModeratorList([new Uint8Array(109).fill(1)]);
    expect(decodeModeratorList(bytes)).toHaveLength(1);
    expect(() => decodeModeratorList(bytes.subarray(0, bytes.length - 1))).toThrow(
      StateCorruptError,
    );
    expect(() => decodeModeratorList(Uint8Array.of(2, 0))).toThrow(StateCorruptError);
    expect(() => decodeModeratorList(Uint8Array.of(1, 9))).toThrow(StateCorruptError);
  });
});
