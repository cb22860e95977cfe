import { KeywardError } from '@keyward/core';
import { serializeKey } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';
import { etagHeader } from './etag.js';

/**
 * `GET /:id` — 200 `{ data: Key }` with `ETag` (the key's version, for `If-Match`); 404 for an unknown, malformed, deleted or other organization's id.
 *
 * @example
 * router.get('/:id', endpoint(context, getKey));
 */
export const getKey: RouteHandler = async ({ keyward, organizationId, id }) => {
  const key = await keyward.getKey(organizationId, id);
  if (!key) throw new KeywardError('not_found');
  const body = { data: serializeKey(key) };
  return { status: 200, body, headers: etagHeader(key, body) };
};
