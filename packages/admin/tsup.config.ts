import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

export default defineConfig({
  ...libraryBuild,
  entry: ['src/index.ts'],
  external: ['express'],
  // `import.meta.url` in the CommonJS build too: it locates the dashboard's files (`../dashboard/`).
  shims: true,
});
