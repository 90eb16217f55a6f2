/**
 * Every port over the in-memory adapters: the local server without emulators, and the tests.
 */
import type { AttachmentObjects, AttachmentPorts } from '../domain/attachment-ports.ts';
import type { Ports, SigningKeyProvider } from '../domain/ports.ts';
import {
  MemoryAccountStore,
  MemoryAttachmentQuota,
  MemoryBlobStore,
  MemoryMessageIndex,
  MemoryPrekeyStore,
  MemoryRateLimiter,
  MemoryReplayStore,
  MemoryUploadSessions,
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

/** In-memory attachment sessions and quota, typed concretely so tests can inspect them. */
export interface MemoryAttachmentPorts extends AttachmentPorts {
  readonly sessions: MemoryUploadSessions;
  readonly quota: MemoryAttachmentQuota;
}

/**
 * Attachment ports over `objects` (the in-process object service locally and in the test kit,
 * or S3) with fresh in-memory upload sessions and quotas.
 *
 * @example createServices(ports, { attachments: memoryAttachmentPorts(objects) })
 */
export function memoryAttachmentPorts(objects: AttachmentObjects): MemoryAttachmentPorts {
  return { objects, sessions: new MemoryUploadSessions(), quota: new MemoryAttachmentQuota() };
}
