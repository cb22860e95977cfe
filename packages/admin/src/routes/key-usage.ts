import { KeywardError, type UsageQuery } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /:id/usage` — 200 `{ data: [{ at, admitted, refused }], granularity }` (docs/reference.md §9): the key's
 * verifications per bucket, oldest first, empty buckets included (`?from=`, `?to=`, `?granularity=`; the
 * service parses them with core's `usageQuerySchema`, 400 `validation_error` for a bad query or too many
 * buckets); 404 for an unknown, deleted or other organization's id.
 *
 * @example
 * router.get('/:id/usage', endpoint(context, keyUsage));
 */
export const keyUsage: RouteHandler = async ({ keyward, organizationId, id, query }) => {
  const usage = await keyward.keyUsage(organizationId, id, query as UsageQuery);
  if (!usage) throw new KeywardError('not_found');
  return { status: 200, body: usage };
};
