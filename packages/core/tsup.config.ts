import { defineConfig } from 'tsup';

// One build, so that the ESM entries share their chunks (one MemoryKeyStore, one KeywardError class).
// `/testing` imports vitest, which refuses require(): it is exported for `import` only, and its CJS
// output is left out of the package (`files`).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    store: 'src/public/store.ts',
    schemas: 'src/public/schemas.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  external: ['vitest'],
});
