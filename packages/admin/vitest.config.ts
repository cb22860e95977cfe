import { defineConfig } from 'vitest/config';

// The whole suite runs twice: once with `express` resolved to Express 4, once to Express 5. The alias
// applies to the router's own source too, so the router is built from the same major as the test app.
function expressProject(major: 4 | 5) {
  return {
    extends: true as const,
    resolve: { alias: [{ find: /^express(\/.*)?$/, replacement: `express${major}$1` }] },
    test: { name: `express${major}`, provide: { expressMajor: major } },
  };
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Time is never what a test asserts; the timeouts only catch a hang. Vitest's defaults (5 s a test,
    // 10 s a hook) were hit on a loaded shared machine by tests sending a few hundred requests.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [expressProject(4), expressProject(5)],
  },
});
