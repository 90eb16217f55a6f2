/**
 * PQXDH key agreement (Signal PQXDH specification, revision 3; PROTOCOL.md §4;
 * docs/PROTOCOL.md §4). X25519 for the DH terms, ML-KEM-1024 for the KEM term,
 * HKDF-SHA-256 for the KDF.
 *
 * The session layer calls {@link pqxdhInitiate} with a verified bundle, and on receipt of a
 * prekey message either {@link pqxdhRespond} with records it loaded or
 * {@link storeBackedResponder}, which loads them and returns the store ops that consume the
 * one-time prekeys (to be committed together with the new session, PROTOCOL.md §4).
 */
import {
  type CryptoBackend,
  MLKEM_ENCAPS_SEED_BYTES,
  MLKEM1024_CIPHERTEXT_BYTES,
  type Rng,
  systemRng,
  X25519_KEY_BYTES,
} from '../crypto/backend.ts';
import {
  DuplicateMessageError,
  InvalidMessageError,
  PrekeyNotFoundError,
  StateCorruptError,
} from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { assertBytes, concatBytes, toHex, wipe } from '../util/bytes.ts';
import {
  encodeIdentityBundle,
  IDENTITY_BUNDLE_BYTES,
  type IdentityBundle,
} from '../wire/identity.ts';
import { LABELS } from '../wire/labels.ts';
import { isPrekeyId } from '../wire/prekeys.ts';
import type { VerifiedBundle } from './bundle.ts';
import type { LocalIdentity } from './identity.ts';
import {
  decodeKemPrekeyRecord,
  decodeOneTimePrekeyRecord,
  decodeSignedPrekeyRecord,
  type KemPrekeyRecord,
  type OneTimePrekeyRecord,
  type SignedPrekeyRecord,
} from './prekeys.ts';
import { type PrekeyRecords, prekeyRecordsOf } from './records.ts';

/** Size of the PQXDH shared secret SK. */
export const PQXDH_SECRET_BYTES = 32;
/** Size of the associated data: IdentityBundle_A(172) || IdentityBundle_B(172). */
export const PQXDH_AD_BYTES = 2 * IDENTITY_BUNDLE_BYTES;

/** PQXDH §2.2: F = 32 0xFF bytes for X25519, so the KDF input never starts like a DH output. */
const KDF_PREFIX = new Uint8Array(32).fill(0xff);
/** PQXDH §2.2: the HKDF salt is a zero-filled byte sequence as long as the hash output. */
const KDF_SALT = new Uint8Array(32);

/** The identity secrets PQXDH needs from this device. */
export type PqxdhIdentity = Pick<LocalIdentity, 'bundle' | 'dhPrivate'>;

/** The PQXDH fields of a prekey message (PROTOCOL.md §5) that tell the responder what was used. */
export interface PrekeyMessageFields {
  readonly signedPrekeyId: number;
  /** The one-time X25519 prekey used, or 0 when the bundle had none. */
  readonly oneTimePrekeyId: number;
  readonly kemPrekeyId: number;
  /** ML-KEM-1024 ciphertext (1568). */
  readonly kemCiphertext: Uint8Array;
  /** The initiator's ephemeral X25519 public key EK_A (32). */
  readonly baseKey: Uint8Array;
}

/** Result of {@link pqxdhInitiate}. `sharedSecret` is secret: wipe it once the ratchet is set up. */
export interface PqxdhInitiation {
  /** SK (32). */
  readonly sharedSecret: Uint8Array;
  /** AD = IdentityBundle_A || IdentityBundle_B (344). */
  readonly associatedData: Uint8Array;
  /** EK_A public (32); the same bytes as `prekeyFields.baseKey`. */
  readonly baseKeyPublic: Uint8Array;
  /** SPK_B (32): the initiator's first remote ratchet key (PROTOCOL.md §5). */
  readonly remoteSignedPrekeyPublic: Uint8Array;
  readonly prekeyFields: PrekeyMessageFields;
}

/** Result of {@link pqxdhRespond}. `sharedSecret` is secret. */
export interface PqxdhResponse {
  readonly sharedSecret: Uint8Array;
  readonly associatedData: Uint8Array;
}

/** Everything {@link pqxdhRespond} needs; records are the private ones the message names. */
export interface PqxdhResponderInput {
  readonly localIdentity: PqxdhIdentity;
  /** The initiator's identity from the prekey message, already verified by the caller. */
  readonly remoteIdentity: IdentityBundle;
  readonly signedPrekey: SignedPrekeyRecord;
  readonly oneTimePrekey?: OneTimePrekeyRecord;
  readonly kemPrekey: KemPrekeyRecord;
  readonly kemCiphertext: Uint8Array;
  readonly baseKey: Uint8Array;
}

/** SK = HKDF(F || DH1 || DH2 || DH3 [|| DH4] || SS, salt 0^32, info PQXDH_INFO, 32); wipes inputs. */
function deriveSecret(backend: CryptoBackend, parts: Uint8Array[]): Uint8Array {
  const ikm = concatBytes(KDF_PREFIX, ...parts);
  try {
    return backend.hkdfSha256(ikm, KDF_SALT, LABELS.PQXDH_INFO, PQXDH_SECRET_BYTES);
  } finally {
    wipe(ikm, ...parts);
  }
}

/** PQXDH §3.3: AD = Encode(IK_A) || Encode(IK_B); here the full 172-byte identities. */
function associatedData(initiator: IdentityBundle, responder: IdentityBundle): Uint8Array {
  return concatBytes(encodeIdentityBundle(initiator), encodeIdentityBundle(responder));
}

/**
 * Initiator side (PQXDH §3.3). Draws 32 rng bytes for EK_A, then, unless `rng` is
 * {@link systemRng}, 32 for the ML-KEM encapsulation message (with the system CSPRNG the
 * backend draws that message itself, which lets OpenSSL's ML-KEM run); computes DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B),
 * DH4 = DH(EK_A, OPK_B) when the bundle has an OPK, and (CT, SS) = Encaps(PQPK_B).
 *
 * @example const init = await pqxdhInitiate(backend, systemRng, { localIdentity: me, bundle: verified });
 * @throws {InvalidKeyError} if a bundle key is of low order or the KEM key is invalid.
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong local key sizes.
 */
export async function pqxdhInitiate(
  backend: CryptoBackend,
  rng: Rng,
  input: { readonly localIdentity: PqxdhIdentity; readonly bundle: VerifiedBundle },
): Promise<PqxdhInitiation> {
  const { localIdentity, bundle } = input;
  assertBytes(localIdentity.dhPrivate, 'localIdentity.dhPrivate', X25519_KEY_BYTES);
  const ad = associatedData(localIdentity.bundle, bundle.identity);
  const ephemeral = rng(X25519_KEY_BYTES);
  assertBytes(ephemeral, 'rng output', X25519_KEY_BYTES);
  const parts: Uint8Array[] = [];
  try {
    const baseKey = await backend.x25519PublicKey(ephemeral);
    const spk = bundle.signedPrekey.publicKey;
    parts.push(await backend.x25519(localIdentity.dhPrivate, spk));
    parts.push(await backend.x25519(ephemeral, bundle.identity.dhPublic));
    parts.push(await backend.x25519(ephemeral, spk));
    if (bundle.oneTimePrekey) {
      parts.push(await backend.x25519(ephemeral, bundle.oneTimePrekey.publicKey));
    }
    const encapsSeed = rng === systemRng ? undefined : rng(MLKEM_ENCAPS_SEED_BYTES);
    if (encapsSeed !== undefined) assertBytes(encapsSeed, 'rng output', MLKEM_ENCAPS_SEED_BYTES);
    let kem: { cipherText: Uint8Array; sharedSecret: Uint8Array };
    try {
      kem = await backend.mlkemEncapsulate(bundle.kemPrekey.publicKey, encapsSeed);
    } finally {
      if (encapsSeed !== undefined) wipe(encapsSeed);
    }
    parts.push(kem.sharedSecret);
    const sharedSecret = deriveSecret(backend, parts);
    return {
      sharedSecret,
      associatedData: ad,
      baseKeyPublic: baseKey,
      remoteSignedPrekeyPublic: spk.slice(),
      prekeyFields: {
        signedPrekeyId: bundle.signedPrekey.id,
        oneTimePrekeyId: bundle.oneTimePrekey?.id ?? 0,
        kemPrekeyId: bundle.kemPrekey.id,
        kemCiphertext: kem.cipherText,
        baseKey: baseKey.slice(),
      },
    };
  } finally {
    wipe(ephemeral, ...parts);
  }
}

/**
 * Responder side (PQXDH §3.4): the same DH terms from the private halves, SS = Decaps(CT)
 * (with the KEM prekey's seed as well when its record keeps one, so that WebCrypto can run it).
 * ML-KEM decapsulation rejects implicitly, so a forged ciphertext yields an unrelated SK and
 * the first message fails to decrypt rather than failing here.
 *
 * @example const { sharedSecret, associatedData } = await pqxdhRespond(backend, { ... });
 * @throws {InvalidKeyError} if the base key or the initiator's DH identity is of low order.
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong sizes (a 1568-byte ciphertext, a 32-byte base key).
 */
export async function pqxdhRespond(
  backend: CryptoBackend,
  input: PqxdhResponderInput,
): Promise<PqxdhResponse> {
  const { localIdentity, remoteIdentity, signedPrekey, oneTimePrekey, kemPrekey } = input;
  assertBytes(input.baseKey, 'baseKey', X25519_KEY_BYTES);
  assertBytes(input.kemCiphertext, 'kemCiphertext', MLKEM1024_CIPHERTEXT_BYTES);
  assertBytes(localIdentity.dhPrivate, 'localIdentity.dhPrivate', X25519_KEY_BYTES);
  const ad = associatedData(remoteIdentity, localIdentity.bundle);
  const parts: Uint8Array[] = [];
  try {
    parts.push(await backend.x25519(signedPrekey.privateKey, remoteIdentity.dhPublic));
    parts.push(await backend.x25519(localIdentity.dhPrivate, input.baseKey));
    parts.push(await backend.x25519(signedPrekey.privateKey, input.baseKey));
    if (oneTimePrekey) parts.push(await backend.x25519(oneTimePrekey.privateKey, input.baseKey));
    parts.push(
      await backend.mlkemDecapsulate(input.kemCiphertext, kemPrekey.secretKey, kemPrekey.keySeed),
    );
    return { sharedSecret: deriveSecret(backend, parts), associatedData: ad };
  } finally {
    wipe(...parts);
  }
}

/** The private prekeys a prekey message names, and the ops that consume the one-time ones. */
export interface ResponderPrekeys {
  readonly signedPrekey: SignedPrekeyRecord;
  readonly oneTimePrekey?: OneTimePrekeyRecord;
  readonly kemPrekey: KemPrekeyRecord;
  /**
   * Deletes of the one-time EC and one-time KEM prekeys (never the last-resort key) and, when
   * no one-time EC prekey was used, the record of the consumed base key.
   */
  readonly consumeOps: StoreOp[];
}

/**
 * Store key (`baseKey` namespace) of a base key consumed with signed prekey `signedPrekeyId`
 * by a prekey message that used no one-time EC prekey (docs/PROTOCOL.md §3.5). The records of
 * a signed prekey are deleted with it.
 */
export function consumedBaseKeyKey(signedPrekeyId: number, baseKey: Uint8Array): string {
  return `${signedPrekeyId}.${toHex(baseKey)}`;
}

async function load<T extends { readonly id: number }>(
  store: StateStore,
  records: PrekeyRecords,
  id: number,
  decode: (bytes: Uint8Array) => T,
): Promise<T> {
  const bytes = await records.get(store, id);
  if (bytes === undefined) throw new PrekeyNotFoundError();
  const record = decode(bytes);
  if (record.id !== id) throw new StateCorruptError('prekey record id does not match its key');
  return record;
}

/**
 * Loads the private prekeys named by a prekey message. Nothing is deleted here: the returned
 * `consumeOps` must be committed with the new session, so a crash cannot lose a prekey whose
 * session was never saved (PROTOCOL.md §4).
 *
 * @example const keys = await loadResponderPrekeys(store, fields);
 * Without a one-time EC prekey nothing else makes the agreement single-use while the signed
 * and last-resort prekeys live, so the base key is remembered (PQXDH §4.2, X3DH §4.2): a
 * second key agreement with it is refused, and its record is committed with the session
 * (conditionally on its absence, so two racing receivers cannot both accept it).
 *
 * @throws {PrekeyNotFoundError} if a named prekey is not (or no longer) in the store.
 * @throws {DuplicateMessageError} if the base key was already used without a one-time prekey.
 * @throws {InvalidMessageError} if the message names prekey id 0 for the SPK or KEM prekey.
 * @throws {StateCorruptError | UnsupportedVersionError} if a stored record cannot be decoded.
 */
export async function loadResponderPrekeys(
  store: StateStore,
  fields: Pick<
    PrekeyMessageFields,
    'signedPrekeyId' | 'oneTimePrekeyId' | 'kemPrekeyId' | 'baseKey'
  >,
): Promise<ResponderPrekeys> {
  if (!isPrekeyId(fields.signedPrekeyId) || !isPrekeyId(fields.kemPrekeyId)) {
    throw new InvalidMessageError('prekey message names an invalid prekey id');
  }
  const opkId = fields.oneTimePrekeyId;
  if (opkId !== 0 && !isPrekeyId(opkId)) {
    throw new InvalidMessageError('prekey message names an invalid prekey id');
  }
  const signedPrekey = await load(
    store,
    prekeyRecordsOf.signed,
    fields.signedPrekeyId,
    decodeSignedPrekeyRecord,
  );
  const kemPrekey = await load(
    store,
    prekeyRecordsOf.kem,
    fields.kemPrekeyId,
    decodeKemPrekeyRecord,
  );
  const consumeOps: StoreOp[] = [];
  if (!kemPrekey.lastResort) {
    consumeOps.push(prekeyRecordsOf.kem.delete(kemPrekey.id));
  }
  if (opkId === 0) {
    const key = consumedBaseKeyKey(signedPrekey.id, fields.baseKey);
    if ((await store.get('baseKey', key)) !== undefined) throw new DuplicateMessageError();
    consumeOps.push({ ns: 'baseKey', key, value: new Uint8Array(0), expect: null });
    return { signedPrekey, kemPrekey, consumeOps };
  }
  const oneTimePrekey = await load(
    store,
    prekeyRecordsOf.oneTime,
    opkId,
    decodeOneTimePrekeyRecord,
  );
  consumeOps.push(prekeyRecordsOf.oneTime.delete(opkId));
  return { signedPrekey, oneTimePrekey, kemPrekey, consumeOps };
}

/** Result of a store-backed response: the PQXDH output plus what the session layer needs. */
export interface StoreBackedResponse extends PqxdhResponse {
  /** SPK_B: the responder's first ratchet key pair (PROTOCOL.md §5). */
  readonly signedPrekey: SignedPrekeyRecord;
  /** Commit these with the new session. */
  readonly consumeOps: StoreOp[];
}

/** A responder that reads private prekeys from a {@link StateStore}. */
export interface StoreBackedResponder {
  respond(
    backend: CryptoBackend,
    input: {
      readonly localIdentity: PqxdhIdentity;
      readonly remoteIdentity: IdentityBundle;
      readonly prekeyFields: PrekeyMessageFields;
    },
  ): Promise<StoreBackedResponse>;
}

/**
 * Binds {@link loadResponderPrekeys} and {@link pqxdhRespond} to a store. The store is only
 * read; the caller commits `consumeOps` together with the session it creates.
 *
 * @example
 * const res = await storeBackedResponder(store).respond(backend, { localIdentity, remoteIdentity, prekeyFields });
 * await store.commit([...res.consumeOps, sessionOp]);
 * @throws {PrekeyNotFoundError} (from `respond`) if a named prekey is missing.
 */
export function storeBackedResponder(store: StateStore): StoreBackedResponder {
  return {
    async respond(backend, { localIdentity, remoteIdentity, prekeyFields }) {
      const keys = await loadResponderPrekeys(store, prekeyFields);
      const res = await pqxdhRespond(backend, {
        localIdentity,
        remoteIdentity,
        signedPrekey: keys.signedPrekey,
        ...(keys.oneTimePrekey ? { oneTimePrekey: keys.oneTimePrekey } : {}),
        kemPrekey: keys.kemPrekey,
        kemCiphertext: prekeyFields.kemCiphertext,
        baseKey: prekeyFields.baseKey,
      });
      return { ...res, signedPrekey: keys.signedPrekey, consumeOps: keys.consumeOps };
    },
  };
}
