/**
 * The second reference of `npm run bench:browser`: `@privacyresearch/libsignal-protocol-typescript`
 * (GPL-3.0, installed only in bench/ as a measuring stick), a pure-TypeScript Signal protocol
 * for browsers, running in the same page as the SDK. It implements X3DH and the Double Ratchet
 * (no ML-KEM, so its session setup does less work than PQXDH) and has no sealed sender.
 * Its stores keep sessions as the serialized strings the library hands them; keys stay objects,
 * as in the library's own examples. 1 KiB plaintexts, every message encrypted and decrypted.
 */
import {
  type Direction,
  KeyHelper,
  type KeyPairType,
  type MessageType,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
  type StorageType,
} from '@privacyresearch/libsignal-protocol-typescript';

class Store implements StorageType {
  readonly identities = new Map<string, ArrayBuffer>();
  readonly prekeys = new Map<string, KeyPairType>();
  readonly signed = new Map<string, KeyPairType>();
  readonly sessions = new Map<string, string>();
  constructor(
    private readonly identity: KeyPairType,
    private readonly registrationId: number,
  ) {}
  async getIdentityKeyPair() {
    return this.identity;
  }
  async getLocalRegistrationId() {
    return this.registrationId;
  }
  async isTrustedIdentity(_id: string, _key: ArrayBuffer, _direction: Direction) {
    return true;
  }
  async saveIdentity(address: string, key: ArrayBuffer) {
    const known = this.identities.has(address);
    this.identities.set(address, key);
    return known;
  }
  async loadPreKey(id: string | number) {
    return this.prekeys.get(String(id));
  }
  async storePreKey(id: string | number, pair: KeyPairType) {
    this.prekeys.set(String(id), pair);
  }
  async removePreKey(id: string | number) {
    this.prekeys.delete(String(id));
  }
  async storeSession(address: string, record: string) {
    this.sessions.set(address, record);
  }
  async loadSession(address: string) {
    return this.sessions.get(address);
  }
  async loadSignedPreKey(id: string | number) {
    return this.signed.get(String(id));
  }
  async storeSignedPreKey(id: string | number, pair: KeyPairType) {
    this.signed.set(String(id), pair);
  }
  async removeSignedPreKey(id: string | number) {
    this.signed.delete(String(id));
  }
}

interface Party {
  readonly address: SignalProtocolAddress;
  readonly store: Store;
  readonly identity: KeyPairType;
  readonly registrationId: number;
  /** Ciphers towards each peer, by address. */
  readonly ciphers: Map<string, SessionCipher>;
  nextId: number;
}

const NAMES = ['alice', 'bob'];

async function party(index: number): Promise<Party> {
  const identity = await KeyHelper.generateIdentityKeyPair();
  const registrationId = KeyHelper.generateRegistrationId();
  return {
    address: new SignalProtocolAddress(NAMES[index]!, 1),
    store: new Store(identity, registrationId),
    identity,
    registrationId,
    ciphers: new Map(),
    nextId: 1,
  };
}

function cipher(at: Party, peer: Party): SessionCipher {
  const key = peer.address.toString();
  let c = at.ciphers.get(key);
  if (!c) {
    c = new SessionCipher(at.store, peer.address);
    at.ciphers.set(key, c);
  }
  return c;
}

/** A fresh bundle of `p` (one-time and signed prekey), private halves in p's store. */
async function bundle(p: Party) {
  const id = p.nextId++;
  const pre = await KeyHelper.generatePreKey(id);
  const signed = await KeyHelper.generateSignedPreKey(p.identity, id);
  await p.store.storePreKey(id, pre.keyPair);
  await p.store.storeSignedPreKey(id, signed.keyPair);
  return {
    identityKey: p.identity.pubKey,
    registrationId: p.registrationId,
    signedPreKey: {
      keyId: id,
      publicKey: signed.keyPair.pubKey,
      signature: signed.signature,
    },
    preKey: { keyId: id, publicKey: pre.keyPair.pubKey },
  };
}

async function decrypt(at: Party, from: Party, m: MessageType): Promise<ArrayBuffer> {
  const c = cipher(at, from);
  return m.type === 3
    ? c.decryptPreKeyWhisperMessage(m.body!, 'binary')
    : c.decryptWhisperMessage(m.body!, 'binary');
}

/**
 * Alice and Bob with an established session (one round trip done), and fresh-party setups.
 *
 * @example const pr = await privacyResearchPair(); await pr.oneWay();
 */
export async function privacyResearchPair() {
  const pt = new Uint8Array(1024).fill(0x61).buffer;

  async function send(from: Party, to: Party): Promise<number> {
    const m = await cipher(from, to).encrypt(pt);
    const out = await decrypt(to, from, m);
    if (out.byteLength !== pt.byteLength) throw new Error('privacyresearch: wrong plaintext');
    // `body` is a binary string: one character per byte.
    return m.body!.length;
  }

  async function start(a: Party, b: Party, bundleOfB: Awaited<ReturnType<typeof bundle>>) {
    await new SessionBuilder(a.store, b.address).processPreKey(bundleOfB);
  }

  const alice = await party(0);
  const bob = await party(1);
  await start(alice, bob, await bundle(bob));
  await send(alice, bob);
  await send(bob, alice);
  let turn = 0;

  return {
    oneWay: () => send(alice, bob),
    alternate: () => (turn++ % 2 === 0 ? send(alice, bob) : send(bob, alice)),
    async messageSizes() {
      const a = await party(0);
      const b = await party(1);
      await start(a, b, await bundle(b));
      const first = await send(a, b);
      await send(b, a);
      return { first, steady: await send(a, b) };
    },
    async prepareSetup() {
      const a = await party(0);
      const b = await party(1);
      return { a, b, bundle: await bundle(b) };
    },
    async setup(input: { a: Party; b: Party; bundle: Awaited<ReturnType<typeof bundle>> }) {
      await start(input.a, input.b, input.bundle);
      await send(input.a, input.b);
    },
  };
}
