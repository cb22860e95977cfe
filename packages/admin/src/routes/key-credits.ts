import { KeywardError } from '@keyward/core';
import { serializeCredits } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /:id/credits` — 200 `{ data: KeyCredits | null }` (docs/reference.md §10): the key's balance now, its refill
 * and when it falls; `null` when the key has no credits (own or from its plan). 404 for an unknown id.
 *
 * @example
 * router.get('/:id/credits', endpoint(context, getCredits));
 */
export const getCredits: RouteHandler = async ({ keyward, organizationId, id }) => {
  const balance = await keyward.getCredits(organizationId, id);
  return { status: 200, body: { data: balance && serializeCredits(balance) } };
};

/**
 * `PUT /:id/credits` `{ remaining, refill? }` — sets the key's own credits, starting afresh (operator only:
 * 403 `forbidden` otherwise); 200 `{ data: KeyCredits }`. `DELETE /:id/credits` removes them (the key
 * then follows its plan's): 200 `{ data: KeyCredits | null }`.
 *
 * @example
 * router.put('/:id/credits', endpoint(context, setCredits, { readsBody: true, writes: true }));
 */
export const setCredits: RouteHandler = async ({ keyward, organizationId, id, body, context, operator }) => {
  if (operator !== true) {
    throw new KeywardError('forbidden', { message: "Only the app's operator sets a key's credits." });
  }
  const balance = await keyward.setCredits(organizationId, id, body === undefined ? null : body, context);
  return { status: 200, body: { data: balance && serializeCredits(balance) } };
};

/** `DELETE /:id/credits`: `setCredits` with `null` (see above). */
export const removeCredits: RouteHandler = (input) => setCredits({ ...input, body: null });
