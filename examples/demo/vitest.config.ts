import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['@keyward/test-db/global-setup'],
    // The browser scenario drives Chromium through a dozen steps.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
