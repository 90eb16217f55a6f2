import { defineConfig } from 'vitest/config';

export default defineConfig({
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
