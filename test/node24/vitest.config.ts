import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * The tests test/node24/node24.test.ts runs again on Node >= 24, where the node:crypto backend
 * uses OpenSSL's ML-KEM and hands secret keys over as KeyObjects: every backend and the
 * protocol on top of it, with no local AWS engines.
 */
export default defineConfig({
  resolve: { conditions: ['sealpost-source', ...defaultClientConditions] },
  ssr: {
    resolve: {
      conditions: ['sealpost-source', ...defaultServerConditions.filter((c) => c !== 'module')],
    },
  },
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: [
      'test/unit/sdk/crypto/*.test.ts',
      'test/unit/sdk/protocol/{pqxdh,pqxdh-vectors,pqxdh-store,engine,session-cipher}.test.ts',
      'test/unit/sdk/protocol/{ratchet-vectors,sealed-sender,sealed-sender-vectors}.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
