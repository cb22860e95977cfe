import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Time is never what a test asserts; the timeouts only catch a hang. Vitest's defaults (5 s a test,
    // 10 s a hook) were hit on a loaded shared machine by tests sending a few hundred requests.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: { include: ['src/**/*.ts'], exclude: ['src/**/*.test.ts'] },
  },
});
