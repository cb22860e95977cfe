import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['@keyward/test-db/global-setup'],
    // The browser scenario drives Chromium through a dozen steps.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at a time (Vitest's default here is one per core less one: 1 on a 2-core machine). A
    // browser test spends most of its time waiting on Chromium, the server or FerretDB; each file has its
    // own browser, server and database.
    maxWorkers: 2,
  },
});
