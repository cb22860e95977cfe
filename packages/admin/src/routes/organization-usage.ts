import type { UsageQuery } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /usage` — 200 `{ data, granularity, topKeys }` (docs/reference.md §9): the organization's verifications per
 * bucket (every key summed), oldest first, empty buckets included, and its most used keys of the range.
 * Query as `GET /:id/usage`.
 *
 * @example
 * router.get('/usage', endpoint(context, organizationUsage));
 */
export const organizationUsage: RouteHandler = async ({ keyward, organizationId, query }) => ({
  status: 200,
  body: await keyward.usage(organizationId, query as UsageQuery),
});
