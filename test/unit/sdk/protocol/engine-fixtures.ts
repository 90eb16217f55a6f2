import { defaultBackend } from '#sdk/crypto/index.ts';
import { generateFrankingKeyPair } from '#sdk/franking/index.ts';
import {
  issueModeratorCertificate,
  issueSenderCertificate,
  issueServerCertificate,
  type TrustConfig,
} from '#sdk/protocol/certificates.ts';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import type { PrekeyUpload } from '#sdk/protocol/prekey-manager.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import type { PrekeyBundle } from '#sdk/wire/prekeys.ts';

const backend = defaultBackend;
export const DAY = 86_400_000;

/**
 * The moderator certificates of each fixture server, by its trust config: devices created
 * under a trust config frank for (and accept) that server's moderator key, as clients do once
 * they fetched it (PROTOCOL.md §11.2).
 */
const moderatorsOf = new WeakMap<TrustConfig, Uint8Array[]>();

/** The fixture server's moderator key for `trust` (to judge franked messages in tests). */
export const moderatorKeys = new WeakMap<
  TrustConfig,
  { keyId: number; secretKey: Uint8Array; publicKey: Uint8Array }
>();

/** A trust root and server key that issue sender certificates, as the service does. */
export async function makeServer(now: () => number) {
  const rootSeed = crypto.getRandomValues(new Uint8Array(32));
  const serverSeed = crypto.getRandomValues(new Uint8Array(32));
  const serverCertificate = await issueServerCertificate(backend, rootSeed, {
    keyId: 7,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: now() + 365 * DAY,
  });
  const trust: TrustConfig = {
    trustRoot: await backend.ed25519PublicKey(rootSeed),
    revokedServerKeyIds: [],
  };
  const moderator = generateFrankingKeyPair((n) => crypto.getRandomValues(new Uint8Array(n)));
  const moderatorCertificate = await issueModeratorCertificate(backend, rootSeed, {
    keyId: 3,
    moderatorPublic: moderator.publicKey,
    notAfter: now() + 365 * DAY,
  });
  moderatorsOf.set(trust, [moderatorCertificate]);
  moderatorKeys.set(trust, { keyId: 3, ...moderator });
  const certify = (engine: ProtocolEngine, deviceId: number, expires = now() + 7 * DAY) =>
    issueSenderCertificate(backend, serverSeed, {
      address: engine.address,
      deviceId,
      identityKey: engine.identity.dhPublic,
      frankingKey: engine.frankingPublicKey,
      expires,
      serverCertificate,
    });
  return {
    trust,
    rootSeed,
    moderatorCertificate,
    moderator: { keyId: 3, ...moderator },
    certify,
    /** `message` sealed by `from` for `to` under a fresh sender certificate. */
    sealedTo: async (from: Device, to: Device, message: string) =>
      from.engine.seal(to.peer, utf8(message), await certify(from.engine, from.deviceId)),
  };
}

/** A certifying server and two fresh devices (device 1 each) on one clock. */
export async function aliceAndBob(now: () => number) {
  const server = await makeServer(now);
  const alice = await Device.create(server.trust, now);
  const bob = await Device.create(server.trust, now);
  return { server, alice, bob };
}

/** A device with its published prekeys, playing the service's bundle store. */
export class Device {
  private published: PrekeyUpload[] = [];
  private constructor(
    readonly engine: ProtocolEngine,
    readonly deviceId: number,
    readonly store: MemoryStore,
  ) {}

  static async create(
    trust: TrustConfig,
    now: () => number,
    deviceId = 1,
    from?: Device,
  ): Promise<Device> {
    const store = new MemoryStore();
    const { engine } = await ProtocolEngine.create({
      store,
      trust,
      now,
      link: { deviceId, linkEpoch: now() },
      ...(from?.engine.accountSeed
        ? {
            account: {
              seed: from.engine.accountSeed,
              publicKey: from.engine.identity.accountPublic,
            },
          }
        : {}),
    });
    await engine.setModeratorCertificates(moderatorsOf.get(trust) ?? []);
    const d = new Device(engine, deviceId, store);
    d.published.push(await engine.generatePrekeys({ oneTime: 3, kem: 3 }));
    return d;
  }

  get peer() {
    return { address: this.engine.address, deviceId: this.deviceId };
  }

  /** Claims one EC and one KEM one-time key like the service; last-resort KEM when out. */
  bundle(): PrekeyBundle {
    const signed = this.published.findLast((u) => u.signedPrekey)!.signedPrekey!;
    const lastResort = this.published.findLast((u) => u.lastResortKemPrekey)!.lastResortKemPrekey!;
    const ec = this.published.flatMap((u) => u.oneTimePrekeys).shift();
    const kemAll = this.published.flatMap((u) => u.kemPrekeys);
    const kem = kemAll[0];
    this.published = this.published.map((u) => ({
      ...u,
      oneTimePrekeys: u.oneTimePrekeys.filter((k) => k !== ec),
      kemPrekeys: u.kemPrekeys.filter((k) => k !== kem),
    }));
    return {
      address: this.engine.address,
      deviceId: this.deviceId,
      identity: this.engine.identity,
      signedPrekey: signed,
      ...(ec ? { oneTimePrekey: ec } : {}),
      kemPrekey: kem ?? lastResort,
      frankingKey: this.engine.frankingPublicKey,
    };
  }

  async publish(upload: PrekeyUpload): Promise<void> {
    this.published.push(upload);
  }
}
