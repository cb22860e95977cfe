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
    projects: [expressProject(4), expressProject(5)],
  },
});
