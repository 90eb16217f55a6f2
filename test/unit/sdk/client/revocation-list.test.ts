/**
 * The client's revocation list (sdk/client/revocations.ts, docs/SDK.md §Suspended senders),
 * against a fake service: a listed account's messages are refused from an hour before its
 * suspension on; a list is used only when a server key chaining to the pinned root signed it
 * and it is not older than the held one; fetches are rate-limited and a failure keeps the held
 * list; the list survives a restart; an entry that ages out of the service's list still covers
 * what the account's last certificates could send, while a lifted one is forgotten.
 */
import { describe, expect, it } from 'vitest';
import { SenderSuspendedError } from '#sdk/client/errors.ts';
import {
  DEFAULT_REVOCATION_REFRESH_MS,
  Revocations,
  revocationRefreshMs,
} from '#sdk/client/revocations.ts';
import { defaultBackend as backend } from '#sdk/crypto/index.ts';
import { issueServerCertificate, type TrustConfig } from '#sdk/protocol/certificates.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { fromBase64Url, toBase64Url } from '#sdk/util/bytes.ts';
import {
  encodeRevocationList,
  type Revocation,
  revocationListPayload,
} from '#sdk/wire/revocations.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = 1_760_000_000_000;
const MALLORY = 'm'.repeat(32);
const ALICE = 'a'.repeat(32);

const seed = () => crypto.getRandomValues(new Uint8Array(32));

async function serverKey(rootSeed: Uint8Array, keyId: number) {
  const serverSeed = seed();
  const certificate = await issueServerCertificate(backend, rootSeed, {
    keyId,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: T0 + 365 * DAY,
  });
  return { serverSeed, certificate };
}

async function signedList(
  serverSeed: Uint8Array,
  issuedAt: number,
  revocations: Revocation[],
): Promise<string> {
  const signature = await backend.ed25519Sign(
    serverSeed,
    revocationListPayload({ issuedAt, revocations }),
  );
  return toBase64Url(encodeRevocationList({ issuedAt, revocations, signature }));
}

/** A client's list over a fake service whose answers the test sets. */
async function setup(options: { refreshMs?: number } = {}) {
  const rootSeed = seed();
  const trust: TrustConfig = {
    trustRoot: await backend.ed25519PublicKey(rootSeed),
    revokedServerKeyIds: [],
  };
  const own = await serverKey(rootSeed, 1);
  const service = {
    list: undefined as string | undefined,
    current: own.certificate,
    fail: false,
    listFetches: 0,
    certificateFetches: 0,
  };
  const http = {
    certificateRevocations: async () => {
      service.listFetches++;
      if (service.fail || service.list === undefined) throw new Error('unreachable');
      return { revocations: service.list };
    },
    serverCertificate: async () => {
      service.certificateFetches++;
      return { serverCertificate: toBase64Url(service.current) };
    },
  };
  const store = new MemoryStore();
  const clock = { now: T0 };
  const make = () =>
    new Revocations({
      http,
      store,
      backend,
      trust,
      now: () => clock.now,
      refreshMs: options.refreshMs ?? 1_000,
      ownServerCertificate: async () => own.certificate,
    });
  return { rootSeed, own, service, clock, store, make, revocations: make() };
}

const refused = (r: Revocations, address: string, receivedAt: number) => {
  try {
    r.check(address, receivedAt);
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(SenderSuspendedError);
    expect((err as SenderSuspendedError).code).toBe('SENDER_SUSPENDED');
    return true;
  }
};

describe('the revocation list', () => {
  it('refuses a listed account from an hour before its suspension on, and nobody else', async () => {
    const { own, service, clock, revocations } = await setup();
    const suspendedAt = T0 - 2 * HOUR + 1_234;
    service.list = await signedList(own.serverSeed, T0, [{ address: MALLORY, suspendedAt }]);
    expect(refused(revocations, MALLORY, T0)).toBe(false);
    await revocations.refresh();
    expect(revocations.heldIssuedAt).toBe(T0);
    // receivedAt is hour precision: the hour the suspension fell in counts.
    const hourOfSuspension = suspendedAt - (suspendedAt % HOUR);
    expect(refused(revocations, MALLORY, hourOfSuspension)).toBe(true);
    expect(refused(revocations, MALLORY, suspendedAt - HOUR)).toBe(true);
    expect(refused(revocations, MALLORY, suspendedAt + 10 * HOUR)).toBe(true);
    expect(refused(revocations, MALLORY, suspendedAt - HOUR - 1)).toBe(false);
    expect(refused(revocations, ALICE, clock.now)).toBe(false);
  });

  it('ignores a list with a bad signature, or signed by a key of another root', async () => {
    const { own, service, clock, revocations } = await setup();
    service.list = await signedList(own.serverSeed, T0, [{ address: ALICE, suspendedAt: T0 }]);
    await revocations.refresh();
    expect(refused(revocations, ALICE, T0)).toBe(true);

    // A newer list naming Mallory, its signature broken: the held list stays.
    const good = await signedList(own.serverSeed, T0 + 1, [{ address: MALLORY, suspendedAt: T0 }]);
    const bytes = fromBase64Url(good);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    service.list = toBase64Url(bytes);
    clock.now += 1_000;
    await revocations.refresh();
    expect(refused(revocations, MALLORY, T0)).toBe(false);
    expect(refused(revocations, ALICE, T0)).toBe(true);
    expect(revocations.heldIssuedAt).toBe(T0);

    // Signed by a server key whose certificate chains to another root: also ignored, even
    // when the service presents that certificate as its current one.
    const stranger = await serverKey(seed(), 2);
    service.current = stranger.certificate;
    service.list = await signedList(stranger.serverSeed, T0 + 2, []);
    clock.now += 1_000;
    await revocations.refresh();
    expect(refused(revocations, ALICE, T0)).toBe(true);
    expect(revocations.heldIssuedAt).toBe(T0);
  });

  it('verifies with the service’s current key after a rotation', async () => {
    const { rootSeed, service, revocations } = await setup();
    const rotated = await serverKey(rootSeed, 2);
    service.current = rotated.certificate;
    service.list = await signedList(rotated.serverSeed, T0, [
      { address: MALLORY, suspendedAt: T0 },
    ]);
    await revocations.refresh();
    expect(service.certificateFetches).toBe(1);
    expect(refused(revocations, MALLORY, T0)).toBe(true);
  });

  it('ignores a list issued before the held one', async () => {
    const { own, service, clock, revocations } = await setup();
    service.list = await signedList(own.serverSeed, T0, [{ address: MALLORY, suspendedAt: T0 }]);
    await revocations.refresh();
    service.list = await signedList(own.serverSeed, T0 - 60_000, []);
    clock.now += 1_000;
    await revocations.refresh();
    expect(service.listFetches).toBe(2);
    expect(refused(revocations, MALLORY, T0)).toBe(true);
  });

  it('fetches at most every refreshMs and keeps the held list when a fetch fails', async () => {
    const { own, service, clock, revocations } = await setup({ refreshMs: 600_000 });
    service.list = await signedList(own.serverSeed, T0, [{ address: MALLORY, suspendedAt: T0 }]);
    await revocations.refresh();
    await revocations.refresh();
    clock.now += 599_999;
    await revocations.refresh();
    expect(service.listFetches).toBe(1);
    clock.now += 1;
    service.fail = true;
    await expect(revocations.refresh()).resolves.toBeUndefined();
    expect(service.listFetches).toBe(2);
    expect(refused(revocations, MALLORY, T0)).toBe(true);
  });

  it('survives a restart (the held list is in the store)', async () => {
    const { own, service, make, revocations } = await setup();
    service.list = await signedList(own.serverSeed, T0, [{ address: MALLORY, suspendedAt: T0 }]);
    await revocations.refresh();
    const reopened = make();
    expect(refused(reopened, MALLORY, T0)).toBe(false);
    await reopened.load();
    expect(reopened.heldIssuedAt).toBe(T0);
    expect(refused(reopened, MALLORY, T0)).toBe(true);
  });

  it('takes the latest list as complete: a suspension that leaves it no longer applies', async () => {
    const { own, service, clock, revocations } = await setup();
    service.list = await signedList(own.serverSeed, T0, [
      { address: MALLORY, suspendedAt: T0 },
      { address: ALICE, suspendedAt: T0 },
    ]);
    await revocations.refresh();
    expect(refused(revocations, ALICE, T0 + HOUR)).toBe(true);
    // An hour later Alice is lifted: the service no longer lists her.
    clock.now = T0 + HOUR;
    service.list = await signedList(own.serverSeed, clock.now, [
      { address: MALLORY, suspendedAt: T0 },
    ]);
    await revocations.refresh();
    expect(refused(revocations, ALICE, T0 + HOUR)).toBe(false);
    // Mallory stays listed (the service keeps a suspension for the certificate lifetime plus
    // the message lifetime), so her messages of any later receipt time are refused.
    clock.now = T0 + 20 * DAY;
    service.list = await signedList(own.serverSeed, clock.now, [
      { address: MALLORY, suspendedAt: T0 },
    ]);
    await revocations.refresh();
    expect(refused(revocations, MALLORY, T0 + 19 * DAY)).toBe(true);
  });
});

describe('revocationRefreshMs', () => {
  it('defaults to ten minutes and is bounded', () => {
    expect(revocationRefreshMs(undefined)).toBe(DEFAULT_REVOCATION_REFRESH_MS);
    expect(DEFAULT_REVOCATION_REFRESH_MS).toBe(600_000);
    for (const bad of [999, 86_400_001, 1.5]) {
      expect(() => revocationRefreshMs(bad)).toThrow(ArgumentRangeError);
    }
  });
});
