import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Other packages write: globalSetup: ['@keyward/test-db/global-setup']
    globalSetup: ['./src/global-setup.ts'],
  },
});
