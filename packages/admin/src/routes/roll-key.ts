import { type RollKeyInput, serializeKey } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * `POST /:id/roll` `{ gracePeriodSeconds? }` (no body: the defaults) — 201 `{ data: Key, token, previous: Key }`.
 * The service parses the body with core's `rollKeyInputSchema` (shape first, then the key's existence).
 *
 * @example
 * router.post('/:id/roll', endpoint(context, rollKey, { readsBody: true }));
 */
export const rollKey: RouteHandler = async ({ keyward, organizationId, id, body, context }) => {
  const input = body === undefined ? {} : body;
  // Unchecked here on purpose: `rollKey` validates its options at run time (400 `validation_error`).
  const { key, token, previous } = await keyward.rollKey(organizationId, id, input as RollKeyInput, context);
  return { status: 201, body: { data: serializeKey(key), token, previous: serializeKey(previous) } };
};
