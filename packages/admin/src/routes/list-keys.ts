import { serializeKey } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /` — 200 `{ data: Key[] }`, newest first.
 *
 * @example
 * router.get('/', endpoint(context, listKeys));
 */
export const listKeys: RouteHandler = async ({ keyward, organizationId }) => {
  const keys = await keyward.listKeys(organizationId);
  return { status: 200, body: { data: keys.map(serializeKey) } };
};
