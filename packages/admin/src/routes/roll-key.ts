import { type RollKeyInput, serializeKey } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';
import { etagHeader, ifMatch } from './etag.js';

/**
 * `POST /:id/roll` `{ gracePeriodSeconds? }` (no body: the defaults) — 201 `{ data: Key, token, previous: Key }`.
 * The service parses the body with core's `rollKeyInputSchema` (shape first, then the key's existence).
 * With `If-Match`, 412 `precondition_failed` if the key changed since; `ETag` is the new key's.
 *
 * @example
 * router.post('/:id/roll', endpoint(context, rollKey, { readsBody: true }));
 */
export const rollKey: RouteHandler = async ({ keyward, organizationId, id, body, context, header }) => {
  const input = body === undefined ? {} : body;
  // Unchecked here on purpose: `rollKey` validates its options at run time (400 `validation_error`).
  const { key, token, previous } = await keyward.rollKey(
    organizationId,
    id,
    input as RollKeyInput,
    context,
    ifMatch(header),
  );
  return {
    status: 201,
    body: { data: serializeKey(key), token, previous: serializeKey(previous) },
    // The new key's tag, as `GET /:id` of the new key answers it.
    headers: etagHeader(key, { data: serializeKey(key) }),
  };
};
