/**
 * Options and result types of `SealpostClient`, and how they become engine and HTTP client
 * options (docs/SDK.md).
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import type { TrustConfig } from '../protocol/certificates.ts';
import type { EngineOptions } from '../protocol/engine.ts';
import type { StateStore } from '../state/store.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import { type FetchLike, SealpostHttpClient } from './http-client.ts';
import type { PrekeyPolicy } from './prekey-maintenance.ts';

/** A trust configuration, with the root as bytes or base64url (as `npm start` prints it). */
export type TrustInput =
  | TrustConfig
  | { readonly trustRoot: Uint8Array | string; readonly revokedServerKeyIds?: readonly number[] };

/** Options shared by {@link SealpostClient.register}, `link` and `open`. */
export interface ClientOptions {
  /** The API origin, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  /** Where identity, sessions and client records live (`MemoryStore`, `FileStore`, …). */
  readonly store: StateStore;
  /** The pinned trust root every sender certificate must chain to. */
  readonly trust: TrustInput;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** @default the runtime's default backend */
  readonly backend?: CryptoBackend;
  /** @default the platform CSPRNG */
  readonly rng?: Rng;
  /** @default Date.now */
  readonly now?: () => number;
  /** Prekey refill and rotation policy. */
  readonly prekeys?: PrekeyPolicy;
}

/** What {@link SealpostClient.send} did. */
export interface SendResult {
  /** The message id (base64url). */
  readonly messageId: string;
  /** Devices of the recipient that got an envelope. */
  readonly recipientDevices: number;
  /** Other devices of the sender's own account that got a copy. */
  readonly ownDevices: number;
  /** Set when the copy to the own devices failed (the message itself was delivered). */
  readonly syncError?: Error;
}

/** A contact card: what one person hands another out of band to allow sealed sends at once. */
export interface ContactCard {
  readonly address: string;
  /** The account's delivery access key, base64url (a secret between contacts). */
  readonly accessKey: string;
}

/** The trust configuration of a {@link TrustInput}. */
export function trustConfig(input: TrustInput): TrustConfig {
  const root =
    typeof input.trustRoot === 'string'
      ? fromBase64Url(input.trustRoot, 'trust.trustRoot')
      : input.trustRoot;
  return { trustRoot: root, revokedServerKeyIds: [...(input.revokedServerKeyIds ?? [])] };
}

/** Engine options for the client options. */
export function engineOptions(options: ClientOptions): EngineOptions {
  return {
    store: options.store,
    trust: trustConfig(options.trust),
    ...(options.now ? { now: options.now } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.rng ? { rng: options.rng } : {}),
  };
}

/** An HTTP client (not yet signing) for the options. */
export function httpFor(options: ClientOptions): SealpostHttpClient {
  return new SealpostHttpClient({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.rng ? { rng: options.rng } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}
