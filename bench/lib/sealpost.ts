/**
 * The same work as lib/libsignal.ts, done by the Sealpost SDK: in-memory stores holding
 * serialized records (copied in and out, as a durable store would), 1 KiB plaintexts,
 * certificates validated on every open. The SDK keeps its verdicts on signatures it has
 * already checked (same bytes, same trust root) where libsignal verifies again. Setups use
 * fresh parties, so no verdict or imported peer key carries over from one setup to the next;
 * a party's own identity key is imported when the party is created, as on a running device.
 * Sealed messages are franked (PROTOCOL.md §11), as every Sealpost sealed message is: parties
 * hold the operator's moderator certificate, certificates and bundles carry franking keys.
 */
import { defaultBackend, systemRng } from '../../sdk/crypto/index.ts';
import { generateFrankingKeyPair } from '../../sdk/franking/index.ts';
import {
  issueModeratorCertificate,
  issueSenderCertificate,
  issueServerCertificate,
  type TrustConfig,
} from '../../sdk/protocol/certificates.ts';
import { ProtocolEngine } from '../../sdk/protocol/engine.ts';
import type { PrekeyUpload } from '../../sdk/protocol/prekey-manager.ts';
import { MemoryStore } from '../../sdk/state/memory-store.ts';
import type { PrekeyBundle } from '../../sdk/wire/prekeys.ts';

const backend = defaultBackend;
const DAY = 86_400_000;

interface Party {
  readonly engine: ProtocolEngine;
  readonly peer: { address: string; deviceId: number };
  upload: PrekeyUpload;
  certificate: Uint8Array;
}

export async function sealpostPair() {
  const pt = new Uint8Array(1024).fill(0x61);
  const rootSeed = crypto.getRandomValues(new Uint8Array(32));
  const serverSeed = crypto.getRandomValues(new Uint8Array(32));
  const serverCertificate = await issueServerCertificate(backend, rootSeed, {
    keyId: 1,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: Date.now() + 365 * DAY,
  });
  const trust: TrustConfig = {
    trustRoot: await backend.ed25519PublicKey(rootSeed),
    revokedServerKeyIds: [],
  };
  const moderatorCertificate = await issueModeratorCertificate(backend, rootSeed, {
    keyId: 1,
    moderatorPublic: generateFrankingKeyPair(systemRng).publicKey,
    notAfter: Date.now() + 365 * DAY,
  });

  async function party(oneTime = 1): Promise<Party> {
    const { engine } = await ProtocolEngine.create({ store: new MemoryStore(), trust, backend });
    await engine.setModeratorCertificates([moderatorCertificate]);
    const upload = await engine.generatePrekeys({ oneTime, kem: oneTime });
    const certificate = await issueSenderCertificate(backend, serverSeed, {
      address: engine.address,
      deviceId: 1,
      identityKey: engine.identity.dhPublic,
      frankingKey: engine.frankingPublicKey,
      expires: Date.now() + 7 * DAY,
      serverCertificate,
    });
    return { engine, peer: { address: engine.address, deviceId: 1 }, upload, certificate };
  }

  function bundle(p: Party): PrekeyBundle {
    return {
      address: p.engine.address,
      deviceId: 1,
      identity: p.engine.identity,
      signedPrekey: p.upload.signedPrekey!,
      oneTimePrekey: p.upload.oneTimePrekeys[0]!,
      kemPrekey: p.upload.kemPrekeys[0]!,
      frankingKey: p.engine.frankingPublicKey,
    };
  }

  async function send(from: Party, to: Party): Promise<number> {
    const { type, body } = await from.engine.encrypt(to.peer, pt);
    await to.engine.decrypt(from.peer, type, body);
    return body.length;
  }

  async function sealedSend(from: Party, to: Party): Promise<number> {
    const envelope = await from.engine.seal(to.peer, pt, from.certificate);
    await to.engine.unseal(envelope);
    return envelope.length;
  }

  const alice = await party();
  const bob = await party();
  await alice.engine.startSession(bob.engine.address, bundle(bob));
  await send(alice, bob);
  await send(bob, alice);
  let turn = 0;

  return {
    oneWay: () => send(alice, bob),
    alternate: () => (turn++ % 2 === 0 ? send(alice, bob) : send(bob, alice)),
    sealed: () => sealedSend(alice, bob),
    async sealedSizes() {
      const a = await party();
      const b = await party();
      await a.engine.startSession(b.engine.address, bundle(b));
      const first = await sealedSend(a, b);
      await sealedSend(b, a);
      return { first, steady: await sealedSend(a, b) };
    },
    async messageSizes() {
      const a = await party();
      const b = await party();
      await a.engine.startSession(b.engine.address, bundle(b));
      const first = await send(a, b);
      await send(b, a);
      return { first, steady: await send(a, b) };
    },
    async prepareSetup() {
      return { a: await party(0), b: await party() };
    },
    async setup({ a, b }: { a: Party; b: Party }) {
      await a.engine.startSession(b.engine.address, bundle(b));
      await send(a, b);
    },
  };
}
