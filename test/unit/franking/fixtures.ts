/**
 * Shared parties for the franking tests (sdk/franking, PROTOCOL.md §11): a sender and a
 * recipient device with derived keys, a moderator and a second moderator, and a franked
 * message. Deterministic: every key comes from a seeded stream.
 */
import type { Rng } from '#sdk/crypto/backend.ts';
import {
  deriveFrankingKeyPair,
  type FrankingKeyPair,
  frankingCommitment,
  frankingMessage,
  generateFrankingKeyPair,
} from '#sdk/franking/index.ts';
import { seededRng } from '../../../scripts/lib/seeded-rng.ts';

export const rng: Rng = seededRng('Sealpost franking unit tests');

export const sender: FrankingKeyPair = deriveFrankingKeyPair(rng(32));
export const recipient: FrankingKeyPair = deriveFrankingKeyPair(rng(32));
export const stranger: FrankingKeyPair = deriveFrankingKeyPair(rng(32));
export const moderator: FrankingKeyPair = generateFrankingKeyPair(rng);
export const otherModerator: FrankingKeyPair = generateFrankingKeyPair(rng);

/** A franked message for a fresh commitment to `content`. */
export function messageFor(content: Uint8Array, recipientDeviceId = 2): Uint8Array {
  return frankingMessage({
    commitment: frankingCommitment(rng(32), content),
    senderAddress: 'aebagbafaydqqcikbmga2dqpcaireeyu',
    senderDeviceId: 1,
    recipientAddress: '6dypb4hq6dypb4hq6dypb4hq6dypb4hq',
    recipientDeviceId,
    moderatorKeyId: 7,
  });
}

/** The three verdicts on a signature, under the fixtures' keys unless overridden. */
export interface Verdicts {
  proofValid: boolean;
  verify: boolean;
  judge: boolean;
}

/** The public keys every call takes. */
export const publicKeys = {
  senderPublic: sender.publicKey,
  recipientPublic: recipient.publicKey,
  moderatorPublic: moderator.publicKey,
};

/** Flips bit `bit` of byte `index` in a copy of `bytes`. */
export function flip(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[index]! ^= 1 << bit;
  return out;
}
