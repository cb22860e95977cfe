import type { RouteHandler } from '../endpoint.js';
import { parseBody, rollKeyBody } from '../schemas.js';
import { serializeKey } from '../serialize.js';

/**
 * `POST /:id/roll` `{ gracePeriodSeconds? }` (no body: the defaults) — 201 `{ data: Key, token, previous: Key }`.
 *
 * @example
 * router.post('/:id/roll', endpoint(context, rollKey, { readsBody: true }));
 */
export const rollKey: RouteHandler = async ({ keyward, organizationId, id, body }) => {
  const input = parseBody(rollKeyBody, body);
  const { key, token, previous } = await keyward.rollKey(organizationId, id, input);
  return { status: 201, body: { data: serializeKey(key), token, previous: serializeKey(previous) } };
};
