import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * In this repository the workspace packages (`sealpost`, `@sealpost/testing`) resolve to their
 * TypeScript sources through the `sealpost-source` export condition; published, they resolve to
 * their compiled `dist/`.
 */
const SOURCE_CONDITION = 'sealpost-source';

/**
 * Conditions of code run under Node: the source condition, then Vite's server defaults without
 * `module` (which would pick bundler-only ESM builds of some dependencies, e.g. the AWS SDK's
 * extensionless `dist-es`).
 */
const NODE_CONDITIONS = [
  SOURCE_CONDITION,
  ...defaultServerConditions.filter((c) => c !== 'module'),
];

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: NODE_CONDITIONS } },
  // Vitest's own environment runs the global setup (test/integration/setup.ts).
  environments: { __vitest__: { resolve: { conditions: NODE_CONDITIONS } } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One DynamoDB Local and one s3rver for the whole run (test/integration/setup.ts).
    globalSetup: ['test/integration/setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
