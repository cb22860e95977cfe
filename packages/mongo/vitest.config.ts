import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['@keyward/test-db/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files share one database server; each uses a database of its own.
    fileParallelism: false,
  },
});
