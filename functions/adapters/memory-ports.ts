/**
 * Every port over the in-memory adapters: the local server without emulators, and the tests.
 */
import type { AttachmentObjects, AttachmentPorts } from '../domain/attachment-ports.ts';
import type { ModerationPorts } from '../domain/moderation-ports.ts';
import type { Ports, SigningKeyProvider } from '../domain/ports.ts';
import type { TokenPorts } from '../domain/token-ports.ts';
import {
  MemoryAccountStore,
  MemoryAttachmentQuota,
  MemoryAuditLog,
  MemoryBlobStore,
  MemoryBlockStore,
  MemoryMessageIndex,
  MemoryPayloadStore,
  MemoryPrekeyStore,
  MemoryRateLimiter,
  MemoryReplayStore,
  MemoryReports,
  MemorySpentTokens,
  MemorySuspensions,
  MemoryTokenKeys,
  MemoryTokenQuota,
  MemoryUploadSessions,
} from './memory/index.ts';

/**
 * The in-memory ports; `blobs`, `index`, `blocks` and `payloads` are typed concretely so tests
 * can inspect them.
 */
export interface MemoryPorts extends Ports {
  /** Concrete, so the in-memory suspension store can write the account's suspension fields. */
  readonly accounts: MemoryAccountStore;
  readonly blobs: MemoryBlobStore;
  readonly index: MemoryMessageIndex;
  readonly blocks: MemoryBlockStore;
  readonly payloads: MemoryPayloadStore;
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
    blocks: new MemoryBlockStore(),
    payloads: new MemoryPayloadStore(),
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

/** In-memory moderation ports, typed concretely so tests can inspect them. */
export interface MemoryModerationPorts extends ModerationPorts {
  readonly reports: MemoryReports;
  readonly suspensions: MemorySuspensions;
  readonly audit: MemoryAuditLog;
}

/**
 * Fresh moderation ports (docs/SERVICE.md §14) whose suspensions live on the records of
 * `accounts` (the same store the services authenticate with).
 *
 * @example createServices(ports, { moderation: memoryModerationPorts(ports.accounts) })
 */
export function memoryModerationPorts(accounts: MemoryAccountStore): MemoryModerationPorts {
  return {
    reports: new MemoryReports(),
    suspensions: new MemorySuspensions(accounts),
    audit: new MemoryAuditLog(),
  };
}

/** In-memory anonymous-token ports, typed concretely so tests can inspect them. */
export interface MemoryTokenPorts extends TokenPorts {
  readonly quota: MemoryTokenQuota;
  readonly spent: MemorySpentTokens;
  readonly keys: MemoryTokenKeys;
}

/**
 * Fresh anonymous-token ports (docs/PROTOCOL.md §13): counters, spent tokens and issuer keys.
 *
 * @example const tokens = memoryTokenPorts();
 */
export function memoryTokenPorts(): MemoryTokenPorts {
  return {
    quota: new MemoryTokenQuota(),
    spent: new MemorySpentTokens(),
    keys: new MemoryTokenKeys(),
  };
}
