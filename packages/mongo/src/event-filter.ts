import type { EventListQuery } from '@keyward/core/store';

/**
 * The MongoDB filter of one page of an organization's events (`KeyStore.listEvents`); sort
 * `{ at: -1, _id: -1 }` and limit `query.limit` go with it.
 *
 * @example
 * events.find(eventFilter('org_1', { limit: 50, type: 'key.rolled' })).sort({ at: -1, _id: -1 });
 */
export function eventFilter(organizationId: string, query: EventListQuery): Record<string, unknown> {
  const filter: Record<string, unknown> = { organizationId };
  if (query.keyId !== undefined) filter.keyId = query.keyId;
  if (query.type !== undefined) filter.type = query.type;
  if (query.after) {
    const { at, id } = query.after;
    filter.$or = [{ at: { $lt: at } }, { at, _id: { $lt: id } }];
  }
  return filter;
}
