import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
}

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
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { name, type, body, etag });
  }
  if (!assets.has('main.js')) {
    throw new Error(`Keyward dashboard: its files are missing from ${path} (reinstall @keyward/admin)`);
  }
  return assets;
}
