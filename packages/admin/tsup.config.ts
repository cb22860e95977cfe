import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  external: ['express'],
  // `import.meta.url` in the CommonJS build too: it locates the dashboard's files (`../dashboard/`).
  shims: true,
});
