import type { RouteHandler } from '../endpoint.js';

/**
 * The scope catalog on the wire: every scope a secret key may hold, and the ceiling of public keys.
 *
 * @example
 * const { data }: { data: ScopeCatalogJSON } = await (await fetch('/api/keys/scopes')).json();
 */
export interface ScopeCatalogJSON {
  scopes: string[];
  publicScopes: string[];
  /** The scopes the admin API lets callers grant (`grantableScopes`); absent when every scope may be. */
  grantableScopes?: string[];
}

/**
 * `GET /scopes` — 200 `{ data: { scopes, publicScopes, grantableScopes? } }`: the app's scope catalog, in
 * the order the app declared it, the scopes public keys may hold, and, when the router has
 * `grantableScopes` (docs/reference.md §10), the ones its callers may grant, in catalog order. Behind
 * `authorize` like every route; the dashboard reads it to offer the scopes (and presets) of a key.
 *
 * @example
 * router.get('/scopes', endpoint(context, getScopes(grantableScopes)));
 */
export function getScopes(grantable: ReadonlySet<string> | null = null): RouteHandler {
  return async function getScopeCatalog({ keyward }) {
    const data: ScopeCatalogJSON = {
      scopes: [...keyward.scopes.catalog],
      publicScopes: [...keyward.scopes.publicCeiling],
    };
    if (grantable !== null) data.grantableScopes = data.scopes.filter((scope) => grantable.has(scope));
    return { status: 200, body: { data } };
  };
}
