/**
 * Crypto backends. `defaultBackend` is chosen by the `#crypto-default` import condition:
 * `node:crypto` on Node, WebCrypto + noble elsewhere (docs/PROTOCOL.md §2.1). The
 * Node backend is reachable only through that condition, so browser bundles never see
 * `node:crypto`.
 */
export { defaultBackend } from '#crypto-default';
export * from './backend.ts';
export { nobleBackend } from './noble-backend.ts';
export {
  createWebBackend,
  type WebBackendOptions,
  type WebCryptoBackend,
  type WebCryptoSupport,
  webBackend,
} from './web-backend.ts';
