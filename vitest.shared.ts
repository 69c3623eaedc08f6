import { defineConfig } from 'vitest/config';

// Every package tests against the TypeScript sources of its workspace
// dependencies (the "source" export condition), so no build is needed first.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['__tests__/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: '.test-results.json' }]],
  },
});
