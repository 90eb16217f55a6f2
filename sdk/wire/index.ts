/**
 * The wire contract: pure codecs and payload builders for every structure that crosses the
 * network or is signed (docs/PROTOCOL.md). No cryptography here; the service imports this
 * module (and `sdk/wire/api` for the HTTP contract) and nothing else from the SDK, so the byte
 * helpers both sides share are exported here too (one implementation each, in `sdk/util`).
 */

export {
  assertU32,
  constantTimeEqual,
  equalBytes,
  isAllZero,
  isU32,
  readU32be,
  U32_MAX,
  u32be,
  writeU32be,
} from '../util/bytes.ts';
export {
  ED25519_PKCS8_PREFIX,
  ED25519_SPKI_PREFIX,
  PKCS8_PREFIX,
  withDerPrefix,
  X25519_PKCS8_PREFIX,
} from '../util/der.ts';
export * from './certificates.ts';
export * from './identity.ts';
export * from './labels.ts';
export * from './messages.ts';
export * from './multi-recipient.ts';
export * from './multi-recipient-payload.ts';
export * from './prekeys.ts';
export * from './revocations.ts';
export * from './sealed.ts';
export * from './token-keys.ts';
