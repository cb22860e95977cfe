import { KeywardError } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';
import { parseBody, updateKeyBody } from '../schemas.js';
import { serializeKey } from '../serialize.js';

/**
 * `PATCH /:id` with any of `{ name, scopes, expiresAt, disabled }` — 200 `{ data: Key }`. An empty body
 * changes nothing (not even `updatedAt`) and answers the key as it is.
 *
 * @example
 * router.patch('/:id', endpoint(context, updateKey, { readsBody: true }));
 */
export const updateKey: RouteHandler = async ({ keyward, organizationId, id, body }) => {
  const input = parseBody(updateKeyBody, body);
  const key =
    Object.keys(input).length === 0
      ? await keyward.getKey(organizationId, id)
      : await keyward.updateKey(organizationId, id, input);
  if (!key) throw new KeywardError('not_found');
  return { status: 200, body: { data: serializeKey(key) } };
};
