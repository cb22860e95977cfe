import { encodeEventListCursor, listEventsQuerySchema } from '../schemas/event-schemas.js';
import { DEFAULT_PAGE_SIZE } from '../schemas/page-query.js';
import { parseInput } from '../shared/parse-input.js';
import { storeCall } from '../store/store-call.js';
import type { EventPage } from './api.js';
import { checkOrganization, type OperationContext } from './context.js';
import { listEventsOfKeys, rollChain } from './event-chain.js';

/** `keyward.listEvents`: one page of the organization's audit events, newest first. */
export async function listEvents(
  ctx: OperationContext,
  organizationId: string,
  query: unknown = {},
): Promise<EventPage> {
  checkOrganization(organizationId);
  const { store } = ctx.options;
  const { limit = DEFAULT_PAGE_SIZE, cursor, keyId, type, chain } = parseInput(listEventsQuerySchema, query);
  if (!store.listEvents) return { events: [], nextCursor: null };
  // One more than asked: whether it exists says whether there is a next page.
  const page1 = { limit: limit + 1, ...(cursor && { after: cursor }), ...(type && { type }) };
  const events =
    chain && keyId !== undefined
      ? // The key's whole roll chain (event-chain.ts).
        await listEventsOfKeys(store, organizationId, await rollChain(store, organizationId, keyId), page1)
      : await storeCall('listEvents', () =>
          (store.listEvents as NonNullable<typeof store.listEvents>).call(store, organizationId, {
            ...page1,
            ...(keyId !== undefined && { keyId }),
          }),
        );
  const page = events.slice(0, limit);
  const last = page.at(-1);
  return { events: page, nextCursor: events.length > limit && last ? encodeEventListCursor(last) : null };
}
