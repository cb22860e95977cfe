import type { RouteHandler } from '../endpoint.js';
import { ifMatch } from './etag.js';

/**
 * `DELETE /:id` — 204, no body. The key stops working at once and is never listed or returned again.
 * With `If-Match`, 412 `precondition_failed` if the key changed since.
 *
 * @example
 * router.delete('/:id', endpoint(context, deleteKey));
 */
export const deleteKey: RouteHandler = async ({ keyward, organizationId, id, context, header }) => {
  await keyward.deleteKey(organizationId, id, context, ifMatch(header));
  return { status: 204 };
};
