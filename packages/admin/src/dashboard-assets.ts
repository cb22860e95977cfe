import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/**
 * One static file of the dashboard (its JavaScript modules, stylesheet and icon).
 *
 * @example
 * const asset: DashboardAsset = { name: 'main.js', type: 'text/javascript; charset=utf-8', body, etag };
 */
export interface DashboardAsset {
  name: string;
  type: string;
  body: Buffer;
  etag: string;
  /** A digest of the body, for versioned URLs (`main.js?v=<version>`), which may be cached for good. */
  version: string;
  /** The file's name with its version (`main.<version>.js`), the URL the page links, cached for good. */
  hashedName: string;
}

/** The encodings an asset is served in, besides `identity`. */
export type AssetEncoding = 'br' | 'gzip';

/**
 * The asset's body in `encoding`, compressed once (on first use) and kept; `null` when compressing does
 * not make it smaller.
 *
 * @example
 * const br = encodedBody(asset, 'br'); // Buffer | null
 */
export function encodedBody(asset: DashboardAsset, encoding: AssetEncoding): Buffer | null {
  const cache = ENCODED.get(asset) ?? new Map<AssetEncoding, Buffer | null>();
  ENCODED.set(asset, cache);
  if (!cache.has(encoding)) {
    const packed =
      encoding === 'br'
        ? brotliCompressSync(asset.body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 11,
              [constants.BROTLI_PARAM_SIZE_HINT]: asset.body.length,
            },
          })
        : gzipSync(asset.body, { level: 9 });
    cache.set(encoding, packed.length < asset.body.length ? packed : null);
  }
  return cache.get(encoding) ?? null;
}

/** Compressed bodies per asset object (assets belong to one router: no state shared across routers). */
const ENCODED = new WeakMap<DashboardAsset, Map<AssetEncoding, Buffer | null>>();

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(js|css|svg)$/;

/**
 * The folder of the dashboard's static files, `dashboard/` at the package root. This module sits one folder
 * below the root both as source (`src/`) and bundled (`dist/`), so the same relative URL serves both.
 */
const ASSET_FOLDER = new URL('../dashboard/', import.meta.url);
/** The bundle `pnpm build` makes of them (tsup.dashboard.config.ts): `dist/dashboard/` at the package root. */
const BUNDLE_FOLDER = new URL('../dist/dashboard/', import.meta.url);
/** The files of the bundle: the page's module, the element's module, the stylesheet. */
const BUNDLED = ['main.js', 'element.js', 'dashboard.css'] as const;

/**
 * A digest of the dashboard's sources (every file name and body, in name order): the bundle's manifest
 * records the one it was built from.
 *
 * @example
 * sourceDigest(new URL('../dashboard/', import.meta.url)); // 'q3V…'
 */
export function sourceDigest(folder: URL = ASSET_FOLDER): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(fileURLToPath(folder)).sort()) {
    if (!ASSET_NAME.test(name)) continue;
    hash
      .update(`${name}\0`)
      .update(readFileSync(new URL(name, folder)))
      .update('\0');
  }
  return hash.digest('base64url');
}

/** The bundle's files when it was built from the sources as they are now, else `null`. */
function readBundle(bundle: URL, sources: URL): Map<string, Buffer> | null {
  let manifest: { sources?: unknown };
  try {
    manifest = JSON.parse(readFileSync(new URL('manifest.json', bundle), 'utf8'));
  } catch {
    return null; // not built (a checkout without `pnpm build`)
  }
  // Built from other sources (edited since the build): the sources are what is meant.
  if (manifest.sources !== sourceDigest(sources)) return null;
  try {
    return new Map(BUNDLED.map((name) => [name, readFileSync(new URL(name, bundle))]));
  } catch {
    return null;
  }
}

function asset(name: string, body: Buffer): DashboardAsset {
  const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] as string;
  const digest = createHash('sha256').update(body).digest('base64url');
  const etag = `"${digest.slice(0, 27)}"`;
  const version = digest.slice(0, 12);
  const dot = name.lastIndexOf('.');
  return {
    name,
    type,
    body,
    etag,
    version,
    hashedName: `${name.slice(0, dot)}.${version}${name.slice(dot)}`,
  };
}

/**
 * Reads the dashboard's static files once, into memory: a fixed set of names, so a request can never name
 * a file outside the folder. `main.js`, `element.js` and `dashboard.css` come from the bundle (one minified
 * module each for the page and the element, docs/reference.md §5) when `bundle` holds one built from these
 * sources; the other modules are still served, for a page or an element loaded before an upgrade. Throws at
 * start-up if the folder is missing (a broken install).
 *
 * @example
 * const assets = loadDashboardAssets();
 * assets.get('main.js')?.type; // 'text/javascript; charset=utf-8'
 */
export function loadDashboardAssets(
  folder: URL = ASSET_FOLDER,
  bundle: URL | null = BUNDLE_FOLDER,
): ReadonlyMap<string, DashboardAsset> {
  const path = fileURLToPath(folder);
  const assets = new Map<string, DashboardAsset>();
  for (const name of readdirSync(path).sort()) {
    if (!ASSET_NAME.test(name)) continue;
    assets.set(name, asset(name, readFileSync(new URL(name, folder))));
  }
  const bundled = bundle && assets.has('main.js') ? readBundle(bundle, folder) : null;
  for (const [name, body] of bundled ?? []) assets.set(name, asset(name, body));
  if (!assets.has('main.js')) {
    throw new Error(`Keyward dashboard: its files are missing from ${path} (reinstall @keyward/admin)`);
  }
  return assets;
}
