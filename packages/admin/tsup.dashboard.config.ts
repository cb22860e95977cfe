import { defineConfig } from 'tsup';

// The dashboard's browser files, bundled (run after the Node build, into dist/dashboard/): one minified ES
// module for the page (`main.js`), one for the `<keyward-api-keys>` element (`element.js`), the minified
// stylesheet. The router serves these when they were built from the sources in `dashboard/` as they are
// now (scripts/dashboard-manifest.ts writes their digest next to them), and the sources themselves otherwise.
export default defineConfig({
  entry: {
    main: 'dashboard/main.js',
    element: 'dashboard/element.js',
    dashboard: 'dashboard/dashboard.css',
  },
  outDir: 'dist/dashboard',
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  bundle: true,
  splitting: false,
  minify: true,
  dts: false,
  sourcemap: false,
  clean: false,
  outExtension: () => ({ js: '.js' }),
  esbuildOptions(options) {
    options.legalComments = 'none';
  },
});
