/**
 * The wire contract: pure codecs and payload builders for every structure that crosses the
 * network or is signed (docs/PROTOCOL.md). No cryptography here; the service imports this
 * module (and `sdk/wire/api` for the HTTP contract) and nothing else from the SDK.
 */
export * from './certificates.ts';
export * from './identity.ts';
export * from './labels.ts';
export * from './messages.ts';
export * from './prekeys.ts';
export * from './sealed.ts';
