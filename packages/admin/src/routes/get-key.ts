import { KeywardError, serializeKey } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /:id` — 200 `{ data: Key }`; 404 for an unknown, malformed, deleted or other organization's id.
 *
 * @example
 * router.get('/:id', endpoint(context, getKey));
 */
export const getKey: RouteHandler = async ({ keyward, organizationId, id }) => {
  const key = await keyward.getKey(organizationId, id);
  if (!key) throw new KeywardError('not_found');
  return { status: 200, body: { data: serializeKey(key) } };
};
