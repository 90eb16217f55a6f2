/** The browser bundle of the browser test: the SDK client and an in-memory store on `window`. */
import { SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';

(globalThis as unknown as { sealpost: unknown }).sealpost = { SealpostClient, MemoryStore };
