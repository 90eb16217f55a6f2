/**
 * The example app's vitest configuration: `npx vitest run --config examples/vitest/vitest.config.ts`.
 * An app that installs `sealpost` and `@sealpost/testing` from the registry needs no `resolve`
 * block; inside the Sealpost repository the `sealpost-source` condition points both packages
 * at their TypeScript sources.
 */
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['sealpost-source', ...defaultClientConditions] },
  ssr: {
    resolve: {
      conditions: ['sealpost-source', ...defaultServerConditions.filter((c) => c !== 'module')],
    },
  },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.test.ts'],
    testTimeout: 30_000,
  },
});
