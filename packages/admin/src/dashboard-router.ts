import type { Router } from 'express';
import express from 'express';
import {
  type AssetEncoding,
  type DashboardAsset,
  encodedBody,
  loadDashboardAssets,
} from './dashboard-assets.js';
import { type DashboardOptions, resolveDashboardOptions } from './dashboard-options.js';
import { DASHBOARD_CSP, renderDashboardPage } from './dashboard-page.js';

/**
 * Creates the API keys page (docs/reference.md §5) as a plain Express router (Express 4 or 5): the page at the
 * router's mount path and its static files (one minified ES module once `pnpm build` bundled them, a
 * stylesheet, an icon; brotli or gzip, `ETag`, names with their version cached for a year) under
 * `<mount>/assets/`.
 * The page talks to the admin API at `apiUrl` (mount `createAdminRouter` there) and works at any mount
 * path, without any external network resource, under a strict Content-Security-Policy (sent with every
 * answer). Mount it behind your sign-in: the page itself holds no data, the admin API decides who sees what.
 *
 * @example
 * import { createAdminRouter, createDashboardRouter } from '@keyward/admin';
 *
 * app.use('/api/keys', createAdminRouter({ keyward, authorize }));
 * app.use('/settings/api-keys', requireSignIn, createDashboardRouter({ apiUrl: '/api/keys' }));
 */
export function createDashboardRouter(options: DashboardOptions): Router {
  return dashboardRouterServing(options, loadDashboardAssets());
}

/**
 * The dashboard router with the files `assets` (tests and the bench choose the bundle or the sources);
 * not exported from the package.
 *
 * @example
 * dashboardRouterServing({ apiUrl: '/api/keys' }, loadDashboardAssets(sources, null));
 */
export function dashboardRouterServing(
  options: DashboardOptions,
  assets: ReadonlyMap<string, DashboardAsset>,
): Router {
  const { apiUrl, title, extras } = resolveDashboardOptions(options);
  const byHashedName = new Map([...assets.values()].map((asset) => [asset.hashedName, asset]));
  // mergeParams: a function `apiUrl` can read the parameters of the mount path (`/orgs/:org/keys`).
  const router = express.Router({ mergeParams: true });

  router.get('/', function keywardDashboardPage(req, res, next) {
    let api: string;
    try {
      api = apiUrl(req);
    } catch (error) {
      next(error);
      return;
    }
    // One leading slash: a mount path can never turn into a protocol-relative (other origin) URL.
    const assetUrl = `${req.baseUrl.replace(/^\/+/, '/')}/assets`;
    let organizationName: string;
    try {
      organizationName = extras.organizationName(req);
    } catch (error) {
      next(error);
      return;
    }
    const html = renderDashboardPage({
      title,
      apiUrl: api,
      assetUrl,
      ...extras,
      organizationName,
      files: Object.fromEntries([...assets.values()].map((asset) => [asset.name, asset.hashedName])),
    });
    securityHeaders(res)
      .set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'same-origin', 'X-Frame-Options': 'DENY' })
      .type('html')
      .send(html);
  });

  router.get('/assets/:name', function keywardDashboardAsset(req, res, next) {
    const name = String(req.params.name);
    const hashed = byHashedName.get(name);
    const asset = hashed ?? assets.get(name);
    if (!asset) {
      next();
      return;
    }
    // Brotli or gzip when the browser takes it (compressed once, on first use); each encoding has its own
    // ETag. A URL naming the file's current version (`main.<version>.js`, as the page links them, or
    // `?v=<version>`) is cached for a year; the plain name (`element.js`, which apps link) is revalidated.
    const accepted = req.acceptsEncodings('br', 'gzip', 'identity');
    const encoding: AssetEncoding | null = accepted === 'br' || accepted === 'gzip' ? accepted : null;
    const packed = encoding ? encodedBody(asset, encoding) : null;
    const versioned = hashed !== undefined || req.query.v === asset.version;
    res.vary('Accept-Encoding');
    securityHeaders(res).set({
      'Cache-Control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: packed && encoding ? `${asset.etag.slice(0, -1)}-${encoding}"` : asset.etag,
      'Content-Type': asset.type,
    });
    if (packed && encoding) res.set('Content-Encoding', encoding);
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.send(packed ?? asset.body);
  });

  return router;
}

function securityHeaders(res: express.Response): express.Response {
  return res.set({ 'Content-Security-Policy': DASHBOARD_CSP, 'X-Content-Type-Options': 'nosniff' });
}
