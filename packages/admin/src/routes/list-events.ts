import type { ListEventsQuery } from '@keyward/core';
import { serializeEvent } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';

/**
 * `GET /events` — 200 `{ data: Event[], nextCursor }`: the organization's audit events (docs/reference.md §7),
 * newest first, one page (`?limit=`, `?cursor=`, `?keyId=`, `?type=`; the service parses them with core's
 * `listEventsQuerySchema`, 400 `validation_error` for a bad one). Another organization's key id lists
 * nothing.
 *
 * @example
 * router.get('/events', endpoint(context, listEvents));
 */
export const listEvents: RouteHandler = async ({ keyward, organizationId, query }) => {
  const { events, nextCursor } = await keyward.listEvents(organizationId, query as ListEventsQuery);
  return { status: 200, body: { data: events.map(serializeEvent), nextCursor } };
};
