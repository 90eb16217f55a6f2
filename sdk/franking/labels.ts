/**
 * The domain-separation labels of asymmetric message franking (PROTOCOL.md §11), taken from the
 * one list of labels in `sdk/wire/labels.ts`. Changing any value is a protocol version change: it
 * changes every key, commitment and signature.
 */
import { LABELS } from '../wire/labels.ts';

export const FRANKING_LABELS = {
  /** sk = HKDF-SHA-256(dhPrivate, salt empty, info KEY, 64) mod l */
  KEY: LABELS.FRANKING_KEY,
  /** commitment = HMAC-SHA-256(openingKey, COMMIT || content) */
  COMMIT: LABELS.FRANKING_COMMIT,
  /** m = MESSAGE || commitment || sender || u32 || recipient || u32 || u32 keyId (signed by the session key) */
  MESSAGE: LABELS.FRANKING_MESSAGE,
  /** m_s = SESSION || sessionKey || sender || u32 || recipient || u32 || u32 keyId (franked) */
  SESSION: LABELS.FRANKING_SESSION,
  /** ch = SHA-256(PROOF || pk_s || pk_j || J || R || E_J || E_R || A0 || A1 || B0g || B0j || B1 || u32 len m || m)[0..16] */
  PROOF: LABELS.FRANKING_PROOF,
} as const;
