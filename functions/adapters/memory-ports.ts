/**
 * Every port over the in-memory adapters: the local server without emulators, and the tests.
 */
import type { Ports, SigningKeyProvider } from '../domain/ports.ts';
import {
  MemoryAccountStore,
  MemoryBlobStore,
  MemoryMessageIndex,
  MemoryPrekeyStore,
  MemoryRateLimiter,
  MemoryReplayStore,
} from './memory/index.ts';

/** The in-memory ports; `blobs` and `index` are typed concretely so tests can inspect them. */
export interface MemoryPorts extends Ports {
  readonly blobs: MemoryBlobStore;
  readonly index: MemoryMessageIndex;
}

/**
 * Fresh, empty in-memory ports.
 *
 * @example createMemoryPorts(new StaticSigningKeyProvider(material))
 */
export function createMemoryPorts(signingKeys: SigningKeyProvider): MemoryPorts {
  return {
    accounts: new MemoryAccountStore(),
    prekeys: new MemoryPrekeyStore(),
    index: new MemoryMessageIndex(),
    blobs: new MemoryBlobStore(),
    replay: new MemoryReplayStore(),
    limiter: new MemoryRateLimiter(),
    signingKeys,
  };
}
