import type { ListKeysQuery } from '@keyward/core';
import { serializeKey } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /` — 200 `{ data: Key[], nextCursor }`, newest first, one page (`?limit=`, `?cursor=`, `?q=`,
 * `?type=`, `?status=`; the service parses them, 400 `validation_error` for a bad one).
 *
 * @example
 * router.get('/', endpoint(context, listKeys));
 */
export const listKeys: RouteHandler = async ({ keyward, organizationId, query }) => {
  const { keys, nextCursor } = await keyward.listKeys(organizationId, query as ListKeysQuery);
  return { status: 200, body: { data: keys.map(serializeKey), nextCursor } };
};
