import type { Options } from 'tsup';

/**
 * What every library package's build shares: ESM and CommonJS, declarations, Node 20.
 * Each package's `tsup.config.ts` adds its own entries and externals.
 */
export const libraryBuild = {
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
} satisfies Options;
