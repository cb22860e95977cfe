import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// One build, so that the ESM entries share their chunks (one MemoryKeyStore, one KeywardError class).
// `/testing` imports vitest, which refuses require(): it is exported for `import` only, and its CJS
// output is left out of the package (`files`).
export default defineConfig({
  ...libraryBuild,
  entry: {
    index: 'src/index.ts',
    store: 'src/public/store.ts',
    schemas: 'src/public/schemas.ts',
    testing: 'src/testing/index.ts',
  },
  external: ['vitest'],
});
