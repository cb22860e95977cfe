import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['@keyward/test-db/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files share one database server, each with a database of its own, two files at a time (Vitest's
    // default is one per core less one: 1 on a 2-core machine). Much of a file's time is waiting: on
    // FerretDB, on leases to run out, on change-feed polls.
    maxWorkers: 2,
  },
});
