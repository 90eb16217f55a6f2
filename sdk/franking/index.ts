/**
 * Asymmetric message franking (PROTOCOL.md §11): the cryptographic core of abuse reports on
 * sealed-sender messages. Keys, the content commitment, the franked message, and
 * Frank / Verify / Judge / ProofValid with the three forgeries, on ristretto255.
 */

export {
  forgeFranking,
  frank,
  frankingProofValid,
  judgeFranking,
  moderatorForgeFranking,
  receiverForgeFranking,
  verifyFranking,
} from './amf.ts';
export {
  checkFrankingCommitment,
  FRANKING_MESSAGE_BYTES,
  type FrankingContext,
  type FrankingSessionContext,
  frankingCommitment,
  frankingMessage,
  frankingSessionMessage,
} from './commitment.ts';
export {
  FRANKING_COMMITMENT_BYTES,
  FRANKING_MESSAGE_SIGNATURE_BYTES,
  FRANKING_OPENING_KEY_BYTES,
  FRANKING_PUBLIC_KEY_BYTES,
  FRANKING_SECRET_KEY_BYTES,
  FRANKING_SESSION_KEY_BYTES,
  FRANKING_SIGNATURE_BYTES,
} from './encoding.ts';
export {
  clearFrankingKeyCaches,
  frankingKeyCacheSizes,
  MODERATOR_CACHE_SIZE,
  PEER_CACHE_SIZE,
} from './key-cache.ts';
export {
  assertFrankingPublicKey,
  deriveFrankingKeyPair,
  type FrankingKeyPair,
  frankingPublicKey,
  generateFrankingKeyPair,
} from './keys.ts';
export { FRANKING_LABELS } from './labels.ts';
export { MAX_FRANKING_MESSAGE_BYTES } from './proof.ts';
