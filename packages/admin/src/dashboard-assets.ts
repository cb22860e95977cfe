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

/**
 * Reads the dashboard's static files once, into memory: a fixed set of names, so a request can never name
 * a file outside the folder. Throws at start-up if the folder is missing (a broken install).
 *
 * @example
 * const assets = loadDashboardAssets();
 * assets.get('main.js')?.type; // 'text/javascript; charset=utf-8'
 */
export function loadDashboardAssets(folder: URL = ASSET_FOLDER): ReadonlyMap<string, DashboardAsset> {
  const path = fileURLToPath(folder);
  const assets = new Map<string, DashboardAsset>();
  for (const name of readdirSync(path).sort()) {
    if (!ASSET_NAME.test(name)) continue;
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] as string;
    const body = readFileSync(new URL(name, folder));
    const digest = createHash('sha256').update(body).digest('base64url');
    const etag = `"${digest.slice(0, 27)}"`;
    assets.set(name, { name, type, body, etag, version: digest.slice(0, 12) });
  }
  if (!assets.has('main.js')) {
    throw new Error(`Keyward dashboard: its files are missing from ${path} (reinstall @keyward/admin)`);
  }
  return assets;
}
