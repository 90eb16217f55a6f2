/**
 * Content binding and the franked messages (PROTOCOL.md §11.3.1, §11.3.2): the asymmetric
 * franking signature is made over `m_s` once per session, the session key's Ed25519 signature over
 * `m` for each message.
 *
 * ```
 * commitment = HMAC-SHA-256(openingKey, "Sealpost-Franking-Commit-v1" || content)
 * m_s = "Sealpost-Franking-Session-v1" || sessionKey(32) || senderAddress(20 raw bytes)
 *       || u32 senderDeviceId || recipientAddress(20) || u32 recipientDeviceId || u32 moderatorKeyId
 * m   = "Sealpost-Franking-Message-v1" || commitment(32) || (the same 52 bytes)
 * ```
 *
 * Pure hashing, no group arithmetic: the service can check a commitment without the rest.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, assertU32, ByteWriter, constantTimeEqual, isU32 } from '../util/bytes.ts';
import { ADDRESS_BYTES, addressToBytes } from '../wire/identity.ts';
import {
  FRANKING_COMMITMENT_BYTES,
  FRANKING_OPENING_KEY_BYTES,
  FRANKING_SESSION_KEY_BYTES,
} from './encoding.ts';
import { FRANKING_LABELS } from './labels.ts';

/**
 * Size of the messages built by {@link frankingMessage} and {@link frankingSessionMessage}:
 * 28 + 32 + 20 + 4 + 20 + 4 + 4 (both labels are 28 bytes).
 */
export const FRANKING_MESSAGE_BYTES =
  FRANKING_LABELS.MESSAGE.length + 32 + 2 * (ADDRESS_BYTES + 4) + 4;

/**
 * The commitment to `content` under `openingKey` (32 random bytes per message and recipient
 * device). HMAC-SHA-256 with the key as part of the input is collision resistant, so the
 * commitment opens to one (key, content) pair only; the random key hides the content from
 * whoever sees only the commitment (the service).
 *
 * @throws {ArgumentTypeError} if an argument is not a `Uint8Array`.
 * @throws {ArgumentRangeError} if `openingKey` is not 32 bytes.
 * @example const commitment = frankingCommitment(systemRng(32), plaintext);
 */
export function frankingCommitment(openingKey: Uint8Array, content: Uint8Array): Uint8Array {
  assertBytes(openingKey, 'openingKey', FRANKING_OPENING_KEY_BYTES);
  assertBytes(content, 'content');
  return hmac.create(sha256, openingKey).update(FRANKING_LABELS.COMMIT).update(content).digest();
}

/**
 * Whether `commitment` opens to `content` under `openingKey`, compared in constant time. Any
 * wrong size is simply `false` (the values come from a peer).
 *
 * @throws {ArgumentTypeError} if an argument is not a `Uint8Array`.
 * @example if (!checkFrankingCommitment(commitment, openingKey, plaintext)) reject();
 */
export function checkFrankingCommitment(
  commitment: Uint8Array,
  openingKey: Uint8Array,
  content: Uint8Array,
): boolean {
  assertBytes(commitment, 'commitment');
  assertBytes(openingKey, 'openingKey');
  assertBytes(content, 'content');
  if (commitment.length !== FRANKING_COMMITMENT_BYTES) return false;
  if (openingKey.length !== FRANKING_OPENING_KEY_BYTES) return false;
  return constantTimeEqual(frankingCommitment(openingKey, content), commitment);
}

/** What a franking signature is bound to besides the content (PROTOCOL.md §11.3). */
export interface FrankingContext {
  /** The 32-byte commitment to the content. */
  commitment: Uint8Array;
  /** The sender's 32-character address. */
  senderAddress: string;
  /** The sender's device id (u32, not 0). */
  senderDeviceId: number;
  /** The recipient's 32-character address. */
  recipientAddress: string;
  /** The recipient's device id (u32, not 0). */
  recipientDeviceId: number;
  /** Key id of the moderator certificate the message is franked for (u32). */
  moderatorKeyId: number;
}

function deviceId(value: unknown, name: string): number {
  if (!isU32(value) || value === 0)
    throw new ArgumentRangeError(`${name} must be a u32 other than 0`);
  return value;
}

/**
 * The per-message signed message of a context: 112 bytes that bind the session key's Ed25519
 * signature to the commitment, both devices and the moderator key (PROTOCOL.md §11.3.2).
 *
 * @throws {ArgumentTypeError} if `ctx` is not an object, the commitment not a `Uint8Array` or an
 *   address not a valid address.
 * @throws {ArgumentRangeError} if the commitment is not 32 bytes, a device id is not a u32 other
 *   than 0, or the key id is not a u32.
 * @example
 * const m = frankingMessage({ commitment, senderAddress, senderDeviceId: 1,
 *   recipientAddress, recipientDeviceId: 2, moderatorKeyId: 7 });
 */
export function frankingMessage(ctx: FrankingContext): Uint8Array {
  if (typeof ctx !== 'object' || ctx === null) throw new ArgumentTypeError('ctx must be an object');
  assertBytes(ctx.commitment, 'commitment', FRANKING_COMMITMENT_BYTES);
  return contextMessage(FRANKING_LABELS.MESSAGE, ctx.commitment, ctx);
}

/** What a franking session binds (PROTOCOL.md §11.3.2): a session key instead of a commitment. */
export interface FrankingSessionContext extends Omit<FrankingContext, 'commitment'> {
  /** The session's 32-byte Ed25519 public key. */
  sessionKey: Uint8Array;
}

/**
 * The franked message `m` of a session (PROTOCOL.md §11.3.2): 112 bytes that bind the session
 * key to both devices and the moderator key. The asymmetric franking signature is made over it,
 * once per session; each message is then signed with the session key ({@link frankingMessage}).
 *
 * @throws {ArgumentTypeError} if `ctx` is not an object, the session key not a `Uint8Array` or
 *   an address not a valid address.
 * @throws {ArgumentRangeError} if the session key is not 32 bytes, a device id is not a u32
 *   other than 0, or the key id is not a u32.
 * @example
 * const m = frankingSessionMessage({ sessionKey, senderAddress, senderDeviceId: 1,
 *   recipientAddress, recipientDeviceId: 2, moderatorKeyId: 7 });
 */
export function frankingSessionMessage(ctx: FrankingSessionContext): Uint8Array {
  if (typeof ctx !== 'object' || ctx === null) throw new ArgumentTypeError('ctx must be an object');
  assertBytes(ctx.sessionKey, 'sessionKey', FRANKING_SESSION_KEY_BYTES);
  return contextMessage(FRANKING_LABELS.SESSION, ctx.sessionKey, ctx);
}

function contextMessage(
  label: Uint8Array,
  value: Uint8Array,
  ctx: Omit<FrankingContext, 'commitment'>,
): Uint8Array {
  const sender = addressToBytes(ctx.senderAddress);
  const recipient = addressToBytes(ctx.recipientAddress);
  const senderDevice = deviceId(ctx.senderDeviceId, 'senderDeviceId');
  const recipientDevice = deviceId(ctx.recipientDeviceId, 'recipientDeviceId');
  assertU32(ctx.moderatorKeyId, 'moderatorKeyId');
  return new ByteWriter(FRANKING_MESSAGE_BYTES)
    .bytes(label)
    .bytes(value)
    .bytes(sender)
    .u32(senderDevice)
    .bytes(recipient)
    .u32(recipientDevice)
    .u32(ctx.moderatorKeyId)
    .finish();
}
