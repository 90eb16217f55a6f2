/**
 * The comparator: the same work done by libsignal's native library (AGPL-3.0, installed only
 * in bench/ as a measuring stick; never a dependency of the product). Stores keep serialized
 * records, as real clients do.
 */
import * as S from '@signalapp/libsignal-client';

const enc = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(n).fill(0x61);

class Sessions extends S.SessionStore {
  private readonly m = new Map<string, Uint8Array<ArrayBuffer>>();
  async saveSession(a: S.ProtocolAddress, r: S.SessionRecord): Promise<void> {
    this.m.set(a.toString(), r.serialize());
  }
  async getSession(a: S.ProtocolAddress): Promise<S.SessionRecord | null> {
    const b = this.m.get(a.toString());
    return b ? S.SessionRecord.deserialize(b) : null;
  }
  async getExistingSessions(as: S.ProtocolAddress[]): Promise<S.SessionRecord[]> {
    return Promise.all(as.map(async (a) => (await this.getSession(a))!));
  }
}

class Identities extends S.IdentityKeyStore {
  private readonly m = new Map<string, Uint8Array<ArrayBuffer>>();
  constructor(
    private readonly key: S.PrivateKey,
    private readonly regId: number,
  ) {
    super();
  }
  async getIdentityKey(): Promise<S.PrivateKey> {
    return this.key;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.regId;
  }
  async saveIdentity(a: S.ProtocolAddress, k: S.PublicKey): Promise<S.IdentityChange> {
    const prev = this.m.get(a.toString());
    this.m.set(a.toString(), k.serialize());
    return prev && !k.serialize().every((b, i) => b === prev[i])
      ? S.IdentityChange.ReplacedExisting
      : S.IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(): Promise<boolean> {
    return true;
  }
  async getIdentity(a: S.ProtocolAddress): Promise<S.PublicKey | null> {
    const b = this.m.get(a.toString());
    return b ? S.PublicKey.deserialize(b) : null;
  }
}

class PreKeys extends S.PreKeyStore {
  readonly m = new Map<number, Uint8Array<ArrayBuffer>>();
  async savePreKey(id: number, r: S.PreKeyRecord): Promise<void> {
    this.m.set(id, r.serialize());
  }
  async getPreKey(id: number): Promise<S.PreKeyRecord> {
    return S.PreKeyRecord.deserialize(this.m.get(id)!);
  }
  async removePreKey(id: number): Promise<void> {
    this.m.delete(id);
  }
}
class SignedPreKeys extends S.SignedPreKeyStore {
  readonly m = new Map<number, Uint8Array<ArrayBuffer>>();
  async saveSignedPreKey(id: number, r: S.SignedPreKeyRecord): Promise<void> {
    this.m.set(id, r.serialize());
  }
  async getSignedPreKey(id: number): Promise<S.SignedPreKeyRecord> {
    return S.SignedPreKeyRecord.deserialize(this.m.get(id)!);
  }
}
class KyberPreKeys extends S.KyberPreKeyStore {
  readonly m = new Map<number, Uint8Array<ArrayBuffer>>();
  async saveKyberPreKey(id: number, r: S.KyberPreKeyRecord): Promise<void> {
    this.m.set(id, r.serialize());
  }
  async getKyberPreKey(id: number): Promise<S.KyberPreKeyRecord> {
    return S.KyberPreKeyRecord.deserialize(this.m.get(id)!);
  }
  async markKyberPreKeyUsed(id: number): Promise<void> {
    this.m.delete(id);
  }
}

interface Party {
  readonly name: string;
  readonly address: S.ProtocolAddress;
  readonly identity: S.IdentityKeyPair;
  readonly sessions: Sessions;
  readonly identities: Identities;
  readonly prekeys: PreKeys;
  readonly signed: SignedPreKeys;
  readonly kyber: KyberPreKeys;
  nextId: number;
}

const UUIDS = ['9d0652a3-dcc3-4d11-975f-74d61598733f', '796abedb-ca4e-4f18-8803-1fde5b921f9f'];

function party(index: number): Party {
  const identity = S.IdentityKeyPair.generate();
  return {
    name: UUIDS[index]!,
    address: S.ProtocolAddress.new(UUIDS[index]!, 1),
    identity,
    sessions: new Sessions(),
    identities: new Identities(identity.privateKey, 1000 + index),
    prekeys: new PreKeys(),
    signed: new SignedPreKeys(),
    kyber: new KyberPreKeys(),
    nextId: 1,
  };
}

/** A fresh bundle of `p` (one-time EC key + one-time Kyber key), keys stored in p's stores. */
function bundle(p: Party): S.PreKeyBundle {
  const id = p.nextId++;
  const pre = S.PrivateKey.generate();
  const spk = S.PrivateKey.generate();
  const spkSig = p.identity.privateKey.sign(spk.getPublicKey().serialize());
  const kem = S.KEMKeyPair.generate();
  const kemSig = p.identity.privateKey.sign(kem.getPublicKey().serialize());
  p.prekeys.m.set(id, S.PreKeyRecord.new(id, pre.getPublicKey(), pre).serialize());
  p.signed.m.set(
    id,
    S.SignedPreKeyRecord.new(id, Date.now(), spk.getPublicKey(), spk, spkSig).serialize(),
  );
  p.kyber.m.set(id, S.KyberPreKeyRecord.new(id, Date.now(), kem, kemSig).serialize());
  return S.PreKeyBundle.new(
    1000 + UUIDS.indexOf(p.name),
    1,
    id,
    pre.getPublicKey(),
    id,
    spk.getPublicKey(),
    spkSig,
    p.identity.publicKey,
    id,
    kem.getPublicKey(),
    kemSig,
  );
}

async function encrypt(
  from: Party,
  to: Party,
  pt: Uint8Array<ArrayBuffer>,
): Promise<S.CiphertextMessage> {
  return S.signalEncrypt(pt, to.address, from.address, from.sessions, from.identities);
}

async function decrypt(at: Party, from: Party, ct: S.CiphertextMessage): Promise<Uint8Array> {
  if (ct.type() === S.CiphertextMessageType.PreKey) {
    return S.signalDecryptPreKey(
      S.PreKeySignalMessage.deserialize(ct.serialize()),
      from.address,
      at.address,
      at.sessions,
      at.identities,
      at.prekeys,
      at.signed,
      at.kyber,
    );
  }
  return S.signalDecrypt(
    S.SignalMessage.deserialize(ct.serialize()),
    from.address,
    at.address,
    at.sessions,
    at.identities,
  );
}

/** Alice and Bob with an established session (one round trip done). */
export async function libsignalPair(): Promise<{
  oneWay: () => Promise<void>;
  alternate: () => Promise<void>;
  sealed: () => Promise<void>;
  sealedSizes: () => Promise<{ first: number; steady: number }>;
  messageSizes: () => Promise<{ first: number; steady: number }>;
  prepareSetup: () => { bundle: S.PreKeyBundle; alice: Party; bob: Party };
  setup: (input: { bundle: S.PreKeyBundle; alice: Party; bob: Party }) => Promise<void>;
}> {
  const pt = enc(1024);
  const alice = party(0);
  const bob = party(1);
  await S.processPreKeyBundle(
    bundle(bob),
    bob.address,
    alice.address,
    alice.sessions,
    alice.identities,
  );
  await decrypt(bob, alice, await encrypt(alice, bob, pt));
  await decrypt(alice, bob, await encrypt(bob, alice, pt));

  const trustRoot = S.PrivateKey.generate();
  const serverKey = S.PrivateKey.generate();
  const serverCert = S.ServerCertificate.new(1, serverKey.getPublicKey(), trustRoot);
  const certFor = (p: Party) =>
    S.SenderCertificate.new(
      p.name,
      null,
      1,
      p.identity.publicKey,
      Date.now() + 86_400_000,
      serverCert,
      serverKey,
    );
  const aliceCert = certFor(alice);
  let turn = 0;

  const sealedRoundTrip = async (from: Party, to: Party, cert: S.SenderCertificate) => {
    const sealed = await S.sealedSenderEncryptMessage(
      pt,
      to.address,
      cert,
      from.sessions,
      from.identities,
    );
    await S.sealedSenderDecryptMessage(
      sealed,
      trustRoot.getPublicKey(),
      Date.now(),
      null,
      to.name,
      1,
      to.sessions,
      to.identities,
      to.prekeys,
      to.signed,
      to.kyber,
    );
    return sealed.length;
  };

  return {
    async oneWay() {
      await decrypt(bob, alice, await encrypt(alice, bob, pt));
    },
    async alternate() {
      const [from, to] = turn++ % 2 === 0 ? [alice, bob] : [bob, alice];
      await decrypt(to, from, await encrypt(from, to, pt));
    },
    async sealed() {
      await sealedRoundTrip(alice, bob, aliceCert);
    },
    async sealedSizes() {
      const a = party(0);
      const b = party(1);
      await S.processPreKeyBundle(bundle(b), b.address, a.address, a.sessions, a.identities);
      const first = await sealedRoundTrip(a, b, certFor(a));
      await sealedRoundTrip(b, a, certFor(b));
      const steady = await sealedRoundTrip(a, b, certFor(a));
      return { first, steady };
    },
    async messageSizes() {
      const a = party(0);
      const b = party(1);
      await S.processPreKeyBundle(bundle(b), b.address, a.address, a.sessions, a.identities);
      const m1 = await encrypt(a, b, pt);
      await decrypt(b, a, m1);
      await decrypt(a, b, await encrypt(b, a, pt));
      const m2 = await encrypt(a, b, pt);
      return { first: m1.serialize().length, steady: m2.serialize().length };
    },
    prepareSetup() {
      const a = party(0);
      const b = party(1);
      return { bundle: bundle(b), alice: a, bob: b };
    },
    async setup({ bundle: bb, alice: a, bob: b }) {
      await S.processPreKeyBundle(bb, b.address, a.address, a.sessions, a.identities);
      await decrypt(b, a, await encrypt(a, b, pt));
    },
  };
}
