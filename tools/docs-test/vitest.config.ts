import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One tsc run per module setting over every block: a few seconds each, bounded generously.
    testTimeout: 120_000,
  },
});
