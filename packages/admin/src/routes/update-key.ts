import type { UpdateKeyInput } from '@keyward/core';
import { serializeKey } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';
import { etagHeader, ifMatch } from './etag.js';

/**
 * `PATCH /:id` with any of `{ name, scopes, expiresAt, disabled }` — 200 `{ data: Key }`. An empty body
 * (or none) changes nothing (not even `updatedAt`) and answers the key as it is. The service parses the
 * body with core's `updateKeyInputSchema`: shape (400), then existence (404), then what depends on the key.
 * With `If-Match: "<version>"` (the `ETag` of `GET /:id`), 412 `precondition_failed` if the key changed
 * since; the answer carries the key's new `ETag`.
 *
 * @example
 * router.patch('/:id', endpoint(context, updateKey, { readsBody: true }));
 */
export const updateKey: RouteHandler = async ({ keyward, organizationId, id, body, context, header }) => {
  const input = body === undefined ? {} : body;
  // Unchecked here on purpose: `updateKey` validates its input at run time (400 `validation_error`).
  const key = await keyward.updateKey(organizationId, id, input as UpdateKeyInput, context, ifMatch(header));
  const answer = { data: serializeKey(key) };
  return { status: 200, body: answer, headers: etagHeader(key, answer) };
};
