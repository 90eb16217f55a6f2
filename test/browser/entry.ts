/**
 * The browser bundle of the browser tests: the SDK client, an in-memory store and the
 * attachment errors on `window`, with the page-side helpers of ./page-kit.ts.
 */
import { SealpostClient } from '#sdk/client/index.ts';
import { AttachmentCorruptError } from '#sdk/errors.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { randomBytes, readStream, sha256Hex, tamperingFetch } from './page-kit.ts';

(globalThis as unknown as { sealpost: unknown }).sealpost = {
  SealpostClient,
  MemoryStore,
  AttachmentCorruptError,
  kit: { randomBytes, readStream, sha256Hex, tamperingFetch },
};
