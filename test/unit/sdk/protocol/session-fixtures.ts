/**
 * Test parties for the session cipher: a key-agreement double that does a real X3DH-style
 * agreement on the backend under test (three or four X25519 terms, HKDF) with keys generated
 * here, and stores one-time prekeys so that their consumption is observable. It stands in for
 * PQXDH (PROTOCOL.md §4) without ML-KEM: the KEM ciphertext is random bytes bound into SK by hash,
 * so tampering with it still changes the session key.
 */
import type { CryptoBackend, Rng } from '#sdk/crypto/backend.ts';
import { PrekeyNotFoundError } from '#sdk/errors.ts';
import {
  type KeyAgreement,
  type KeyAgreementResponse,
  type PeerAddress,
  SessionCipher,
} from '#sdk/protocol/session-cipher.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import type { StateStore } from '#sdk/state/store.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import type { PrekeyMessage } from '#sdk/wire/messages.ts';

const KDF_PREFIX = new Uint8Array(32).fill(0xff);
const KDF_SALT = new Uint8Array(32);
const KDF_INFO = new TextEncoder().encode('Sealpost-Test-KeyAgreement');
export const SPK_ID = 7;
export const KEM_ID = 11;

export interface TestParty extends PartyKeys {
  readonly peer: PeerAddress;
  store: StateStore;
  cipher: SessionCipher;
  readonly agreement: CountingAgreement;
}

async function keyPair(backend: CryptoBackend, rng: Rng) {
  const privateKey = rng(32);
  return { privateKey, publicKey: await backend.x25519PublicKey(privateKey) };
}

function deriveSecret(backend: CryptoBackend, dhs: Uint8Array[], kemCiphertext: Uint8Array) {
  return backend.hkdfSha256(
    concatBytes(KDF_PREFIX, ...dhs, backend.sha256(kemCiphertext)),
    KDF_SALT,
    KDF_INFO,
    32,
  );
}

/** The long-term keys of a test party. */
export interface PartyKeys {
  readonly identity: Uint8Array;
  readonly dhPrivate: Uint8Array;
  readonly spkPrivate: Uint8Array;
  readonly spkPublic: Uint8Array;
}

/** The responder double; counts calls so tests can tell a new session from a reused one. */
export class CountingAgreement implements KeyAgreement {
  calls = 0;
  constructor(
    private readonly backend: CryptoBackend,
    private readonly keys: PartyKeys,
    private readonly store: () => StateStore,
  ) {}

  async respond(request: {
    readonly peer: PeerAddress;
    readonly message: PrekeyMessage;
  }): Promise<KeyAgreementResponse> {
    this.calls++;
    const me = this.keys;
    const m = request.message;
    if (m.signedPrekeyId !== SPK_ID || m.kemPrekeyId !== KEM_ID) throw new PrekeyNotFoundError();
    const remoteDh = m.identity.subarray(64, 96);
    const dhs = [
      await this.backend.x25519(me.spkPrivate, remoteDh),
      await this.backend.x25519(me.dhPrivate, m.baseKey),
      await this.backend.x25519(me.spkPrivate, m.baseKey),
    ];
    const consumedPrekeyOps = [];
    if (m.oneTimePrekeyId !== 0) {
      const key = String(m.oneTimePrekeyId);
      const opk = await this.store().get('oneTimePrekey', key);
      if (opk === undefined) throw new PrekeyNotFoundError();
      dhs.push(await this.backend.x25519(opk.subarray(0, 32), m.baseKey));
      consumedPrekeyOps.push({ ns: 'oneTimePrekey' as const, key, value: null });
    }
    return {
      sk: deriveSecret(this.backend, dhs, m.kemCiphertext),
      ad: concatBytes(m.identity, me.identity),
      spkKeyPair: { privateKey: me.spkPrivate, publicKey: me.spkPublic },
      consumedPrekeyOps,
    };
  }
}

/**
 * A party with a random 172-byte identity (its X25519 identity public key at bytes 64..96,
 * where `IdentityBundle` keeps it), a signed prekey and `oneTimePrekeys` stored one-time keys.
 */
export async function makeParty(
  backend: CryptoBackend,
  rng: Rng,
  address: string,
  oneTimePrekeys = 3,
): Promise<TestParty> {
  const dh = await keyPair(backend, rng);
  const spk = await keyPair(backend, rng);
  const identity = rng(172);
  identity.set(dh.publicKey, 64);
  const store = new MemoryStore();
  for (let id = 1; id <= oneTimePrekeys; id++) {
    const opk = await keyPair(backend, rng);
    await store.commit([
      { ns: 'oneTimePrekey', key: String(id), value: concatBytes(opk.privateKey, opk.publicKey) },
    ]);
  }
  const keys: PartyKeys = {
    identity,
    dhPrivate: dh.privateKey,
    spkPrivate: spk.privateKey,
    spkPublic: spk.publicKey,
  };
  const holder: { store: StateStore } = { store };
  const agreement = new CountingAgreement(backend, keys, () => holder.store);
  const party: TestParty = {
    ...keys,
    peer: { address, deviceId: 1 },
    get store() {
      return holder.store;
    },
    set store(next: StateStore) {
      holder.store = next;
    },
    cipher: new SessionCipher({ store, backend, keyAgreement: agreement, rng }),
    agreement,
  };
  return party;
}
/** Replaces a party's store (a restart from a copy of its durable state). */
export function restart(party: TestParty, backend: CryptoBackend, rng: Rng, store: StateStore) {
  party.store = store;
  party.cipher = new SessionCipher({ store, backend, keyAgreement: party.agreement, rng });
}

/** Copies every record of a memory store into a new one. */
export async function cloneStore(store: StateStore): Promise<MemoryStore> {
  const copy = new MemoryStore();
  for (const ns of ['session', 'oneTimePrekey'] as const) {
    for (const key of await store.keys(ns)) {
      const value = await store.get(ns, key);
      if (value) await copy.commit([{ ns, key, value }]);
    }
  }
  return copy;
}

/**
 * The initiator's half of the double: `from` starts a session with `to` using `to`'s one-time
 * prekey `opkId` (0 = none) and commits it with `initOutgoing`.
 */
export async function initiate(
  backend: CryptoBackend,
  rng: Rng,
  from: TestParty,
  to: TestParty,
  opkId = 1,
): Promise<void> {
  const ek = await keyPair(backend, rng);
  const dhs = [
    await backend.x25519(from.dhPrivate, to.spkPublic),
    await backend.x25519(ek.privateKey, to.identity.subarray(64, 96)),
    await backend.x25519(ek.privateKey, to.spkPublic),
  ];
  if (opkId !== 0) {
    const opk = await to.store.get('oneTimePrekey', String(opkId));
    if (!opk) throw new Error(`test setup: no one-time prekey ${opkId}`);
    dhs.push(await backend.x25519(ek.privateKey, opk.subarray(32, 64)));
  }
  const kemCiphertext = rng(1568);
  await from.cipher.initOutgoing(to.peer, {
    sk: deriveSecret(backend, dhs, kemCiphertext),
    ad: concatBytes(from.identity, to.identity),
    remoteSpkPublic: to.spkPublic,
    remoteIdentity: to.identity,
    pendingPrekey: {
      signedPrekeyId: SPK_ID,
      oneTimePrekeyId: opkId,
      kemPrekeyId: KEM_ID,
      kemCiphertext,
      baseKey: ek.publicKey,
    },
  });
}
