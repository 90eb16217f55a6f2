/**
 * The delivery stamp of a franked message (docs/PROTOCOL.md §11.4): a MAC by the service over
 * the envelope's franking commitment and the delivery (recipient device, receipt time,
 * mailbox position). A report presents it, so the service knows, without having stored
 * anything per message, that it delivered a message with this commitment to the reporting
 * device at that time under that id:
 *
 * ```
 * epoch = floor(receivedAt / 604800000)                              (weeks since 1970)
 * key   = HKDF-SHA-256(ikm = stampSecret, salt = empty,
 *                      info = LABELS.FRANKING_STAMP_KEY || u32be epoch, L = 32)
 * stamp = HMAC-SHA-256(key, LABELS.FRANKING_STAMP || commitment(32) || recipientAddress(20)
 *                      || u32be recipientDeviceId || u64be receivedAt || messageId(16))
 * ```
 *
 * The stamp is computed again at every delivery from what is stored (the envelope, its
 * position and receipt time), so stamping adds no item, attribute or object. A key per week
 * keeps the secret itself out of every MAC computation and lets a cache hold the few epochs a
 * fetch meets.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import {
  addressToBytes,
  assertU32,
  constantTimeEqual,
  envelopeCommitment,
  LABELS,
  writeU32be,
} from 'sealpost/wire';
import type { SigningKeyProvider, SigningMaterial } from './ports.ts';

/** Length of a stamp epoch: one week in milliseconds. */
export const STAMP_EPOCH_MS = 604_800_000;
/** Bytes of a stamp (HMAC-SHA-256). */
export const STAMP_BYTES = 32;
/** Bytes of the stamp secret and of each epoch key. */
const KEY_BYTES = 32;
const COMMITMENT_BYTES = 32;
const MESSAGE_ID_BYTES = 16;
/** Epoch keys one stamper keeps (a fetch walks a mailbox in time order, so few are live). */
const EPOCH_KEY_CACHE = 8;

/** What a stamp binds. */
export interface StampFields {
  /** The envelope's 32-byte franking commitment. */
  readonly commitment: Uint8Array;
  /** The recipient device's account address (text form). */
  readonly recipientAddress: string;
  readonly recipientDeviceId: number;
  /** The delivered receipt time (ms, a whole hour). */
  readonly receivedAt: number;
  /** The delivered message id: the 16-byte mailbox position. */
  readonly messageId: Uint8Array;
}

function checkBytes(value: unknown, name: string, size: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length !== size) throw new RangeError(`${name} must be ${size} bytes`);
}

function checkTime(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError('receivedAt must be a non-negative safe integer');
  }
}

/**
 * The stamp epoch of a receipt time: whole weeks since the Unix epoch.
 *
 * @example stampEpoch(1_750_000_000_000) // 2893
 * @throws {RangeError} if `receivedAt` is not a non-negative safe integer.
 */
export function stampEpoch(receivedAt: number): number {
  checkTime(receivedAt);
  return Math.floor(receivedAt / STAMP_EPOCH_MS);
}

/**
 * The stamp key of one epoch: HKDF-SHA-256 of the stamp secret with info
 * `LABELS.FRANKING_STAMP_KEY || u32be epoch` and an empty salt (RFC 5869: HashLen zero bytes).
 *
 * @example stampKey(material.stampSecret, stampEpoch(receivedAt))
 * @throws {TypeError | RangeError} on a secret that is not 32 bytes or an epoch that is not a u32.
 */
export function stampKey(stampSecret: Uint8Array, epoch: number): Uint8Array {
  checkBytes(stampSecret, 'stampSecret', KEY_BYTES);
  assertU32(epoch, 'epoch');
  const info = new Uint8Array(LABELS.FRANKING_STAMP_KEY.length + 4);
  info.set(LABELS.FRANKING_STAMP_KEY);
  writeU32be(info, LABELS.FRANKING_STAMP_KEY.length, epoch);
  return new Uint8Array(hkdfSync('sha256', stampSecret, new Uint8Array(0), info, KEY_BYTES));
}

/** `LABELS.FRANKING_STAMP || commitment || address || u32 device || u64 receivedAt || id`. */
function stampInput(f: StampFields): Uint8Array {
  checkBytes(f.commitment, 'commitment', COMMITMENT_BYTES);
  checkBytes(f.messageId, 'messageId', MESSAGE_ID_BYTES);
  assertU32(f.recipientDeviceId, 'recipientDeviceId');
  checkTime(f.receivedAt);
  const address = addressToBytes(f.recipientAddress);
  const label = LABELS.FRANKING_STAMP;
  const out = new Uint8Array(label.length + COMMITMENT_BYTES + address.length + 4 + 8 + 16);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(label, at);
  at += label.length;
  out.set(f.commitment, at);
  at += COMMITMENT_BYTES;
  out.set(address, at);
  at += address.length;
  view.setUint32(at, f.recipientDeviceId);
  at += 4;
  view.setBigUint64(at, BigInt(f.receivedAt));
  at += 8;
  out.set(f.messageId, at);
  return out;
}

/**
 * Stamps under one stamp secret, with the epoch keys it derived cached (at most
 * {@link EPOCH_KEY_CACHE}, least recently used dropped).
 *
 * @example new FrankingStamper(material.stampSecret).stamp(fields)
 */
export class FrankingStamper {
  private readonly keys = new Map<number, Uint8Array>();
  private readonly secret: Uint8Array;

  /** @throws {TypeError | RangeError} if `stampSecret` is not 32 bytes. */
  constructor(stampSecret: Uint8Array) {
    checkBytes(stampSecret, 'stampSecret', KEY_BYTES);
    this.secret = stampSecret.slice();
  }

  private keyOf(epoch: number): Uint8Array {
    let key = this.keys.get(epoch);
    if (key) {
      this.keys.delete(epoch);
    } else {
      key = stampKey(this.secret, epoch);
      if (this.keys.size >= EPOCH_KEY_CACHE) {
        this.keys.delete(this.keys.keys().next().value as number);
      }
    }
    this.keys.set(epoch, key);
    return key;
  }

  /**
   * The stamp of `fields`.
   *
   * @example stamper.stamp({ commitment, recipientAddress, recipientDeviceId, receivedAt, messageId })
   * @throws {TypeError | RangeError} naming a malformed field.
   */
  stamp(fields: StampFields): Uint8Array {
    const input = stampInput(fields);
    const key = this.keyOf(stampEpoch(fields.receivedAt));
    return new Uint8Array(createHmac('sha256', key).update(input).digest());
  }

  /**
   * Whether `stamp` is the stamp of `fields` (constant-time comparison). False, never a throw,
   * for a malformed stamp or field (a report's fields come from the reporter).
   *
   * @example stamper.verify(fields, m.stamp) // true
   */
  verify(fields: StampFields, stamp: Uint8Array): boolean {
    if (!(stamp instanceof Uint8Array) || stamp.length !== STAMP_BYTES) return false;
    let expected: Uint8Array;
    try {
      expected = this.stamp(fields);
    } catch {
      return false;
    }
    return constantTimeEqual(expected, stamp);
  }

  /**
   * The stamp of a delivery: of the envelope's commitment when it has one (a version-2
   * sealed envelope, `envelopeCommitment`), else `undefined` (delivered without a stamp).
   *
   * @example stamper.forDelivery(mailbox, position, receivedAt, envelope)
   */
  forDelivery(
    recipient: { readonly address: string; readonly deviceId: number },
    messageId: Uint8Array,
    receivedAt: number,
    envelope: Uint8Array,
  ): Uint8Array | undefined {
    const commitment = envelopeCommitment(envelope);
    if (commitment === undefined) return undefined;
    return this.stamp({
      commitment,
      recipientAddress: recipient.address,
      recipientDeviceId: recipient.deviceId,
      receivedAt,
      messageId,
    });
  }
}

/**
 * The stamp of `fields` under `stampSecret` (derives the epoch key; use a
 * {@link FrankingStamper} to stamp many).
 *
 * @example frankingStamp(material.stampSecret, { commitment, recipientAddress, recipientDeviceId: 1, receivedAt, messageId })
 * @throws {TypeError | RangeError} naming a malformed argument.
 */
export function frankingStamp(stampSecret: Uint8Array, fields: StampFields): Uint8Array {
  return new FrankingStamper(stampSecret).stamp(fields);
}

/**
 * Whether `stamp` is the stamp of `fields` under `stampSecret`, compared in constant time;
 * false for any malformed input.
 *
 * @example verifyStamp(material.stampSecret, fields, report.stamp) // true
 */
export function verifyStamp(
  stampSecret: Uint8Array,
  fields: StampFields,
  stamp: Uint8Array,
): boolean {
  let stamper: FrankingStamper;
  try {
    stamper = new FrankingStamper(stampSecret);
  } catch {
    return false;
  }
  return stamper.verify(fields, stamp);
}

/** One stamper per material object: a rotated secret (new material) gets fresh keys. */
const stampers = new WeakMap<SigningMaterial, FrankingStamper>();

/**
 * The stamper of some signing material (cached per material object, so its epoch keys are
 * derived once per container).
 *
 * @example stamperFor(await keys.get()).forDelivery(mailbox, position, receivedAt, envelope)
 */
export function stamperFor(material: SigningMaterial): FrankingStamper {
  let stamper = stampers.get(material);
  if (!stamper) {
    stamper = new FrankingStamper(material.stampSecret);
    stampers.set(material, stamper);
  }
  return stamper;
}

/**
 * Stamps deliveries with the deployment's current signing material (the message service's
 * dependency; the realtime pushes and drains go through the message service).
 *
 * @example const stamper = await new DeliveryStamps(ports.signingKeys).stamper();
 */
export class DeliveryStamps {
  constructor(private readonly keys: SigningKeyProvider) {}

  /** The stamper of the current material. */
  async stamper(): Promise<FrankingStamper> {
    return stamperFor(await this.keys.get());
  }
}
