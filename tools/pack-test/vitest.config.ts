import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // npm install of the tarballs and their real dependencies: about a minute, bounded below.
    hookTimeout: 600_000,
    testTimeout: 180_000,
  },
});
