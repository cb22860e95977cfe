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
}

/**
 * `GET /scopes` — 200 `{ data: { scopes, publicScopes } }`: the app's scope catalog, in the order the app
 * declared it, and the scopes public keys may hold. Behind `authorize` like every route; the dashboard
 * reads it to offer the scopes of a new key.
 *
 * @example
 * router.get('/scopes', endpoint(context, getScopes));
 */
export const getScopes: RouteHandler = async ({ keyward }) => {
  const data: ScopeCatalogJSON = {
    scopes: [...keyward.scopes.catalog],
    publicScopes: [...keyward.scopes.publicCeiling],
  };
  return { status: 200, body: { data } };
};
