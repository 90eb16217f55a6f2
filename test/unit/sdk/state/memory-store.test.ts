import { MemoryStore } from '#sdk/state/memory-store.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('MemoryStore', async () => ({
  store: new MemoryStore(),
  dispose: async () => {},
}));
