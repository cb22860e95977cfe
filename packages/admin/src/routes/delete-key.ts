import type { RouteHandler } from '../endpoint.js';

/**
 * `DELETE /:id` — 204, no body. The key stops working at once and is never listed or returned again.
 *
 * @example
 * router.delete('/:id', endpoint(context, deleteKey));
 */
export const deleteKey: RouteHandler = async ({ keyward, organizationId, id, context }) => {
  await keyward.deleteKey(organizationId, id, context);
  return { status: 204 };
};
